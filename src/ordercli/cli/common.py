"""What every command module shares: options, the store for this invocation, the clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ordercli.store import Store
    from ordercli.world import World

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON value on stdout.")]


def _formats(incomplete: str) -> list[str]:
    return [f for f in ("table", "json", "ndjson", "csv") if f.startswith(incomplete)]


def _order_ids(incomplete: str) -> list[str]:
    from ordercli.cli.complete import order_ids

    return order_ids(incomplete)


FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format", help="table, json, ndjson or csv.", metavar="table|json|ndjson|csv", autocompletion=_formats
    ),
]
FieldsOpt = Annotated[
    str | None,
    typer.Option("--fields", help="Columns for table and csv, comma-separated dotted names.", metavar="A,B,..."),
]
NoHeadersOpt = Annotated[bool, typer.Option("--no-headers", help="Leave out the header row (table, csv).")]
AsOpt = Annotated[
    str | None, typer.Option("--as", help="Act as this party (R20); default: the entitled party.", metavar="NAME")
]
OrderArg = Annotated[
    str,
    typer.Argument(help="The order id, e.g. ORD-0001.", metavar="ID", show_default=False, autocompletion=_order_ids),
]


class _State:
    db: str | None = None
    durable: bool = True  # False only for a scenario's throwaway world
    in_scenario: bool = False  # a scenario step may not run scenarios


state = _State()


def db_path() -> Path:
    """--db, else ORDERCLI_DB, else the platform's user data folder."""
    from ordercli.store.file import checked_path, default_path

    if state.db is not None:
        return checked_path(state.db, "--db")
    env = os.environ.get("ORDERCLI_DB")
    if env:
        return checked_path(env, "ORDERCLI_DB")
    return default_path()


def wall_now() -> datetime:
    """A new world starts at the wall-clock time, in whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def store() -> Store:
    # imported here so that `--version` and `--help` never load the storage stack
    from ordercli.store import open_store

    return open_store(db_path(), wall_now, durable=state.durable)


@contextmanager
def reading() -> Iterator[World]:
    with store().reading() as world:
        yield world


@contextmanager
def writing() -> Iterator[World]:
    with store().writing() as world:
        yield world


def group(help: str | None = None) -> typer.Typer:
    """A command group as every module makes it: plain help, -h, help when called bare."""
    return typer.Typer(
        help=help,
        no_args_is_help=True,
        add_completion=False,  # the root command installs completion for all
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

"""What every command module shares: options, the world of this invocation (from Typer's
context), the names the CLI gives to the API's inputs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

if TYPE_CHECKING:
    from ordercli.api import Sandbox, Session
    from ordercli.core.world import World
    from ordercli.store import CommandProcess, Store

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON value on stdout.")]


def _formats(incomplete: str) -> list[str]:
    return [f for f in ("table", "json", "ndjson", "csv") if f.startswith(incomplete)]


def _order_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    """The ids of the world's orders, for shell completion; nothing (not an error) when the world
    can't be read. The root's --db, when given before the id, names the world (completion runs no
    callbacks). The world is read only when a shell asks to complete an id."""
    from ordercli.core.errors import OrderCliError

    e = env(ctx)
    db = ctx.find_root().params.get("db")
    if db is not None and not e.in_scenario:
        e.db = db
    try:
        with reading(ctx) as session:
            return [o["id"] for o in session.world.iter_orders() if o["id"].startswith(incomplete)]
    except (OrderCliError, OSError):
        return []


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
IdempotencyKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        help="Do this at most once: the same command again with this key changes nothing and prints "
        "what the first did (docs/cli.md#safe-retries).",
        metavar="KEY",
        show_default=False,
    ),
]
OrderArg = Annotated[
    str,
    typer.Argument(help="The order id, e.g. ORD-0001.", metavar="ID", show_default=False, autocompletion=_order_ids),
]

# The API names its inputs by their parameters; the CLI's messages name its options.
OPTION_NAMES = {
    "actor": "--as",
    "buyer": "--buyer",
    "seller": "--seller",
    "item": "--item",
    "amount": "--amount",
    "currency": "--currency",
    "payment": "--payment",
    "quantity": "--quantity",
    "note": "--note",
    "message": "--message",
    "tracking": "--tracking",
    "text": "TEXT",
    "idempotency_key": "--idempotency-key",
}


@dataclass
class Saved:
    """A change this invocation put in the data file: a failure after it (the output, Ctrl-C) is
    reported as saved, with the command that reads the change back, so a script does not do it twice."""

    path: Path
    read_back: tuple[str, ...]  # e.g. ("ordercli orders show ORD-0003",)

    def how_to_read(self) -> str:
        return " and ".join(f"`{line}`" for line in self.read_back)


@dataclass
class Env:
    """One invocation's setting, kept in Typer's context (`ctx.obj`)."""

    db: str | None = None  # --db
    # a scenario step's own world: the command runs on it, and may not leave it
    sandbox: Sandbox | None = None
    saved: Saved | None = None  # set once this invocation's change is in the data file

    @property
    def in_scenario(self) -> bool:
        return self.sandbox is not None


def env(ctx: typer.Context) -> Env:
    found = ctx.find_object(Env)
    return found if found is not None else ctx.ensure_object(Env)


def db_path(e: Env) -> Path:
    """--db, else ORDERCLI_DB, else the platform's user data folder."""
    from ordercli.store.file import checked_path, default_path

    if e.db is not None:
        return checked_path(e.db, "--db")
    found = os.environ.get("ORDERCLI_DB")
    if found:
        return checked_path(found, "ORDERCLI_DB")
    return default_path()


def sandbox(ctx: typer.Context) -> Sandbox:
    """The world this command works on: a scenario's own, else the data file (a new file
    starts at the wall-clock time under the default policy)."""
    e = env(ctx)
    if e.sandbox is not None:
        return e.sandbox
    # imported here so that `--version` and `--help` never load the storage stack
    from ordercli.api import Sandbox

    found = Sandbox(db_path(e))
    if found._store is not None:
        found._store.process = command_process()
    watch_saves(ctx, found, e.db)
    return found


_process: CommandProcess | None = None


def command_process() -> CommandProcess:
    """This process runs one command and exits: its stores pause the cycle collector and keep the last
    world alive to the exit (store.CommandProcess). The CLI's alone: a Sandbox a library user makes
    leaves the caller's gc as it was."""
    global _process
    if _process is None:
        from ordercli.store import CommandProcess

        _process = CommandProcess()
    return _process


def watch_saves(ctx: typer.Context, found: Sandbox, db: str | None) -> None:
    """Let this invocation know when `found` saves a change in its data file (`db`: the --db it was
    given, for the command line that reads the change back)."""
    path = cast(Path, found.path)
    found.saving = lambda world: saving(env(ctx), path, _read_back(ctx, db, world))


@contextmanager
def saving(e: Env, path: Path, read_back: tuple[str, ...]) -> Iterator[None]:
    """Around the write of this command's change: once the file has it, `e.saved` says so. A
    Ctrl-C meanwhile waits for the write to end, so it can't land between the rename and the
    moment the change is known to be saved (and be reported as nothing done)."""
    with _ctrl_c_held():
        yield
        e.saved = Saved(path, read_back)


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Ctrl-C (SIGINT) is held until the block is over, then raised as it would have been; a
    block that fails drops it (its own error says what happened). Only the main thread can, and
    only Python's own handler is replaced (not one a caller installed, nor SIG_IGN)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    held: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if held:
        raise KeyboardInterrupt


def _read_back(ctx: typer.Context, db: str | None, world: World) -> tuple[str, ...]:
    """The command lines that show what this command changed."""
    program = reader(db)
    order_id = ctx.params.get("order_id")
    words = ctx.command_path.split()[1:]  # e.g. ["orders", "place"]
    if isinstance(order_id, str):
        if words[:1] == ["refund"]:
            return (f"{program} refund status {order_id}",)
        if words[:1] == ["messages"]:
            return (f"{program} messages list {order_id}",)
        return (f"{program} orders show {order_id}",)
    if words == ["orders", "place"]:
        from ordercli.core.world import order_id_for

        return (f"{program} orders show {order_id_for(world.meta['next_order'] - 1)}",)
    if words == ["orders", "import"]:
        return (f"{program} orders list",)
    if words[:1] == ["clock"]:
        return (f"{program} clock show", f"{program} events list")
    if words == ["policy", "use"]:
        return (f"{program} policy show",)
    return (f"{program} events list",)


def reader(db: str | None) -> str:
    """`ordercli`, with the --db that names the data file when one was given."""
    import shlex

    return "ordercli" if db is None else f"ordercli --db {shlex.quote(db)}"


def store(e: Env, path: Path | None = None) -> Store:
    """The data file itself (`db` commands, and telling a damaged file from a bug)."""
    from ordercli.api import wall_now
    from ordercli.store import open_store

    found = open_store(path or db_path(e), wall_now)
    found.process = command_process()
    return found


@contextmanager
def writing(ctx: typer.Context) -> Iterator[Session]:
    """One command's changes: one read and one write of the data file."""
    with sandbox(ctx).transaction() as session:
        yield session


@contextmanager
def reading(ctx: typer.Context) -> Iterator[Session]:
    with sandbox(ctx).reading() as session:
        yield session


def tell_replay(commands: Sandbox | Session) -> None:
    """A replayed call (its idempotency key was used already) says so on stderr, for people:
    stdout is the first call's answer, in its usual form."""
    done = commands.replayed
    if done:
        from ordercli.cli import render

        render.note(f"replayed: {done['key']} (first done at {done['at']}; nothing changed)")


def group(help: str | None = None) -> typer.Typer:
    """A command group as every module makes it: plain help, -h, help when called bare."""
    return typer.Typer(
        help=help,
        no_args_is_help=True,
        add_completion=False,  # the root command installs completion for all
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

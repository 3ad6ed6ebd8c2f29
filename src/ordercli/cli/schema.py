"""ordercli schema NAME|--list: the JSON Schemas of what commands print, as shipped."""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli.cli import common, render
from ordercli.cli.common import FieldsOpt, FormatOpt, JsonOpt, NoHeadersOpt

app = common.group()


def _complete_name(incomplete: str) -> list[str]:
    from ordercli.core.contract import schema_names

    return [n for n in schema_names() if n.startswith(incomplete)]


@app.command("schema")
def schema(
    name: Annotated[
        str | None,
        typer.Argument(help="A schema name (see --list).", metavar="NAME", autocompletion=_complete_name),
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the schemas with what each describes.")] = False,
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    no_headers: NoHeadersOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Print the JSON Schema (draft 2020-12) of NAME, or list them all with --list."""
    from ordercli.core import contract
    from ordercli.core.errors import UsageError

    if list_ or name is None:
        if name is not None:
            raise UsageError("give a schema NAME or --list, not both", "usage")
        rows = [{"name": n, "title": contract.load_schema(n)["title"]} for n in contract.schema_names()]
        render.emit_rows(rows, render.choose_format(fmt, json_), "schema-entry", fields, not no_headers)
        return
    render.emit_json(contract.load_schema(name))

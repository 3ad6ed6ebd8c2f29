"""ordercli errors: the error catalogue, every code with its exit status and meaning."""

from __future__ import annotations

from ordercli.cli import common, render
from ordercli.cli.common import FieldsOpt, FormatOpt, JsonOpt, NoHeadersOpt

app = common.group()


@app.command("errors")
def errors(
    fmt: FormatOpt = None, fields: FieldsOpt = None, no_headers: NoHeadersOpt = False, json_: JsonOpt = False
) -> None:
    """Every error code, with its exit status and meaning."""
    from ordercli.core.error_catalogue import entries

    render.emit_rows(entries(), render.choose_format(fmt, json_), "error-code", fields, not no_headers)

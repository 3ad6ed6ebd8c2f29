"""One renderer for every command: JSON, NDJSON, CSV and tables for people."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from ordercli.errors import OrderCliError, UsageError

FORMATS = ("table", "json", "ndjson", "csv")
Column = tuple[str, Callable[[Any], Any]]


def _out(data: bytes) -> None:
    sys.stdout.buffer.write(data) if hasattr(sys.stdout, "buffer") else sys.stdout.write(data.decode())
    sys.stdout.flush()


def dumps(value: Any, indent: bool = True) -> bytes:
    option = orjson.OPT_INDENT_2 if indent else 0
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError:  # undecodable bytes from argv (surrogates): show them escaped
        return orjson.dumps(_printable(value), option=option)


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def emit_json(value: Any) -> None:
    _out(dumps(value) + b"\n")


def echo(text: str) -> None:
    text = _printable(text)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def note(text: str) -> None:
    """Messages for people go to stderr."""
    sys.stderr.write(_printable(text).rstrip("\n") + "\n")
    sys.stderr.flush()


def color_enabled(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    if "NO_COLOR" in os.environ:
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


_STATUS_COLOURS = {
    "awaiting_payment": "33",
    "awaiting_shipment": "36",
    "cancel_requested": "35",
    "shipped": "34",
    "completed": "32",
    "cancelled": "31",
    "pending": "33",
    "held": "35",
    "refunded": "32",
    "open": "33",
    "resolved": "32",
}


def paint(text: Any, colour: str | None = None) -> str:
    s = "" if text is None else str(text)
    code = colour or _STATUS_COLOURS.get(s)
    if code and color_enabled():
        return f"\x1b[{code}m{s}\x1b[0m"
    return s


PROGRESS_THRESHOLD = 5000


def progress_for(length: int, label: str) -> Callable[[Any], Any] | None:
    """A progress bar on stderr for long work, only when stderr is a terminal."""
    if length < PROGRESS_THRESHOLD or not _is_tty(sys.stderr):
        return None

    def wrap(items: Any) -> Any:
        import typer

        with typer.progressbar(items, length=length, label=label, file=sys.stderr) as bar:
            yield from bar

    return wrap


class FiringProgress:
    """A counter on stderr while a clock move fires thousands of deadlines; terminals only."""

    def __init__(self) -> None:
        self.shown = _is_tty(sys.stderr)
        self.used = False

    def __call__(self, fired: int, waiting: int) -> None:
        if self.shown:
            self.used = True
            sys.stderr.write(f"\rfiring deadlines: {fired:,} fired, {waiting:,} more due on the way")
            sys.stderr.flush()

    def __enter__(self) -> FiringProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.used:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def emit_object(value: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    if as_json:
        emit_json(value)
    else:
        echo(text(value))


def choose_format(fmt: str | None, as_json: bool) -> str:
    """`--json` is `--format json`; a bad --format is refused either way."""
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}", "bad_format")
    if as_json:
        return "json"
    return fmt or "table"


def flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted columns; lists become JSON text."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if value:
                out.update(flatten(value, name + "."))
            else:
                out[name] = ""
        elif isinstance(value, list):
            out[name] = orjson.dumps(value).decode()
        elif value is None:
            out[name] = ""
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = value
    return out


def emit_list(
    rows: Sequence[Mapping[str, Any]], fmt: str, columns: Sequence[Column], empty: str = "nothing to show"
) -> None:
    if fmt == "json":
        emit_json(list(rows))
    elif fmt == "ndjson":
        _out(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    elif fmt == "csv":
        _emit_csv(rows)
    else:
        if not rows:
            note(empty)
            return
        from tabulate import tabulate  # only tables pay for tabulate

        body = [[paint(get(r)) if h == "status" else _cell(get(r)) for h, get in columns] for r in rows]
        echo(tabulate(body, headers=[h for h, _ in columns], tablefmt="simple", disable_numparse=True))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _emit_csv(rows: Iterable[Mapping[str, Any]]) -> None:
    import csv
    import io

    flat = [flatten(r) for r in rows]
    header: list[str] = []
    seen: set[str] = set()
    for r in flat:
        for k in r:
            if k not in seen:
                seen.add(k)
                header.append(k)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    sys.stdout.write(buf.getvalue())
    sys.stdout.flush()


def emit_error(err: OrderCliError, as_json: bool) -> None:
    if as_json:
        sys.stderr.write(dumps(err.to_json(), indent=False).decode() + "\n")
    else:
        message = _printable(" ".join(err.message.split("\n")))
        sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()

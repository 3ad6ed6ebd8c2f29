"""One renderer for every command: JSON, NDJSON, CSV and tables for people."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Self

import orjson

from ordercli.core.errors import OrderCliError, StorageError, UsageError

FORMATS = ("table", "json", "ndjson", "csv")
Column = tuple[str, Callable[[Any], Any]]


@contextmanager
def _stdout() -> Iterator[Any]:
    """stdout for one write; a full disk or a closed terminal is exit 5, said plainly (a reader
    that went away, `| head`, stays a BrokenPipeError: silence)."""
    try:
        yield sys.stdout
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise StorageError(f"could not write the output: {exc.strerror or exc}", "output_failed") from None


def _out(data: bytes) -> None:
    with _stdout() as out:
        out.buffer.write(data) if hasattr(out, "buffer") else out.write(data.decode())


def emit_bytes(data: bytes) -> None:
    """Bytes as they are (`db backup -`)."""
    _out(data)


def dumps(value: Any, indent: bool = True) -> bytes:
    option = orjson.OPT_INDENT_2 if indent else 0
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError:  # undecodable bytes from argv (surrogates): show them escaped
        value = _printable(value)
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits (a scenario's expected value)
        import json

        return json.dumps(value, indent=2 if indent else None, ensure_ascii=False).encode()


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
    with _stdout() as out:
        out.write(text if text.endswith("\n") else text + "\n")


def note(text: str) -> None:
    """Messages for people go to stderr."""
    sys.stderr.write(_printable(text).rstrip("\n") + "\n")
    sys.stderr.flush()


def color_enabled(stream: Any = None) -> bool:
    return "NO_COLOR" not in os.environ and _is_tty(stream or sys.stdout)


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


class ProgressLine:
    """One line on stderr, redrawn in place, ended when the work is; terminals only."""

    def __init__(self) -> None:
        self.shown = _is_tty(sys.stderr)
        self.used = False

    def show(self, line: str) -> None:
        if self.shown:
            self.used = True
            sys.stderr.write(f"\r{line}")
            sys.stderr.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.used:
            sys.stderr.write("\n")
            sys.stderr.flush()


class FiringProgress(ProgressLine):
    """A counter while a clock move fires thousands of deadlines."""

    def __call__(self, fired: int, waiting: int) -> None:
        self.show(f"firing deadlines: {fired:,} fired, {waiting:,} more due on the way")


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def count(n: int, noun: str) -> str:
    """`1 order`, `2 orders`: a count for people."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def emit_object(value: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    if as_json:
        emit_json(value)
    else:
        echo(text(value))


def choose_format(fmt: str | None, as_json: bool) -> str:
    """`--json` is `--format json`; a bad --format is refused either way, and so is another
    format with --json (which of the two was meant can't be told)."""
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}", "bad_format")
    if as_json and fmt not in (None, "json"):
        raise UsageError(
            f"--json and --format {fmt} ask for two formats: use one of them (--json is --format json)", "bad_format"
        )
    if as_json:
        return "json"
    return fmt or "table"


def emit_list(
    rows: Sequence[Mapping[str, Any]], fmt: str, columns: Sequence[Column], empty: str = "nothing to show"
) -> None:
    if fmt == "json":
        emit_json(list(rows))
    elif fmt == "ndjson":
        _out(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    else:
        if not rows:
            note(empty)
            return
        from tabulate import tabulate  # only tables pay for tabulate

        body = [[paint(get(r)) if h == "status" else _cell(get(r)) for h, get in columns] for r in rows]
        echo(tabulate(body, headers=[h for h, _ in columns], tablefmt="simple", disable_numparse=True))


def emit_rows(
    rows: Sequence[Mapping[str, Any]],
    fmt: str,
    kind: str,
    fields: str | None = None,
    headers: bool = True,
    empty: str = "nothing to show",
) -> None:
    """A list command's output. csv and tables have one fixed column set per object type (see
    contract.columns), whatever the data; --fields picks and orders columns for both."""
    from ordercli.core import contract

    chosen = contract.choose_fields(kind, fields)
    if fmt in ("json", "ndjson"):
        if chosen is not None:
            raise UsageError(f"--fields applies to --format table and csv, not {fmt}", "unknown_field")
        emit_list(rows, fmt, [])
        return
    names = chosen or (contract.columns(kind) if fmt == "csv" else contract.table_columns(kind))
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        if headers:
            writer.writerow(names)
        getters = [contract.getter(n) for n in names]
        writer.writerows([_csv_cell(get(r)) for get in getters] for r in rows)
        with _stdout() as out:
            out.write(_printable(buf.getvalue()))
        return
    if not rows:
        note(empty)
        return
    from tabulate import tabulate

    body = [
        [paint(v) if n.endswith("status") else _cell(v) for n in names for v in (contract.pick(r, n),)] for r in rows
    ]
    if headers:
        echo(tabulate(body, headers=list(names), tablefmt="simple", disable_numparse=True))
    else:
        echo(tabulate(body, tablefmt="plain", disable_numparse=True))


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def emit_error(err: OrderCliError, as_json: bool) -> None:
    if as_json:
        sys.stderr.write(dumps(err.to_json(), indent=False).decode() + "\n")
    else:
        message = _printable(" ".join(err.message.split("\n")))
        sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()

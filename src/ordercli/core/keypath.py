"""How ordercli names a key inside an input file (`steps[2].expect.status`, `refund_within.paypal`,
`expect["refund.status"]`): shared by the reader and the YAML loader's own refusals (safeyaml), so
each names keys the same way without importing the other."""

from __future__ import annotations

import re

TOP = "(top level)"  # the path of the whole file
_WORD = re.compile(r"[A-Za-z0-9_-]+")


def join(path: str, key: object) -> str:
    """The path of `key` inside the mapping at `path`."""
    text = str(key)
    part = text if _WORD.fullmatch(text) else f"[{_quoted(text)}]"
    if not path or path == TOP:
        return part
    return f"{path}{part}" if part.startswith("[") else f"{path}.{part}"


def index(path: str, i: int) -> str:
    """The path of item `i` (from 0) of the list at `path`."""
    return f"{path}[{i}]"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

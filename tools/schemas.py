"""Writes the JSON Schemas of the declared records (ordercli.core.model.SCHEMAS) into
src/ordercli/schemas/, from the declaration (ordercli.core.contract.schema_text). A developer's tool,
not part of the package: the core does no I/O. tests/core/test_records_declared_once.py fails while a
shipped schema differs from what this writes.

    python tools/schemas.py
"""

from __future__ import annotations

from pathlib import Path

from ordercli.core import model
from ordercli.core.contract import schema_text

FOLDER = Path(__file__).resolve().parent.parent / "src" / "ordercli" / "schemas"


def write_schemas() -> list[str]:
    """The names of the schemas that changed."""
    changed = []
    for name in model.SCHEMAS:
        path = FOLDER / f"{name}.json"
        text = schema_text(name)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(name)
    return changed


if __name__ == "__main__":
    print("\n".join(write_schemas()) or "the schemas are up to date")

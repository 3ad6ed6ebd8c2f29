"""`mypy --strict` on the core, the store and the API (issue 18): pyproject's per-module overrides
must turn on every flag --strict turns on, for the core/, store/ and api modules."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def _mypy_config() -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    return config


def _strict_override() -> dict[str, Any]:
    found = [o for o in _mypy_config().get("overrides", []) if "ordercli.core.*" in o["module"]]
    assert len(found) == 1, "one override block holds the strict modules"
    return found[0]


def test_the_strict_override_turns_on_every_flag_of_mypy_strict() -> None:
    main = pytest.importorskip("mypy.main")
    _, _, assignments = main.define_options()  # what --strict sets: (option, value)
    override, top = _strict_override(), _mypy_config()
    missing = [
        f"{option} = {str(value).lower()}"
        for option, value in assignments
        # a global-only flag (warn_redundant_casts) can only be set for every module, at the top
        if override.get(option, top.get(option)) != value
    ]
    assert not missing, f"pyproject's strict override lacks what --strict turns on: {missing}"


# the root modules that belong to the store (a shim kept for scripts)
_FLAT = ("tinydb_storage",)


def _matched(module: str, patterns: set[str]) -> bool:
    # mypy's patterns: a name, or `name.*` for the package and everything under it
    return any(module == p or (p.endswith(".*") and (module + ".").startswith(p[:-1])) for p in patterns)


def test_every_module_of_the_core_the_store_and_the_api_is_strict() -> None:
    patterns = set(_strict_override()["module"])
    assert {"ordercli.core.*", "ordercli.store.*", "ordercli.api"} <= patterns  # the layout's names
    package = ROOT / "src" / "ordercli"
    wanted = [f"ordercli.{name}" for name in _FLAT if (package / f"{name}.py").exists()]
    wanted += ["ordercli.api"] if (package / "api.py").exists() else []
    for layer in ("core", "store"):
        for path in sorted((package / layer).rglob("*.py")):
            parts = path.relative_to(package.parent).with_suffix("").parts
            wanted.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    assert "ordercli.store.tinyworld" in wanted
    assert [m for m in wanted if not _matched(m, patterns)] == []

"""The package's folders are its layers (README, "Design"): a module imports only from its own layer or
the ones below it, and no imports run in a circle. Read from the source with `ast`, every import counted:
at the top, inside a function (a lazy import is still a dependency) and under TYPE_CHECKING.

    core -> store -> api -> scenarios, simulate -> cli -> entry points

Entry points are where a host enters the package: the root modules (`ordercli/__init__.py` with its lazy
public names, `__main__.py`, `entry.py`, the `tinydb_storage.py` shim scripts import) and the modules
pyproject.toml names as entry points (the pytest plugin, which runs scenario steps through the CLI). They
may import from any layer; nothing but an entry point imports one, except `from ordercli import __version__`
(the package's `__init__` runs no import of its own at import time)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SRC = ROOT / "src"

LAYERS = {"core": 0, "store": 1, "api": 2, "scenarios": 3, "simulate": 3, "cli": 4}
ENTRY = 5
LAYER_NAMES = {0: "core", 1: "store", 2: "api", 3: "scenarios/simulate", 4: "cli", ENTRY: "entry point"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_sources() -> dict[str, str]:
    return {module_name(p): p.read_text(encoding="utf-8") for p in sorted((SRC / "ordercli").rglob("*.py"))}


def entry_points() -> set[str]:
    """The modules pyproject.toml gives a host: console scripts and plugin entry points."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    values = list(project.get("scripts", {}).values())
    for group in project.get("entry-points", {}).values():
        values += group.values()
    return {v.split(":")[0] for v in values}


def layer(module: str, entries: set[str]) -> int:
    parts = module.split(".")
    if module in entries or len(parts) == 1 or parts[1] not in LAYERS:
        return ENTRY  # ordercli itself and its root modules
    return LAYERS[parts[1]]


def imports(module: str, source: str, modules: set[str]) -> list[tuple[str, int, tuple[str, ...]]]:
    """(imported module, line, names taken from it) for every import of a package module."""
    is_package = any(m.startswith(module + ".") for m in modules)
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno, ()) for a in node.names if a.name.split(".")[0] == "ordercli"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".")
                package = here if is_package else here[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            if base.split(".")[0] != "ordercli":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((sub, node.lineno, ()) if sub in modules else (base, node.lineno, (alias.name,)))
    return found


def graph(sources: dict[str, str]) -> dict[str, list[tuple[str, int, tuple[str, ...]]]]:
    modules = set(sources)
    edges = {}
    for module, source in sources.items():
        edges[module] = [(t, line, names) for t, line, names in imports(module, source, modules) if t != module]
    return edges


def upward_imports(sources: dict[str, str], entries: set[str]) -> list[str]:
    problems = []
    for module, targets in graph(sources).items():
        for target, line, names in targets:
            if target == "ordercli" and set(names) <= {"__version__"} and names:
                continue
            if target not in sources:
                problems.append(f"{module}:{line} imports {target}, which is not a module of the package")
            elif layer(target, entries) > layer(module, entries):
                problems.append(
                    f"{module}:{line} ({LAYER_NAMES[layer(module, entries)]}) imports {target} "
                    f"({LAYER_NAMES[layer(target, entries)]}), a higher layer"
                )
    return problems


def cycles(sources: dict[str, str]) -> list[list[str]]:
    """Each circle of imports once (Tarjan's strongly connected components of two or more modules)."""
    edges = {m: sorted({t for t, _, _ in targets if t in sources}) for m, targets in graph(sources).items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for t in edges[m]:
            if t not in index:
                visit(t)
                low[m] = min(low[m], low[t])
            elif t in on_stack:
                low[m] = min(low[m], index[t])
        if low[m] == index[m]:
            component = []
            while True:
                t = stack.pop()
                on_stack.discard(t)
                component.append(t)
                if t == m:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for m in sorted(edges):
        if m not in index:
            visit(m)
    return found


def test_every_module_is_in_a_layer_or_is_an_entry_point() -> None:
    sources = package_sources()
    entries = entry_points()
    assert entries <= set(sources), entries - set(sources)
    roots = {m for m in sources if m.count(".") == 1 and m.split(".")[1] not in LAYERS}
    # a new module at the root is in no layer: it belongs in one of the folders (or is a documented shim)
    assert roots == {"ordercli.__main__", "ordercli.entry", "ordercli.tinydb_storage"}, roots


def test_no_import_runs_back_up_a_layer() -> None:
    assert upward_imports(package_sources(), entry_points()) == []


def test_no_imports_run_in_a_circle() -> None:
    assert cycles(package_sources()) == []


def _planted(module: str, line: str) -> dict[str, str]:
    sources = package_sources()
    sources[module] = line + "\n" + sources[module]
    return sources


@pytest.mark.parametrize(
    ("module", "line", "named"),
    [
        ("core.policy", "from ordercli.cli import render", "policy:1 (core) imports ordercli.cli.render (cli)"),
        ("store.file", "from ordercli import api", "file:1 (store) imports ordercli.api (api)"),
        ("api", "from ordercli.scenarios.runner import load", "api:1 (api) imports ordercli.scenarios.runner"),
        ("simulate.report", "import ordercli.cli.common", "report:1 (scenarios/simulate) imports ordercli.cli"),
        ("cli.orders", "from ordercli.tinydb_storage import WorldDB", "imports ordercli.tinydb_storage (entry"),
        ("cli.app", "from ordercli.scenarios import pytest_plugin", "imports ordercli.scenarios.pytest_plugin"),
        ("store.dbcheck", "from ordercli import __version__, Sandbox", "imports ordercli (entry point)"),
        ("core.world", "import ordercli.nowhere", "imports ordercli.nowhere, which is not a module"),
    ],
)
def test_the_layer_check_names_a_planted_upward_import(module: str, line: str, named: str) -> None:
    problems = upward_imports(_planted(f"ordercli.{module}", line), entry_points())
    assert len(problems) == 1 and named in problems[0], problems


def test_the_layer_check_reads_lazy_and_relative_imports() -> None:
    lazy = "def later():\n    from ordercli.cli.render import echo\n"
    assert upward_imports(_planted("ordercli.core.engine", lazy), entry_points()) == [
        "ordercli.core.engine:2 (core) imports ordercli.cli.render (cli), a higher layer"
    ]
    relative = "from ..cli import render\n"
    assert "ordercli.store.tinyworld:1 (store) imports ordercli.cli.render (cli), a higher layer" in upward_imports(
        _planted("ordercli.store.tinyworld", relative), entry_points()
    )


def test_the_circle_check_names_a_planted_circle() -> None:
    # ordercli.core.policy imports ordercli.core.errors: the other way round closes a circle
    sources = _planted("ordercli.core.errors", "def later():\n    from ordercli.core import policy\n")
    assert ["ordercli.core.errors", "ordercli.core.policy"] in [
        [m for m in c if m in ("ordercli.core.errors", "ordercli.core.policy")] for c in cycles(sources)
    ]
    assert upward_imports(sources, entry_points()) == []  # same layer: only the circle check sees it

"""What a command imports is part of its speed: `ordercli --version`, `--help` and shell completion
must not load the storage or presentation stack (tinydb, arrow, tabulate, yaml, holidays); a reading
command like `orders show ID --json` opens its world through TinyDB, and needs none of arrow,
tabulate, yaml, holidays or filelock (no dates library, no tables, no lock). Each check runs ordercli
in a fresh interpreter and inspects sys.modules afterwards (or -X importtime's list for the real
console script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

VERSION_FORBIDDEN = {"arrow", "tabulate", "tinydb", "yaml", "holidays"}
READ_FORBIDDEN = {"arrow", "tabulate", "yaml", "holidays", "filelock"}
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"

# Runs `ordercli ARGS...` through the console script's function in this interpreter, after importing
# PRELOAD (comma-separated, for the self-test), then writes the exit code and sys.modules to OUT.
DRIVER = """\
import json, sys
out, preload, args = sys.argv[1], sys.argv[2], sys.argv[3:]
for name in filter(None, preload.split(",")):
    __import__(name)
sys.argv = ["ordercli", *args]
from ordercli.entry import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
with open(out, "w") as fh:
    json.dump({"exit": code, "modules": sorted(sys.modules)}, fh)
"""


def run_traced(tmp_path: Path, *args: str, preload: str = "", env: dict | None = None) -> tuple[int, str, list[str]]:
    """(exit code, stdout, modules loaded) of `ordercli ARGS` in a fresh interpreter."""
    out = tmp_path / "modules.json"
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(out), preload, *args], capture_output=True,
                          cwd=tmp_path, timeout=120, env={**os.environ, **(env or {})})
    assert out.exists(), f"the driver wrote nothing: exit {proc.returncode}\nstderr: {proc.stderr.decode()}"
    report = json.loads(out.read_text())
    modules = report["modules"]
    # the list must be real, or every "not imported" check below would pass vacuously
    assert len(modules) > 20 and "ordercli" in modules and "ordercli.entry" in modules, modules
    return report["exit"] or 0, proc.stdout.decode(), modules


def heavy(modules: list[str], forbidden: set[str]) -> list[str]:
    """The loaded modules that belong to a forbidden top-level package."""
    return sorted(m for m in modules if m.split(".")[0] in forbidden)


def test_version_imports_none_of_the_heavy_packages(tmp_path: Path) -> None:
    code, stdout, modules = run_traced(tmp_path, "--version")
    assert code == 0
    assert stdout.startswith("ordercli ") and stdout.strip() != "ordercli"
    assert heavy(modules, VERSION_FORBIDDEN) == []


def test_version_console_script_imports_none_of_the_heavy_packages(tmp_path: Path) -> None:
    """The same through the installed console script, as a user runs it (-X importtime lists every import)."""
    script = Path(sys.executable).parent / "ordercli"
    if not script.is_file() or script.read_bytes()[:2] != b"#!":
        pytest.skip(f"no Python console script at {script}")
    proc = subprocess.run([sys.executable, "-X", "importtime", str(script), "--version"], capture_output=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().startswith("ordercli ")
    modules = [line.rsplit("|", 1)[1].strip() for line in proc.stderr.decode().splitlines()
               if line.startswith("import time:") and line.count("|") == 2]
    assert "ordercli.entry" in modules, proc.stderr.decode()[-2000:]
    assert heavy(modules, VERSION_FORBIDDEN) == []


def test_show_json_imports_nothing_a_reading_command_does_not_need(tmp_path: Path, db: Path, world) -> None:
    order = world.place()
    code, stdout, modules = run_traced(tmp_path, "--db", str(db), "orders", "show", order["id"], "--json")
    assert code == 0
    assert json.loads(stdout)["id"] == order["id"]
    # it did the real work: the orders commands, the store and orjson were loaded, and the world
    # was opened through TinyDB
    loaded = {"ordercli.cli.orders", "ordercli.store", "orjson", "tinydb", "ordercli.store.tinydb_storage"}
    assert loaded <= set(modules)
    assert heavy(modules, READ_FORBIDDEN) == []


@pytest.mark.parametrize("args", [("--help",), ("orders", "--help"), ("db", "--help"), ("orders", "list", "--help")])
def test_help_imports_none_of_the_heavy_packages(tmp_path: Path, args: tuple[str, ...]) -> None:
    code, stdout, modules = run_traced(tmp_path, *args)
    assert code == 0 and "Usage:" in stdout
    assert heavy(modules, VERSION_FORBIDDEN) == []


def test_completion_imports_none_of_the_heavy_packages(tmp_path: Path) -> None:
    env = {"_ORDERCLI_COMPLETE": "complete_bash", "COMP_WORDS": "ordercli orders pl", "COMP_CWORD": "2"}
    code, stdout, modules = run_traced(tmp_path, env=env)
    assert "place" in stdout.split()
    assert heavy(modules, VERSION_FORBIDDEN) == []


def test_the_check_sees_a_heavy_import(tmp_path: Path) -> None:
    """The tests above can fail: a heavy package loaded along the way is reported."""
    code, stdout, modules = run_traced(tmp_path, "--version", preload="yaml,tabulate")
    assert code == 0 and stdout.startswith("ordercli ")
    assert {"yaml", "tabulate"} <= {m.split(".")[0] for m in heavy(modules, VERSION_FORBIDDEN)}


def test_simulate_pays_for_matplotlib_and_dask_only_when_asked(tmp_path: Path) -> None:
    code, stdout, modules = run_traced(tmp_path, "simulate", str(EXAMPLES / "marketplace.behaviour.yaml"),
                                       "--policy", "aliexpress", "--orders", "100", "--workers", "1", "--json")
    assert code == 0 and json.loads(stdout)["orders"] == 100
    assert "ordercli.simulate.shard" in modules
    assert heavy(modules, {"matplotlib", "distributed", "dask", "numpy"}) == []

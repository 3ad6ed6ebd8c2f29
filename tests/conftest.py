"""Every test gets its own data file: ORDERCLI_DB points into a temporary folder (as llm
does with LLM_USER_PATH), so no test can touch a real user's world."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import Phase, settings
from typer.testing import CliRunner

from ordercli.cli.app import SUBCOMMANDS, app, load_subcommand

START = "2030-03-04T09:00:00Z"  # a Monday

# Hypothesis profiles. "ci" (chosen when CI=true) is reproducible: derandomized, so every run
# tries the same examples, with no example database, and a failure prints the
# @reproduce_failure blob. "mutation" (tools/mutate.py) is "ci" without shrinking: a mutant
# only needs to be caught, not explained. ORDERCLI_HYPOTHESIS_PROFILE picks one explicitly.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None)
settings.register_profile(
    "mutation", derandomize=True, database=None, deadline=None, phases=[Phase.explicit, Phase.generate]
)
_profile = os.environ.get("ORDERCLI_HYPOTHESIS_PROFILE") or (
    "ci" if os.environ.get("CI", "").lower() in ("true", "1") else None
)
if _profile:
    settings.load_profile(_profile)


def _leaf_commands() -> set[str]:
    """Every command that takes no subcommand ("orders place", "db check", ...)."""
    out: set[str] = set()

    def walk(path: list[str], command) -> None:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(None):
                walk([*path, name], command.get_command(None, name))
        else:
            out.add(" ".join(path))

    for group in SUBCOMMANDS:
        walk([group], load_subcommand(group))
    return out


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test taking `leaf_command` runs once per leaf command (its id is the command)."""
    if "leaf_command" in metafunc.fixturenames:
        metafunc.parametrize("leaf_command", sorted(_leaf_commands()))


@pytest.fixture(scope="session")
def leaf_commands() -> set[str]:
    return _leaf_commands()


@pytest.fixture(autouse=True)
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "world.json"
    monkeypatch.setenv("ORDERCLI_DB", str(path))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return path


class Cli:
    """Runs ordercli in-process through Typer's CliRunner (the `cli` and `world` fixtures), with the few
    commands many test modules need as methods, so no module writes its own copy."""

    start = START  # the `world` fixture's clock, for helpers that set up a world themselves

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0):
        result = self.runner.invoke(app, list(args))
        assert result.exit_code == code, (
            f"ordercli {' '.join(args)}: exit {result.exit_code}, expected {code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
        return result

    def invoke(self, *args: str, input: str | None = None):
        """Runs a command and returns its result whatever its exit code."""
        return self.runner.invoke(app, list(args), input=input)

    def json(self, *args: str, code: int = 0):
        """Runs with --json; returns the parsed stdout (exit 0) or the stderr error object."""
        result = self(*args, "--json", code=code)
        if code == 0:
            return json.loads(result.stdout)
        assert result.stdout == ""
        return json.loads(result.stderr)["error"]

    def place(self, *extra: str, buyer: str = "alice", seller: str = "acme", item: str = "Blue headset",
              amount: str = "19.99") -> dict:
        return self.json("orders", "place", "--buyer", buyer, "--seller", seller, "--item", item,
                         "--amount", amount, *extra)

    def show(self, order_id: str) -> dict:
        return self.json("orders", "show", order_id)

    def now(self) -> str:
        return self.json("clock", "show")["now"]

    def events(self, order_id: str | None = None) -> list[dict]:
        return self.json("events", "list", *(["--order", order_id] if order_id else []))

    def notes(self, to: str | None = None) -> list[dict]:
        return self.json("notifications", "list", *(["--to", to] if to else []))

    def fail(self, *args: str, code: int) -> dict:
        """Runs a command that must fail with --json and checks the error contract of docs/cli.md:
        stdout empty, stderr exactly one JSON object {"error": {code, message, exit}}, exit matching."""
        result = self(*args, "--json", code=code)
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) >= 1
        body = json.loads(result.stderr)  # the whole of stderr is one JSON value
        assert isinstance(body, dict) and set(body) == {"error"}
        err = body["error"]
        assert set(err) == {"code", "message", "exit"}
        assert err["exit"] == code == result.exit_code
        assert isinstance(err["code"], str) and err["code"] and err["code"] == err["code"].lower()
        assert " " not in err["code"]
        assert isinstance(err["message"], str) and err["message"]
        return err

    def refused_unchanged(self, db: Path, *args: str, code: int) -> dict:
        """A refused command writes nothing: the data file's bytes are the same after it."""
        before = db.read_bytes() if db.exists() else None
        err = self.fail(*args, code=code)
        after = db.read_bytes() if db.exists() else None
        assert after == before, f"ordercli {' '.join(args)} failed but changed the data file"
        return err


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def world(cli: Cli) -> Cli:
    """A fresh world whose clock stands at START, a Monday 09:00 UTC."""
    cli.json("clock", "set", START)
    return cli


@pytest.fixture(scope="session")
def start() -> str:
    """The `world` fixture's clock: Monday 2030-03-04 09:00 UTC."""
    return START


def _run_process(*args: str, env: dict | None = None, input: bytes | None = None) -> subprocess.CompletedProcess:
    """ordercli as a real process (python -m ordercli), for exit codes and the stdout/stderr split."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "ordercli", *args], capture_output=True, env=full_env,
                          input=input, timeout=60)


def _ordercli_command() -> list[str]:
    """The `ordercli` console script next to this interpreter (so the generated scripts name
    the program `ordercli`), else `python -m ordercli`, which names it `ordercli` too."""
    bindir = Path(sys.executable).parent
    for name in ("ordercli", "ordercli.exe"):
        script = bindir / name
        if script.exists():
            return [str(script)]
    return [sys.executable, "-m", "ordercli"]


def _run_completion(env: dict[str, str]) -> str:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("_ORDERCLI_", "_TYPER_", "COMP_"))}
    full_env.update(env)
    result = subprocess.run(_ordercli_command(), capture_output=True, text=True, env=full_env, timeout=60)
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def run_completion():
    """`run_completion(env) -> stdout`: the program run as a shell runs it for completion (the console
    script), with the completion variables of `env` only."""
    return _run_completion


@pytest.fixture(scope="session")
def run_process():
    """`run_process(*args, env=None, input=None)`: ordercli as a real process (python -m ordercli)."""
    return _run_process

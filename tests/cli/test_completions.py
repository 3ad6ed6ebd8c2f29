"""The committed shell completion scripts in completions/ are what the program generates now,
and completion itself works (run as a real process, the way a shell runs it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

COMPLETIONS = Path(__file__).resolve().parent.parent.parent / "completions"
SHELLS = ["bash", "zsh", "fish"]


def ordercli_command() -> list[str]:
    """The `ordercli` console script next to this interpreter (so the generated scripts name
    the program `ordercli`), else `python -m ordercli`, which names it `ordercli` too."""
    bindir = Path(sys.executable).parent
    for name in ("ordercli", "ordercli.exe"):
        script = bindir / name
        if script.exists():
            return [str(script)]
    return [sys.executable, "-m", "ordercli"]


def run_completion(env: dict[str, str]) -> str:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("_ORDERCLI_", "_TYPER_", "COMP_"))}
    full_env.update(env)
    result = subprocess.run(ordercli_command(), capture_output=True, text=True, env=full_env, timeout=60)
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


@pytest.mark.parametrize("shell", SHELLS)
def test_committed_script_is_up_to_date(shell: str) -> None:
    committed = COMPLETIONS / f"ordercli.{shell}"
    generated = run_completion({"_ORDERCLI_COMPLETE": f"source_{shell}"})
    regenerate = f"regenerate it with: _ORDERCLI_COMPLETE=source_{shell} ordercli > completions/ordercli.{shell}"
    assert committed.exists(), f"{committed} is missing; {regenerate}"
    assert committed.read_text(encoding="utf-8") == generated, (
        f"completions/ordercli.{shell} differs from what the program generates now; {regenerate}"
    )


REGISTRATION = {
    "bash": "complete -o default -F _ordercli_completion ordercli",
    "zsh": "compdef _ordercli_completion ordercli",
    "fish": "complete --command ordercli ",
}


@pytest.mark.parametrize("shell", SHELLS)
def test_generated_script_is_for_the_ordercli_program(shell: str) -> None:
    generated = run_completion({"_ORDERCLI_COMPLETE": f"source_{shell}"})
    assert REGISTRATION[shell] in generated
    assert "__main__" not in generated and "python" not in generated


def test_bash_completes_a_command() -> None:
    out = run_completion({"COMP_WORDS": "ordercli ca", "COMP_CWORD": "1", "_ORDERCLI_COMPLETE": "complete_bash"})
    assert out.split() == ["cancel"]


def test_bash_completes_a_subcommand() -> None:
    out = run_completion({"COMP_WORDS": "ordercli cancel re", "COMP_CWORD": "2",
                          "_ORDERCLI_COMPLETE": "complete_bash"})
    assert set(out.split()) == {"request", "reasons"}


def test_zsh_and_fish_complete_a_command() -> None:
    zsh = run_completion({"_TYPER_COMPLETE_ARGS": "ordercli ca", "_ORDERCLI_COMPLETE": "complete_zsh"})
    assert '"cancel"' in zsh
    fish = run_completion({"_TYPER_COMPLETE_ARGS": "ordercli ca", "_TYPER_COMPLETE_FISH_ACTION": "get-args",
                           "_ORDERCLI_COMPLETE": "complete_fish"})
    assert fish.split("\t")[0] == "cancel"

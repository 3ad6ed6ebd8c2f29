"""The committed shell completion scripts in completions/ are what the program generates now,
and completion itself works (run as a real process, the way a shell runs it)."""

from __future__ import annotations

from pathlib import Path

import pytest

COMPLETIONS = Path(__file__).resolve().parent.parent.parent / "completions"
SHELLS = ["bash", "zsh", "fish"]


@pytest.mark.parametrize("shell", SHELLS)
def test_committed_script_is_up_to_date(shell: str, run_completion) -> None:
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
def test_generated_script_is_for_the_ordercli_program(shell: str, run_completion) -> None:
    generated = run_completion({"_ORDERCLI_COMPLETE": f"source_{shell}"})
    assert REGISTRATION[shell] in generated
    assert "__main__" not in generated and "python" not in generated


def test_bash_completes_a_command(run_completion) -> None:
    out = run_completion({"COMP_WORDS": "ordercli ca", "COMP_CWORD": "1", "_ORDERCLI_COMPLETE": "complete_bash"})
    assert out.split() == ["cancel"]


def test_bash_completes_a_subcommand(run_completion) -> None:
    out = run_completion({"COMP_WORDS": "ordercli cancel re", "COMP_CWORD": "2",
                          "_ORDERCLI_COMPLETE": "complete_bash"})
    assert set(out.split()) == {"request", "reasons"}


def test_zsh_and_fish_complete_a_command(run_completion) -> None:
    zsh = run_completion({"_TYPER_COMPLETE_ARGS": "ordercli ca", "_ORDERCLI_COMPLETE": "complete_zsh"})
    assert '"cancel"' in zsh
    fish = run_completion({"_TYPER_COMPLETE_ARGS": "ordercli ca", "_TYPER_COMPLETE_FISH_ACTION": "get-args",
                           "_ORDERCLI_COMPLETE": "complete_fish"})
    assert fish.split("\t")[0] == "cancel"

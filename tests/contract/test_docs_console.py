"""The console blocks of the README and docs/ run as written (a small doctest for the shell).

A console block is a ```console fence: lines starting with `$ ` are commands (a line ending in `\\` goes
on), the lines after a command are its output, stdout and stderr together, then `(exit N)` when it exits
non-zero. Each page runs as one story: its blocks in order, in one bash session (so `id=$(...)` carries
on), in a fresh temporary folder holding `examples/` (a link to the repository's) with `ORDERCLI_DB`
pointing at `world.json` there, as in tests/conftest.py, and `ordercli` on PATH running this checkout.
Lines are compared with their trailing spaces removed; `<any>` in an expected line stands for any text
within that line (the wall clock of a new world, say).

A block whose output can't repeat (timings) or that takes long is skipped when the line before its fence
(blank lines aside) is the marker `<!-- console: skip (REASON) -->`, REASON saying why (CONTRIBUTING.md).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = next(folder for folder in Path(__file__).resolve().parents if (folder / "pyproject.toml").exists())
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
SKIP = re.compile(r"<!-- console: skip \((?P<reason>[^)]+)\) -->")
PLACEHOLDER = "<any>"
EXIT = re.compile(r"\(exit (\d+)\)")
MARK = "@@@ordercli-docs-console"


@dataclass
class Command:
    line: int  # where it is written, for the failure message
    text: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    line: int
    skip: str | None
    commands: list[Command]


def console_blocks(page: str) -> list[Block]:
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```console":
            index += 1
            continue
        before = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = SKIP.fullmatch(before.strip())
        start = index + 1
        index += 1
        commands: list[Command] = []
        while lines[index].strip() != "```":
            text = lines[index]
            if text.startswith("$ "):
                command = Command(index + 1, text[2:])
                while command.text.endswith("\\"):
                    index += 1
                    command.text += "\n" + lines[index]
                commands.append(command)
            else:
                assert commands, f"{page}:{index + 1}: a console block starts with a `$ ` command"
                commands[-1].expected.append(text)
            index += 1
        blocks.append(Block(start, marker["reason"] if marker else None, commands))
        index += 1
    return blocks


def matches(expected: str, actual: str) -> bool:
    if PLACEHOLDER not in expected:
        return expected == actual
    pattern = ".*".join(re.escape(part) for part in expected.split(PLACEHOLDER))
    return re.fullmatch(pattern, actual) is not None


def run_page(page: str, commands: list[Command], folder: Path) -> list[str]:
    """Runs the commands in one bash session; returns, per command, its output lines (and exit)."""
    bin_dir = folder / ".bin"
    bin_dir.mkdir()
    shim = bin_dir / "ordercli"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m ordercli "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    (folder / "examples").symlink_to(ROOT / "examples")
    script = ["set -o pipefail"]
    for number, command in enumerate(commands):
        script += [
            f"printf '\\n{MARK} {number}\\n'",
            "{ " + command.text + "\n} 2>&1",
            f"printf '\\n{MARK} exit %d\\n' $?",
        ]
    env = {
        **os.environ,
        "ORDERCLI_DB": str(folder / "world.json"),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",  # stdout and stderr interleave as on a terminal
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
        "COLUMNS": "200",
    }
    for name in ("NO_COLOR", "ORDERCLI_DEBUG", "ORDERCLI_LOCK_TIMEOUT"):
        env.pop(name, None)
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=folder, env=env, capture_output=True, text=True, timeout=600
    )
    outputs: list[str] = []
    chunks = result.stdout.split(f"\n{MARK} ")
    for chunk in chunks[1:]:
        head, _, body = chunk.partition("\n")
        if head.startswith("exit "):
            status = int(head[5:])
            if status:
                outputs[-1] = outputs[-1].rstrip("\n") + f"\n(exit {status})"
            continue
        outputs.append(body)
    assert len(outputs) == len(commands), f"{page}: the session stopped early\n{result.stdout}{result.stderr}"
    return outputs


def pages_with_blocks() -> list[str]:
    return [page for page in PAGES if any(not block.skip for block in console_blocks(page))]


@pytest.mark.parametrize("page", pages_with_blocks())
def test_console_blocks_show_what_the_commands_print(page: str, tmp_path: Path) -> None:
    blocks = [block for block in console_blocks(page) if not block.skip]
    commands = [command for block in blocks for command in block.commands]
    if any("| jq" in command.text for command in commands) and shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    outputs = run_page(page, commands, tmp_path)
    problems = []
    for command, output in zip(commands, outputs, strict=True):
        actual = [line.rstrip() for line in output.rstrip("\n").split("\n")] if output.strip("\n") else []
        expected = [line.rstrip() for line in command.expected]
        if len(actual) != len(expected) or not all(map(matches, expected, actual)):
            problems.append(
                f"{page}:{command.line}: $ {command.text}\n--- expected\n"
                + "\n".join(expected)
                + "\n--- actual\n"
                + "\n".join(actual)
            )
    assert not problems, "\n\n".join(problems)


def test_every_skip_marker_stands_before_a_console_block() -> None:
    """A marker that drifted away from its block would silently stop skipping, or skip nothing."""
    for page in PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        for found in SKIP.finditer(text):
            after = text[found.end() :].lstrip("\n")
            assert after.startswith("```console\n"), f"{page}: {found.group()} is not before a console block"


def test_the_runner_reads_a_block_as_documented() -> None:
    assert matches("clock <any> -> 2030: 0 events", "clock 2026-11-26T10:13:28+00:00 -> 2030: 0 events")
    assert not matches("clock <any> -> 2030: 0 events", "clock x -> 2031: 0 events")
    assert not matches("a.b", "axb")

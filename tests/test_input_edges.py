"""Edges of the input and output found in issue 17's walk, each a clear error and never an internal one:
help and the version on a full disk, --format against --json, party names, money in every currency's
minor units, out-of-range numbers and impossible instants in policy and behaviour files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Cli, fail

# ------------------------------------------------------------------------ help and the version on /dev/full

needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")


@needs_dev_full
@pytest.mark.parametrize("args", [
    ["--version"],  # answered by entry.py before the app is imported
    ["--db", "x.json", "--version"],  # answered by the app's --version option
    ["--help"],
    ["orders", "--help"],
    ["orders", "place", "--help"],
    [],  # no arguments: the help
])
def test_help_and_version_on_a_full_disk_are_output_failed(args: list[str], tmp_path: Path) -> None:
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([sys.executable, "-m", "ordercli", *args], stdout=full, stderr=subprocess.PIPE,
                              cwd=tmp_path, timeout=60)
    err = proc.stderr.decode()
    assert proc.returncode == 5, err
    assert err == "error: could not write the output: No space left on device\n"
    assert not (tmp_path / "x.json").exists()


def test_a_reader_that_went_away_is_not_an_error(world: Cli) -> None:
    world.place()
    for args in (["--version"], ["--help"], ["orders", "list", "--json"], ["orders", "show", "ORD-0001"]):
        proc = subprocess.Popen([sys.executable, "-m", "ordercli", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # as `| head -0` does
        assert proc.wait(timeout=60) == 0, args  # click's own answer would be exit 1
        assert proc.stderr.read() == b""
        proc.stderr.close()


# ------------------------------------------------------------------------------------- --format and --json


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "table"])
@pytest.mark.parametrize("command", [["orders", "list"], ["events", "list"], ["errors"]])
def test_another_format_with_json_is_refused(world: Cli, command: list[str], fmt: str) -> None:
    err = fail(world, *command, "--format", fmt, code=2)
    assert err["code"] == "bad_format"
    assert "use one of" in err["message"] and fmt in err["message"]
    plain = world(*command, "--format", fmt, "--json", code=2)
    assert plain.stdout == ""
    assert json.loads(plain.stderr)["error"]["code"] == "bad_format"  # --json asks for the error as JSON


def test_format_json_with_json_is_still_json(world: Cli) -> None:
    world.place()
    result = world("orders", "list", "--format", "json", "--json")
    assert json.loads(result.stdout)[0]["id"] == "ORD-0001"

"""ordercli as a real process: the stdout/stderr split, exit codes, which data file is used, damaged and
missing data files, the lock, --version/--help and colour. Worlds are set up in-process (cheap) and the
behaviour under test is run through `python -m ordercli` (see docs/cli.md: Invocation, Output, Errors)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from filelock import FileLock

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
ANSI = re.compile(rb"\x1b\[")
PLACE = ("orders", "place", "--buyer", "alice", "--seller", "acme", "--item", "Blue headset", "--amount", "19.99")


# ---------------------------------------------------------------------------------------------- helpers

def one_json(stdout: bytes):
    """stdout holds exactly one JSON value (json.loads refuses trailing data)."""
    assert stdout.strip(), "stdout is empty"
    return json.loads(stdout.decode("utf-8"))


def assert_ok_json(result: subprocess.CompletedProcess, hints_allowed: bool = True):
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"
    value = one_json(result.stdout)
    for line in result.stderr.decode().splitlines():
        assert hints_allowed and line.startswith("hint:"), f"non-hint on stderr: {line!r}"
    return value


def assert_text_error(result: subprocess.CompletedProcess, exit: int) -> str:
    """Empty stdout, one `error: MESSAGE` line on stderr, no traceback. Returns MESSAGE."""
    assert result.returncode == exit, f"exit {result.returncode}, expected {exit}\nstderr: {result.stderr!r}"
    assert result.stdout == b""
    err = result.stderr.decode()
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {lines!r}"
    assert err.endswith("\n")
    assert lines[0].startswith("error: ")
    message = lines[0][len("error: "):]
    assert message.strip()
    return message


def assert_json_error(result: subprocess.CompletedProcess, exit: int) -> dict:
    """Empty stdout, one JSON object {"error": {code, message, exit}} on stderr. Returns the inner object."""
    assert result.returncode == exit, f"exit {result.returncode}, expected {exit}\nstderr: {result.stderr!r}"
    assert result.stdout == b""
    err = result.stderr.decode()
    assert "Traceback" not in err
    obj = json.loads(err)  # exactly one JSON value, nothing else
    assert isinstance(obj, dict) and list(obj) == ["error"]
    inner = obj["error"]
    assert set(inner) == {"code", "message", "exit"}
    assert isinstance(inner["code"], str) and SNAKE.match(inner["code"]), inner["code"]
    assert isinstance(inner["message"], str) and inner["message"].strip()
    assert inner["exit"] == exit and type(inner["exit"]) is int
    return inner


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


@pytest.fixture
def placed(world):
    """A world at start with one paid order ORD-0001 (set up in-process)."""
    order = world.place()
    assert order["id"] == "ORD-0001"
    return world


# ------------------------------------------------------------------------------------- stdout / stderr

def test_success_prints_one_json_value_and_no_stderr(placed, db: Path, run_process) -> None:
    placed_order = assert_ok_json(run_process(*PLACE[:-1], "5.50", "--json"), hints_allowed=False)
    assert isinstance(placed_order, dict)
    assert placed_order["id"] == "ORD-0002"
    assert placed_order["amount"] == "5.50"
    assert placed_order["status"] == "awaiting_shipment"

    listed = assert_ok_json(run_process("orders", "list", "--json"), hints_allowed=False)
    assert isinstance(listed, list)
    assert [o["id"] for o in listed] == ["ORD-0001", "ORD-0002"]


def test_seller_fault_request_prints_hint_on_stderr_and_one_json_value(placed, run_process) -> None:
    result = run_process("cancel", "request", "ORD-0001", "--reason", "shipping-delay", "--json")
    order = assert_ok_json(result)
    assert order["id"] == "ORD-0001"
    assert order["status"] == "cancel_requested"
    assert order["cancellation"]["reason"] == "shipping-delay"
    assert order["cancellation"]["fault"] == "seller"
    hint = result.stderr.decode()
    assert hint.strip(), "a seller-fault reason must tell the buyer about the dispute (stderr)"
    assert "dispute" in hint


# (args, setup, exit, text that the message must contain)
ERROR_CASES = {
    "bad-amount": (PLACE[:-1] + ("abc",), "world", 2, "--amount"),
    "bad-duration": (("clock", "tick", "5x"), "world", 2, "5x"),
    "unknown-option": (("orders", "list", "--bogus"), "world", 2, "--bogus"),
    "unknown-order": (("orders", "show", "ORD-9999"), "placed", 3, "ORD-9999"),
    "ship-while-pending": (("seller", "ship", "ORD-0001"), "pending", 4, "ORD-0001"),
    "clock-backwards": (("clock", "set", "2030-03-01T09:00:00Z"), "placed", 4, None),
}


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_failure_output_and_exit_code(case: str, as_json: bool, world, db: Path, run_process) -> None:
    args, setup, exit, needle = ERROR_CASES[case]
    if setup in ("placed", "pending"):
        world.place()
    if setup == "pending":
        world.json("cancel", "request", "ORD-0001", "--reason", "second-thought")
    before = snapshot(db)

    if as_json:
        message = assert_json_error(run_process(*args, "--json"), exit)["message"]
    else:
        message = assert_text_error(run_process(*args), exit)
    if needle:
        assert needle in message
    assert snapshot(db) == before, "a failing command must write nothing"


# -------------------------------------------------------------------------------------- which data file

def test_db_option_beats_env_and_creates_parent_folders(db: Path, tmp_path: Path, run_process) -> None:
    other = tmp_path / "a" / "b" / "c" / "other.json"
    order = assert_ok_json(run_process("--db", str(other), *PLACE, "--json"))
    assert order["id"] == "ORD-0001"
    assert other.is_file()
    assert not db.exists(), "--db must beat ORDERCLI_DB"

    assert [o["id"] for o in assert_ok_json(run_process("--db", str(other), "orders", "list", "--json"))] == [
        "ORD-0001"
    ]
    # without --db, ORDERCLI_DB names the (still missing, so empty) world
    assert assert_ok_json(run_process("orders", "list", "--json")) == []
    assert not db.exists()


def test_env_db_used_without_option_and_parent_folders_created(tmp_path: Path, run_process) -> None:
    target = tmp_path / "x" / "y" / "world.json"
    env = {"ORDERCLI_DB": str(target)}
    assert not target.parent.exists()
    order = assert_ok_json(run_process(*PLACE, "--json", env=env))
    assert order["buyer"] == "alice"
    data = json.loads(target.read_bytes())
    assert data["meta"]["1"]["app"] == "ordercli"
    assert any(o.get("id") == "ORD-0001" for o in data["orders"].values())


READING = {
    "orders list": ("orders", "list"),
    "clock show": ("clock", "show"),
    "events list": ("events", "list"),
    "refund list": ("refund", "list"),
    "policy show": ("policy", "show"),
}


@pytest.mark.parametrize("name", list(READING))
def test_reading_a_missing_file_is_an_empty_world_and_creates_nothing(name: str, tmp_path: Path, run_process) -> None:
    folder = tmp_path / "missing" / "sub"
    target = folder / "world.json"
    before = datetime.now(UTC).replace(microsecond=0)
    value = assert_ok_json(run_process(*READING[name], "--json", env={"ORDERCLI_DB": str(target)}))
    after = datetime.now(UTC)

    if name == "clock show":
        assert set(value) == {"now"}
        assert value["now"].endswith("+00:00")
        now = datetime.fromisoformat(value["now"])
        assert before <= now <= after  # a new world starts at the wall-clock time
    elif name == "policy show":
        assert isinstance(value, dict) and value["name"] == "aliexpress"
    else:
        assert value == []
    assert not (tmp_path / "missing").exists(), "a reading command must create no folder, file or lock"
    assert list(tmp_path.iterdir()) == []


# -------------------------------------------------------------------------------------- damaged files

def _real_file(cli, db: Path) -> bytes:
    cli.json("clock", "set", cli.start)
    cli.place()
    return db.read_bytes()


def _damage(kind: str, real: bytes) -> bytes:
    if kind == "truncated":
        return real[: len(real) // 2]
    if kind == "garbage":
        return bytes(range(256)) * 4 + b"\x00\xff\xfe"
    if kind == "list":
        return b'[{"meta": {}}, 1, 2]'
    if kind == "number":
        return b"42"
    if kind == "foreign-object":
        return b'{"foo": 1}'
    if kind == "newer-schema":
        data = json.loads(real)
        assert isinstance(data["meta"]["1"]["schema"], int) and data["meta"]["1"]["schema"] < 999
        data["meta"]["1"]["schema"] = 999
        return json.dumps(data).encode()
    raise AssertionError(kind)


# the words a message must use to name each problem (the categories of docs/cli.md exit 5)
PROBLEM_WORDS = {
    "truncated": ("json", "unreadable", "corrupt", "damaged", "invalid"),
    "garbage": ("json", "unreadable", "corrupt", "damaged", "invalid"),
    "list": ("not ordercli data",),
    "number": ("not ordercli data",),
    "foreign-object": ("not ordercli data",),
    "newer-schema": ("newer",),
}


@pytest.mark.parametrize("command", ["read", "write"])
@pytest.mark.parametrize("kind", list(PROBLEM_WORDS))
def test_damaged_file_exits_5_and_is_left_untouched(kind: str, command: str, cli, db: Path, run_process) -> None:
    db.write_bytes(_damage(kind, _real_file(cli, db)))
    os.utime(db, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))  # a distinctive mtime
    before = snapshot(db)

    args = ("orders", "list") if command == "read" else PLACE
    message = assert_text_error(run_process(*args), 5)
    assert any(word in message.lower() for word in PROBLEM_WORDS[kind]), message
    if kind == "newer-schema":
        assert "999" in message
    assert snapshot(db) == before, "the damaged file must be left byte for byte as it was"
    leftovers = sorted(p.name for p in db.parent.iterdir() if p.name not in (db.name, db.name + ".lock"))
    assert leftovers == [], f"temporary files left behind: {leftovers}"


def test_damaged_file_json_error_object(cli, db: Path, run_process) -> None:
    db.write_bytes(_damage("newer-schema", _real_file(cli, db)))
    before = snapshot(db)
    assert_json_error(run_process("clock", "tick", "1h", "--json"), 5)
    assert snapshot(db) == before


def test_empty_file_is_an_empty_world(db: Path, run_process) -> None:
    db.write_bytes(b"")
    assert assert_ok_json(run_process("orders", "list", "--json")) == []
    assert db.read_bytes() == b"", "a reading command must not write"

    order = assert_ok_json(run_process(*PLACE, "--json"))
    assert order["id"] == "ORD-0001"
    data = json.loads(db.read_bytes())
    assert data["meta"]["1"]["app"] == "ordercli"


# ---------------------------------------------------------------------------------- version and help

def test_version_both_ways() -> None:
    expected = importlib.metadata.version("ordercli")
    script = Path(sys.executable).parent / "ordercli"
    assert script.exists(), f"console script not installed next to {sys.executable}"
    for argv in ([sys.executable, "-m", "ordercli", "--version"], [str(script), "--version"]):
        result = subprocess.run(argv, capture_output=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stderr == b""
        assert expected in result.stdout.decode(), result.stdout
        assert re.search(rb"\d+\.\d+", result.stdout)


def test_no_arguments_prints_help_and_exits_0(run_process) -> None:
    result = run_process()
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "Usage" in out
    for command in ("orders", "cancel", "seller", "clock", "refund", "dispute", "notifications", "events", "policy"):
        assert re.search(rf"^\s+{command}\b", out, re.M), f"{command} missing from help"
    assert "Traceback" not in result.stderr.decode()


def test_subcommand_help(run_process) -> None:
    result = run_process("cancel", "request", "--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "Usage" in out and "cancel request" in out
    assert "--reason" in out and "--json" in out


# ---------------------------------------------------------------------------------------------- colour

def _coloured_world(cli) -> None:
    cli.json("clock", "set", cli.start)
    cli.place()
    cli.place("--unpaid")
    cli.json("cancel", "request", "ORD-0001", "--reason", "second-thought")


def test_no_ansi_codes_when_piped(cli, run_process) -> None:
    _coloured_world(cli)
    for env in ({}, {"NO_COLOR": "1"}):
        result = run_process("orders", "list", env=env)
        assert result.returncode == 0
        assert b"ORD-0001" in result.stdout and b"cancel_requested" in result.stdout
        assert not ANSI.search(result.stdout), result.stdout
        assert not ANSI.search(result.stderr), result.stderr


def test_no_color_respected_on_a_terminal(cli) -> None:
    pty = pytest.importorskip("pty")
    _coloured_world(cli)
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "ordercli", "orders", "list"], stdout=slave,
                              stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"}, timeout=60)
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        out = b"".join(chunks)
    finally:
        if slave != -1:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0, proc.stderr
    assert b"cancel_requested" in out
    assert not ANSI.search(out), out


# ------------------------------------------------------------------------------------------------ lock

def test_busy_lock_refuses_writers_but_not_readers(placed, db: Path, run_process) -> None:
    before = snapshot(db)
    env = {"ORDERCLI_LOCK_TIMEOUT": "0.5"}
    with FileLock(str(db) + ".lock", timeout=0):
        started = time.monotonic()
        write = run_process(*PLACE, env=env)
        elapsed = time.monotonic() - started
        message = assert_text_error(write, 5)
        assert "database is busy" in message
        assert elapsed < 4.0, f"ORDERCLI_LOCK_TIMEOUT=0.5 ignored: took {elapsed:.1f}s"

        assert_json_error(run_process("clock", "tick", "1h", "--json", env=env), 5)

        listed = assert_ok_json(run_process("orders", "list", "--json", env=env))
        assert [o["id"] for o in listed] == ["ORD-0001"]
    assert snapshot(db) == before, "a writer refused for a busy lock must write nothing"


def test_a_bad_lock_timeout_is_a_usage_error(db, run_process):
    proc = run_process("clock", "tick", "1h", env={"ORDERCLI_LOCK_TIMEOUT": "soon"})
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert proc.stderr.decode().startswith("error: ORDERCLI_LOCK_TIMEOUT")
    assert not db.exists()

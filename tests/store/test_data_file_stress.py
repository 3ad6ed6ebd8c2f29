"""The data file under stress: concurrent writers, the lock timeout, SIGKILL at any moment, failing writes,
damaged and foreign files, schema migrations, and `db check` / `db backup` (docs/cli.md: exit 5 = storage).

The multi-process tests run `python -m ordercli` as real processes on one data file; everything else runs
in-process through the `cli` fixture. Damaged files in subprocesses are covered by
tests/process/test_streams_and_exits.py.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from filelock import FileLock

import ordercli.store
from ordercli.cli.app import app
from ordercli.core.world import SCHEMA_VERSION

PLACE = ("orders", "place", "--buyer", "alice", "--seller", "acme", "--item", "Blue headset", "--amount", "19.99")
ID_RE = re.compile(r"ORD-\d{4,}")
START_DT = datetime.fromisoformat("2030-03-04T09:00:00+00:00")


# ---------------------------------------------------------------------------------------------- helpers

def temp_files(db: Path) -> list[str]:
    """The store's temporary files (`.<name>.*.tmp` in the data file's folder)."""
    return sorted(p.name for p in db.parent.glob(f".{db.name}.*.tmp"))


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def load(db: Path) -> dict:
    return json.loads(db.read_bytes())


def assert_seq_contiguous(tables: dict, name: str) -> int:
    """The table's keys and `seq` fields are exactly 1..N, in order. Returns N."""
    table = tables[name]
    n = len(table)
    assert list(table) == [str(i) for i in range(1, n + 1)], f"{name}: keys are not 1..{n}"
    # a notice is stored once and numbered once per channel (email, app)
    step = 2 if name == "notifications" else 1
    assert [row["seq"] for row in table.values()] == list(range(1, step * n + 1, step)), f"{name}: seq has gaps"
    return n


def assert_orders_contiguous(tables: dict) -> int:
    orders = tables["orders"]
    n = len(orders)
    assert list(orders) == [str(i) for i in range(1, n + 1)]
    ids = [o["id"] for o in orders.values()]
    assert ids == [f"ORD-{i:04d}" for i in range(1, n + 1)]
    assert tables["meta"]["1"]["next_order"] == n + 1
    return n


def write_ndjson(path: Path, n: int, unpaid_every: int = 0) -> Path:
    with path.open("w") as fh:
        for i in range(n):
            row = {"buyer": f"buyer{i}", "seller": f"seller{i % 7}", "item": f"item {i}", "amount": "1.00"}
            if unpaid_every and i % unpaid_every == 0:
                row["unpaid"] = True
            fh.write(json.dumps(row) + "\n")
    return path


def cli_error(result) -> str:
    """A text-mode failure: stdout empty, exactly one `error: ...` line on stderr. Returns the message."""
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0][len("error: "):]


# ================================================================= 1. concurrent writers (real processes)

DRIVER = r'''
import json, os, subprocess, sys, time
idx, count, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
while not os.path.exists(go):
    time.sleep(0.002)
results = []
for i in range(count):
    if i % 3 == 2:
        args = ["clock", "tick", "1h"]
    else:
        args = ["orders", "place", "--buyer", f"buyer{idx}", "--seller", "acme", "--item", f"w{idx}-c{i}",
                "--amount", "1.00", "-q"]
    r = subprocess.run([sys.executable, "-m", "ordercli", *args], capture_output=True, timeout=120)
    results.append({"args": args, "rc": r.returncode, "out": r.stdout.decode(), "err": r.stderr.decode()})
print(json.dumps(results))
'''


def test_concurrent_writers_lose_nothing(cli, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start) -> None:
    """6 processes x 12 commands (8 `orders place -q`, 4 `clock tick 1h` each) on one file at once, while
    this test keeps reading the raw file: every read parses, every acknowledged command is in the file."""
    workers, per_worker = 6, 12
    cli.json("clock", "set", start)
    monkeypatch.setenv("ORDERCLI_LOCK_TIMEOUT", "60")
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, str(driver), str(i), str(per_worker), str(go)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for i in range(workers)
    ]
    go.touch()

    # readers take no lock: whatever instant we read at, the file is a whole world, and it only grows
    reads, last_count = 0, 0
    deadline = time.monotonic() + 120
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        data = json.loads(db.read_bytes())
        count = len(data["orders"])
        assert count >= last_count, "an order disappeared from the file"
        assert data["meta"]["1"]["next_order"] == count + 1
        last_count = count
        reads += 1
        time.sleep(0.03)
    outputs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
        outputs.append(json.loads(out))
    assert reads > 5, "the reader never overlapped the writers"

    printed: dict[str, str] = {}  # id printed by `-q` -> the item that command placed
    places = ticks = 0
    for worker in outputs:
        assert len(worker) == per_worker
        for r in worker:
            assert r["rc"] == 0, f"{r['args']}: exit {r['rc']}: {r['err']}"
            if r["args"][0] == "orders":
                places += 1
                assert ID_RE.fullmatch(r["out"].strip()), r["out"]
                oid = r["out"].strip()
                assert oid not in printed, f"id {oid} was handed out twice"
                printed[oid] = r["args"][r["args"].index("--item") + 1]
            else:
                ticks += 1
    assert places == workers * 8 and ticks == workers * 4

    data = load(db)
    n_orders = assert_orders_contiguous(data)
    assert n_orders == places, f"{places} places exited 0 but the file holds {n_orders} orders"
    on_disk = {o["id"]: o["item"] for o in data["orders"].values()}
    assert on_disk == printed, "the file's orders differ from the acknowledged ones"
    n_events = assert_seq_contiguous(data, "events")
    assert data["meta"]["1"]["next_event"] == n_events + 1
    placed_events = [e["order_id"] for e in data["events"].values() if e["kind"] == "order_placed"]
    assert sorted(placed_events) == sorted(printed), "every placed order has exactly one order_placed event"
    assert datetime.fromisoformat(data["meta"]["1"]["clock"]) == START_DT + timedelta(hours=ticks), \
        "a clock tick that exited 0 was lost"
    report = cli.json("db", "check")
    assert report["ok"] is True and report["orders"] == places and report["events"] == n_events
    assert temp_files(db) == []


# ============================================================================ 2. lock timeout

def test_writer_that_cannot_get_the_lock_exits_5_and_writes_nothing(world, db: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    world.place()
    before = snapshot(db)
    monkeypatch.setenv("ORDERCLI_LOCK_TIMEOUT", "0.4")
    with FileLock(str(db) + ".lock", timeout=0):
        started = time.monotonic()
        err = world.json(*PLACE, code=5)
        elapsed = time.monotonic() - started
        assert err["code"] == "database_busy" and err["exit"] == 5
        assert "database is busy" in err["message"]
        assert str(db) in err["message"] and "ORDERCLI_LOCK_TIMEOUT" in err["message"]
        assert 0.35 <= elapsed < 4, f"ORDERCLI_LOCK_TIMEOUT=0.4 not honoured: waited {elapsed:.2f}s"

        message = cli_error(world("clock", "tick", "1h", code=5))
        assert message.startswith("database is busy")

        # readers take no lock
        assert [o["id"] for o in world.json("orders", "list")] == ["ORD-0001"]
    assert snapshot(db) == before
    assert temp_files(db) == []


def test_busy_lock_on_a_missing_file_creates_no_world(cli, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "w2.json"
    monkeypatch.setenv("ORDERCLI_LOCK_TIMEOUT", "0.2")
    with FileLock(str(target) + ".lock", timeout=0):
        err = cli.json("--db", str(target), *PLACE, code=5)
    assert err["code"] == "database_busy"
    assert not target.exists()
    assert temp_files(target) == []


def test_writer_waits_for_the_lock_and_succeeds_when_released(world, db: Path) -> None:
    world.place()
    before = snapshot(db)
    lock = FileLock(str(db) + ".lock", timeout=0)
    lock.acquire()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "ordercli", *PLACE, "-q"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env={**os.environ, "ORDERCLI_LOCK_TIMEOUT": "30"})
        time.sleep(1.5)
        assert proc.poll() is None, "the writer should still be waiting for the lock"
        assert snapshot(db) == before, "a writer wrote without the lock"
    finally:
        lock.release()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.decode().strip() == "ORD-0002"
    assert [o["id"] for o in load(db)["orders"].values()] == ["ORD-0001", "ORD-0002"]


# ============================================================================ 3. SIGKILL at any moment

def test_sigkill_at_any_moment_never_damages_the_file(cli, db: Path, tmp_path: Path, start) -> None:
    """A 2000-order world; 30 writers (`orders place -q`, `clock tick 1d`, which cancels or times out
    hundreds of orders) killed with SIGKILL after a random 0-300 ms, right when their temporary file
    appears, or after a random longer delay (some finish: acknowledged); every 6th runs to completion.
    After each: the file is the old world or the new one, `db check` passes, every acknowledged command
    is present. Reported (pytest -s, six runs): 9-11 of 14-19 kills landed mid-write (temp file seen
    or left behind), the rest before writing or just after the replace."""
    cli.json("clock", "set", start)
    assert cli.json("orders", "import", str(write_ndjson(tmp_path / "orders.ndjson", 2000, unpaid_every=2))) == {
        "imported": 2000}
    env = {**os.environ, "ORDERCLI_LOCK_TIMEOUT": "30"}
    rng = random.Random(20300304)

    acked_items: dict[str, str] = {}  # acknowledged order id -> item
    kills = mid_write = killed_before_write = killed_after_replace = acked = 0
    for rep in range(30):
        tick = rep % 2 == 1
        args = ["clock", "tick", "1d"] if tick else \
            ["orders", "place", "--buyer", "k", "--seller", "acme", "--item", f"kill {rep}", "--amount", "2.00", "-q"]
        before_bytes = db.read_bytes()
        before = json.loads(before_bytes)
        old_tmps = set(temp_files(db))
        proc = subprocess.Popen([sys.executable, "-m", "ordercli", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        started, seen_tmp, mode = time.monotonic(), False, rep % 6
        if mode == 5:
            pass  # run to completion
        elif mode in (1, 3):  # kill the moment the temporary file appears
            while proc.poll() is None and time.monotonic() - started < 20:
                if set(temp_files(db)) - old_tmps:
                    seen_tmp = True
                    break
                time.sleep(0.0005)
        else:
            delay = rng.uniform(0, 0.3) if mode in (0, 2) else rng.uniform(0.3, 1.5)
            while proc.poll() is None and time.monotonic() - started < delay:
                time.sleep(0.002)
            seen_tmp = bool(set(temp_files(db)) - old_tmps)
        if mode != 5 and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode in (0, -signal.SIGKILL), f"{args}: exit {proc.returncode}: {err.decode()}"
        killed = proc.returncode == -signal.SIGKILL
        left_tmp = bool(set(temp_files(db)) - old_tmps)
        assert not left_tmp or killed, "a process that exited normally left a temporary file"

        # the file is whole: either exactly the old world, or the old world plus this command
        after_bytes = db.read_bytes()
        changed = after_bytes != before_bytes
        after = json.loads(after_bytes)
        clock_before = datetime.fromisoformat(before["meta"]["1"]["clock"])
        clock_after = datetime.fromisoformat(after["meta"]["1"]["clock"])
        n_before, n_after = len(before["orders"]), len(after["orders"])
        if tick:
            assert n_after == n_before
            assert clock_after == clock_before + (timedelta(days=1) if changed else timedelta(0))
        else:
            assert clock_after == clock_before
            assert n_after == n_before + (1 if changed else 0)
            if changed:
                assert after["orders"][str(n_after)]["item"] == f"kill {rep}"
        if not killed:
            assert changed, f"{args} exited 0 but the file did not change"
            acked += 1
            if not tick:
                oid = out.decode().strip()
                assert oid == f"ORD-{n_after:04d}"
                acked_items[oid] = f"kill {rep}"
        else:
            kills += 1
            if seen_tmp or left_tmp:
                mid_write += 1
            elif changed:
                killed_after_replace += 1
            else:
                killed_before_write += 1

        by_id = {o["id"]: o["item"] for o in after["orders"].values()}
        for oid, item in acked_items.items():
            assert by_id.get(oid) == item, f"acknowledged order {oid} is missing after a kill"
        report = cli.json("db", "check")
        assert report["ok"] is True and report["orders"] == n_after

    final = load(db)
    assert_orders_contiguous(final)
    assert_seq_contiguous(final, "events")
    assert_seq_contiguous(final, "notifications")
    listed = cli.json("orders", "list", "--status", "cancelled")
    assert listed, "the ticks fired no deadline: the kills did not hit heavy writes"
    print(f"\nSIGKILL: {kills} kills, {mid_write} mid-write (temp file present), {killed_after_replace} after the "
          f"replace, {killed_before_write} before writing; {acked} acknowledged commands; "
          f"{len(temp_files(db))} leftover temp files")
    assert kills >= 10, f"only {kills} of 30 writers were killed"
    assert mid_write >= 3, f"only {mid_write} of {kills} kills landed mid-write"
    assert acked >= 5


# ============================================================================ 4. write failures



class _FullDisk:
    """A file object whose writes fail as on a full disk (closes the real file on exit)."""

    def __init__(self, fh):
        self.fh = fh

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()
        return False

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.fh, name)


def inject(monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    def fail(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if fault == "write":
        real_fdopen = os.fdopen
        monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _FullDisk(real_fdopen(fd, *a, **k)))
    elif fault == "fsync":
        monkeypatch.setattr(os, "fsync", fail)
    elif fault == "replace":
        monkeypatch.setattr(os, "replace", fail)
    else:
        raise AssertionError(fault)


FAULTS = ["write", "fsync", "replace"]


@pytest.mark.parametrize("fault", FAULTS)
def test_failed_write_exits_5_and_leaves_the_old_file(fault: str, world, db: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    world.place()
    os.utime(db, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before = snapshot(db)
    with monkeypatch.context() as full_disk:
        inject(full_disk, fault)

        err = world.json(*PLACE, code=5)
        assert err["code"] == "write_failed" and err["exit"] == 5
        assert str(db) in err["message"] and "No space left on device" in err["message"]
        assert snapshot(db) == before, "the old file must be left byte for byte"
        assert temp_files(db) == [], "the temporary file must be removed"

        message = cli_error(world("clock", "tick", "1h", code=5))
        assert str(db) in message and "No space left on device" in message
        assert snapshot(db) == before
        assert temp_files(db) == []

    # once the disk has room again the world is as it was
    assert [o["id"] for o in world.json("orders", "list")] == ["ORD-0001"]
    assert world.place()["id"] == "ORD-0002", "the failed place must not have used up an id"


@pytest.mark.parametrize("fault", FAULTS)
def test_failed_first_write_creates_no_data_file(fault: str, cli, db: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert not db.exists()
    inject(monkeypatch, fault)
    err = cli.json(*PLACE, code=5)
    assert err["code"] == "write_failed" and str(db) in err["message"]
    assert not db.exists()
    assert temp_files(db) == []


@pytest.mark.parametrize("fault", FAULTS)
def test_failed_backup_write_leaves_no_copy(fault: str, world, db: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    world.place()
    before = snapshot(db)
    dest = tmp_path / "backups" / "copy.json"
    inject(monkeypatch, fault)
    err = world.json("db", "backup", str(dest), code=5)
    assert err["code"] == "write_failed" and str(dest) in err["message"]
    assert "No space left on device" in err["message"]
    assert not dest.exists()
    assert temp_files(dest) == []
    assert snapshot(db) == before


# A read-only folder as root (CI runs as root): see test_durability.py, which makes the write
# fail in ways root can't override (a file size limit, a path through a regular file).


# ============================================================================ 5. damaged or foreign files

def _real_world(cli, db: Path) -> dict:
    cli.json("clock", "set", cli.start)
    cli.place()
    return load(db)


def _damaged(kind: str, real: bytes) -> bytes:
    data = json.loads(real)
    if kind == "truncated":
        return real[: len(real) * 2 // 3]
    if kind == "binary":
        return b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3
    if kind == "json-array":
        return json.dumps([data]).encode()
    if kind == "json-null":  # JSON, but not an object: not an empty world (that is no bytes, {} or TinyDB's own)
        return b" null\n"
    if kind == "json-number":
        return b"5"
    if kind == "other-tinydb":
        return b'{"_default": {"1": {"name": "not an order", "value": 3}}}'
    if kind == "other-app":
        data["meta"]["1"]["app"] = "shopcli"
        return json.dumps(data).encode()
    if kind == "orders-not-a-table":
        data["orders"] = list(data["orders"].values())
        return json.dumps(data).encode()
    if kind == "events-missing":
        del data["events"]
        return json.dumps(data).encode()
    if kind == "schema-text":
        data["meta"]["1"]["schema"] = "2"
        return json.dumps(data).encode()
    if kind == "schema-bool":
        data["meta"]["1"]["schema"] = True
        return json.dumps(data).encode()
    if kind == "schema-0":
        data["meta"]["1"]["schema"] = 0
        return json.dumps(data).encode()
    if kind == "newer-schema":
        data["meta"]["1"]["schema"] = SCHEMA_VERSION + 1
        return json.dumps(data).encode()
    raise AssertionError(kind)


# kind -> (error code, words naming the problem, words saying what to do)
DAMAGE = {
    "truncated": ("storage_unreadable", "not valid json", "restore a backup"),
    "binary": ("storage_unreadable", "not valid json", "restore a backup"),
    "json-array": ("not_ordercli_data", "not ordercli data", "point --db"),
    "json-null": ("not_ordercli_data", "not ordercli data", "point --db"),
    "json-number": ("not_ordercli_data", "not ordercli data", "point --db"),
    "other-tinydb": ("not_ordercli_data", "not ordercli data", "point --db"),
    "other-app": ("not_ordercli_data", "not ordercli data", "point --db"),
    "orders-not-a-table": ("not_ordercli_data", "not ordercli data", "point --db"),
    "events-missing": ("not_ordercli_data", "not ordercli data", "point --db"),
    "schema-text": ("not_ordercli_data", "not ordercli data", "point --db"),
    "schema-bool": ("not_ordercli_data", "not ordercli data", "point --db"),
    "schema-0": ("not_ordercli_data", "not ordercli data", "point --db"),
    "newer-schema": ("newer_schema", f"schema version {SCHEMA_VERSION + 1}", "upgrade ordercli"),
}

DAMAGE_COMMANDS = {
    "read": ("orders", "list"),
    "show": ("orders", "show", "ORD-0001"),
    "write": PLACE,
    "tick": ("clock", "tick", "1h"),
    "check": ("db", "check"),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damaged_or_foreign_file_exits_5_and_is_untouched(kind: str, cli, db: Path, tmp_path: Path) -> None:
    db.write_bytes(_damaged(kind, json.dumps(_real_world(cli, db)).encode()))
    os.utime(db, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before = snapshot(db)
    code, problem, remedy = DAMAGE[kind]

    for name, args in DAMAGE_COMMANDS.items():
        err = cli.json(*args, code=5)
        assert err["code"] == code, f"{name}: {err}"
        assert err["exit"] == 5
        message = err["message"]
        assert str(db) in message, f"{name}: the message must name the file: {message}"
        assert problem in message.lower(), f"{name}: {message}"
        assert remedy in message, f"{name}: the message must say what to do: {message}"
        assert snapshot(db) == before, f"{name} changed the damaged file"

    assert cli_error(cli(*PLACE, code=5)) == message  # same message in text mode
    dest = tmp_path / "copy.json"
    err = cli.json("db", "backup", str(dest), code=5)
    assert err["code"] == code
    assert not dest.exists(), "a damaged file must not be backed up"
    assert snapshot(db) == before
    assert temp_files(db) == []


# An ordercli file damaged inside (say by hand editing) is not a bug in ordercli: it is a storage problem
# (exit 5), never an internal error (exit 1), and `db check` above all must report it.
# kind -> (damage, commands that must refuse it)
_META_COMMANDS = ("orders list", "orders show", "clock tick", "orders place", "db check")
_ORDER_COMMANDS = ("orders list", "orders show", "clock tick", "db check")
INNER_DAMAGE = {
    "clock-missing": (lambda d: d["meta"]["1"].pop("clock"), _META_COMMANDS),
    "clock-not-an-instant": (lambda d: d["meta"]["1"].update(clock="yesterday"), _META_COMMANDS),
    "policy-missing": (lambda d: d["meta"]["1"].pop("policy"), _META_COMMANDS),
    "counter-not-a-number": (lambda d: d["meta"]["1"].update(next_order="2"), _META_COMMANDS),
    "order-fields-missing": (lambda d: d["orders"].update({"1": {"id": "ORD-0001"}}), _ORDER_COMMANDS),
    "order-instant-garbled": (lambda d: d["orders"]["1"].update(ship_by="soon"), _ORDER_COMMANDS),
}
INNER_ARGS = {
    "orders list": ("orders", "list"),
    "orders show": ("orders", "show", "ORD-0001"),
    "clock tick": ("clock", "tick", "1h"),
    "orders place": PLACE,
    "db check": ("db", "check"),
}


@pytest.mark.parametrize("kind", list(INNER_DAMAGE))
def test_ordercli_file_damaged_inside_is_a_storage_error(kind: str, cli, db: Path) -> None:
    data = _real_world(cli, db)
    damage, commands = INNER_DAMAGE[kind]
    damage(data)
    db.write_bytes(json.dumps(data).encode())
    before = snapshot(db)
    wrong = []
    for name in commands:
        result = cli.runner.invoke(app, [*INNER_ARGS[name], "--json"])
        if result.exit_code != 5:
            wrong.append(f"{name}: exit {result.exit_code} ({result.stderr.strip()})")
            continue
        err = json.loads(result.stderr)["error"]
        if result.stdout or str(db) not in err["message"] or "internal" in err["message"]:
            wrong.append(f"{name}: {err} / stdout {result.stdout!r}")
        if snapshot(db) != before:
            wrong.append(f"{name}: changed the file")
    assert snapshot(db) == before
    assert temp_files(db) == []
    assert not wrong, "expected exit 5 (storage) naming the file:\n" + "\n".join(wrong)


def test_data_file_that_is_a_directory_exits_5(cli, db: Path) -> None:
    db.mkdir()
    for args in (("orders", "list"), PLACE, ("db", "check")):
        err = cli.json(*args, code=5)
        assert str(db) in err["message"] and "directory" in err["message"]
    assert db.is_dir() and list(db.iterdir()) == []


def test_empty_file_is_an_empty_world_and_a_write_then_works(cli, db: Path) -> None:
    db.write_bytes(b"")
    assert cli.json("orders", "list") == []
    assert cli.json("events", "list") == []
    report = cli.json("db", "check")
    assert report["ok"] is True and report["orders"] == 0 and report["exists"] is True
    assert db.read_bytes() == b"", "reading commands must leave the empty file empty"

    order = cli.place()
    assert order["id"] == "ORD-0001"
    data = load(db)
    assert data["meta"]["1"]["app"] == "ordercli" and data["meta"]["1"]["schema"] == SCHEMA_VERSION
    assert [o["id"] for o in data["orders"].values()] == ["ORD-0001"]
    assert [o["id"] for o in cli.json("orders", "list")] == ["ORD-0001"]


# ============================================================================ 6. schema versions, migrations

def _downgrade_to_v2(data: dict) -> dict:
    """Schema 2 (0.1.0's): a notifications row per channel, keyed by its seq."""
    v2 = copy.deepcopy(data)
    v2["meta"]["1"]["schema"] = 2
    rows = [{**{k: v for k, v in n.items() if k != "channels"}, "seq": n["seq"] + i, "channel": channel}
            for n in v2["notifications"].values() for i, channel in enumerate(n["channels"])]
    fields = ["seq", "at", "to", "role", "channel", "order_id", "kind", "message"]
    v2["notifications"] = {str(r["seq"]): {k: r[k] for k in fields} for r in rows}
    return v2


def _downgrade_to_v1(data: dict) -> dict:
    v1 = _downgrade_to_v2(data)
    v1["meta"]["1"]["schema"] = 1
    del v1["meta"]["1"]["policy"]["source"]
    del v1["meta"]["1"]["policy"]["origins"]
    return v1


def test_migrations_list_covers_every_schema_step() -> None:
    assert SCHEMA_VERSION == 5  # 4: the idempotency keys; 5: the order fields of R22, R25, R26
    assert len(ordercli.store.MIGRATIONS) == SCHEMA_VERSION - 1
    assert all(callable(m) for m in ordercli.store.MIGRATIONS)


def test_schema_1_file_is_read_as_is_and_migrated_by_a_write(world, db: Path) -> None:
    world.place()
    world.json("cancel", "request", "ORD-0001", "--reason", "second-thought")  # a notice for the seller
    v2 = load(db)
    policy_v2 = world.json("policy", "show")
    orders_v2 = world.json("orders", "list")
    events_v2 = world.json("events", "list")
    notes_v2 = world.json("notifications", "list")
    assert len(notes_v2) == 2
    v1 = _downgrade_to_v1(v2)
    db.write_bytes(json.dumps(v1).encode())
    before = snapshot(db)

    # reading commands: the same answers as the schema-2 world; the file stays schema 1, byte for byte
    assert world.json("policy", "show") == policy_v2
    assert world.json("orders", "list") == orders_v2
    assert world.json("events", "list") == events_v2
    assert world.json("notifications", "list") == notes_v2
    assert world.json("orders", "show", "ORD-0001") == orders_v2[0]
    report = world.json("db", "check")
    assert report["ok"] is True and report["schema"] == 1, "db check reports the file's own schema"
    assert snapshot(db) == before
    assert load(db)["meta"]["1"]["schema"] == 1

    # a refused write writes nothing, not even the migration
    world.json("policy", "use", "ebay", code=4)
    world.json("seller", "ship", "ORD-9999", code=3)
    assert snapshot(db) == before

    # a write migrates
    assert world.place()["id"] == "ORD-0002"
    after = load(db)
    meta = after["meta"]["1"]
    assert meta["schema"] == SCHEMA_VERSION == 5
    assert meta["policy"]["source"] == "preset"
    assert isinstance(meta["policy"]["origins"], dict)
    assert meta["policy"]["values"] == v2["meta"]["1"]["policy"]["values"]
    assert after["orders"]["1"] == v2["orders"]["1"], "the migration must keep the old orders as they were"
    assert after["notifications"] == v2["notifications"], "the migration must give back schema 3's notices"
    assert world.json("notifications", "list") == notes_v2
    assert world.json("policy", "show") == policy_v2
    assert world.json("db", "check")["ok"] is True


def test_schema_1_file_with_a_policy_from_a_file_migrates_to_source_file(cli, db: Path, tmp_path: Path, start) -> None:
    toml = tmp_path / "house.toml"
    toml.write_text('pay_within = "48h"\n')  # the policy is named after the file
    cli.json("clock", "set", start)
    cli.json("policy", "use", str(toml))
    cli.place()
    v2 = load(db)
    assert v2["meta"]["1"]["policy"]["name"] == "house"
    db.write_bytes(json.dumps(_downgrade_to_v1(v2)).encode())
    before = snapshot(db)

    shown = cli.json("policy", "show")
    assert shown["name"] == "house" and shown["source"] == "file" and shown["pay_within"] == "48h"
    assert snapshot(db) == before

    cli.json("clock", "tick", "1h")
    meta = load(db)["meta"]["1"]
    assert meta["schema"] == SCHEMA_VERSION
    assert meta["policy"]["source"] == "file"


@pytest.mark.parametrize("fault", ["fsync", "replace"])
def test_failed_migrating_write_leaves_the_schema_1_file(fault: str, world, db: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    world.place()
    db.write_bytes(json.dumps(_downgrade_to_v1(load(db))).encode())
    before = snapshot(db)
    inject(monkeypatch, fault)
    err = world.json("clock", "tick", "1h", code=5)
    assert err["code"] == "write_failed"
    assert snapshot(db) == before
    assert load(db)["meta"]["1"]["schema"] == 1
    assert temp_files(db) == []


# ============================================================================ 7. db check, db backup

def _world_with_refund(cli) -> None:
    """ORD-0001 cancelled with a pending refund; ORD-0002 awaiting shipment."""
    cli.json("clock", "set", cli.start)
    cli.place()
    cli.place(amount="5.00")
    cli.json("cancel", "request", "ORD-0001", "--reason", "second-thought")
    order = cli.json("seller", "respond", "ORD-0001", "accept")
    assert order["status"] == "cancelled" and order["refund"]["amount"] == "19.99"


def test_db_check_reports_a_sound_file(cli, db: Path) -> None:
    _world_with_refund(cli)
    data = load(db)
    before = snapshot(db)
    report = cli.json("db", "check")
    assert report == {
        "path": str(db),
        "exists": True,
        "schema": SCHEMA_VERSION,
        "orders": 2,
        "events": len(data["events"]),
        "notifications": 2 * len(data["notifications"]),  # a stored notice, on email and app
        "idempotency_keys": 0,
        "problems": [],
        "ok": True,
    }
    assert report["events"] > 0 and report["notifications"] > 0
    text = cli("db", "check").stdout
    assert str(db) in text and "ok" in text and "2 orders" in text
    assert snapshot(db) == before


def test_db_check_counts_in_words(world, db: Path, tmp_path: Path) -> None:
    world.place()
    assert world("db", "check").stdout == (
        f"{db}: ok, schema {SCHEMA_VERSION}, 1 order, 2 events, 0 notifications, 0 idempotency keys\n"
    )
    world.json("cancel", "request", "ORD-0001", "--reason", "second-thought")
    assert world("db", "check").stdout.endswith(", 1 order, 3 events, 2 notifications, 0 idempotency keys\n")
    assert world("db", "backup", str(tmp_path / "b.json")).stdout.startswith("backed up 1 order (")


def _break_refund_amount(d: dict) -> str:
    d["orders"]["1"]["refund"]["amount"] = "1.00"
    return "ORD-0001: refund amount '1.00' differs from the paid '19.99'"


def _break_status(d: dict) -> str:
    d["orders"]["2"]["status"] = "teleported"
    return "ORD-0002: unknown status 'teleported'"


def _break_event_seq(d: dict) -> str:
    events = d["events"]
    gap = str(len(events) // 2)
    d["events"] = {k: v for k, v in events.items() if k != gap}
    return "events: seq"


def _break_duplicate_event(d: dict) -> str:
    d["events"]["2"]["seq"] = 1
    return "events: seq 2"


def _break_order_key(d: dict) -> str:
    # TinyDB reads doc_id 1 from "01", but get(doc_id=1) looks for "1": the order is unreachable by its id
    d["orders"] = {("01" if k == "1" else k): v for k, v in d["orders"].items()}
    return "ORD-0001: id does not match its key '01'"


INCONSISTENT = {
    "order-key": _break_order_key,
    "refund-amount": _break_refund_amount,
    "unknown-status": _break_status,
    "event-gap": _break_event_seq,
    "event-duplicate": _break_duplicate_event,
}


@pytest.mark.parametrize("kind", list(INCONSISTENT))
def test_db_check_lists_problems_and_changes_nothing(kind: str, cli, db: Path) -> None:
    _world_with_refund(cli)
    data = load(db)
    needle = INCONSISTENT[kind](data)
    db.write_bytes(json.dumps(data).encode())
    before = snapshot(db)

    result = cli("db", "check", "--json", code=5)
    assert result.stdout == ""
    err = json.loads(result.stderr)["error"]
    assert err["code"] == "data_problems" and err["exit"] == 5
    assert str(db) in err["message"]
    assert any(needle in p for p in err["problems"]), err["problems"]
    assert needle in err["message"]
    assert len(err["problems"]) == 1, err["problems"]
    message = cli_error(cli("db", "check", code=5))
    assert needle in message
    assert snapshot(db) == before
    assert temp_files(db) == []


def test_db_check_on_a_missing_file_creates_nothing(cli, tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "world.json"
    listing = sorted(tmp_path.rglob("*"))
    report = cli.json("--db", str(target), "db", "check")
    assert report["exists"] is False and report["ok"] is True
    assert report["orders"] == 0 and report["problems"] == []
    assert report["path"] == str(target)
    assert sorted(tmp_path.rglob("*")) == listing, "db check on a missing file must create nothing"


def test_db_backup_is_a_byte_identical_openable_copy(cli, db: Path, tmp_path: Path) -> None:
    _world_with_refund(cli)
    before = snapshot(db)
    dest = tmp_path / "backups" / "nested" / "copy.json"
    result = cli.json("db", "backup", str(dest))
    assert result["backup"] == str(dest) and result["orders"] == 2
    assert dest.read_bytes() == db.read_bytes()
    assert result["bytes"] == len(dest.read_bytes())
    assert snapshot(db) == before
    assert temp_files(dest) == []

    original = cli.json("orders", "list")
    assert cli.json("--db", str(dest), "orders", "list") == original
    assert cli.json("--db", str(dest), "db", "check")["ok"] is True
    # the copy is a world of its own: writing to it leaves the original alone
    assert cli.json("--db", str(dest), "orders", "place", "--buyer", "b", "--seller", "s", "--item", "i",
                    "--amount", "1.00")["id"] == "ORD-0003"
    assert snapshot(db) == before
    assert len(cli.json("orders", "list")) == 2


def test_db_backup_of_a_missing_file_exits_3(cli, db: Path, tmp_path: Path) -> None:
    dest = tmp_path / "copy.json"
    err = cli.json("db", "backup", str(dest), code=3)
    assert err["code"] == "no_data_file" and str(db) in err["message"]
    assert not dest.exists() and not db.exists()


def test_db_backup_of_a_damaged_file_exits_5(cli, db: Path, tmp_path: Path) -> None:
    real = json.dumps(_real_world(cli, db)).encode()
    db.write_bytes(real[: len(real) // 2])
    before = snapshot(db)
    dest = tmp_path / "copy.json"
    err = cli.json("db", "backup", str(dest), code=5)
    assert err["code"] == "storage_unreadable" and str(db) in err["message"]
    assert not dest.exists()
    assert snapshot(db) == before


def test_db_backup_onto_the_data_file_itself_is_refused(world, db: Path) -> None:
    world.place()
    before = snapshot(db)
    err = world.json("db", "backup", str(db), code=5)
    assert err["code"] == "bad_backup_path"
    assert snapshot(db) == before

"""The holes found when ordercli was tried as a new user would: paths that are not files, damaged
records, leftovers of a killed writer, read-only folders, unwritable output, backup to stdout and
restore. Each test here failed on 0.1.0."""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import stat
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

PLACE = ("orders", "place", "--buyer", "alice", "--seller", "acme", "--item", "Blue headset", "--amount", "19.99")


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# ------------------------------------------------------------------------ paths that are not data files


def _fifo(folder: Path) -> Path:
    path = folder / "pipe"
    os.mkfifo(path)
    return path


def _socket(folder: Path) -> Path:
    path = folder / "sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()  # the socket file stays
    return path


def _device(folder: Path) -> Path:
    path = folder / "null"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    except PermissionError:
        pytest.skip("creating a device node needs root")
    return path


def _directory(folder: Path) -> Path:
    path = folder / "adir"
    path.mkdir()
    return path


MAKERS = {"fifo": _fifo, "socket": _socket, "device": _device, "directory": _directory}
KIND_WORDS = {"fifo": "FIFO", "socket": "socket", "device": "device", "directory": "directory"}


@pytest.mark.parametrize("kind", list(MAKERS))
@pytest.mark.parametrize("args", [PLACE, ("clock", "tick", "1h"), ("orders", "list")], ids=["place", "tick", "list"])
def test_a_path_that_is_not_a_regular_file_is_exit_5_and_nothing_is_created(
    kind: str, args: tuple[str, ...], tmp_path: Path
) -> None:
    """A real process, so that a FIFO which blocks the reader shows as a timeout, not a hung suite."""
    folder = tmp_path / "f"
    folder.mkdir()
    path = MAKERS[kind](folder)
    mode = os.lstat(path).st_mode
    before = listing(folder)
    try:
        proc = subprocess.run([sys.executable, "-m", "ordercli", "--db", str(path), *args, "--json"],
                              capture_output=True, timeout=30, env={**os.environ, "ORDERCLI_DB": ""})
    except subprocess.TimeoutExpired:
        pytest.fail(f"ordercli hung on a {kind}")
    assert proc.returncode == 5, proc.stderr.decode()
    assert proc.stdout == b""
    err = json.loads(proc.stderr)["error"]
    assert err["code"] == "not_a_file"
    assert str(path) in err["message"] and KIND_WORDS[kind] in err["message"]
    assert os.lstat(path).st_mode == mode, "the node must be left as it was"
    assert listing(folder) == before, "nothing may be created beside it (no lock file, no temporary file)"


@pytest.mark.parametrize("via", ["option", "env"])
def test_a_path_ending_in_a_slash_is_exit_5_and_creates_nothing(via: str, cli, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    target = f"{tmp_path}/newdir/"
    if via == "env":
        monkeypatch.setenv("ORDERCLI_DB", target)
        err = cli.json(*PLACE, code=5)
    else:
        err = cli.json("--db", target, *PLACE, code=5)
    assert err["code"] == "not_a_file"
    assert target in err["message"] and "folder" in err["message"]
    assert not (tmp_path / "newdir").exists()
    assert listing(tmp_path) == []


def test_a_file_in_place_of_a_folder_is_exit_5(cli, tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    err = cli.json("--db", str(tmp_path / "plain" / "world.json"), *PLACE, code=5)
    assert err["code"] == "not_a_file"
    assert (tmp_path / "plain").read_text() == "x"
    assert listing(tmp_path) == ["plain"]


# ------------------------------------------------------------------------- damaged records are never used


def _world(cli, db: Path) -> dict:
    cli.json("clock", "set", cli.start)
    cli.place()
    cli.place(buyer="bob")
    return json.loads(db.read_bytes())


def _damage(kind: str, data: dict) -> dict:
    order = data["orders"]["1"]
    if kind == "negative-amount":
        order["amount"] = "-5"
    elif kind == "cancelled-paid-no-refund":
        order["status"] = "cancelled"
        order["cancelled_at"] = order["paid_at"]
        order["end_reason"] = "ship_timeout"
        order["refund"] = None
    elif kind == "status-unknown":
        order["status"] = "teleported"
    elif kind == "amount-number":
        order["amount"] = 19.99
    else:
        raise AssertionError(kind)
    return data


DAMAGES = ["negative-amount", "cancelled-paid-no-refund", "status-unknown", "amount-number"]


@pytest.mark.parametrize("kind", DAMAGES)
@pytest.mark.parametrize(
    "args",
    [PLACE, ("clock", "tick", "1h"), ("orders", "list"), ("orders", "show", "ORD-0001"),
     ("seller", "ship", "ORD-0001"), ("clock", "next")],
    ids=["place", "tick", "list", "show", "ship", "next"],
)
def test_a_damaged_record_is_exit_5_and_the_file_is_left_as_it_was(kind: str, args: tuple[str, ...], cli,
                                                                   db: Path) -> None:
    db.write_bytes(json.dumps(_damage(kind, _world(cli, db))).encode())
    before = db.read_bytes()
    assert cli.json("db", "check", code=5)["code"] == "data_problems"
    err = cli.json(*args, code=5)
    assert err["code"] == "damaged_data", err
    assert str(db) in err["message"] and "ORD-0001" in err["message"] and "db check" in err["message"]
    assert db.read_bytes() == before


def test_a_reader_that_does_not_touch_the_damaged_order_still_works(cli, db: Path) -> None:
    """Checks stay cheap: a reading command validates the records it reads, not the whole world."""
    db.write_bytes(json.dumps(_damage("negative-amount", _world(cli, db))).encode())
    assert cli.json("orders", "show", "ORD-0002")["buyer"] == "bob"
    assert cli.json("refund", "list") == []
    # a writer would rewrite the whole file: bytes ordercli did not write are checked whole first
    assert cli.json("seller", "ship", "ORD-0002", code=5)["code"] == "damaged_data"


def test_a_sound_file_written_by_someone_else_is_checked_once_then_sealed(cli, db: Path) -> None:
    data = _world(cli, db)
    raw = db.read_bytes()
    sealed = re.fullmatch(rb'(.*"seal":")([0-9a-f]{8})"}}}', raw, re.S)
    assert sealed, "ordercli seals what it writes: meta last, ending in the crc32 of the bytes before it"
    assert int(sealed.group(2), 16) == zlib.crc32(sealed.group(1))
    assert "seal" not in cli.json("policy", "show")
    del data["meta"]["1"]["seal"]
    db.write_bytes(json.dumps(data, indent=1).encode())  # the same world, other bytes: e.g. a script's
    assert cli.json("seller", "ship", "ORD-0002")["status"] == "shipped"
    assert re.fullmatch(rb'.*"seal":"[0-9a-f]{8}"}}}', db.read_bytes(), re.S)
    assert cli.json("db", "check")["ok"] is True
    assert set(os.listdir(db.parent)) == {db.name, db.name + ".lock"}


# --------------------------------------------------------------------------- leftovers of a killed writer


def test_the_next_writer_removes_leftover_temporary_files_and_db_check_reports_them(world, db: Path) -> None:
    world.place()
    leftover = db.parent / f".{db.name}.k1ll3d.tmp"
    leftover.write_bytes(b'{"meta": {"1": {"app": "ordercli", "schema"')  # half a world
    other = db.parent / ".other.json.abc.tmp"  # another file's: not ours to remove
    other.write_bytes(b"{}")

    report = world.json("db", "check")
    assert report["ok"] is True and report["leftovers"] == [leftover.name]
    assert "leftover" in world("db", "check").stdout
    world.json("orders", "list")
    assert leftover.exists(), "a reader holds no lock: it must not touch them"

    world.place()
    assert not leftover.exists()
    assert other.exists()
    assert "leftovers" not in world.json("db", "check")


# ------------------------------------------------------------------------------------- read-only folders


def test_a_folder_that_refuses_the_lock_file_is_a_read_only_error(world, db: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    world.place()
    before = db.read_bytes()
    import filelock

    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(db) + ".lock")

    monkeypatch.setattr(filelock.FileLock, "acquire", refuse)
    err = world.json(*PLACE, code=5)
    assert err["code"] == "read_only"
    assert "read-only" in err["message"] and str(db.parent) in err["message"]
    assert err["message"].startswith(f"cannot lock {db}: ")
    assert db.read_bytes() == before


def test_a_folder_without_write_permission_is_refused_before_anything_is_tried(world, db: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    world.place()
    before = db.read_bytes()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: False if mode & os.W_OK else real_access(p, mode, **k))
    err = world.json("clock", "tick", "1h", code=5)
    assert err["code"] == "read_only" and "read-only" in err["message"]
    assert db.read_bytes() == before
    assert world.json("orders", "list")[0]["id"] == "ORD-0001", "reading needs no write permission"


# ------------------------------------------------------------------------------------------------- output


def test_output_to_a_full_device_is_a_clean_exit_5(world, db: Path) -> None:
    world.place()
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([sys.executable, "-m", "ordercli", "orders", "list", "--json"], stdout=full,
                              stderr=subprocess.PIPE, timeout=60)
    assert proc.returncode == 5
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    err = json.loads(lines[0])["error"]
    assert err["code"] == "output_failed" and "output" in err["message"] and "No space left" in err["message"]

    with open("/dev/full", "wb") as full:
        proc = subprocess.run([sys.executable, "-m", "ordercli", "orders", "list"], stdout=full,
                              stderr=subprocess.PIPE, timeout=60)
    assert proc.returncode == 5
    assert proc.stderr.decode().startswith("error: could not write the output")
    assert "Traceback" not in proc.stderr.decode() and "Exception ignored" not in proc.stderr.decode()


def test_a_reader_that_goes_away_is_silence(world, db: Path) -> None:
    for _ in range(3):
        world.place()
    proc = subprocess.run(f"{sys.executable} -m ordercli orders list --json | head -c 10", shell=True,
                          capture_output=True, timeout=60)
    assert proc.returncode == 0 and len(proc.stdout) == 10
    assert proc.stderr == b""


# ------------------------------------------------------------------------------------- backup and restore


def test_db_backup_dash_writes_the_world_to_stdout(world, db: Path, run_process) -> None:
    world.place()
    result = run_process("db", "backup", "-")
    assert result.returncode == 0, result.stderr
    assert result.stdout == db.read_bytes()
    assert not (Path.cwd() / "-").exists()
    assert result.stderr == b""


def test_db_restore_replaces_the_world_and_keeps_the_old_one(world, db: Path, tmp_path: Path) -> None:
    world.place()
    saved = tmp_path / "saved.json"
    world.json("db", "backup", str(saved))
    world.place(buyer="bob")
    newer = db.read_bytes()

    result = world.json("db", "restore", str(saved))
    kept = db.parent / f"{db.name}.bak"
    assert result == {"path": str(db), "restored_from": str(saved), "replaced_world_kept_as": str(kept), "orders": 1}
    assert db.read_bytes() == saved.read_bytes()
    assert kept.read_bytes() == newer
    assert [o["id"] for o in world.json("orders", "list")] == ["ORD-0001"]
    assert world.place()["id"] == "ORD-0002"


@pytest.mark.parametrize("bad", ["damaged", "foreign", "not-json", "missing"])
def test_db_restore_refuses_a_file_db_check_would_refuse(bad: str, world, db: Path, tmp_path: Path) -> None:
    world.place()
    before = db.read_bytes()
    source = tmp_path / "bad.json"
    if bad == "damaged":
        source.write_bytes(json.dumps(_damage("negative-amount", json.loads(before))).encode())
    elif bad == "foreign":
        source.write_bytes(b'{"_default": {"1": {"x": 1}}}')
    elif bad == "not-json":
        source.write_bytes(before[:50])
    err = world.json("db", "restore", str(source), code=2 if bad == "missing" else 5)
    assert str(source) in err["message"]
    assert db.read_bytes() == before
    assert not (db.parent / f"{db.name}.bak").exists()


# ------------------------------------------------------------- found by mutation testing (issue 13)


def test_starting_a_file_afresh_removes_a_killed_writers_leftovers(tmp_path: Path, start) -> None:
    """`Sandbox(path, replace=True)` (a scenario's --db world) writes under the lock like any writer,
    so it removes this file's leftover temporary files, and only this file's."""
    from ordercli import Sandbox

    path = tmp_path / "w.json"
    Sandbox(path, start=start).place("alice", "acme", "Mug", "5")
    leftover = tmp_path / f".{path.name}.k1ll3d.tmp"
    leftover.write_bytes(b'{"meta"')
    other = tmp_path / ".other.json.abc.tmp"
    other.write_bytes(b"{}")
    fresh = Sandbox(path, start=start, replace=True)
    assert fresh.orders() == []
    assert not leftover.exists()
    assert other.exists()


def test_the_store_exports_what_it_names() -> None:
    import ordercli.store as store

    assert set(store.__all__) == {
        "MIGRATIONS", "DataFile", "Store", "atomic_write", "checked_path", "default_path", "lock_timeout",
        "new_world_tables", "CommandProcess",
        "streamed_output", "check_output", "write_output",
    }  # fmt: skip
    assert all(callable(getattr(store, name)) or name == "MIGRATIONS" for name in store.__all__)


def test_db_restore_removes_a_killed_writers_leftovers(world, db: Path, tmp_path: Path) -> None:
    world.place()
    saved = tmp_path / "saved.json"
    world.json("db", "backup", str(saved))
    leftover = db.parent / f".{db.name}.k1ll3d.tmp"
    leftover.write_bytes(b'{"meta"')
    world.json("db", "restore", str(saved))
    assert not leftover.exists()


def test_reading_a_world_again_and_again_holds_no_file_open(tmp_path: Path, start) -> None:
    from ordercli import Sandbox

    path = tmp_path / "w.json"
    world = Sandbox(path, start=start)
    world.place("alice", "acme", "Mug", "5")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        assert len(world.orders()) == 1
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_table_of_many_rows_is_written_whole(tmp_path: Path) -> None:
    """Big tables are streamed a slice of rows at a time: every row arrives, in order, with meta last."""
    from ordercli.store.file import atomic_write

    rows = {str(i): {"n": i} for i in range(1, 45_002)}
    tables = {"events": rows, "orders": {"1": {"id": "ORD-0001"}}, "meta": {"1": {"app": "x"}}}
    path = tmp_path / "big.json"
    atomic_write(path, tables, durable=False)
    raw = path.read_bytes()
    assert json.loads(raw) == tables
    assert list(json.loads(raw)) == ["events", "orders", "meta"]
    assert raw.endswith(b'"meta":{"1":{"app":"x"}}}')


def test_the_seal_tells_ordercli_s_own_bytes_from_anyone_else_s(cli, db: Path) -> None:
    from ordercli.store.file import DataFile, is_sealed

    cli.json("orders", "place", *PLACE[2:])
    raw = db.read_bytes()
    assert is_sealed(raw)
    f = DataFile(db)
    f.read()
    assert f.sealed() is True
    edited = raw.replace(b'"buyer":"alice"', b'"buyer":"alicf"')
    assert edited != raw and not is_sealed(edited)
    db.write_bytes(edited)
    f.read()
    assert f.sealed() is False
    assert not is_sealed(b"{}")


def test_only_the_data_file_s_own_folder_decides_whether_it_may_be_written(world, db: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    world.place()
    before = db.read_bytes()
    real_access = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda p, mode, **k: False if mode & os.W_OK and Path(p) == db.parent else real_access(p, mode, **k),
    )
    assert world.json("clock", "tick", "1h", code=5)["code"] == "read_only"
    assert db.read_bytes() == before


def test_a_write_the_os_refuses_for_permission_is_a_read_only_error(world, db: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    world.place()
    before = db.read_bytes()

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    err = world.json("clock", "tick", "1h", code=5)
    assert err["code"] == "read_only" and err["message"].startswith(f"cannot write {db}: ")
    assert db.read_bytes() == before


def test_db_restore_of_the_data_file_itself_is_refused(world, db: Path) -> None:
    world.place()
    before = db.read_bytes()
    err = world.json("db", "restore", str(db), code=2)
    assert err["code"] == "bad_restore_path"
    assert db.read_bytes() == before
    assert not (db.parent / f"{db.name}.bak").exists()


def _sealed(data: dict) -> bytes:
    """The bytes ordercli would write for `data`, sealed: as if ordercli itself had written them."""
    meta = {k: v for k, v in data["meta"]["1"].items() if k != "seal"}
    body = b"{" + b",".join(
        json.dumps(name).encode() + b":" + json.dumps(data[name], separators=(",", ":")).encode()
        for name in data if name != "meta"
    ) + b',"meta":{"1":' + json.dumps(meta, separators=(",", ":")).encode()[:-1] + b',"seal":"'
    return body + f"{zlib.crc32(body):08x}".encode() + b'"}}}'


def test_a_sealed_file_whose_event_counter_lags_is_never_written_over(cli, db: Path) -> None:
    """The seal lets a command trust the records it reads; the history's counters are still checked
    when its rows are written, so even a forged seal can't make a command overwrite or misnumber history."""
    from ordercli.store.file import is_sealed

    data = _world(cli, db)
    data["meta"]["1"]["next_event"] -= 1  # the last event's seq handed out again
    raw = _sealed(data)
    assert is_sealed(raw)
    db.write_bytes(raw)
    err = cli.json(*PLACE, code=5)  # its two events would take seqs the file already has
    assert err["code"] == "damaged_data"
    assert db.read_bytes() == raw

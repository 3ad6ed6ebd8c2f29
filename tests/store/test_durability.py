"""What a write does on the way to disk, watched through fakes of os.fsync and os.replace.

A crash can't be staged in a test, but its preconditions can be watched: the new world is
flushed out of Python's buffer and fsynced in a temporary file *before* it replaces the
data file, and the folder is fsynced after the rename, so the rename itself survives a
power cut. Each fake records what it saw and then calls the real function.

Also here: the storage behaviours of issue 13 that a refactor of the store must keep (an
empty TinyDB file, db check blaming the file only when the file is at fault, an
unwritable folder even for root). Everything goes through the CLI or os-level fakes, never
through the store's private helpers.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

PLACE = ("orders", "place", "--buyer", "alice", "--seller", "acme", "--item", "Blue headset", "--amount", "19.99")


class Recorder:
    """Fakes for os.fsync and os.replace that log each call in order, then do the real thing."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.log: list[tuple] = []
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(fd: int) -> None:
            st = os.fstat(fd)
            path = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else "?"
            kind = "dir" if stat.S_ISDIR(st.st_mode) else "file"
            self.log.append(("fsync", kind, path, st.st_size))
            real_fsync(fd)

        def replace(src, dst, *args, **kwargs) -> None:
            self.log.append(("replace", str(src), str(dst)))
            real_replace(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", replace)

    def kinds(self) -> list[str]:
        return [e[0] if e[0] == "replace" else f"fsync {e[1]}" for e in self.log]


def _check_one_durable_write(log: list[tuple], target: Path) -> None:
    """fsync(temp file holding all the bytes) -> replace(temp, target) -> fsync(folder)."""
    assert [e[0] if e[0] == "replace" else f"fsync {e[1]}" for e in log] == ["fsync file", "replace", "fsync dir"]
    (_, _, synced, size), (_, src, dst), (_, _, folder, _) = log
    assert synced == src, "the file fsynced is not the one renamed into place"
    assert Path(src).parent == target.parent and Path(src).name != target.name  # a temp file beside it
    assert dst == str(target)
    # flushed before fsync: what the OS held at fsync time is the whole new file
    assert size == target.stat().st_size > 0
    assert folder == str(target.parent)


def test_a_writing_command_fsyncs_the_temp_file_then_renames_then_fsyncs_the_folder(cli, db: Path, monkeypatch, start):
    cli.json("clock", "set", start)
    rec = Recorder(monkeypatch)
    cli.json(*PLACE)
    _check_one_durable_write(rec.log, db)
    assert json.loads(db.read_bytes())["orders"]["1"]["buyer"] == "alice"


def test_the_first_write_of_a_new_world_is_durable_too(cli, db: Path, monkeypatch, start):
    rec = Recorder(monkeypatch)
    cli.json("clock", "set", start)
    _check_one_durable_write(rec.log, db)


def test_reading_commands_sync_and_replace_nothing(world, monkeypatch):
    world.json(*PLACE)
    rec = Recorder(monkeypatch)
    for args in (("orders", "list"), ("orders", "show", "ORD-0001"), ("events", "list"), ("clock", "show"),
                 ("refund", "list"), ("policy", "show"), ("db", "check")):  # fmt: skip
        world.json(*args)
    assert rec.log == []


def test_a_refused_command_syncs_and_replaces_nothing(world, monkeypatch):
    world.json(*PLACE)
    rec = Recorder(monkeypatch)
    world.json("orders", "pay", "ORD-0001", code=4)
    assert rec.log == []


def test_db_backup_writes_the_copy_durably(world, db: Path, tmp_path: Path, monkeypatch):
    world.json(*PLACE)
    dest = tmp_path / "backups" / "copy.json"
    rec = Recorder(monkeypatch)
    world.json("db", "backup", str(dest))
    _check_one_durable_write(rec.log, dest)
    assert dest.read_bytes() == db.read_bytes()


def test_a_kept_scenario_world_is_durable(cli, tmp_path: Path, monkeypatch):
    """`scenario run --db PATH` keeps the world: its writes are synced like any other."""
    f = tmp_path / "s.yaml"
    f.write_text("name: x\nstart: 2030-03-04T09:00:00Z\nsteps:\n  - run: clock tick 1h\n")
    kept = tmp_path / "kept.json"
    rec = Recorder(monkeypatch)
    cli.json("scenario", "run", str(f), "--db", str(kept))
    synced_files = [Path(e[2]).name for e in rec.log if e[:2] == ("fsync", "file")]
    assert synced_files and all(n.startswith(".kept.json.") and n.endswith(".tmp") for n in synced_files)
    assert ("fsync", "dir", str(tmp_path)) in [e[:3] for e in rec.log]


def test_a_failed_fsync_writes_nothing(world, db: Path, monkeypatch):
    world.json(*PLACE)

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    err = world.refused_unchanged(db, *PLACE, code=5)
    assert err["code"] == "write_failed"
    assert sorted(p.name for p in db.parent.iterdir() if p.name.endswith(".tmp")) == []


def test_a_failed_rename_writes_nothing(world, db: Path, monkeypatch):
    world.json(*PLACE)

    def refuse(src, dst, *a, **k) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    err = world.refused_unchanged(db, *PLACE, code=5)
    assert err["code"] == "write_failed" and str(db) in err["message"]
    assert sorted(p.name for p in db.parent.iterdir() if p.name.endswith(".tmp")) == []


# -- an empty TinyDB file is an empty world -------------------------------------------------------------
# TinyDB creates `{"_default": {}}` when it opens a new file: someone who makes the file with
# TinyDB (ordercli.tinydb_storage documents that use) gets an empty world, not exit 5.


@pytest.mark.parametrize("content", [b'{"_default": {}}', b"{}", b"", b"  \n"])
def test_an_empty_tinydb_file_is_an_empty_world(cli, db: Path, content: bytes, start):
    db.write_bytes(content)
    assert cli.json("orders", "list") == []
    assert cli.json("events", "list") == []
    assert db.read_bytes() == content  # reading creates nothing
    cli.json("clock", "set", start)
    placed = cli.json(*PLACE)
    assert placed["id"] == "ORD-0001"
    tables = json.loads(db.read_bytes())
    assert tables["meta"]["1"]["app"] == "ordercli"
    assert [o["id"] for o in tables["orders"].values()] == ["ORD-0001"]


@pytest.mark.parametrize("content", [b'{"_default": {"1": {"x": 1}}}', b'{"_default": {}, "orders": {}}', b"[]"])
def test_a_tinydb_file_with_other_data_is_refused(cli, db: Path, content: bytes):
    db.write_bytes(content)
    err = cli.refused_unchanged(db, *PLACE, code=5)
    assert err["code"] == "not_ordercli_data"


# -- internal errors are bugs (exit 1), not the file's fault -----------------------------------------------


def _crash(monkeypatch: pytest.MonkeyPatch) -> None:
    import ordercli.core.engine

    def boom(*args, **kwargs):
        raise RuntimeError("a bug in the engine")

    monkeypatch.setattr(ordercli.core.engine, "place_order", boom)


def test_an_internal_error_on_a_sound_file_is_exit_1_and_blames_no_file(world, db: Path, monkeypatch):
    world.json(*PLACE)
    _crash(monkeypatch)
    err = world.refused_unchanged(db, *PLACE, code=1)
    assert err["code"] == "internal_error"
    assert "RuntimeError" in err["message"] and "a bug in the engine" in err["message"]


def test_an_internal_error_on_a_missing_file_is_exit_1(cli, db: Path, monkeypatch):
    _crash(monkeypatch)
    err = cli.json(*PLACE, code=1)
    assert err["code"] == "internal_error"
    assert not db.exists()


def test_an_internal_error_on_a_damaged_file_blames_the_file(world, db: Path, monkeypatch):
    world.json(*PLACE)
    tables = json.loads(db.read_bytes())
    tables["orders"]["1"]["status"] = "lost"  # a hand edit db check finds
    db.write_bytes(json.dumps(tables).encode())
    _crash(monkeypatch)
    err = world.refused_unchanged(db, *PLACE, code=5)
    assert err["code"] == "damaged_data"
    assert str(db) in err["message"]


def test_db_check_of_a_sound_file_reports_no_problems(world, db: Path):
    world.json(*PLACE)
    report = world.json("db", "check")
    assert (report["ok"], report["problems"], report["orders"], report["exists"]) == (True, [], 1, True)
    assert report["events"] == 2 and report["notifications"] == 0  # placed, paid; nobody told


def test_db_check_names_the_problem_of_a_hand_edited_file(world, db: Path):
    world.json(*PLACE)
    tables = json.loads(db.read_bytes())
    tables["orders"]["1"]["status"] = "lost"
    db.write_bytes(json.dumps(tables).encode())
    before = db.read_bytes()
    err = world.json("db", "check", code=5)  # the error object also lists every problem
    assert db.read_bytes() == before
    assert err["code"] == "data_problems"
    assert any("lost" in p for p in err["problems"])


# -- a folder that can't be written, even by root ------------------------------------------------------------


def test_a_data_file_under_a_regular_file_is_exit_5_and_creates_nothing(cli, tmp_path: Path):
    """Permission bits don't stop root (CI runs as root); a path through a regular file stops anyone."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    target = blocker / "world.json"
    result = cli("--db", str(target), *PLACE, "--json", code=5)
    err = json.loads(result.stderr)["error"]
    assert err["code"] == "not_a_file" and str(target) in err["message"]
    assert blocker.read_text() == "x"
    reading = json.loads(cli("--db", str(target), "orders", "list", "--json", code=5).stderr)["error"]
    assert reading["code"] == "not_a_file"


_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
from ordercli.entry import main
sys.argv = ["ordercli", *sys.argv[2:]]
main()
"""


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE") or not hasattr(signal, "SIGXFSZ"), reason="POSIX only")
def test_a_file_that_cannot_grow_is_exit_5_and_the_world_is_kept(world, db: Path):
    """The kernel refuses the new world (a file size limit binds root too, unlike a read-only
    folder): exit 5 write_failed, the data file byte for byte as it was, no temporary file."""
    world.json(*PLACE)
    before = db.read_bytes()
    limit = str(len(before))  # the next world is larger than this one
    proc = subprocess.run([sys.executable, "-c", _LIMITED, limit, *PLACE, "--json"], capture_output=True,
                          env={**os.environ, "ORDERCLI_DB": str(db)}, timeout=60)  # fmt: skip
    assert proc.returncode == 5, proc.stderr
    assert proc.stdout == b""
    err = json.loads(proc.stderr)["error"]
    assert err["code"] == "write_failed" and str(db) in err["message"]
    assert db.read_bytes() == before
    assert sorted(p.name for p in db.parent.iterdir() if p.name.endswith(".tmp")) == []
    assert [o["id"] for o in world.json("orders", "list")] == ["ORD-0001"]


# -- more of the store's promises, each through the CLI --------------------------------------------------


def test_a_throwaway_scenario_world_is_not_synced(cli, tmp_path: Path, monkeypatch):
    """Without --db a scenario's world is a temporary file: atomic, but no fsync is paid for."""
    f = tmp_path / "s.yaml"
    f.write_text("name: x\nstart: 2030-03-04T09:00:00Z\nsteps:\n  - run: clock tick 1h\n")
    rec = Recorder(monkeypatch)
    cli.json("scenario", "run", str(f))
    assert [k for k in rec.kinds() if k.startswith("fsync")] == []


def test_a_folder_that_refuses_fsync_still_gets_the_write(world, db: Path, monkeypatch):
    """Some filesystems refuse fsync on a directory: the rename is done, the command succeeds."""
    real = os.fsync

    def no_dir_fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(22, "Invalid argument")
        real(fd)

    monkeypatch.setattr(os, "fsync", no_dir_fsync)
    assert world.json(*PLACE)["id"] == "ORD-0001"
    assert [o["id"] for o in json.loads(db.read_bytes())["orders"].values()] == ["ORD-0001"]


def test_a_data_file_that_is_a_folder_is_exit_5(cli, db: Path):
    db.mkdir()
    for args in (("orders", "list"), PLACE):
        err = cli.json(*args, code=5)
        assert err["code"] == "not_a_file"
        assert str(db) in err["message"] and "directory" in err["message"]
    assert db.is_dir() and list(db.iterdir()) == []


def test_db_check_of_a_missing_file_is_an_empty_report_and_creates_nothing(cli, db: Path):
    report = cli.json("db", "check")
    assert report == {"path": str(db), "exists": False, "schema": report["schema"], "orders": 0, "events": 0,
                      "notifications": 0, "idempotency_keys": 0, "problems": [], "ok": True}  # fmt: skip
    assert isinstance(report["schema"], int) and report["schema"] >= 1
    assert not db.exists()


def test_db_backup_reports_what_it_copied(world, db: Path, tmp_path: Path):
    world.json(*PLACE)
    world.json(*PLACE)
    dest = tmp_path / "b" / "copy.json"
    report = world.json("db", "backup", str(dest))
    assert report == {"path": str(db), "backup": str(dest), "bytes": len(db.read_bytes()), "orders": 2}
    assert dest.read_bytes() == db.read_bytes()
    err = world.json("db", "backup", str(db), code=5)
    assert err["code"] == "bad_backup_path"


def test_without_db_or_env_the_world_lives_in_the_user_data_folder(cli, tmp_path: Path, monkeypatch, start):
    monkeypatch.delenv("ORDERCLI_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    cli.json("clock", "set", start)
    assert (tmp_path / "data" / "ordercli" / "ordercli.json").is_file()


def test_a_world_written_without_durability_is_still_whole(cli, tmp_path: Path):
    """`scenario run --db` keeps its world: the file it leaves is a sound ordercli world."""
    f = tmp_path / "s.yaml"
    f.write_text("name: x\nstart: 2030-03-04T09:00:00Z\nsteps:\n  - run: " + " ".join(PLACE) .replace(
        "Blue headset", "'Blue headset'") + "\n")  # fmt: skip
    kept = tmp_path / "kept.json"
    cli.json("scenario", "run", str(f), "--db", str(kept))
    tables = json.loads(kept.read_bytes())
    assert [o["id"] for o in tables["orders"].values()] == ["ORD-0001"]
    check = json.loads(cli("--db", str(kept), "db", "check", "--json").stdout)
    assert check["ok"] is True and check["orders"] == 1


def test_without_a_lock_timeout_a_writer_waits_five_seconds(world, db: Path, monkeypatch):
    """The default wait, read from the message: filelock's acquire is made to time out at once."""
    import filelock

    seen: list[float] = []

    def busy(self, timeout=None, *args, **kwargs):
        seen.append(self.timeout if timeout is None else timeout)
        raise filelock.Timeout(self.lock_file)

    monkeypatch.delenv("ORDERCLI_LOCK_TIMEOUT", raising=False)
    monkeypatch.setattr(filelock.FileLock, "acquire", busy)
    err = world.refused_unchanged(db, *PLACE, code=5)
    assert err["code"] == "database_busy" and "(waited 5s;" in err["message"]
    assert seen == [5.0]


@pytest.mark.parametrize(
    "field, value",
    [("clock", "noon"), ("next_order", "2"), ("next_event", 1.5), ("policy", "aliexpress"), ("policy.values", 5)],
)
def test_a_malformed_meta_table_is_damaged_data(world, db: Path, field, value):
    world.json(*PLACE)
    tables = json.loads(db.read_bytes())
    meta = tables["meta"]["1"]
    if field == "policy.values":
        meta["policy"]["values"] = value
    else:
        meta[field] = value
    db.write_bytes(json.dumps(tables).encode())
    for args in (("orders", "list"), PLACE):
        err = world.refused_unchanged(db, *args, code=5)
        assert err["code"] == "damaged_data"
        assert "its meta table (clock, counters, policy) is malformed" in err["message"]


def test_a_writing_command_that_changes_nothing_writes_nothing(world, db: Path, tmp_path: Path, monkeypatch):
    world.json(*PLACE)
    before = (db.read_bytes(), db.stat().st_ino, db.stat().st_mtime_ns)
    empty = tmp_path / "none.ndjson"
    empty.write_text("\n")
    rec = Recorder(monkeypatch)
    assert world.json("orders", "import", str(empty)) == {"imported": 0}
    assert rec.log == []
    assert (db.read_bytes(), db.stat().st_ino, db.stat().st_mtime_ns) == before


def test_a_lock_that_cannot_be_taken_is_exit_5(world, db: Path, monkeypatch):
    import filelock

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    world.json(*PLACE)
    monkeypatch.setattr(filelock.FileLock, "acquire", denied)
    err = world.refused_unchanged(db, *PLACE, code=5)
    assert err["code"] == "read_only"
    assert str(db) in err["message"] and "permission denied" in err["message"]


def test_a_kept_scenario_world_may_live_in_new_folders(cli, tmp_path: Path):
    f = tmp_path / "s.yaml"
    f.write_text("name: x\nstart: 2030-03-04T09:00:00Z\nsteps:\n  - run: clock tick 1h\n")
    kept = tmp_path / "new" / "folders" / "kept.json"
    cli.json("scenario", "run", str(f), "--db", str(kept))
    assert json.loads(kept.read_bytes())["meta"]["1"]["clock"] == "2030-03-04T10:00:00+00:00"


def test_a_kept_scenario_world_that_cannot_be_written_is_write_failed(cli, tmp_path: Path, monkeypatch):
    f = tmp_path / "s.yaml"
    f.write_text("name: x\nstart: 2030-03-04T09:00:00Z\nsteps:\n  - run: clock tick 1h\n")
    kept = tmp_path / "kept.json"

    def refuse(src, dst, *a, **k) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    err = cli.json("scenario", "run", str(f), "--db", str(kept), code=5)
    assert err["code"] == "write_failed" and str(kept) in err["message"]
    assert not kept.exists()


def test_tinydb_writes_through_the_atomic_storage_are_durable_too(world, db: Path, monkeypatch):
    from tinydb import TinyDB

    from ordercli.tinydb_storage import AtomicJSONStorage

    world.json(*PLACE)
    rec = Recorder(monkeypatch)
    with TinyDB(db, storage=AtomicJSONStorage) as tdb:
        tdb.table("annotations").insert({"order_id": "ORD-0001", "text": "called"})
    _check_one_durable_write(rec.log, db)


def test_a_crash_that_the_damage_did_not_stop_first_still_blames_the_file(world, db: Path, monkeypatch):
    """A reader checks only the records it uses: here it crashes before meeting the damaged order,
    and the diagnosis after the crash finds that order (exit 5 naming it, not an internal error)."""
    import ordercli.core.views

    world.json(*PLACE)
    world.json(*PLACE)
    tables = json.loads(db.read_bytes())
    tables["orders"]["2"]["status"] = "lost"
    db.write_bytes(json.dumps(tables).encode())

    def boom(*args, **kwargs):
        raise RuntimeError("a bug in the views")

    monkeypatch.setattr(ordercli.core.views, "order", boom)
    err = world.refused_unchanged(db, "orders", "show", "ORD-0001", code=5)
    assert err["code"] == "damaged_data"
    assert str(db) in err["message"] and "ORD-0002" in err["message"]

"""Nothing ordercli writes destroys what was there (issue 17, the writer's part): one careful writer
for every file (the data file, backups, --junit, --plot, --save-sample, scenario run --db,
Sandbox(path)), symlinks to a world, modes, no companions beside refused files, scenario run --db
as a new file, read-only worlds. See docs/never-lost.md. The tests here fail on the main of
2026-12-02 (before the careful writer), but for a few that guard what it already did right (a backup
refused at a path that is not a file, a report replacing a link or a regular file, a 0600 backup)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

PLACE = ("orders", "place", "--buyer", "alice", "--seller", "acme", "--item", "Blue headset", "--amount", "19.99")
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
SIM = ("simulate", str(EXAMPLES / "marketplace.behaviour.yaml"), "--policy", "aliexpress", "--orders", "50",
       "--workers", "1")  # fmt: skip


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def scenario_file(folder: Path, name: str = "s.yaml") -> Path:
    path = folder / name
    text = f"name: one order\nstart: 2030-03-04T09:00:00Z\nsteps:\n  - run: {shlex.join(PLACE)}\n"
    path.write_text(text, encoding="utf-8")
    return path


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()


def _device(path: Path) -> None:
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    except PermissionError:
        pytest.skip("creating a device node needs root")


def _folder(path: Path) -> None:
    path.mkdir()


KINDS = {"fifo": (_fifo, stat.S_ISFIFO), "socket": (_socket, stat.S_ISSOCK), "device": (_device, stat.S_ISCHR),
         "folder": (_folder, stat.S_ISDIR)}  # fmt: skip


def not_a_file(tmp_path: Path, kind: str, name: str) -> Path:
    make, _ = KINDS[kind]
    path = tmp_path / name
    make(path)
    return path


def still_there(path: Path, kind: str) -> bool:
    return KINDS[kind][1](os.lstat(path).st_mode)


# --------------------------------------------------- outputs that are not regular files: before any work


@pytest.mark.parametrize("kind", list(KINDS))
def test_junit_at_a_path_that_is_not_a_file_is_refused_before_any_step(cli, tmp_path: Path, kind: str) -> None:
    s = scenario_file(tmp_path)
    report = not_a_file(tmp_path, kind, "report.xml")
    kept = tmp_path / "kept.json"
    err = cli.fail("scenario", "run", str(s), "--db", str(kept), "--junit", str(report), code=5)
    assert err["code"] == "not_a_file" and str(report) in err["message"]
    assert still_there(report, kind)
    assert not kept.exists()  # no scenario ran: its world was never made


@pytest.mark.parametrize("kind", list(KINDS))
def test_scenario_db_that_is_not_a_file_is_refused(cli, tmp_path: Path, kind: str) -> None:
    s = scenario_file(tmp_path)
    target = not_a_file(tmp_path, kind, "kept.json")
    err = cli.fail("scenario", "run", str(s), "--db", str(target), "--overwrite", code=5)
    assert err["code"] == "not_a_file"
    assert still_there(target, kind)
    assert listing(tmp_path) == sorted(["s.yaml", "kept.json"])


@pytest.mark.parametrize("kind", list(KINDS))
def test_backup_to_a_path_that_is_not_a_file_is_refused(world, tmp_path: Path, kind: str) -> None:
    world.place()
    dest = not_a_file(tmp_path, kind, "backup.json")
    err = world.fail("db", "backup", str(dest), code=5)
    assert err["code"] == "not_a_file"
    assert still_there(dest, kind)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("option", ["--plot", "--save-sample"])
def test_simulate_outputs_that_are_not_files_are_refused_before_simulating(
    cli, tmp_path: Path, kind: str, option: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ordercli.simulate import runner

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the simulation ran before its outputs were checked")

    monkeypatch.setattr(runner, "execute", never)
    target = not_a_file(tmp_path, kind, "out.png")
    err = cli.fail(*SIM, option, str(target), code=5)
    assert err["code"] == "not_a_file"
    assert still_there(target, kind)


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_sandbox_on_a_path_that_is_not_a_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    from ordercli import Sandbox
    from ordercli.core.errors import StorageError

    target = not_a_file(tmp_path, kind, "world.json")
    with pytest.raises(StorageError) as caught:
        Sandbox(target)
    assert caught.value.code == "not_a_file"
    assert still_there(target, kind)


def test_a_sandbox_replaces_only_an_ordercli_world(tmp_path: Path, start) -> None:
    from ordercli import Sandbox
    from ordercli.core.errors import UsageError

    path = tmp_path / "notes.json"
    path.write_text('{"mine": true}')
    with pytest.raises(UsageError) as caught:
        Sandbox(path, start=start, replace=True)
    assert caught.value.code == "foreign_file"
    assert path.read_text() == '{"mine": true}' and listing(tmp_path) == ["notes.json"]
    world = tmp_path / "w.json"
    Sandbox(world, start=start).place("a", "s", "x", "5")
    assert Sandbox(world, start=start, replace=True).orders() == []


# ----------------------------------------------------------------------- an output is never an input


def test_junit_over_the_scenario_file_is_refused(cli, tmp_path: Path) -> None:
    s = scenario_file(tmp_path)
    before = s.read_bytes()
    err = cli.fail("scenario", "run", str(s), "--junit", str(s), code=2)
    assert err["code"] == "output_is_input" and "scenario file" in err["message"]
    assert s.read_bytes() == before


def test_junit_over_the_db_world_is_refused(cli, tmp_path: Path) -> None:
    s = scenario_file(tmp_path)
    kept = tmp_path / "kept.json"
    cli.json("scenario", "run", str(s), "--db", str(kept))
    before = kept.read_bytes()
    err = cli.fail("scenario", "run", str(s), "--db", str(kept), "--overwrite", "--junit", str(kept), code=2)
    assert err["code"] == "output_is_input"
    assert kept.read_bytes() == before


def test_junit_over_the_scenario_policy_file_is_refused(cli, tmp_path: Path, start) -> None:
    shutil.copy(EXAMPLES / "seller-48h.toml", tmp_path / "p.toml")
    s = tmp_path / "s.yaml"
    s.write_text(f"start: {start}\npolicy: p.toml\nsteps:\n  - run: clock show\n", encoding="utf-8")
    before = (tmp_path / "p.toml").read_bytes()
    err = cli.fail("scenario", "run", str(s), "--junit", str(tmp_path / "p.toml"), code=2)
    assert err["code"] == "output_is_input" and "policy" in err["message"]
    assert (tmp_path / "p.toml").read_bytes() == before


@pytest.mark.parametrize("overwrite", [(), ("--overwrite",)])
def test_scenario_db_over_the_scenario_file_is_refused(cli, tmp_path: Path, overwrite: tuple[str, ...]) -> None:
    s = scenario_file(tmp_path)
    before = s.read_bytes()
    err = cli.fail("scenario", "run", str(s), "--db", str(s), *overwrite, code=2)
    assert err["code"] == "output_is_input"
    assert s.read_bytes() == before


def test_simulate_outputs_over_the_behaviour_or_a_policy_file_are_refused(cli, tmp_path: Path) -> None:
    behaviour = tmp_path / "b.png"  # any name loads as YAML
    shutil.copy(EXAMPLES / "marketplace.behaviour.yaml", behaviour)
    policy = tmp_path / "p.toml"
    shutil.copy(EXAMPLES / "seller-48h.toml", policy)
    before = behaviour.read_bytes(), policy.read_bytes()
    sim = ["simulate", str(behaviour), "--policy", str(policy), "--orders", "50", "--workers", "1"]
    assert cli.fail(*sim, "--plot", str(behaviour), code=2)["code"] == "output_is_input"
    assert cli.fail(*sim, "--save-sample", str(policy), code=2)["code"] == "output_is_input"
    assert (behaviour.read_bytes(), policy.read_bytes()) == before


# ----------------------------------------------------------- a symlink at an output path is replaced


def test_a_symlink_at_the_junit_path_is_replaced_never_followed(cli, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("someone's notes\n")
    report = tmp_path / "report.xml"
    report.symlink_to(victim)
    s = scenario_file(tmp_path)
    cli.json("scenario", "run", str(s), "--junit", str(report))
    assert victim.read_text() == "someone's notes\n"
    assert not report.is_symlink() and ET.parse(report).getroot().tag == "testsuites"


def test_a_symlink_at_the_backup_path_is_replaced_never_followed(world, tmp_path: Path) -> None:
    world.place()
    victim = tmp_path / "victim.txt"
    victim.write_text("someone's notes\n")
    dest = tmp_path / "backup.json"
    dest.symlink_to(victim)
    world.json("db", "backup", str(dest))
    assert victim.read_text() == "someone's notes\n"
    assert not dest.is_symlink() and len(world.json("--db", str(dest), "orders", "list")) == 1


def test_a_report_replaces_a_regular_file_as_a_redirection_does(cli, tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    report.write_text("last week's report")
    cli.json("scenario", "run", str(scenario_file(tmp_path)), "--junit", str(report))
    assert ET.parse(report).getroot().tag == "testsuites"
    assert listing(tmp_path) == ["report.xml", "s.yaml"]  # no temporary file left


# ------------------------------------------------------------------------------------ --junit -


def test_junit_to_stdout_is_the_only_thing_on_stdout(tmp_path: Path, run_process) -> None:
    s = scenario_file(tmp_path)
    proc = run_process("scenario", "run", str(s), "--junit", "-")
    assert proc.returncode == 0, proc.stderr
    root = ET.fromstring(proc.stdout)  # the whole of stdout is the XML
    assert root.tag == "testsuites"
    assert b"1 passed" in proc.stderr  # the per-step lines went to stderr
    assert listing(tmp_path) == ["s.yaml"]


def test_junit_to_stdout_with_json_is_refused(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # an ordercli that took - for a file name would write it here
    err = cli.fail("scenario", "run", str(scenario_file(tmp_path)), "--junit", "-", code=2)
    assert err["code"] == "usage" and "--junit -" in err["message"]


# ------------------------------------------------------------------------------- symlinks to a world


def test_a_world_reached_through_a_symlink_is_written_at_its_target(cli, tmp_path: Path, start) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "world.json"
    link = tmp_path / "link.json"
    link.symlink_to(target)  # dangling: the first write creates the target
    cli.json("--db", str(link), "clock", "set", start)
    first = cli.json("--db", str(link), *PLACE)
    second = cli.json("--db", str(target), *PLACE)
    assert link.is_symlink() and os.readlink(link) == str(target)
    ids = [o["id"] for o in cli.json("--db", str(link), "orders", "list")]
    assert ids == [first["id"], second["id"]] == [o["id"] for o in cli.json("--db", str(target), "orders", "list")]
    assert listing(tmp_path) == ["link.json", "real"]  # no link.json.lock: the lock is the target's
    assert listing(tmp_path / "real") == ["world.json", "world.json.lock"]


def test_a_relative_symlink_is_resolved_from_its_own_folder(cli, tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "links").mkdir()
    link = tmp_path / "links" / "w.json"
    link.symlink_to(Path("..") / "real" / "w.json")
    cli.json("--db", str(link), *PLACE)
    assert link.is_symlink() and (tmp_path / "real" / "w.json").is_file()
    assert listing(tmp_path / "links") == ["w.json"]


def test_a_dangling_link_into_a_missing_folder_is_refused(cli, tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "gone" / "world.json")
    err = cli.fail("--db", str(link), *PLACE, code=5)
    assert err["code"] == "dangling_link" and str(tmp_path / "gone") in err["message"]
    assert listing(tmp_path) == ["link.json"] and link.is_symlink()
    assert cli.json("--db", str(link), "orders", "list") == []  # reading a missing world creates nothing


def test_db_restore_through_a_symlink_restores_at_the_target(world, tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "w.json"
    link = tmp_path / "link.json"
    link.symlink_to(target)
    world.json("--db", str(link), *PLACE)
    saved = tmp_path / "saved.json"
    world.json("--db", str(link), "db", "backup", str(saved))
    world.json("--db", str(link), *PLACE)
    world.json("--db", str(link), "db", "restore", str(saved))
    assert link.is_symlink()
    assert len(world.json("--db", str(target), "orders", "list")) == 1


def test_writers_through_a_link_and_its_target_are_serialised(tmp_path: Path, run_process, start) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "world.json"
    link = tmp_path / "link.json"
    link.symlink_to(target)
    env = {"ORDERCLI_LOCK_TIMEOUT": "120"}
    assert run_process("--db", str(target), "clock", "set", start, env=env).returncode == 0

    def place(n: int) -> str | None:
        path = link if n % 2 else target
        proc = run_process("--db", str(path), *PLACE[:-1], f"{n + 1}.00", "--json", env=env)
        return json.loads(proc.stdout)["id"] if proc.returncode == 0 else None

    with ThreadPoolExecutor(max_workers=8) as pool:
        acknowledged = [i for i in pool.map(place, range(40)) if i is not None]
    assert len(acknowledged) == 40
    stored = run_process("--db", str(link), "orders", "list", "--json")
    ids = [o["id"] for o in json.loads(stored.stdout)]
    assert sorted(ids) == sorted(acknowledged)
    assert link.is_symlink() and os.readlink(link) == str(target)


# ---------------------------------------------------------------------------------------------- modes


def test_a_rewritten_world_keeps_its_mode(world, db: Path) -> None:
    os.chmod(db, 0o664)
    world.json("clock", "tick", "1s")
    assert stat.S_IMODE(db.stat().st_mode) == 0o664
    os.chmod(db, 0o640)
    world.place()
    assert stat.S_IMODE(db.stat().st_mode) == 0o640


def test_a_rewritten_world_keeps_its_owner(world, db: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file away needs root")
    os.chown(db, 4321, 4321)
    world.json("clock", "tick", "1s")
    assert (db.stat().st_uid, db.stat().st_gid) == (4321, 4321)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_a_new_world_gets_the_umasks_mode(cli, tmp_path: Path, mask: int) -> None:
    path = tmp_path / "new.json"
    old = os.umask(mask)
    try:
        cli.json("--db", str(path), *PLACE)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_a_backup_takes_the_mode_of_the_world_it_copies(world, db: Path, tmp_path: Path, mode: int) -> None:
    world.place()
    os.chmod(db, mode)
    world.json("db", "backup", str(tmp_path / "b.json"))
    assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == mode


def test_restore_keeps_the_worlds_mode_and_the_bak_copies_it(world, db: Path, tmp_path: Path) -> None:
    world.place()
    saved = tmp_path / "saved.json"
    world.json("db", "backup", str(saved))
    os.chmod(saved, 0o644)
    os.chmod(db, 0o640)
    world.json("db", "restore", str(saved))
    assert stat.S_IMODE(db.stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "world.json.bak").stat().st_mode) == 0o640


# --------------------------------------------------------------- no companions beside a refused file


REFUSED = {
    "passwd": None,  # a copy of /etc/passwd
    "foreign JSON": b'{"users": [1, 2]}',
    "null": b"null",
    "not JSON": b"hello, world\n",
    "newer schema": json.dumps({"meta": {"1": {"app": "ordercli", "schema": 99}}}).encode(),
}


@pytest.mark.parametrize("name", list(REFUSED))
@pytest.mark.parametrize("command", [PLACE, ("clock", "tick", "1s"), ("policy", "use", "ebay")])
def test_a_refused_file_gets_no_companion(cli, tmp_path: Path, name: str, command: tuple[str, ...]) -> None:
    folder = tmp_path / "here"
    folder.mkdir()
    path = folder / "data"
    if REFUSED[name] is None:
        shutil.copy("/etc/passwd", path)
    else:
        path.write_bytes(REFUSED[name])  # type: ignore[arg-type]
    before = path.read_bytes()
    result = cli("--db", str(path), *command, code=5)
    assert result.exit_code == 5
    assert path.read_bytes() == before
    assert listing(folder) == ["data"]  # no data.lock, no temporary file


def test_a_damaged_world_gets_no_companion(world, db: Path) -> None:
    world.place()
    data = json.loads(db.read_text())
    data["orders"]["1"]["status"] = "lost"  # unsealed now, and damaged
    db.write_text(json.dumps(data))
    os.remove(str(db) + ".lock")
    before = db.read_bytes()
    err = world.fail(*PLACE, code=5)
    assert err["code"] == "damaged_data"
    assert db.read_bytes() == before
    assert listing(db.parent) == ["world.json"]


def test_reading_and_backing_up_take_no_lock(world, db: Path, tmp_path: Path) -> None:
    world.place()
    os.remove(str(db) + ".lock")
    world.json("orders", "list")
    world("db", "backup", "-")
    world.json("db", "backup", str(tmp_path / "b.json"))
    assert listing(db.parent) == ["b.json", "world.json"]


def test_save_sample_leaves_no_lock(cli, tmp_path: Path) -> None:
    sample = tmp_path / "s.json"
    cli.json(*SIM, "--save-sample", str(sample))
    assert listing(tmp_path) == ["s.json", "world.json"] or listing(tmp_path) == ["s.json"]
    assert cli.json("--db", str(sample), "db", "check")["ok"] is True


@pytest.mark.parametrize("option", ["--save-sample", "--plot"])
def test_a_scenario_step_may_not_write_files_outside_its_world(cli, tmp_path: Path, option: str, start) -> None:
    s = tmp_path / "s.yaml"
    s.write_text(f"start: {start}\nsteps:\n  - run: {shlex.join(SIM)} {option} {tmp_path / 'out.png'}\n")
    err = cli.fail("scenario", "run", str(s), code=2)
    assert err["code"] == "bad_scenario" and option in err["message"]
    assert listing(tmp_path) == ["s.yaml"]


# ------------------------------------------------------------------------ scenario run --db: a new file


def test_scenario_db_never_overwrites_an_existing_file(cli, tmp_path: Path) -> None:
    s = scenario_file(tmp_path)
    kept = tmp_path / "kept.json"
    for content in (b"my notes\n", b'{"users": []}', b""):
        kept.write_bytes(content)
        err = cli.fail("scenario", "run", str(s), "--db", str(kept), code=2)
        assert err["code"] == "file_exists" and "--overwrite" in err["message"]
        assert kept.read_bytes() == content


@pytest.mark.parametrize("content", [b"my notes\n", b'{"users": []}', b"null", b"[1, 2]"])
def test_scenario_db_overwrite_never_replaces_foreign_data(cli, tmp_path: Path, content: bytes) -> None:
    s = scenario_file(tmp_path)
    kept = tmp_path / "kept.json"
    kept.write_bytes(content)
    err = cli.fail("scenario", "run", str(s), "--db", str(kept), "--overwrite", code=2)
    assert err["code"] == "foreign_file"
    assert kept.read_bytes() == content
    assert listing(tmp_path) == ["kept.json", "s.yaml"]


def test_scenario_db_overwrite_replaces_an_ordercli_world(world, db: Path, tmp_path: Path) -> None:
    world.place()
    world.place()
    s = scenario_file(tmp_path)
    world.json("scenario", "run", str(s), "--db", str(db), "--overwrite")
    assert len(world.json("orders", "list")) == 1


def test_scenario_db_goes_with_one_scenario_file(cli, tmp_path: Path) -> None:
    a, b = scenario_file(tmp_path, "a.yaml"), scenario_file(tmp_path, "b.yaml")
    err = cli.fail("scenario", "run", str(a), str(b), "--db", str(tmp_path / "k.json"), code=2)
    assert err["code"] == "usage" and "one scenario file" in err["message"]
    assert not (tmp_path / "k.json").exists()


def test_the_global_db_is_refused_by_scenario_run(cli, tmp_path: Path) -> None:
    s = scenario_file(tmp_path)
    other = tmp_path / "other.json"
    err = cli.fail("--db", str(other), "scenario", "run", str(s), code=2)
    assert err["code"] == "usage" and "scenario run FILE --db PATH" in err["message"]
    assert not other.exists()


def test_scenario_runs_leave_ordercli_db_unused(cli, db: Path, tmp_path: Path) -> None:
    cli.json("scenario", "run", str(scenario_file(tmp_path)))
    assert not db.exists()


# -------------------------------------------------------------------------------------- db backup


def test_backup_never_replaces_a_foreign_file(world, tmp_path: Path) -> None:
    world.place()
    dest = tmp_path / "notes.txt"
    dest.write_text("mine")
    err = world.fail("db", "backup", str(dest), code=2)
    assert err["code"] == "foreign_file"
    assert dest.read_text() == "mine"


def test_backup_replaces_an_older_backup(world, tmp_path: Path) -> None:
    world.place()
    dest = tmp_path / "b.json"
    world.json("db", "backup", str(dest))
    world.place()
    world.json("db", "backup", str(dest))
    assert len(world.json("--db", str(dest), "orders", "list")) == 2


# ------------------------------------------------------------------------------ a read-only world


@pytest.fixture
def read_only(tmp_path: Path, run_process):
    """A folder holding a world, bind-mounted read-only (root and a mount namespace needed)."""
    src = tmp_path / "src"
    src.mkdir()
    ro = tmp_path / "ro"
    ro.mkdir()
    proc = run_process("--db", str(src / "w.json"), *PLACE, "--json")
    assert proc.returncode == 0, proc.stderr
    for args in (["mount", "--bind", str(src), str(ro)], ["mount", "-o", "remount,bind,ro", str(ro)]):
        done = subprocess.run(args, capture_output=True)
        if done.returncode != 0:
            subprocess.run(["umount", str(ro)], capture_output=True)
            pytest.skip(f"no read-only bind mount here: {done.stderr.decode().strip()}")
    try:
        yield ro
    finally:
        subprocess.run(["umount", str(ro)], capture_output=True)


def test_readers_and_backups_work_on_a_read_only_world(read_only: Path, tmp_path: Path, run_process) -> None:
    world = str(read_only / "w.json")
    listed = run_process("--db", world, "orders", "list", "--json")
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 1
    to_stdout = run_process("--db", world, "db", "backup", "-")
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert to_stdout.stdout == (read_only / "w.json").read_bytes()
    saved = tmp_path / "saved.json"
    to_file = run_process("--db", world, "db", "backup", str(saved), "--json")
    assert to_file.returncode == 0, to_file.stderr
    assert saved.read_bytes() == (read_only / "w.json").read_bytes()


def test_read_only_messages_name_a_folder_that_exists(read_only: Path, run_process) -> None:
    for path in (read_only / "w.json", read_only / "a" / "b" / "w.json"):
        proc = run_process("--db", str(path), *PLACE, "--json")
        assert proc.returncode == 5
        err = json.loads(proc.stderr)["error"]
        assert err["code"] == "read_only" and "read-only file system" in err["message"]
        assert f"its folder {read_only} " in err["message"]


def test_read_only_message_without_a_mount(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no mount can be made: a read-only file system as the OS reports it."""
    import ordercli.store.file as f

    real_statvfs = os.statvfs

    class _Ro:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(f.os, "statvfs", lambda p: _Ro() if str(p).startswith(str(tmp_path)) else real_statvfs(p))
    err = cli.fail("--db", str(tmp_path / "x" / "y" / "w.json"), *PLACE, code=5)
    assert err["code"] == "read_only" and f"its folder {tmp_path} " in err["message"]
    assert "read-only file system" in err["message"]
    assert not (tmp_path / "x").exists()


def test_the_writer_runs_as_a_real_process(tmp_path: Path) -> None:
    """The careful writer from a console process: a report through a planted link, mode 0o644."""
    victim = tmp_path / "victim"
    victim.write_text("x")
    report = tmp_path / "r.xml"
    report.symlink_to(victim)
    proc = subprocess.run([sys.executable, "-c", "import os; os.umask(0o022); import runpy, sys; "
                           "sys.argv=['ordercli','scenario','run',sys.argv[1],'--junit',sys.argv[2]]; "
                           "runpy.run_module('ordercli', run_name='__main__')", str(scenario_file(tmp_path)),
                           str(report)], capture_output=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert victim.read_text() == "x" and stat.S_IMODE(report.lstat().st_mode) == 0o644


def test_a_big_world_is_told_from_its_last_bytes_and_big_foreign_data_is_not_a_world(tmp_path: Path, start) -> None:
    from ordercli import Sandbox
    from ordercli.store.file import holds_world

    path = tmp_path / "big.json"
    Sandbox(path, start=start).import_orders(
        {"buyer": f"b{i}", "seller": "s", "item": f"item {i}", "amount": "5"} for i in range(200)
    )
    size = path.stat().st_size
    assert size > 64 * 1024 and holds_world(path, size)
    foreign = tmp_path / "foreign.json"
    foreign.write_bytes(json.dumps({"rows": ["x" * 100] * 2000, "meta": {"1": {"app": "other"}}}).encode())
    assert not holds_world(foreign, foreign.stat().st_size)
    unsealed = tmp_path / "unsealed.json"
    unsealed.write_bytes(json.dumps(json.loads(path.read_bytes()), indent=1).encode())  # a script's world
    assert holds_world(unsealed, unsealed.stat().st_size)

"""A saved change is reported as saved (issue 17): when a command's change is in the data file and only
its output failed or was interrupted, the error says so (`saved_output_failed`, exit 5;
`saved_interrupted`, exit 130) with the command that reads the change back, so that a script's retry
does not do it twice. A failure before the write keeps saying that nothing was done."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")


def _to_dev_full(*args: str) -> subprocess.CompletedProcess:
    with open("/dev/full", "wb") as full:
        return subprocess.run(
            [sys.executable, "-m", "ordercli", *args], stdout=full, stderr=subprocess.PIPE, timeout=60
        )


@needs_dev_full
def test_a_placed_order_whose_output_failed_is_reported_as_saved(world, db: Path) -> None:
    world.place()
    proc = _to_dev_full("orders", "place", "--buyer", "bob", "--seller", "acme", "--item", "Lamp", "--amount", "5")
    err = proc.stderr.decode()
    assert proc.returncode == 5, err
    assert err.startswith(
        f"error: the change is saved in {db}, but the output could not be written (No space left on device)"
    ), err
    assert "do not run the command again" in err
    assert err.rstrip().endswith("`ordercli orders show ORD-0002`"), err
    assert len(err.splitlines()) == 1
    order = world.json("orders", "show", "ORD-0002")
    assert (order["buyer"], order["item"]) == ("bob", "Lamp")


@needs_dev_full
def test_saved_output_failed_as_json_names_the_order(world, db: Path) -> None:
    oid = world.place(amount="7")["id"]
    proc = _to_dev_full("cancel", "request", oid, "--reason", "other", "--json")
    assert proc.returncode == 5
    err = json.loads(proc.stderr)["error"]
    assert (err["code"], err["exit"]) == ("saved_output_failed", 5)
    assert f"`ordercli orders show {oid}`" in err["message"]
    assert world.json("orders", "show", oid)["status"] == "cancel_requested"


@needs_dev_full
@pytest.mark.parametrize(("command", "read_back"), [
    (["orders", "pay", "ORD-0001"], "ordercli orders show ORD-0001"),
    (["refund", "hold", "ORD-0002"], "ordercli refund status ORD-0002"),
    (["messages", "send", "ORD-0001", "hello", "--as", "alice"], "ordercli messages list ORD-0001"),
    (["policy", "use", "ebay"], "ordercli policy show"),
    (["orders", "import", "-"], "ordercli orders list"),
])
def test_the_read_back_fits_the_command(cli, db: Path, command: list[str], read_back: str, start) -> None:
    if command[0] != "policy":
        cli.json("clock", "set", start)
        unpaid = cli.place("--unpaid")["id"]
        cancelled = cli.place()["id"]
        cli.json("cancel", "request", cancelled, "--reason", "other")
        cli.json("seller", "respond", cancelled, "accept")
        assert (unpaid, cancelled) == ("ORD-0001", "ORD-0002")
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([sys.executable, "-m", "ordercli", *command], stdout=full, stderr=subprocess.PIPE,
                              input=_orders_ndjson(2), timeout=60)
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.decode().rstrip().endswith(f"read the change with `{read_back}`"), proc.stderr


@needs_dev_full
def test_the_read_back_names_the_db_option(tmp_path: Path) -> None:
    path = tmp_path / "other world.json"
    proc = _to_dev_full("--db", str(path), "clock", "tick", "1d")
    assert proc.returncode == 5
    err = proc.stderr.decode()
    assert f"`ordercli --db '{path}' clock show` and `ordercli --db '{path}' events list`" in err, err
    assert path.exists()


@needs_dev_full
def test_a_refused_command_on_a_full_disk_is_still_plain(world, db: Path) -> None:
    oid = world.place()["id"]
    before = db.read_bytes()
    proc = _to_dev_full("orders", "pay", oid)  # already paid: refused before anything is written
    assert proc.returncode == 4
    assert db.read_bytes() == before
    proc = _to_dev_full("orders", "list")  # a reader: nothing was saved
    assert (proc.returncode, proc.stderr.decode()) == (
        5,
        "error: could not write the output: No space left on device\n",
    )


# --------------------------------------------------------------------------------------- Ctrl-C


def _orders_ndjson(n: int) -> bytes:
    return b"".join(
        json.dumps({"buyer": f"buyer{i}", "seller": "acme", "item": "Lamp", "amount": "5"}).encode() + b"\n"
        for i in range(n)
    )


def test_ctrl_c_during_the_output_of_a_big_tick_says_the_clock_moved(world, db: Path, run_process) -> None:
    """A real SIGINT to a real process while it writes the answer of a clock move that fired thousands
    of deadlines. The race is made certain, not likely: stdout is a pipe nobody reads, so the process
    blocks in write() once the pipe is full, which it reaches only after the move was written."""
    result = run_process("orders", "import", "-", input=_orders_ndjson(2000))
    assert result.returncode == 0, result.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "ordercli", "clock", "tick", "30d", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    capacity = fcntl.fcntl(proc.stdout.fileno(), fcntl.F_GETPIPE_SZ)
    deadline = time.monotonic() + 60
    while _waiting(proc.stdout.fileno()) < capacity:
        assert proc.poll() is None, "the tick ended before its output filled the pipe"
        assert time.monotonic() < deadline, "the tick never filled the pipe"
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert len(out) >= capacity  # what the pipe held: part of the answer, never all of it
    lines = err.decode().splitlines()
    assert len(lines) == 1, lines
    error = json.loads(lines[0])["error"]
    assert (error["code"], error["exit"]) == ("saved_interrupted", 130)
    assert error["message"].startswith(f"interrupted after the change was saved in {db}")
    assert "`ordercli clock show` and `ordercli events list`" in error["message"]
    assert world.json("clock", "show")["now"] == "2030-04-03T09:00:00+00:00"  # start + 30 days: it moved


def _waiting(fd: int) -> int:
    """Bytes written into the pipe and not read yet."""
    buf = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return int.from_bytes(buf, sys.byteorder)


def test_ctrl_c_just_after_the_rename_is_held_until_the_change_is_known_saved(
    world, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The narrowest window: SIGINT arrives the moment the new file is renamed into place, before the
    command could know its change is saved. It is held until then, so it never says nothing was done."""
    renamed: list[str] = []
    real_replace = os.replace

    def replace_then_ctrl_c(src: object, dst: object, **kw: object) -> None:
        real_replace(src, dst, **kw)  # type: ignore[arg-type]
        if str(dst) == str(db):
            renamed.append(str(dst))
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(os, "replace", replace_then_ctrl_c)
    err = world.fail(
        "orders", "place", "--buyer", "bob", "--seller", "acme", "--item", "Lamp", "--amount", "5", code=130
    )
    assert renamed, "the data file was not written through os.replace: this test no longer tests anything"
    assert err["code"] == "saved_interrupted"
    assert "`ordercli orders show ORD-0001`" in err["message"]
    monkeypatch.setattr(os, "replace", real_replace)
    assert world.json("orders", "show", "ORD-0001")["buyer"] == "bob"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_ctrl_c_before_the_write_is_plain_interrupted(world, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ctrl-C while the command works (before any write) leaves the file as it was: plain `interrupted`."""
    before = db.read_bytes()
    import ordercli.core.engine

    def interrupted(*args: object, **kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ordercli.core.engine, "place_order", interrupted)
    err = world.fail(
        "orders", "place", "--buyer", "bob", "--seller", "acme", "--item", "Lamp", "--amount", "5", code=130
    )
    assert (err["code"], err["message"]) == ("interrupted", "interrupted")
    assert db.read_bytes() == before


def test_the_first_write_of_a_new_world_is_reported_as_saved_too(
    cli, db: Path, monkeypatch: pytest.MonkeyPatch, start
) -> None:
    """A new data file is written by another path (a block first run on a stand-in world): the same report."""
    import ordercli.cli.render

    assert not db.exists()

    def full(*args: object) -> None:
        from ordercli.core.errors import StorageError

        raise StorageError("could not write the output: No space left on device", "output_failed")

    monkeypatch.setattr(ordercli.cli.render, "emit_json", full)
    err = cli.fail("clock", "set", start, code=5)
    assert err["code"] == "saved_output_failed"
    assert db.exists()


@needs_dev_full
def test_a_kept_demo_world_and_a_restore_are_reported_as_saved(world, db: Path, tmp_path: Path) -> None:
    kept = tmp_path / "demo.json"
    proc = _to_dev_full("demo", "--db", str(kept))
    assert proc.returncode == 5
    assert "saved in" in proc.stderr.decode() and f"`ordercli --db {kept} events list`" in proc.stderr.decode()
    assert kept.exists()
    proc = _to_dev_full("demo")  # a world of its own, thrown away: nothing was kept
    assert proc.stderr.decode() == "error: could not write the output: No space left on device\n"

    world.place()
    backup = tmp_path / "backup.json"
    world.json("db", "backup", str(backup))
    world.place()
    proc = _to_dev_full("db", "restore", str(backup))
    assert proc.returncode == 5
    assert "saved in" in proc.stderr.decode() and "`ordercli db check`" in proc.stderr.decode()
    assert [o["id"] for o in world.json("orders", "list")] == ["ORD-0001"]  # restored


def test_a_bug_after_the_save_still_says_the_change_was_saved(world, db: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import ordercli.cli.render

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(ordercli.cli.render, "emit_json", broken)
    err = world.fail("orders", "place", "--buyer", "bob", "--seller", "acme", "--item", "Lamp", "--amount", "5",
               code=1)
    assert err["code"] == "internal_error"
    assert err["message"] == (f"internal error: RuntimeError: boom (the change was saved in {db} before this: "
                              "read it with `ordercli orders show ORD-0001`)")


def test_the_python_api_after_the_write_as_documented(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start) -> None:
    """docs/python-api.md: an OrderCliError means nothing was written; only a KeyboardInterrupt can come
    after the write, and then the change is in the file."""
    from ordercli import Sandbox
    from ordercli.core.errors import OrderCliError

    path = tmp_path / "shop.json"
    shop = Sandbox(path, start=start)
    shop.place("alice", "acme", "Lamp", "5")
    before = path.read_bytes()
    with pytest.raises(OrderCliError):
        shop.place("alice", "alice", "Lamp", "5")
    assert path.read_bytes() == before
    real_replace = os.replace

    def replace_then_ctrl_c(src: object, dst: object, **kw: object) -> None:
        real_replace(src, dst, **kw)  # type: ignore[arg-type]
        if str(dst) == str(path):
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", replace_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        shop.place("bob", "acme", "Lamp", "5")
    monkeypatch.setattr(os, "replace", real_replace)
    assert [o["buyer"] for o in Sandbox(path).orders()] == ["alice", "bob"]

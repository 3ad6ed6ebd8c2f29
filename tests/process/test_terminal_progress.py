"""Terminal manners: progress on stderr for long work only when stderr is a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from ordercli.core import engine
from ordercli.core.world import World
from ordercli.store import new_world_tables

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def _world_with_orders(n: int) -> World:
    w = World(new_world_tables(START))
    for i in range(n):
        engine.place_order(w, buyer=f"b{i}", seller="acme", item="Mug", amount="1.00")
    return w


def test_a_long_clock_move_reports_progress_every_thousand_firings():
    calls: list[tuple[int, int]] = []
    w = _world_with_orders(2500)
    engine.clock_tick(w, "9d", progress=lambda fired, waiting: calls.append((fired, waiting)))
    assert [fired for fired, _ in calls] == [1000, 2000]
    assert calls[0][1] > 0  # more were still due at the first report


def _run(args: list[str], db: Path, on_tty: bool, stdin: bytes | None = None) -> tuple[int, str, str]:
    env = {**os.environ, "ORDERCLI_DB": str(db)}
    cmd = [sys.executable, "-m", "ordercli", *args]
    if not on_tty:
        p = subprocess.run(cmd, input=stdin, capture_output=True, env=env, timeout=120)
        return p.returncode, p.stdout.decode(), p.stderr.decode()
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=slave, env=env)
        os.close(slave)
        out, _ = proc.communicate(stdin, timeout=120)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        return proc.returncode, out.decode(), b"".join(chunks).decode(errors="replace")
    finally:
        os.close(master)


def _ndjson(n: int) -> bytes:
    return b"".join(
        json.dumps({"buyer": f"b{i}", "seller": "acme", "item": "Mug", "amount": "1.00"}).encode() + b"\n"
        for i in range(n)
    )


def test_progress_only_on_a_terminal(tmp_path: Path):
    piped_db, tty_db = tmp_path / "piped.json", tmp_path / "tty.json"
    for db in (piped_db, tty_db):
        assert _run(["clock", "set", "2030-03-04T09:00:00Z"], db, False)[0] == 0
    rows = _ndjson(5000)

    code, out, err = _run(["orders", "import", "-", "--json"], piped_db, False, rows)
    assert code == 0 and json.loads(out) == {"imported": 5000}
    assert "importing" not in err
    code, out, err = _run(["orders", "import", "-", "--json"], tty_db, True, rows)
    assert code == 0 and json.loads(out) == {"imported": 5000}
    assert "importing" in err  # the progress bar, on the terminal only

    code, out, err = _run(["clock", "tick", "9d", "--json"], piped_db, False)
    assert code == 0 and len(json.loads(out)["fired"]) == 10000  # 5000 cancellations + 5000 refunds
    assert "firing deadlines" not in err
    code, out, err = _run(["clock", "tick", "9d", "--json"], tty_db, True)
    assert code == 0 and len(json.loads(out)["fired"]) == 10000
    assert "firing deadlines: 5,000 fired" in err

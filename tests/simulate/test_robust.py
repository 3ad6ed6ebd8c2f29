"""simulate fails fast and stops clean: every extra and output path is checked before any order is
simulated; Ctrl-C and SIGTERM leave no process and no file behind (workers, forkserver, resource
tracker; a Dask client); --save-sample writes its 300 orders; a scenario step writes no file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
MARKET = str(EXAMPLES / "marketplace.behaviour.yaml")
BASE = ["simulate", MARKET, "--policy", "aliexpress", "--workers", "1"]


# -- checked before any order is simulated ---------------------------------------------------------


@pytest.fixture
def no_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulating an order fails the test: the refusals come before it."""
    from ordercli.simulate import runner

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulated orders before refusing")

    monkeypatch.setattr(runner, "execute", boom)


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_plot_without_matplotlib_is_exit_2_before_anything(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_run: None
) -> None:
    """Was: the whole simulation, then the sample written (with its .lock), then missing_extra; the
    rerun then failed with file_exists."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    err = cli.fail(
        *BASE,
        "--orders",
        "100",
        "--save-sample",
        str(tmp_path / "s.json"),
        "--plot",
        str(tmp_path / "p.png"),
        code=2,
    )
    assert err["code"] == "missing_extra" and "ordercli[plot]" in err["message"]
    assert _files(tmp_path) == []


def test_plot_without_matplotlib_in_a_real_process(tmp_path: Path) -> None:
    """The same, as a user meets it: a shim on the path that makes `import matplotlib` fail."""
    shim = tmp_path / "shim"
    (shim / "matplotlib").mkdir(parents=True)
    (shim / "matplotlib" / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shim), os.environ.get("PYTHONPATH", "")])}
    started = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "ordercli", *BASE, "--orders", "200000", "--save-sample", "s.json", "--plot", "p.png"],
        cwd=out,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    assert r.stderr.decode().startswith("error: --plot needs matplotlib")
    assert time.monotonic() - started < 30  # 200,000 orders take minutes
    assert _files(out) == []


def test_scheduler_without_dask_is_exit_2_before_anything(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_run: None
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    err = cli.fail(*BASE, "--scheduler", "tcp://127.0.0.1:9", "--save-sample", str(tmp_path / "s.json"), code=2)
    assert err["code"] == "missing_extra" and "ordercli[dask]" in err["message"]
    assert _files(tmp_path) == []


def test_an_existing_sample_is_exit_2_before_anything(cli, tmp_path: Path, no_run: None) -> None:
    sample = tmp_path / "s.json"
    sample.write_text("mine")
    err = cli.fail(*BASE, "--save-sample", str(sample), "--plot", str(tmp_path / "p.png"), code=2)
    assert err["code"] == "file_exists" and "already exists" in err["message"]
    assert _files(tmp_path) == ["s.json"] and sample.read_text() == "mine"
    # a symlink, even a dangling one, is there too: never written through
    (tmp_path / "link.json").symlink_to(tmp_path / "nowhere.json")
    err = cli.fail(*BASE, "--save-sample", str(tmp_path / "link.json"), code=2)
    assert err["code"] == "file_exists"
    assert not (tmp_path / "nowhere.json").exists()


@pytest.mark.parametrize("option", ["--save-sample", "--plot"])
@pytest.mark.parametrize("kind", ["folder", "fifo", "device", "under a file"])
def test_an_output_that_is_not_a_regular_file_is_exit_5_before_anything(
    cli, tmp_path: Path, no_run: None, option: str, kind: str
) -> None:
    name = "out.png"
    target = tmp_path / name
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        try:
            os.mknod(target, 0o600 | 0o020000, os.makedev(1, 3))  # a character device: /dev/null's numbers
        except PermissionError:
            pytest.skip("mknod needs root")
    else:
        (tmp_path / "file").write_text("x")
        target = tmp_path / "file" / name
    before = _files(tmp_path)
    err = cli.fail(*BASE, option, str(target), code=5)
    assert err["code"] == "not_a_file", err
    assert _files(tmp_path) == before


def test_a_plot_folder_that_does_not_exist_is_made_as_for_every_output(cli, tmp_path: Path) -> None:
    out = tmp_path / "missing" / "p.png"
    cli.json(*BASE, "--orders", "200", "--plot", str(out))
    assert out.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("option", ["--save-sample", "--plot"])
def test_an_unwritable_folder_is_exit_5_before_anything(cli, option: str, no_run: None) -> None:
    """/proc/sys is read-only (even for root) in most containers; skipped where it is not."""
    if not os.path.isdir("/proc/sys") or os.access("/proc/sys", os.W_OK):
        pytest.skip("no read-only folder here")
    err = cli.fail(*BASE, option, "/proc/sys/out.png", code=5)
    assert err["code"] == "read_only" and "/proc/sys" in err["message"]


def test_an_unwritable_folder_when_access_says_so(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_run: None
) -> None:
    """As root every folder is writable: a folder is made read-only by asking os.access."""
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == tmp_path else real(p, mode, **kw))
    err = cli.fail(*BASE, "--save-sample", str(tmp_path / "new" / "s.json"), code=5)
    assert err["code"] == "read_only"
    assert _files(tmp_path) == []


def test_plot_and_sample_on_one_file_is_exit_2(cli, tmp_path: Path, no_run: None) -> None:
    err = cli.fail(*BASE, "--plot", str(tmp_path / "x.png"), "--save-sample", str(tmp_path / "x.png"), code=2)
    assert "same file" in err["message"]


def test_a_plot_replaces_a_regular_file(cli, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "p.png"
    png.write_text("old")
    r = cli.json(*BASE, "--orders", "100", "--plot", str(png))
    assert r["plot"] == str(png) and png.read_bytes()[:4] == b"\x89PNG"


# -- --save-sample: 300 orders, whatever the shards -------------------------------------------------


@pytest.mark.parametrize(("orders", "expected"), [(1000, 300), (120, 120), (8000, 300)])
def test_save_sample_writes_300_orders_or_all_of_fewer(cli, tmp_path: Path, orders: int, expected: int) -> None:
    """Was: min(300, the first shard): 50 orders for --orders 1000 (20 shards of 50)."""
    sample = tmp_path / "s.json"
    r = cli.json(*BASE, "--orders", str(orders), "--save-sample", str(sample))
    assert r["sample"]["orders"] == expected
    assert len(cli.json("--db", str(sample), "orders", "list")) == expected


def test_the_sample_is_the_same_whatever_the_orders_and_workers(cli, tmp_path: Path) -> None:
    def sample(name: str, *args: str) -> list[dict]:
        path = tmp_path / name
        cli.json("simulate", MARKET, "--policy", "aliexpress", "--save-sample", str(path), *args)
        return cli.json("--db", str(path), "orders", "list")

    one = sample("a.json", "--orders", "1000", "--workers", "1")
    assert sample("b.json", "--orders", "8000", "--workers", "2") == one
    assert sample("c.json", "--orders", "1000", "--workers", "1", "--seed", "2") != one


# -- a scenario step writes no file -----------------------------------------------------------------


@pytest.mark.parametrize("option", ["--save-sample", "--plot"])
def test_a_scenario_step_may_not_write_an_output_file(tmp_path: Path, option: str) -> None:
    from ordercli.api import Sandbox
    from ordercli.cli.invoke import InProcess

    out = tmp_path / "out.png"
    world = Sandbox(start="2030-03-04T09:00:00Z")
    code, stdout, err = InProcess(world)(
        ["simulate", MARKET, "--policy", "aliexpress", "--orders", "50", "--workers", "1", option, str(out), "--json"]
    )
    assert code == 2 and stdout == ""
    error = json.loads(err)["error"]
    assert error["code"] == "usage"
    assert error["message"].startswith(f"{option} is not allowed in a scenario step")
    assert not out.exists()
    code, stdout, _ = InProcess(world)(
        ["simulate", MARKET, "--policy", "aliexpress", "--orders", "50", "--workers", "1", "--json"]
    )
    assert code == 0 and json.loads(stdout)["orders"] == 50  # simulate itself is fine in a step


def test_a_scenario_file_whose_step_saves_a_sample_is_refused_at_load(tmp_path: Path, run_process) -> None:

    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"start: 2030-03-04T09:00:00Z\nsteps:\n  - run: simulate {MARKET} --policy aliexpress "
        f"--orders 50 --workers 1 --save-sample {tmp_path / 'away.json'}\n"
    )
    r = run_process("scenario", "run", str(scenario))
    # refused when the file is loaded, before any step runs (as --db in a step is)
    assert r.returncode == 2 and b"--save-sample is not allowed" in r.stderr, r.stderr
    assert not (tmp_path / "away.json").exists()


# -- Ctrl-C and SIGTERM: no process and no file left -----------------------------------------------


def _session(sid: int) -> list[str]:
    """The live processes of session `sid` (zombies are dead already)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(f"{entry}: {cmdline[:120]}")
    return found


def _wait_for(what: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if what():
            return True
        time.sleep(0.05)
    return what()


def _forked(sid: int, n: int) -> bool:
    """The forkserver and n - 1 workers forked from it are running."""
    return sum("forkserver" in p for p in _session(sid)) >= n


def _tracker_started(sid: int) -> bool:
    return any("resource_tracker" in p for p in _session(sid))


# (Not before: a signal during Python's own start, while ordercli is imported, is no simulate's.)
MOMENTS: dict[str, Callable[[int], None]] = {
    "pool starting": lambda sid: _wait_for(lambda: _tracker_started(sid), 30) or pytest.fail("no pool"),
    # on main, this one left the command waiting forever for its pool, with all its processes
    "workers starting": lambda sid: _wait_for(lambda: _forked(sid, 2), 30) or pytest.fail("no worker"),
    "mid-run": lambda sid: (_wait_for(lambda: _forked(sid, 3), 30) or pytest.fail("no workers"), time.sleep(0.5)),
}


@pytest.fixture
def tmp() -> Iterator[Path]:
    """The commands' TMPDIR: short, for the forkserver's socket path (at most 107 bytes)."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="oc-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _interrupted_run(
    tmp_path: Path,
    tmp: Path,
    args: list[str],
    sig: signal.Signals,
    moment: Callable[[int], None],
    python: tuple[str, ...] = ("-m", "ordercli"),
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [sys.executable, *python, *args],
        cwd=out,
        env={**os.environ, "TMPDIR": str(tmp)},
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        moment(proc.pid)
        os.kill(proc.pid, sig)  # the command, then its whole group: as `timeout` and a terminal do
        os.killpg(proc.pid, sig)
        stdout, stderr = proc.communicate(timeout=60)
        assert _wait_for(lambda: not _session(proc.pid), 10), _session(proc.pid)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever a failing run left: not on this machine
        except ProcessLookupError:
            pass
        proc.wait()
    assert proc.returncode == 130, stderr
    assert stderr == b"error: interrupted\n" and stdout == b""
    assert _files(out) == [] and _files(tmp) == []


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
@pytest.mark.parametrize("moment", list(MOMENTS))
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stopped_pool_leaves_no_process_and_no_file(
    tmp_path: Path, tmp: Path, sig: signal.Signals, moment: str
) -> None:
    """Was: 4 processes (2 workers, the forkserver, the resource tracker) alive minutes later, on
    most tries. SIGTERM is an orderly stop like Ctrl-C: exit 130, `interrupted`."""
    args = [
        "simulate",
        MARKET,
        "--policy",
        "aliexpress",
        "--orders",
        "300000",
        "--workers",
        "2",
        "--save-sample",
        "s.json",
    ]
    _interrupted_run(tmp_path, tmp, args, sig, MOMENTS[moment])


# The timing that under load came now and then, every time: the pool's thread sees a worker die
# (of the SIGTERM to the group) before the stop reaches the pool's shutdown, and it fails the
# futures it holds only after the stop has begun.
SLOW_POOL_THREAD = """
import runpy, sys, time
from concurrent.futures import process
wait = process._ExecutorManagerThread.wait_result_broken_or_wakeup
def held(self):
    result = wait(self)
    if result[1]:
        time.sleep(1)
    return result
process._ExecutorManagerThread.wait_result_broken_or_wakeup = held
shutdown = process.ProcessPoolExecutor.shutdown
def late(self, *args, **kwargs):
    time.sleep(0.5)
    return shutdown(self, *args, **kwargs)
process.ProcessPoolExecutor.shutdown = late
sys.argv[0] = "ordercli"
runpy.run_module("ordercli", run_name="__main__", alter_sys=True)
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
def test_a_pool_stopped_while_its_thread_fails_its_futures_says_only_interrupted(tmp_path: Path, tmp: Path) -> None:
    """Was, on Python 3.11: `Exception in thread ... InvalidStateError: CANCELLED` (the stop had
    cancelled futures that the pool's thread then failed, python/cpython#107219) and the resource
    tracker's warning of leaked semaphores, around `error: interrupted`."""
    args = ["simulate", MARKET, "--policy", "aliexpress", "--orders", "300000", "--workers", "2"]
    _interrupted_run(tmp_path, tmp, args, signal.SIGTERM, MOMENTS["mid-run"], python=("-c", SLOW_POOL_THREAD))


def test_a_second_signal_does_not_cut_the_stop_short() -> None:
    """Was: the SIGTERM to the group, after the one to the command, raised again in the stop before
    it held signals; the pool's semaphores and the forkserver's folder were left (about 1 run in
    600 of the stop above, under load)."""
    from ordercli.simulate import runner

    stopped = []
    with runner.stopping():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        except KeyboardInterrupt:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.1)  # its handler runs here, where the stop begins
                stopped.append("the stop went on")
            except KeyboardInterrupt:
                stopped.append("the stop was cut short")
    assert stopped == ["the stop went on"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
@pytest.mark.parametrize("moment", ["connected", "mid-run"])
def test_a_stopped_dask_run_closes_its_client_and_leaves_the_cluster_running(
    tmp_path: Path, tmp: Path, moment: str
) -> None:
    distributed = pytest.importorskip("distributed")
    options = {
        "n_workers": 2,
        "threads_per_worker": 1,
        "processes": False,
        "dashboard_address": None,
        "protocol": "tcp",
        "host": "127.0.0.1",
    }  # threads, but reachable from the command's process
    with distributed.LocalCluster(**options) as cluster:
        scheduler = cluster.scheduler
        ours = set(scheduler.clients)  # the cluster's own (fire-and-forget)

        def when(sid: int) -> None:
            if moment == "connected":
                assert _wait_for(lambda: bool(set(scheduler.clients) - ours), 60), "never connected"
            else:
                assert _wait_for(lambda: any(t.state == "processing" for t in list(scheduler.tasks.values())), 60)
                time.sleep(0.5)

        args = [
            "simulate",
            MARKET,
            "--policy",
            "aliexpress",
            "--orders",
            "300000",
            "--scheduler",
            cluster.scheduler_address,
            "--save-sample",
            "s.json",
        ]
        _interrupted_run(tmp_path, tmp, args, signal.SIGINT, when)
        # the client went away: its shards are dropped, the cluster keeps its workers and serves others
        assert _wait_for(lambda: not scheduler.tasks and set(scheduler.clients) == ours, 20), scheduler.clients
        assert len(scheduler.workers) == 2
        with distributed.Client(cluster.scheduler_address) as client:
            assert client.submit(sum, [1, 2]).result() == 3


def test_a_finished_pool_leaves_no_temporary_file(tmp: Path) -> None:
    """Was: a `pymp-*` folder holding the forkserver's socket, after every run with workers (the
    console script leaves with os._exit, so multiprocessing's exit handlers never ran)."""
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "ordercli",
            "simulate",
            MARKET,
            "--policy",
            "aliexpress",
            "--orders",
            "400",
            "--workers",
            "2",
            "--json",
        ],
        env={**os.environ, "TMPDIR": str(tmp)},
        capture_output=True,
        timeout=120,
    )
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    assert json.loads(r.stdout)["orders"] == 400
    assert _files(tmp) == []

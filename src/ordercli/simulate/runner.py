"""Running the shards: in this process, on a pool of local processes, or on a Dask cluster.

The split into shards depends only on the number of orders, never on the workers, and each
shard has its own seed; results are merged in shard order. So the same seed gives the same
report, bit for bit, whatever --workers and wherever the shards ran.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordercli.core.errors import UsageError
from ordercli.simulate import aggregate as agg
from ordercli.simulate import report
from ordercli.simulate.behaviour import Behaviour
from ordercli.simulate.shard import ShardTask, draw_plans, run_policy, run_shard

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

MAX_SHARD = 1000  # orders per shard: small enough to keep a shard's world light
MIN_SHARDS = 20  # so that even small runs have replicates for their intervals
SAMPLE = 300  # orders written by --save-sample
CONNECT_TIMEOUT = "10s"  # to reach a Dask scheduler
CLOSE_TIMEOUT = 10  # seconds to close the Dask client
JOIN_TIMEOUT = 5.0  # seconds to reap a killed worker


def shard_sizes(orders: int) -> list[int]:
    """A function of the number of orders alone."""
    size = min(MAX_SHARD, max(50, -(-orders // MIN_SHARDS)))
    full, rest = divmod(orders, size)
    return [size] * full + ([rest] if rest else [])


@dataclass
class Run:
    behaviour: Behaviour
    policies: list[tuple[str, dict[str, Any]]]  # (label, policy meta)
    orders: int
    seed: int
    workers: int = 1
    scheduler: str | None = None
    events_of: int | None = None  # --events-out: the policy whose events the shards return

    def tasks(self) -> list[ShardTask]:
        pols = tuple(self.policies)
        return [
            ShardTask(self.behaviour, pols, self.seed, i, n, self.events_of)
            for i, n in enumerate(shard_sizes(self.orders))
        ]


def execute(
    run: Run,
    progress: Callable[[int, int], None] | None = None,
    events: Callable[[list[dict]], None] | None = None,
) -> tuple[dict[str, Any], list[dict]]:
    """Run every shard; the report and each policy's merged aggregates (for --plot).
    `events` gets each shard's events (with `run.events_of`), in shard order.
    Ctrl-C or SIGTERM stops the workers (or cancels the Dask work) and raises KeyboardInterrupt."""
    tasks = run.tasks()
    totals = [agg.empty() for _ in run.policies]
    per_shard: list[list[dict]] = [[] for _ in run.policies]
    shards = _dask(tasks, run.scheduler) if run.scheduler else _local(tasks, run.workers)
    with stopping(), shards as results:
        for done, shard in enumerate(results, start=1):  # in shard order, whatever finished first
            for i, a in enumerate(shard):
                if "events" in a:
                    shard_events = a.pop("events")
                    if events is not None:
                        events(shard_events)
                agg.merge_into(totals[i], a)
                per_shard[i].append(agg.scalars(a))
            if progress is not None:
                progress(done, len(tasks))
    head = {
        "behaviour": run.behaviour.path,
        "orders": run.orders,
        "seed": run.seed,
        "shards": len(tasks),
        "shard_size": tasks[0].size,
        "start": run.behaviour.start.isoformat(),
    }
    return report.build(head, run.policies, totals, per_shard), totals


# -- stopping: Ctrl-C and SIGTERM ---------------------------------------------------------------------


class _Stop:
    """The SIGINT and SIGTERM handler while simulate runs: both stop it as Ctrl-C does
    (KeyboardInterrupt, exit 130). Inside `_held()` a signal waits for the block to end: a pool
    cut short while starting or stopping is what left its workers, forkserver and resource
    tracker running after the command."""

    def __init__(self) -> None:
        self.holding = 0
        self.caught = False  # while held
        self.signalled = False

    def __call__(self, signum: int, frame: object) -> None:
        first = not self.signalled
        self.signalled = True
        if self.holding:
            self.caught = True
            return
        # Only the first stops the run. A later one (a SIGTERM to the command, then to its group)
        # found the stop under way, often before it held signals: raised there, it cut the stop
        # short and left the pool's semaphores and the forkserver's folder behind.
        if first:
            raise KeyboardInterrupt


_stop: _Stop | None = None
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stopping() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt in the block (outermost call wins; only the main
    thread can take signals, elsewhere this does nothing)."""
    global _stop
    if _stop is not None or threading.current_thread() is not threading.main_thread():
        yield
        return
    stop = _Stop()
    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    _stop = stop
    try:
        yield
    finally:
        _stop = None
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


@contextmanager
def _held(then_stop: bool = True) -> Iterator[None]:
    """A signal during the block waits for its end; then it stops the run, unless `then_stop` is
    false (the run is being stopped already)."""
    stop = _stop
    if stop is None:
        yield
        return
    stop.holding += 1
    try:
        yield
    finally:
        stop.holding -= 1
    if then_stop and not stop.holding and stop.caught:
        raise KeyboardInterrupt


# -- where the shards run ------------------------------------------------------------------------------


def _local(tasks: list[ShardTask], workers: int) -> AbstractContextManager[Iterator[list[dict]]]:
    if workers <= 1 or len(tasks) == 1:
        return _in_process(tasks)
    return _pool(tasks, min(workers, len(tasks)))


@contextmanager
def _in_process(tasks: list[ShardTask]) -> Iterator[Iterator[list[dict]]]:
    yield map(run_shard, tasks)


@contextmanager
def _pool(tasks: list[ShardTask], workers: int) -> Iterator[Iterator[list[dict]]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # forkserver: a clean child even when this process runs threads (a Dask client, a test runner)
    forkserver = "forkserver" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if forkserver else None)
    pool: ProcessPoolExecutor | None = None
    try:
        with _held():  # every worker is started and known to the pool, or none
            if forkserver:
                _start_forkserver()
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_starts)
            futures = [pool.submit(run_shard, task) for task in tasks]  # starts every worker
        yield _in_order(futures)
    except BaseException as exc:
        with _held(then_stop=False):
            _stop_pool(pool)
            _tidy(forkserver)
        if _stop is not None and _stop.signalled and not isinstance(exc, KeyboardInterrupt):
            # the signal to the process group killed a worker before this process took its own:
            # a broken pool, but what happened is a stop
            raise KeyboardInterrupt from None
        raise
    with _held():
        pool.shutdown()
        _tidy(forkserver)


def _in_order(futures: list[Future[list[dict]]]) -> Iterator[list[dict]]:
    """Each shard's result in shard order, forgotten once handed on. Unlike `pool.map`, this never
    cancels a future when it is stopped: only the pool's own thread may (see `_stop_pool`)."""
    futures.reverse()
    while futures:
        yield futures.pop().result()


def _worker_starts() -> None:
    # Ctrl-C reaches the whole process group: the parent stops the pool, the workers just go on
    # until it does (they already ignore it when their forkserver was started by _start_forkserver)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_forkserver() -> None:
    """Start the forkserver with SIGINT ignored, which it and every worker forked from it inherit
    (through exec, unlike a handler): else a Ctrl-C to the process group while a worker imports
    kills it with a traceback on stderr. SIGINT is blocked meanwhile, so one sent then is not lost
    but taken by this process's handler once the forkserver runs."""
    from multiprocessing import forkserver, resource_tracker

    resource_tracker.ensure_running()  # it protects itself from SIGINT alike
    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        if signal.SIGINT in signal.sigpending():
            return  # stopped already: ignoring SIGINT now would discard it
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            forkserver.ensure_running()
        finally:
            signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _stop_pool(pool: ProcessPoolExecutor | None) -> None:
    """Every worker killed and reaped: nothing of the pool outlives the command. (Its own
    shutdown waits for the shards in progress; a second Ctrl-C during that wait left all the
    processes behind.) The workers hold nothing to save: their shards are simply lost.

    The order matters. The pool's manager thread fails every future it still holds once a worker
    dies (which a SIGTERM to the process group may do before this runs); on Python 3.11 a future
    cancelled by another thread meanwhile makes that thread die with InvalidStateError
    (python/cpython#107219; fixed by python/cpython#108974, which 3.11.7 lacks), and the pool's
    semaphores are then never released (the resource tracker warns of them). So nothing here
    cancels a future itself (nor does `_in_order`): `shutdown(cancel_futures=True)` asks the
    manager thread to cancel the pending ones, in its own thread; only then are the workers
    killed, and the thread is waited for."""
    if pool is None:
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)  # before the kill: the thread cancels, then fails the rest
    for process in processes:
        with suppress(OSError):
            process.kill()
    for process in processes:
        process.join(JOIN_TIMEOUT)
    if manager is not None:
        manager.join(JOIN_TIMEOUT)


def _tidy(forkserver: bool) -> None:
    """What multiprocessing leaves for its exit handlers, which the console script skips (it
    leaves with os._exit): the forkserver and its socket, and the temporary folder that holds it.
    The resource tracker ends by itself with this process."""
    from multiprocessing import util

    if forkserver:
        _stop_forkserver()
    registry = getattr(util, "_finalizer_registry", {})
    for finalizer in list(registry.values()):
        if getattr(finalizer, "_callback", None) is getattr(util, "_remove_temp_dir", None):
            finalizer()  # now rather than at an exit that never comes; it unregisters itself


def _stop_forkserver() -> None:
    # The pool's workers are gone, but one that it forked and the pool never heard of would keep
    # it waiting for the end of its "alive" pipe: so it is killed, then reaped and forgotten (a
    # later pool starts a new one).
    from multiprocessing import forkserver

    server: Any = getattr(forkserver, "_forkserver", None)  # the module's own: the one pools use
    pid = getattr(server, "_forkserver_pid", None)
    if pid is None:
        return
    with suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with suppress(OSError):
        server._stop()  # closes our end of its pipe, reaps it, removes its socket
    server._forkserver_pid = None


@contextmanager
def _dask(tasks: list[ShardTask], address: str) -> Iterator[Iterator[list[dict]]]:
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            "--scheduler needs Dask: pip install 'ordercli[dask]' (here and on the workers)", "missing_extra"
        ) from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"--scheduler: cannot reach a Dask scheduler at {address!r}: {exc}", "bad_scheduler") from None
    futures: list[Any] = []

    def results() -> Iterator[list[dict]]:
        for future in futures:
            yield future.result()
            future.release()

    try:
        futures.extend(client.map(run_shard, tasks, pure=False))
        yield results()
    except BaseException:
        # the cluster is not ours: it keeps running, without this run's shards
        with _held(then_stop=False):
            with suppress(OSError, TimeoutError):
                client.cancel([f for f in futures if not f.done()])
            client.close(timeout=CLOSE_TIMEOUT)
        raise
    with _held():
        client.close(timeout=CLOSE_TIMEOUT)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def save_sample(run: Run, path: Path) -> dict[str, Any]:
    """The first SAMPLE orders drawn in shard 0 (all the orders when there are fewer), under the
    first policy, as an ordinary data file: made in memory, then written whole by the careful
    writer, as a new file only (an existing one, even one created meanwhile, is never
    overwritten; no lock file is left).

    They are drawn as shard 0 draws its orders, but SAMPLE of them whatever the shard's size: so
    the sample is a function of the seed alone (its first orders are shard 0's), never of the
    number of shards."""
    from ordercli.simulate.worlds import new_world
    from ordercli.store import check_output, write_output

    check_output(path, what="--save-sample", existing="refuse")
    plans = draw_plans(run.behaviour, run.seed, 0, min(SAMPLE, run.orders))
    label, meta = run.policies[0]
    start = run.behaviour.start
    world = new_world(start, meta)
    orders, _ = run_policy(plans, start, meta, 0, world=world)
    write_output(path, world.tables, what="--save-sample", seal=True, exclusive=True)
    return {"path": str(path), "orders": len(orders), "policy": label}

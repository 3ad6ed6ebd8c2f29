"""Running the shards: in this process, on a pool of local processes, or on a Dask cluster.

The split into shards depends only on the number of orders, never on the workers, and each
shard has its own seed; results are merged in shard order. So the same seed gives the same
report, bit for bit, whatever --workers and wherever the shards ran.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ordercli.errors import StorageError, UsageError
from ordercli.simulate import aggregate as agg
from ordercli.simulate import report
from ordercli.simulate.behaviour import Behaviour
from ordercli.simulate.shard import ShardTask, draw_plans, run_policy, run_shard

MAX_SHARD = 1000  # orders per shard: small enough to keep a shard's world light
MIN_SHARDS = 20  # so that even small runs have replicates for their intervals
SAMPLE = 300  # orders written by --save-sample
CONNECT_TIMEOUT = "10s"  # to reach a Dask scheduler


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
    `events` gets each shard's events (with `run.events_of`), in shard order."""
    tasks = run.tasks()
    totals = [agg.empty() for _ in run.policies]
    per_shard: list[list[dict]] = [[] for _ in run.policies]
    results = _dask(tasks, run.scheduler) if run.scheduler else _local(tasks, run.workers)
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


def _local(tasks: list[ShardTask], workers: int) -> Iterator[list[dict]]:
    if workers <= 1 or len(tasks) == 1:
        for task in tasks:
            yield run_shard(task)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # forkserver: a clean child even when this process runs threads (a Dask client, a test runner)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else None)
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        yield from pool.map(run_shard, tasks)


def _dask(tasks: list[ShardTask], address: str) -> Iterator[list[dict]]:
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
    try:
        futures = client.map(run_shard, tasks, pure=False)
        for future in futures:
            yield future.result()
            future.release()
    finally:
        client.close()


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def save_sample(run: Run, path: Path) -> dict[str, Any]:
    """The first SAMPLE orders drawn in shard 0, under the first policy, as an ordinary data
    file. Refuses to overwrite an existing file."""
    from ordercli.simulate.worlds import new_tables
    from ordercli.store import Store

    if path.exists():
        raise UsageError(f"--save-sample: {str(path)!r} already exists: choose a new file", "file_exists")
    size = shard_sizes(run.orders)[0]
    plans = [p for p in draw_plans(run.behaviour, run.seed, 0, size) if p.n < SAMPLE]
    label, meta = run.policies[0]
    start = run.behaviour.start
    try:
        with Store(path, lambda: new_tables(start, meta)).writing() as world:
            orders, _ = run_policy(plans, start, meta, 0, world=world)
    except OSError as exc:
        raise StorageError(f"--save-sample: cannot write {path}: {exc.strerror or exc}", "write_failed") from None
    return {"path": str(path), "orders": len(orders), "policy": label}

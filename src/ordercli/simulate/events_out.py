"""`simulate --events-out FILE.ndjson`: every simulated order's events under one policy, one JSON
object a line, in the shape `events list --format ndjson` prints.

Each shard's world numbers its orders and events from 1; in the file, orders are numbered on
across shards (shard 1's first order follows shard 0's last) and `seq` counts every line, so
ids are unique in the file. Lines come shard by shard, each shard's in time order (an order's
events are always in time order). The file is streamed as the shards arrive, so memory stays
flat in the number of orders, to a temporary file beside the target that becomes the target
only when the whole run succeeded; an existing target is never replaced (the careful writer's
streaming form, `ordercli.store.streamed_output`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ordercli.core.errors import UsageError
from ordercli.simulate import runner

OPTION = "--events-out"


def policy_index(labels: list[str], wanted: str | None) -> int:
    if wanted is None:
        return 0
    if wanted not in labels:
        raise UsageError(
            f"--events-policy: {wanted!r} is not one of the run's policies: {', '.join(map(repr, labels))}", "usage"
        )
    return labels.index(wanted)


class _Renumber:
    """Shard-local order ids and seqs to file-wide ones, as the shards arrive in order."""

    def __init__(self, out: IO[bytes]):
        import orjson

        self.dumps = orjson.dumps
        self.out = out
        self.orders = 0  # orders numbered so far, in earlier shards
        self.seq = 0
        self.lines = 0

    def __call__(self, events: list[dict[str, Any]]) -> None:
        offset = self.orders
        ids: dict[str, str] = {}
        top = 0
        chunk = []
        dumps = self.dumps
        for ev in events:
            self.seq += 1
            oid = ev["order_id"]
            if oid is not None:
                new = ids.get(oid)
                if new is None:
                    num = int(oid[4:])  # ORD-0001
                    top = max(top, num)
                    new = ids[oid] = f"ORD-{offset + num:04d}"
                ev = {**ev, "order_id": new}
            chunk.append(dumps({**ev, "seq": self.seq}))
        self.orders += top
        self.lines += len(events)
        if chunk:
            self.out.write(b"\n".join(chunk) + b"\n")


def execute_writing(
    run: runner.Run, events_of: int, path: Path, progress: Callable[[int, int], None] | None
) -> tuple[dict[str, Any], list[dict]]:
    """runner.execute, streaming policy `events_of`'s events to `path` (created new, whole or not at all)."""
    from ordercli.store import streamed_output

    run.events_of = events_of
    with streamed_output(path, what=OPTION) as out:
        sink = _Renumber(out)
        report, totals = runner.execute(run, progress, sink)
    report["events_out"] = {"path": str(path), "policy": run.policies[events_of][0], "events": sink.lines}
    return report, totals

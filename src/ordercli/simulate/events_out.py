"""`simulate --events-out FILE.ndjson`: every simulated order's events under one policy, one JSON
object a line, in the shape `events list --format ndjson` prints.

Each shard's world numbers its orders and events from 1; in the file, orders are numbered on
across shards (shard 1's first order follows shard 0's last) and `seq` counts every line, so
ids are unique in the file. Lines come shard by shard, each shard's in time order (an order's
events are always in time order). The file is streamed as the shards arrive, so memory stays
flat in the number of orders, to a temporary file beside the target that becomes the target
only when the whole run succeeded; an existing target is never replaced.

A small writer of its own: when the store's careful writer (store/file.py) grows a streaming
form, this should go through it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ordercli.errors import StorageError, UsageError
from ordercli.simulate import runner

OPTION = "--events-out"


def check_target(path: Path, option: str = OPTION) -> None:
    """Refuse before any work: an existing target (never overwritten), or one that is not a file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise StorageError(f"{option}: {str(path)!r}: a part of the path is not a folder", "not_a_file") from None
    except OSError as exc:
        raise StorageError(f"{option}: cannot use {str(path)!r}: {exc.strerror or exc}", "write_failed") from None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise StorageError(f"{option}: {str(path)!r} exists and is not a regular file", "not_a_file")
        raise UsageError(f"{option}: {str(path)!r} already exists: choose a new file", "file_exists")
    if str(path).endswith(os.sep):
        raise StorageError(f"{option}: {str(path)!r} names a folder, not a file", "not_a_file")
    parent = path.parent
    if not parent.is_dir():
        raise StorageError(f"{option}: the folder {str(parent)!r} does not exist", "write_failed")


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
    run.events_of = events_of
    parent = path.parent
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise StorageError(
            f"{OPTION}: cannot write in {str(parent)!r}: {exc.strerror or exc}", "write_failed"
        ) from None
    done = False
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)  # as an ordinary new file, not mkstemp's 0600
        with os.fdopen(fd, "wb", buffering=1 << 20) as out:
            sink = _Renumber(out)
            try:
                report, totals = runner.execute(run, progress, sink)
                out.flush()
                os.fsync(out.fileno())
            except OSError as exc:
                raise StorageError(
                    f"{OPTION}: cannot write {str(path)!r}: {exc.strerror or exc}", "write_failed"
                ) from None
        _publish(Path(tmp), path)
        done = True
    finally:
        if not done:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    report["events_out"] = {"path": str(path), "policy": run.policies[events_of][0], "events": sink.lines}
    return report, totals


def write_new(files: dict[Path, bytes], option: str) -> None:
    """Each file written whole beside its target, then all published (never replacing a file);
    on a failure nothing new is left behind."""
    temps: list[tuple[Path, Path]] = []
    published: list[Path] = []
    try:
        for path, data in files.items():
            try:
                fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            except OSError as exc:
                message = f"{option}: cannot write in {str(path.parent)!r}: {exc.strerror or exc}"
                raise StorageError(message, "write_failed") from None
            temps.append((Path(name), path))
            mask = os.umask(0)
            os.umask(mask)
            os.fchmod(fd, 0o666 & ~mask)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
            except OSError as exc:
                message = f"{option}: cannot write {str(path)!r}: {exc.strerror or exc}"
                raise StorageError(message, "write_failed") from None
        for temp, target in temps:
            _publish(temp, target, option)
            published.append(target)
    except BaseException:
        for temp, _ in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        for target in published:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
        raise


def _publish(tmp: Path, path: Path, option: str = OPTION) -> None:
    """The temporary file becomes `path`, never replacing a file that appeared meanwhile."""
    try:
        os.link(tmp, path)  # fails if `path` exists: no clobbering
    except FileExistsError:
        raise UsageError(f"{option}: {str(path)!r} already exists: choose a new file", "file_exists") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise StorageError(f"{option}: cannot write {str(path)!r}: {exc.strerror or exc}", "write_failed") from None
        if os.path.lexists(path):  # no hard links here: check, then rename (a narrow window)
            raise UsageError(f"{option}: {str(path)!r} already exists: choose a new file", "file_exists") from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)
    with contextlib.suppress(OSError):  # make the new name durable where the platform allows
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

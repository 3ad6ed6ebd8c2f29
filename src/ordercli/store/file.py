"""The data file itself: its path, reading it, the writers' lock, writing it atomically.

Writers hold an inter-process lock (a separate `.lock` file) from read to write, and write a
temporary file `.NAME.*.tmp` in the same folder, fsync it, and `os.replace` it over the old one: a
reader or a crash sees the old world or the new one, never half of either. Readers take no lock
for the same reason. A writer killed mid-write leaves its temporary file behind: the next writer,
holding the lock, removes it.
"""

from __future__ import annotations

import errno
import gc
import os
import stat
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from ordercli.errors import StorageError, UsageError

DEFAULT_LOCK_TIMEOUT = 5.0
_CHUNK = 20_000  # rows per orjson.dumps when writing a table: bounds the bytes held at once


def checked_path(text: str, option: str) -> Path:
    """--db / ORDERCLI_DB as the OS will take it. A path ending in `/` names a folder, never a
    data file: refused here, before anything is created."""
    if not text or "\x00" in text:
        raise UsageError(f"{option}: not a usable file path", "bad_path")
    if text.endswith(("/", os.sep)):
        raise StorageError(
            f"{option}: {text} ends in '/', so it names a folder: give the data file's name, "
            f"e.g. {text.rstrip('/' + os.sep) or '.'}/ordercli.json",
            "not_a_file",
        )
    return Path(text).expanduser()


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_a_file(path: Path, mode: int) -> StorageError | None:
    for test, kind in _KINDS:
        if test(mode):
            return StorageError(
                f"data file {path} is {kind}, not a regular file; nothing was changed: point --db at a file",
                "not_a_file",
            )
    if not stat.S_ISREG(mode):
        return StorageError(f"data file {path} is not a regular file; nothing was changed", "not_a_file")
    return None


def not_ordercli_data(path: Path) -> StorageError:
    return StorageError(
        f"data file {path} is not ordercli data; it was left untouched: point --db at an ordercli file",
        "not_ordercli_data",
    )


def _os_error(path: Path, exc: OSError, doing: str) -> StorageError:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "a read-only file system" if exc.errno == errno.EROFS else "permission denied"
        return StorageError(
            f"cannot {doing} {path}: its folder {path.parent} is read-only ({why}); nothing was changed",
            "read_only",
        )
    return StorageError(f"cannot {doing} {path}: {exc.strerror or exc}", "write_failed")


class DataFile:
    def __init__(self, path: str | os.PathLike[str], durable: bool = True):
        self.path = Path(path)
        self.durable = durable
        self.sealing = False  # the store's own writes seal the file; a TinyDB script's do not
        self.last_read_sealed = False  # were the bytes last read sealed

    # -- what the path names
    def exists(self) -> bool:
        try:
            os.stat(self.path)
        except OSError:
            return False
        return True

    # -- the seal: were these bytes written by ordercli itself (and so validated)?
    def sealed(self) -> bool:
        """If so, ordercli itself wrote every byte, from records it had checked: nothing to check
        again. If not, someone else wrote the file (an editor, a script, 0.1.0): every record a
        command reads is checked before use, and a writer checks the whole world first."""
        return self.last_read_sealed

    def check_kind(self) -> None:
        """Refuses a path that is not (or could not become) a regular file, before anything is
        opened or created: a device, FIFO, socket, directory, or a file where a folder must be."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            # every folder of the path that exists is a folder: a file among them is ENOTDIR
            return
        except NotADirectoryError:
            raise StorageError(
                f"data file {self.path}: a part of its folder path is a file, not a folder", "not_a_file"
            ) from None
        except OSError as exc:
            raise StorageError(
                f"cannot read data file {self.path}: {exc.strerror or exc}", "storage_unreadable"
            ) from None
        problem = _not_a_file(self.path, st.st_mode)
        if problem is not None:
            raise problem

    def check_writable(self) -> None:
        """A writer needs to create files in the folder (the lock, the new file): say so plainly
        when it can't, before trying."""
        folder = self.path.parent
        while not os.path.exists(folder) and folder != folder.parent:
            folder = folder.parent
        if not os.access(folder, os.W_OK):
            raise _os_error(self.path, PermissionError(errno.EACCES, "permission denied"), "write")

    # -- reading
    def read_bytes(self) -> bytes | None:
        """The file's bytes, None when there is none. Opened non-blocking and checked to be a
        regular file, so a FIFO or a device is refused instead of read (or waited on)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.check_kind()  # a directory or a socket fails to open: say what it is
            raise StorageError(
                f"cannot read data file {self.path}: {exc.strerror or exc}", "storage_unreadable"
            ) from None
        try:
            problem = _not_a_file(self.path, os.fstat(fd).st_mode)
            if problem is not None:
                raise problem
            with os.fdopen(fd, "rb", closefd=False) as fh:
                raw = fh.read()
            self.last_read_sealed = is_sealed(raw)  # a crc32: ~25 ms for 80 MB
            return raw
        except OSError as exc:
            raise StorageError(
                f"cannot read data file {self.path}: {exc.strerror or exc}", "storage_unreadable"
            ) from None
        finally:
            os.close(fd)

    def parse(self, raw: bytes | None) -> Any:
        if raw is None or not raw.strip():
            return None
        # A world is a tree of dicts without cycles: the cycle collector would only rescan
        # millions of objects, so it is paused while parsing (the store keeps it paused for the
        # rest of the command) and the loaded objects are frozen out of its later passes.
        paused = gc.isenabled()
        gc.disable()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise StorageError(
                f"data file {self.path} is not valid JSON ({exc}); it was left untouched: "
                "restore a backup or point --db elsewhere",
                "storage_unreadable",
            ) from None
        finally:
            if paused:
                gc.enable()
        if data is None:  # `null` is not an empty world (no bytes, or blanks, is): never written over
            raise not_ordercli_data(self.path)
        gc.freeze()
        return data

    def read(self) -> Any:
        return self.parse(self.read_bytes())

    # -- writing
    def ensure_folder(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _os_error(self.path, exc, "create the folder of") from None

    def write(self, data: bytes | dict[str, Any]) -> None:
        try:
            atomic_write(self.path, data, self.durable, seal=self.sealing)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise _os_error(self.path, exc, "write") from None
            raise StorageError(
                f"could not write {self.path}: {exc.strerror or exc}; the file was left as it was", "write_failed"
            ) from None

    @contextmanager
    def locked(self) -> Iterator[None]:
        from filelock import FileLock, Timeout

        timeout = lock_timeout()
        lock = FileLock(str(self.path) + ".lock", timeout=timeout)
        try:
            lock.acquire()
        except Timeout:
            raise StorageError(
                f"database is busy: another ordercli command holds {self.path} (waited {timeout:g}s; "
                "ORDERCLI_LOCK_TIMEOUT sets the wait)",
                "database_busy",
            ) from None
        except OSError as exc:
            raise _os_error(self.path, exc, "lock") from None
        try:
            yield
        finally:
            lock.release()

    # -- leftovers of writers killed mid-write
    def leftovers(self) -> list[Path]:
        try:
            return sorted(self.path.parent.glob(f".{self.path.name}.*.tmp"))
        except OSError:
            return []

    def remove_leftovers(self) -> None:
        """Only under the lock: then no writer of this file is between mkstemp and replace."""
        for tmp in self.leftovers():
            try:
                tmp.unlink()
            except OSError:
                pass  # not ours to fight over: db check keeps reporting it


def _chunks(table: dict[str, Any]) -> Iterator[memoryview]:
    """A table's JSON object body, a slice of rows at a time (a view without the braces: slicing
    the bytes would copy them)."""
    items = iter(table.items())
    while True:
        part = dict(islice(items, _CHUNK))
        if not part:
            return
        yield memoryview(orjson.dumps(part))[1:-1]


# The seal: meta is written last, and ends with "seal":"<crc32 of every byte before it>". Any
# other writer (or a hand edit) breaks it; JSON readers, TinyDB and 0.1.0 see one more meta field.
_SEAL_KEY = b'"seal":"'
_SEAL_END = b'"}}}'


def is_sealed(raw: bytes) -> bool:
    n = len(_SEAL_END) + 8
    if not raw.endswith(_SEAL_END) or raw[-n - len(_SEAL_KEY) : -n] != _SEAL_KEY:
        return False
    try:
        return int(raw[-n : -len(_SEAL_END)], 16) == zlib.crc32(memoryview(raw)[:-n])
    except ValueError:
        return False


class _Sealing:
    """A file that keeps the crc32 of what is written through it."""

    def __init__(self, fh: Any):
        self.fh, self.crc = fh, 0

    def write(self, data: bytes | memoryview) -> None:
        self.fh.write(data)
        self.crc = zlib.crc32(data, self.crc)


def atomic_write(path: Path, data: bytes | dict[str, Any], durable: bool = True, seal: bool = False) -> None:
    """Write `data` (bytes, or a dict of tables streamed as JSON, sealed if `seal`) to `path` whole
    or not at all. `durable=False` skips the fsyncs (a scenario's throwaway world): still atomic,
    not crash-proof."""
    import tempfile  # writers only

    folder = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:
                _write_tables(_Sealing(fh), data, seal)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if not durable:
        return
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename is done either way
    finally:
        os.close(dir_fd)


def _write_tables(out: _Sealing, tables: dict[str, Any], seal: bool) -> None:
    # The JSON of `tables`, streamed a slice of rows at a time (a 100k-order tick writes ~250 MB:
    # never all of it in memory at once), meta last so that it can carry the seal.
    out.write(b"{")
    names = [n for n in tables if n != "meta"] + (["meta"] if "meta" in tables else [])
    for i, name in enumerate(names):
        table = tables[name]
        out.write((b"," if i else b"") + orjson.dumps(name) + b":")
        if name == "meta" and isinstance(table, dict) and list(table) == ["1"] and isinstance(table["1"], dict):
            meta = {k: v for k, v in table["1"].items() if k != "seal"}  # never a stale seal
            if not seal:
                out.write(orjson.dumps({"1": meta}) + b"}")
                return
            out.write(b'{"1":' + orjson.dumps(meta)[:-1] + (b"," if meta else b"") + _SEAL_KEY)
            out.write(f"{out.crc:08x}".encode() + _SEAL_END)
            return
        if isinstance(table, dict) and len(table) > _CHUNK:
            out.write(b"{")
            for j, body in enumerate(_chunks(table)):
                if j:
                    out.write(b",")
                out.write(body)
            out.write(b"}")
        else:
            out.write(orjson.dumps(table))
    out.write(b"}")


def lock_timeout() -> float:
    raw = os.environ.get("ORDERCLI_LOCK_TIMEOUT")
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise UsageError(f"ORDERCLI_LOCK_TIMEOUT: {raw!r} is not a number of seconds", "bad_lock_timeout")
    return value


def default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("ordercli", appauthor=False)) / "ordercli.json"

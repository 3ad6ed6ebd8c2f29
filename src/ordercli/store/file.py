"""The data file itself: its path, reading it, the writers' lock, writing it atomically.

Writers hold an inter-process lock (a separate `.lock` file) from read to write, and write a
temporary file `.NAME.*.tmp` in the same folder, fsync it, and `os.replace` it over the old one: a
reader or a crash sees the old world or the new one, never half of either. Readers take no lock
for the same reason. A writer killed mid-write leaves its temporary file behind: the next writer,
holding the lock, removes it.

Every other file ordercli writes (backups, JUnit reports, plots, samples) goes through the same
careful writer: `check_output` before any work (not a device, FIFO, socket or folder; never an
input of the same command; an existing file only when it may be replaced), then `write_output`
(a temporary file in the same folder, fsynced, renamed over the path: a symlink there is replaced,
never followed). A rewritten file keeps its mode (and owner where the process may set it); a new
one gets the umask's mode (0o666 & ~umask), as SQLite and editors do. See docs/never-lost.md.

A data file reached through a symlink is read, locked and written at the link's target: the link
stays a link, and writers through either name share one lock (`TARGET.lock`).
"""

from __future__ import annotations

import errno
import os
import stat
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import orjson

from ordercli.core.errors import StorageError, UsageError

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


def _kind(mode: int) -> str | None:
    """What a path that is not a regular file is, None for a regular file."""
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "not a regular file"


def _not_a_file(path: Path, mode: int) -> StorageError | None:
    kind = _kind(mode)
    if kind is None:
        return None
    return StorageError(
        f"data file {path} is {kind}, not a regular file; nothing was changed: point --db at a file",
        "not_a_file",
    )


def existing_folder(path: Path) -> Path:
    """The nearest folder of `path` that exists: the one a message about a folder can name."""
    folder = path.parent
    while not os.path.isdir(folder) and folder != folder.parent:
        folder = folder.parent
    return folder


def _read_only_fs(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def not_ordercli_data(path: Path) -> StorageError:
    return StorageError(
        f"data file {path} is not ordercli data; it was left untouched: point --db at an ordercli file",
        "not_ordercli_data",
    )


def _os_error(path: Path, exc: OSError, doing: str) -> StorageError:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        folder = existing_folder(path)  # the folder that refused: never one that does not exist
        ro = exc.errno == errno.EROFS or _read_only_fs(folder)
        why = "a read-only file system" if ro else "permission denied"
        return StorageError(
            f"cannot {doing} {path}: its folder {folder} is read-only ({why}); nothing was changed",
            "read_only",
        )
    return StorageError(f"cannot {doing} {path}: {exc.strerror or exc}", "write_failed")


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class DataFile:
    def __init__(self, path: str | os.PathLike[str], durable: bool = True):
        self.path = Path(path)
        self.durable = durable
        self.sealing = False  # the store's own writes seal the file; a TinyDB script's do not
        self.last_read_sealed = False  # were the bytes last read sealed
        self.read_stat: os.stat_result | None = None  # the file as last read (None: there was none)
        self.real = self.path
        self.resolve()

    # -- what the path names
    def resolve(self) -> Path:
        """Where the world really is: the target of a symlink (the link stays a link), else the
        path itself. Asked again at the start of each command: a link may be pointed elsewhere."""
        self.real = Path(os.path.realpath(self.path)) if os.path.islink(self.path) else self.path
        return self.real

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

    def check_link(self) -> None:
        """A writer through a symlink writes its target, but never creates the folders it names."""
        if self.real != self.path and not os.path.isdir(self.real.parent):
            raise StorageError(
                f"data file {self.path} is a symlink to {self.real}, whose folder {self.real.parent} does "
                "not exist; nothing was created: create that folder or point the link elsewhere",
                "dangling_link",
            )

    def check_writable(self) -> None:
        """A writer needs to create files in the folder (the lock, the new file): say so plainly
        when it can't, before trying."""
        self.check_link()
        folder = existing_folder(self.real)
        if not os.access(folder, os.W_OK) or _read_only_fs(folder):
            errno_ = errno.EROFS if _read_only_fs(folder) else errno.EACCES
            raise _os_error(self.real, OSError(errno_, os.strerror(errno_)), "write")

    # -- reading
    def read_bytes(self) -> bytes | None:
        """The file's bytes, None when there is none. Opened non-blocking and checked to be a
        regular file, so a FIFO or a device is refused instead of read (or waited on)."""
        self.read_stat = None
        try:
            fd = os.open(self.real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.check_kind()  # a directory or a socket fails to open: say what it is
            raise StorageError(
                f"cannot read data file {self.path}: {exc.strerror or exc}", "storage_unreadable"
            ) from None
        try:
            st = os.fstat(fd)
            problem = _not_a_file(self.path, st.st_mode)
            if problem is not None:
                raise problem
            with os.fdopen(fd, "rb", closefd=False) as fh:
                raw = fh.read()
            self.last_read_sealed = is_sealed(raw)  # a crc32: ~25 ms for 80 MB
            self.read_stat = st
            return raw
        except OSError as exc:
            raise StorageError(
                f"cannot read data file {self.path}: {exc.strerror or exc}", "storage_unreadable"
            ) from None
        finally:
            os.close(fd)

    def unchanged_since_read(self) -> bool:
        """Is the file still the one last read (or still absent)? Every writer replaces it whole
        (a new inode), so a writer may read before it locks and keep what it read when this holds."""
        try:
            st = os.stat(self.real)
        except FileNotFoundError:
            return self.read_stat is None
        except OSError:
            return False
        return self.read_stat is not None and _identity(st) == _identity(self.read_stat)

    def parse(self, raw: bytes | None) -> Any:
        if raw is None or not raw.strip():
            return None
        # the cycle collector is the CLI's to pause (store.CommandProcess), never a library user's
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise StorageError(
                f"data file {self.path} is not valid JSON ({exc}); it was left untouched: "
                "restore a backup or point --db elsewhere",
                "storage_unreadable",
            ) from None
        if data is None:  # `null` is not an empty world (no bytes, or blanks, is): never written over
            raise not_ordercli_data(self.path)
        return data

    def read(self) -> Any:
        return self.parse(self.read_bytes())

    # -- writing
    def ensure_folder(self) -> None:
        if self.real != self.path:  # a link's target is created, never the folders it names
            self.check_link()
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _os_error(self.path, exc, "create the folder of") from None

    def write(self, data: bytes | dict[str, Any], like: os.stat_result | None = None) -> None:
        """Replaces the world whole; the file keeps its mode and owner (a new one: the umask's mode)."""
        try:
            atomic_write(self.real, data, self.durable, seal=self.sealing, like=like)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise _os_error(self.real, exc, "write") from None
            raise StorageError(
                f"could not write {self.path}: {exc.strerror or exc}; the file was left as it was", "write_failed"
            ) from None

    def lock_path(self) -> str:
        """The writers' lock: the real file's, whatever name (a symlink) the world was reached by."""
        return str(self.real) + ".lock"

    @contextmanager
    def locked(self) -> Iterator[None]:
        from filelock import FileLock, Timeout

        timeout = lock_timeout()
        lock = FileLock(self.lock_path(), timeout=timeout)
        try:
            lock.acquire()
        except Timeout:
            raise StorageError(
                f"database is busy: another ordercli command holds {self.path} (waited {timeout:g}s; "
                "ORDERCLI_LOCK_TIMEOUT sets the wait)",
                "database_busy",
            ) from None
        except OSError as exc:
            raise _os_error(self.real, exc, "lock") from None
        try:
            yield
        finally:
            lock.release()

    # -- leftovers of writers killed mid-write
    def leftovers(self) -> list[Path]:
        try:
            return sorted(self.real.parent.glob(f".{self.real.name}.*.tmp"))
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


def umask() -> int:
    """The process's umask, without changing it (Linux says it in /proc; elsewhere it is set and
    set back at once)."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode a new file gets from open(2): 0o666 less the umask (mkstemp's is 0o600)."""
    return 0o666 & ~umask()


def _give(fd: int, like: os.stat_result | None, mode: int | None) -> None:
    """The temporary file takes the mode (and, where the process may set it, the owner) of the
    file it replaces, or `mode`, or a new file's mode."""
    if mode is None:
        mode = stat.S_IMODE(like.st_mode) if like is not None else new_file_mode()
    os.fchmod(fd, mode)
    if like is None or (like.st_uid == os.geteuid() and like.st_gid == os.getegid()):
        return
    for uid in (like.st_uid, -1):  # not allowed to give the file away: at least its group
        try:
            os.fchown(fd, uid, like.st_gid)
            return
        except PermissionError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EINVAL):
                raise
            return
    if mode & 0o7000:
        os.fchmod(fd, mode & 0o777)  # set-id bits never outlive the owner they were for


@contextmanager
def streamed_output(path: Path, *, what: str, exclusive: bool = True) -> Iterator[Any]:
    """The careful writer for an output too big to hold (simulate --events-out): yields a binary
    file to write to, a temporary file in the same folder; on a normal exit it is fsynced and
    given `path` (as a new file only with `exclusive`), with the umask's mode; on an exception it
    is removed and nothing is left behind. An OSError is a StorageError naming `what`."""
    import tempfile  # writers only

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _output_error(path, exc, what) from None
    try:
        try:
            with os.fdopen(fd, "wb", buffering=1 << 20) as fh:
                _give(fd, None, None)
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            if exclusive:
                _link_new(tmp, path)
            else:
                os.replace(tmp, path)
        except FileExistsError:
            raise UsageError(
                f"{what}: {path} already exists (created meanwhile): choose a new file", "file_exists"
            ) from None
        except OSError as exc:
            raise _output_error(path, exc, what) from None
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(path.parent)


def _output_error(path: Path, exc: OSError, what: str) -> StorageError:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return _os_error(path, exc, f"write {what}")
    return StorageError(f"could not write {what} {path}: {exc.strerror or exc}", "write_failed")


def _fsync_folder(folder: Path) -> None:
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


def atomic_write(
    path: Path,
    data: bytes | dict[str, Any],
    durable: bool = True,
    seal: bool = False,
    *,
    like: os.stat_result | None = None,
    mode: int | None = None,
    exclusive: bool = False,
) -> None:
    """Write `data` (bytes, or a dict of tables streamed as JSON, sealed if `seal`) to `path` whole
    or not at all: a temporary file in the same folder, fsynced, renamed over `path` (a symlink at
    `path` is replaced, never followed). The new file keeps the mode and owner of the file it
    replaces (`like`: its stat, looked up when not given), or gets `mode`, or the umask's mode.
    `exclusive`: `path` must not exist (FileExistsError when it does, even one created meanwhile).
    `durable=False` skips the fsyncs (a scenario's throwaway world): still atomic, not crash-proof."""
    import tempfile  # writers only

    folder = path.parent
    if like is None and mode is None and not exclusive:
        try:
            like = os.lstat(path)
        except OSError:
            like = None
        if like is not None and not stat.S_ISREG(like.st_mode):
            like = None  # a symlink replaced by a report: the report is a new file
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            _give(fd, like, mode)
            if isinstance(data, bytes | memoryview):
                fh.write(data)
            else:
                _write_tables(_Sealing(fh), data, seal)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        if exclusive:
            _link_new(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        _fsync_folder(folder)


def _link_new(tmp: str, path: Path) -> None:
    """Gives the finished temporary file its name only if the name is free (a hard link fails on
    an existing name, where a rename would replace it)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if os.path.lexists(path):  # no hard links here: a check, then the rename
            raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


# -- every other file ordercli writes -------------------------------------------------------------

Existing = Literal["replace", "world", "refuse"]
_WORLD_TAIL = 64 * 1024  # a sealed file ends with its meta table: the app's name is in its last bytes


def holds_world(path: Path, size: int) -> bool:
    """Is the regular file at `path` an ordercli world or backup (or empty)? A sealed file tells by
    its last bytes; any other is parsed (a world a script wrote, a 0.1.0 file)."""
    if size == 0:
        return True
    try:
        with open(path, "rb") as fh:
            if size > _WORLD_TAIL:
                fh.seek(size - _WORLD_TAIL)
            tail = fh.read()
            if size <= _WORLD_TAIL:
                raw = tail
            elif tail.endswith(_SEAL_END) and b'"meta":{"1":{"app":"ordercli"' in tail:
                return True
            else:
                fh.seek(0)
                raw = fh.read()
    except OSError:
        return False
    if not raw.strip():
        return True
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(data, dict):
        return False
    if not data or data == {"_default": {}}:
        return True
    meta = data.get("meta")
    meta = meta.get("1") if isinstance(meta, dict) else None
    return isinstance(meta, dict) and meta.get("app") == "ordercli"


def check_output(
    path: Path,
    *,
    what: str,
    inputs: Iterable[tuple[Path, str]] = (),
    existing: Existing = "replace",
    hint: str = "choose a new file",
) -> None:
    """Before any work: may this command write `path`? Refuses (nothing written, nothing created)
    a path that is a folder, device, FIFO or socket (exit 5 `not_a_file`), one of the command's
    inputs (`inputs`: (path, what it is); exit 2 `output_is_input`), and an existing file unless
    `existing` allows it: "replace" any regular file (a report, as `>` does), "world" only an
    ordercli world or backup (else exit 2 `foreign_file`), "refuse" none (exit 2 `file_exists`).
    A symlink at `path` is replaced, never followed (and never a reason to refuse, but for "refuse")."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise StorageError(f"{what}: {path}: a part of its folder path is a file, not a folder", "not_a_file") from None
    except OSError as exc:
        raise StorageError(f"{what}: cannot look at {path}: {exc.strerror or exc}", "write_failed") from None
    if st is not None and not stat.S_ISLNK(st.st_mode):
        kind = _kind(st.st_mode)
        if kind is not None:
            raise StorageError(
                f"{what}: {path} is {kind}, not a regular file; nothing was written: give a file path",
                "not_a_file",
            )
    for source, role in inputs:
        if st is not None and _same(st, source):
            raise UsageError(
                f"{what}: {path} is {role}, which this command reads; nothing was written: write the output elsewhere",
                "output_is_input",
            )
    if st is None:
        _check_folder(path, what)
        return
    if existing == "refuse":
        raise UsageError(f"{what}: {path} already exists: {hint}", "file_exists")
    if existing == "world" and stat.S_ISREG(st.st_mode) and not holds_world(path, st.st_size):
        raise UsageError(
            f"{what}: {path} exists and is not an ordercli world or backup, so it is never overwritten: "
            "choose another path",
            "foreign_file",
        )


def _check_folder(path: Path, what: str) -> None:
    """A new output's folder (made when missing, as `write_output` does) must be writable: said
    before any work rather than after it. The nearest folder that exists is the one asked."""
    folder = path.absolute().parent
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    if not os.path.isdir(folder):
        raise StorageError(f"{what}: {path}: {folder} is a file, not a folder", "not_a_file")
    if not os.access(folder, os.W_OK):
        raise StorageError(
            f"{what}: cannot write {path}: its folder {folder} is read-only; nothing was written", "read_only"
        )


def _same(st: os.stat_result, source: Path) -> bool:
    try:
        return os.path.samestat(st, os.stat(source))
    except OSError:
        return False


def write_output(
    path: Path,
    data: bytes | dict[str, Any],
    *,
    what: str,
    durable: bool = True,
    seal: bool = False,
    mode: int | None = None,
    exclusive: bool = False,
) -> None:
    """The careful writer of every file but the data file: creates the folder, then writes `path`
    whole (see `atomic_write`); an OSError is a StorageError naming `what`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data, durable, seal, mode=mode, exclusive=exclusive)
    except FileExistsError:
        raise UsageError(
            f"{what}: {path} already exists (created meanwhile): choose a new file", "file_exists"
        ) from None
    except OSError as exc:
        raise _output_error(path, exc, what) from None


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

"""TinyDB storage and middleware for ordercli data files.

Every command opens its world as `TinyDB(path, storage=OncePerCommand(AtomicJSONStorage))`:
the file is read once, TinyDB's writes stay in memory, and the store writes the result once at
the end of the command, atomically and under the writers' lock (`OncePerCommand.commit`).

Your own scripts can open a data file the same way, or with the storage alone:

    from tinydb import TinyDB, Query
    from ordercli.tinydb_storage import AtomicJSONStorage

    db = TinyDB("ordercli.json", storage=AtomicJSONStorage)
    db.table("orders").search(Query().status == "cancelled")

TinyDB's own JSONStorage rewrites the file in place (a crash mid-write leaves half a file) and
takes no lock; this storage reads with orjson and replaces the file atomically. Take ordercli's
lock (`FileLock(path + ".lock")`) around writes made while ordercli runs.
"""

from __future__ import annotations

import os
from typing import Any

from tinydb.middlewares import Middleware
from tinydb.storages import Storage

from ordercli.store.file import DataFile


class AtomicJSONStorage(Storage):
    def __init__(
        self,
        path: str | os.PathLike[str],
        create_dirs: bool = False,
        durable: bool = True,
        file: DataFile | None = None,
        **_: Any,
    ):
        self.file = file or DataFile(path, durable=durable)
        self.create_dirs = create_dirs

    def read(self) -> dict[str, Any] | None:
        return self.file.read()  # type: ignore[no-any-return]

    def write(self, data: dict[str, Any]) -> None:
        if self.create_dirs:
            self.file.ensure_folder()
        self.file.write(data)


class OncePerCommand(Middleware):
    """Reads the storage once; TinyDB's writes replace the data in memory only, and `commit()`
    hands the final data to the storage in one write. A command that fails never commits."""

    def __init__(self, storage_cls: Any = AtomicJSONStorage) -> None:
        super().__init__(storage_cls)
        self.data: dict[str, Any] | None = None
        self.loaded = False
        self.changed = False

    def read(self) -> dict[str, Any] | None:
        if not self.loaded:
            self.data = self.storage.read()
            self.loaded = True
        return self.data

    def write(self, data: dict[str, Any]) -> None:
        self.data = data
        self.loaded = True
        self.changed = True

    def commit(self) -> None:
        if self.data is not None:
            self.storage.write(self.data)
        self.changed = False

    def close(self) -> None:
        """Closing never writes: only `commit` does."""

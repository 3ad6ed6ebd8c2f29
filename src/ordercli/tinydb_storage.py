"""Open an ordercli data file with TinyDB itself, safely:

    from tinydb import TinyDB, Query
    from ordercli.tinydb_storage import AtomicJSONStorage

    db = TinyDB("ordercli.json", storage=AtomicJSONStorage)
    db.table("orders").search(Query().status == "cancelled")

TinyDB's own JSONStorage rewrites the file in place (a crash mid-write leaves half a
file) and takes no lock; this storage reads with orjson and replaces the file atomically.
Take ordercli's lock (`FileLock(path + ".lock")`) around writes made while ordercli runs.
"""

from __future__ import annotations

import os
from typing import Any

from tinydb.storages import Storage

from ordercli.store import JSONFile


class AtomicJSONStorage(Storage):
    def __init__(self, path: str | os.PathLike[str], create_dirs: bool = False, **_: Any):
        self.file = JSONFile(path, create_dirs=create_dirs)

    def read(self) -> dict[str, Any] | None:
        return self.file.read()

    def write(self, data: dict[str, Any]) -> None:
        self.file.write(data)

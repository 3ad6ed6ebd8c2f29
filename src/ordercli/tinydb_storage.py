"""`ordercli.tinydb_storage`, the path the README gives scripts: the storage lives in
`ordercli.store.tinydb_storage` (the store is the only code that touches the data file)."""

from tinydb import TinyDB

from ordercli.store.tinydb_storage import AtomicJSONStorage, InPlaceTable, OncePerCommand, WorldDB

__all__ = ["AtomicJSONStorage", "InPlaceTable", "OncePerCommand", "TinyDB", "WorldDB"]

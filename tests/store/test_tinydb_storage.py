"""The data file is a TinyDB database: TinyDB opens it through ordercli's atomic storage."""

from __future__ import annotations

import json

from tinydb import Query, TinyDB

from ordercli.tinydb_storage import AtomicJSONStorage


def test_tinydb_reads_a_world_and_its_writes_keep_it_an_ordercli_world(world, db):
    world.place()
    bob = world.place(buyer="bob")
    world.json("cancel", "request", bob["id"], "--reason", "second-thought")

    with TinyDB(db, storage=AtomicJSONStorage) as tdb:
        orders = tdb.table("orders")
        assert len(orders) == 2
        requested = orders.search(Query().status == "cancel_requested")
        assert [o["id"] for o in requested] == [bob["id"]]
        assert tdb.table("meta").get(doc_id=1)["app"] == "ordercli"
        tdb.table("annotations").insert({"order_id": bob["id"], "text": "asked on the phone"})

    # TinyDB's write went through the atomic storage: the file is whole and still ordercli's world
    raw = json.loads(db.read_bytes())
    assert raw["annotations"]["1"]["text"] == "asked on the phone"
    assert "seal" not in raw["meta"]["1"], "a script's write carries no seal, not even the one it read"
    assert world.json("db", "check")["ok"] is True
    assert world.json("orders", "show", bob["id"])["status"] == "cancel_requested"
    world.json("clock", "tick", "1h")  # an ordercli write keeps the extra table
    assert json.loads(db.read_bytes())["annotations"]["1"]["order_id"] == bob["id"]


def test_tinydb_creates_a_new_file_and_its_folders_when_asked(tmp_path):
    path = tmp_path / "new" / "folder" / "world.json"
    with TinyDB(path, storage=AtomicJSONStorage, create_dirs=True) as tdb:
        tdb.table("notes").insert({"text": "hello"})
    assert json.loads(path.read_bytes()) == {"notes": {"1": {"text": "hello"}}}


def test_tinydb_without_create_dirs_makes_no_folders(tmp_path):
    import pytest

    from ordercli.core.errors import StorageError

    path = tmp_path / "missing" / "world.json"
    with pytest.raises(StorageError), TinyDB(path, storage=AtomicJSONStorage) as tdb:
        tdb.table("notes").insert({"text": "hello"})
    assert not path.parent.exists()


def test_reading_leaves_the_callers_garbage_collector_on(world, db, tmp_path):
    """The storage pauses the cycle collector while parsing; a Python program using it gets it back on,
    after a good read and after a bad one."""
    import gc

    import pytest

    world.place()
    assert gc.isenabled()
    with TinyDB(db, storage=AtomicJSONStorage) as tdb:
        assert len(tdb.table("orders")) == 1
    assert gc.isenabled()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    from ordercli.core.errors import StorageError

    with pytest.raises(StorageError), TinyDB(bad, storage=AtomicJSONStorage) as tdb:
        tdb.table("orders").all()
    assert gc.isenabled()


def test_a_command_makes_at_most_one_write_call_per_table(world, db, monkeypatch):
    """TinyDB rebuilds a whole table on each write call, so a command batches: one call per table at
    most, and a new order is inserted, never also updated."""
    from ordercli.tinydb_storage import InPlaceTable as Table  # the store's table class

    world.place()
    world.place(buyer="bob")
    calls: list[tuple[str, str]] = []
    for method in ("insert", "insert_multiple", "update", "update_multiple", "upsert", "remove", "truncate"):
        real = getattr(Table, method)

        def spy(self, *args, _real=real, _method=method, **kwargs):
            calls.append((self.name, _method))
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(Table, method, spy)

    world.place(buyer="carol")
    assert sorted(calls) == [("events", "insert_multiple"), ("meta", "update"), ("orders", "insert_multiple")]
    calls.clear()
    world.json("clock", "tick", "30d")  # both older orders' ship_by fire: two orders changed, four events
    assert sorted(calls) == [
        ("events", "insert_multiple"), ("meta", "update"), ("notifications", "insert_multiple"), ("orders", "update"),
    ]  # fmt: skip


def _same_story(table_class):
    """One script of TinyDB write calls, on a TinyDB in memory with the given table class: what
    every call returned, what the tables held after each, and what searches saw."""
    from tinydb.storages import MemoryStorage
    from tinydb.table import Document

    class DB(TinyDB):
        pass

    DB.table_class = table_class
    db = DB(storage=MemoryStorage)
    t = db.table("t")
    seen = []

    def step(result):
        seen.append((result, json.loads(json.dumps(db.storage.read()))))

    step(t.insert({"n": 1}))
    mine = {"n": 2}
    step(t.insert_multiple([mine, {"n": 3}, Document({"n": 10}, doc_id=10), {"n": 4}]))
    mine["n"] = 99  # the stored row is a copy
    step(t.search(Query().n >= 3))  # cached now
    step(t.update({"tag": "x"}, doc_ids=[2, 10, 77]))
    step(t.search(Query().n >= 3))  # the write cleared the cache
    step(t.update(lambda d: d.update(n=d["n"] * 2), Query().n < 4))
    step(t.update({"all": True}))
    step(t.remove(doc_ids=[1, 55]))
    step(t.remove(Query().n == 10))
    step(t.upsert(Document({"n": 7}, doc_id=3)))
    step(t.upsert({"n": 8}, Query().n == 1000))
    step([d.doc_id for d in t])
    try:
        t.insert_multiple([{"n": 11}, Document({"n": 12}, doc_id=11)])
    except ValueError as exc:
        step(str(exc))
    try:
        t.insert_multiple([{"n": 13}, 5])
    except ValueError as exc:
        step(str(exc))
    t.truncate()
    step(t.insert({"n": 0}))
    db.table("fresh").insert_multiple([{"a": 1}, {"a": 2}])
    step(None)
    return seen


def test_the_in_place_table_keeps_tinydb_semantics():
    """InPlaceTable changes how a write is applied (in place, not by rebuilding the table), not
    what it does: the same script gives the same results and the same stored data as TinyDB's own
    Table, step by step."""
    from tinydb.table import Table

    from ordercli.tinydb_storage import InPlaceTable

    ours = _same_story(InPlaceTable)
    assert ours == _same_story(Table)
    assert ours[1][0] == [2, 3, 10, 4]  # a Document keeps its id; the others count on from 1
    assert ours[3][0] == [2, 10]  # missing ids skipped


def test_the_in_place_table_canonicalises_keys_as_tinydb_does():
    from tinydb.storages import MemoryStorage

    from ordercli.tinydb_storage import InPlaceTable

    db = TinyDB(storage=MemoryStorage)
    db.table_class = InPlaceTable
    db.storage.write({"t": {"007": {"n": 7}, "2": {"n": 2}}})
    t = db.table("t")
    assert t.update({"seen": True}, doc_ids=[7]) == [7]
    # TinyDB's rebuild maps "007" to 7 and back to "7", keeping the rows' order
    assert db.storage.read()["t"] == {"7": {"n": 7, "seen": True}, "2": {"n": 2}}
    assert list(db.storage.read()["t"]) == ["7", "2"]


def test_the_worlds_table_adopts_a_list_of_new_rows_with_tinydbs_ids():
    """The world's table (WorldDB) stores the rows of a list of plain dicts as they are, not copies
    (the world hands them over), numbered as TinyDB would; a taken id is refused, the table unchanged."""
    from tinydb.storages import MemoryStorage

    from ordercli.tinydb_storage import WorldDB

    db = WorldDB(storage=MemoryStorage)
    t = db.table("t")
    assert t.insert_multiple([{"n": 1}, {"n": 2}]) == [1, 2]
    rows = [{"n": 3}, {"n": 4}]
    assert t.insert_multiple(rows) == [3, 4]
    stored = db.storage.read()["t"]
    assert stored["3"] is rows[0] and stored["4"] is rows[1]
    assert list(stored) == ["1", "2", "3", "4"]
    assert t.insert({"n": 5}) == 5  # TinyDB's next id counts on from the adopted rows
    assert [d.doc_id for d in t.search(Query().n >= 4)] == [4, 5]

    t2 = WorldDB(storage=MemoryStorage).table("t")  # a fresh table: the next id is the last key + 1
    t2._storage.write({"t": {"1": {"n": 1}, "2": {"n": 2}}})
    t2._next_id = 2  # as if told wrong: the adopted rows would land on row 2
    before = json.dumps(t2._storage.read())
    try:
        t2.insert_multiple([{"n": 9}, {"n": 10}])
    except ValueError as exc:
        assert str(exc) == "Document with ID 2 already exists"
    else:
        raise AssertionError("a taken id was written over")
    assert json.dumps(t2._storage.read()) == before
    t2._next_id = None
    assert t2.insert_multiple([{"n": 3}]) == [3]
    # only a list of plain dicts is adopted: a Document keeps its own id, and a non-mapping is refused
    from tinydb.table import Document

    assert t2.insert_multiple([Document({"n": 10}, doc_id=10)]) == [10]
    assert t2.get(doc_id=10) == {"n": 10}
    try:
        t2.insert_multiple([{"n": 11}, 5])
    except ValueError as exc:
        assert str(exc) == "Document is not a Mapping"
    else:
        raise AssertionError("a non-mapping was stored")


def test_other_in_place_tables_still_copy_what_they_insert():
    from tinydb.storages import MemoryStorage

    from ordercli.tinydb_storage import InPlaceTable

    db = TinyDB(storage=MemoryStorage)
    db.table_class = InPlaceTable
    rows = [{"n": 1}]
    db.table("t").insert_multiple(rows)
    assert db.storage.read()["t"]["1"] == rows[0] and db.storage.read()["t"]["1"] is not rows[0]

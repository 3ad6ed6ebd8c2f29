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

    from ordercli.errors import StorageError

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
    from ordercli.errors import StorageError

    with pytest.raises(StorageError), TinyDB(bad, storage=AtomicJSONStorage) as tdb:
        tdb.table("orders").all()
    assert gc.isenabled()

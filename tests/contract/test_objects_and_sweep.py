"""The acceptance pass's contract checks: the objects of docs/cli.md field by field with their types,
and a sweep of every acting command over orders in every state, with odd ids and values, holding
the error contract (exit 2-5, stdout empty, one `error:` line or the JSON error object, the data
file untouched) and never exit 1."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")
MONEY = re.compile(r"\d+(\.\d{1,2})?")

ORDER_FIELDS = {
    "id", "buyer", "seller", "item", "quantity", "amount", "currency", "payment_method", "status",
    "placed_at", "paid_at", "ship_by", "shipped_at", "completed_at", "cancelled_at", "end_reason",
    "cancellation", "refund", "dispute", "next_deadline", "actions",
}
CANCELLATION_FIELDS = {"reason", "fault", "note", "requested_at", "respond_by", "status", "responded_at", "requests"}
REFUND_FIELDS = {
    "order_id", "amount", "currency", "method", "status", "initiated_at", "due_by", "refunded_at", "overdue"
}
DISPUTE_FIELDS = {"reason", "status", "opened_at", "resolved_at", "outcome"}
EVENT_FIELDS = {"seq", "at", "order_id", "kind", "actor", "details"}


def instant_or_null(value: object) -> bool:
    return value is None or (isinstance(value, str) and INSTANT.fullmatch(value) is not None)


@pytest.fixture
def states(world):
    """ORD-0001 unpaid, 0002 cancel_requested, 0003 shipped with an open dispute, 0004 cancelled
    with a held refund, 0005 completed and refunded by a dispute."""
    w = world
    w.place("--unpaid")
    w.place()
    w.json("cancel", "request", "ORD-0002", "--reason", "shipping-delay", "--note", "slow")
    w.place()
    w.json("seller", "ship", "ORD-0003")
    w.json("dispute", "open", "ORD-0003", "--reason", "damaged")
    w.place("--payment", "alipay")
    w.json("cancel", "request", "ORD-0004", "--reason", "other")
    w.json("seller", "respond", "ORD-0004", "accept")
    w.json("refund", "hold", "ORD-0004")
    w.place()
    w.json("seller", "ship", "ORD-0005")
    w.json("orders", "confirm", "ORD-0005")
    w.json("dispute", "open", "ORD-0005", "--reason", "not-received")
    w.json("dispute", "resolve", "ORD-0005", "refund")
    w.json("refund", "settle", "ORD-0005")
    return w


def test_every_order_has_every_field_of_cli_md_with_its_type(states) -> None:
    orders = states.json("orders", "list")
    assert [o["id"] for o in orders] == [f"ORD-000{n}" for n in range(1, 6)]
    statuses = ["awaiting_payment", "cancel_requested", "shipped", "cancelled", "completed"]
    assert [o["status"] for o in orders] == statuses
    for o in orders:
        assert ORDER_FIELDS <= set(o), ORDER_FIELDS - set(o)
        assert o == states.json("orders", "show", o["id"])
        for key in ("id", "buyer", "seller", "item", "currency", "payment_method", "status"):
            assert isinstance(o[key], str)
        assert type(o["quantity"]) is int
        assert isinstance(o["amount"], str) and MONEY.fullmatch(o["amount"]) and o["amount"] == "19.99"
        for key in ("placed_at", "paid_at", "ship_by", "shipped_at", "completed_at", "cancelled_at"):
            assert instant_or_null(o[key]), (key, o[key])
        assert set(o["actions"]) == {"buyer", "seller"}
        assert all(isinstance(a, str) for a in o["actions"]["buyer"] + o["actions"]["seller"])
        if o["next_deadline"] is not None:
            assert set(o["next_deadline"]) == {"kind", "at"} and INSTANT.fullmatch(o["next_deadline"]["at"])
        if o["cancellation"] is not None:
            c = o["cancellation"]
            assert set(c) == CANCELLATION_FIELDS
            assert type(c["requests"]) is int and c["requests"] == 1
            assert all(instant_or_null(c[k]) for k in ("requested_at", "respond_by", "responded_at"))
        if o["refund"] is not None:
            r = o["refund"]
            assert set(r) == REFUND_FIELDS
            assert r["order_id"] == o["id"] and r["amount"] == "19.99" and type(r["overdue"]) is bool
            assert all(instant_or_null(r[k]) for k in ("initiated_at", "due_by", "refunded_at"))
        if o["dispute"] is not None:
            assert set(o["dispute"]) == DISPUTE_FIELDS
            assert all(instant_or_null(o["dispute"][k]) for k in ("opened_at", "resolved_at"))
    unpaid, requested, shipped, cancelled, completed = orders
    assert unpaid["paid_at"] is None and unpaid["refund"] is None and unpaid["next_deadline"]["kind"] == "pay_by"
    assert requested["cancellation"]["status"] == "pending" and requested["cancellation"]["fault"] == "seller"
    assert shipped["dispute"]["status"] == "open" and shipped["dispute"]["outcome"] is None
    assert cancelled["refund"]["status"] == "held" and cancelled["end_reason"] == "cancel_accepted"
    assert completed["refund"]["status"] == "refunded" and completed["dispute"]["outcome"] == "refund"


def test_refund_and_event_objects(states) -> None:
    refunds = states.json("refund", "list")
    assert [r["order_id"] for r in refunds] == ["ORD-0004", "ORD-0005"]
    assert all(set(r) == REFUND_FIELDS for r in refunds)
    assert states.json("refund", "status", "ORD-0004") == refunds[0]
    events = states.json("events", "list")
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    for e in events:
        assert set(e) == EVENT_FIELDS
        assert type(e["seq"]) is int and INSTANT.fullmatch(e["at"]) and isinstance(e["details"], dict)


LISTS = (
    ("orders", "list"), ("refund", "list"), ("dispute", "list"), ("notifications", "list"), ("events", "list"),
)


@pytest.mark.parametrize("command", LISTS, ids=" ".join)
def test_every_format_of_every_list_holds_the_same_rows(states, command) -> None:
    rows = states.json(*command)
    assert rows and json.loads(states(*command, "--format", "json").stdout) == rows
    ndjson = states(*command, "--format", "ndjson").stdout.splitlines()
    assert [json.loads(line) for line in ndjson] == rows
    import csv
    import io

    table = list(csv.reader(io.StringIO(states(*command, "--format", "csv").stdout)))
    assert len(table) == len(rows) + 1
    header = table[0]
    if command == ("orders", "list"):
        assert {"id", "status", "cancellation.status", "refund.due_by", "dispute.outcome", "next_deadline.at"} <= set(
            header
        )
        assert [dict(zip(header, r, strict=True))["refund.status"] for r in table[1:]] == [
            "", "", "", "held", "refunded",
        ]
    text = states(*command, "--format", "table").stdout
    assert text.strip() and not text.lstrip().startswith(("[", "{"))


ACTING = (
    ("orders", "pay", "{id}"), ("orders", "confirm", "{id}"), ("orders", "show", "{id}"),
    ("cancel", "request", "{id}", "--reason", "other"), ("cancel", "request", "{id}", "--reason", "because"),
    ("cancel", "withdraw", "{id}"), ("seller", "respond", "{id}", "accept"), ("seller", "respond", "{id}", "reject"),
    ("seller", "respond", "{id}", "maybe"), ("seller", "ship", "{id}"), ("refund", "status", "{id}"),
    ("refund", "hold", "{id}"), ("refund", "release", "{id}"), ("refund", "settle", "{id}"),
    ("dispute", "open", "{id}", "--reason", "damaged"), ("dispute", "open", "{id}", "--reason", "shipping-delay"),
    ("dispute", "open", "{id}", "--reason", "refund-not-received"), ("dispute", "resolve", "{id}", "reject"),
    ("events", "list", "--order", "{id}"), ("orders", "pay", "{id}", "--as", "zed"),
    ("seller", "ship", "{id}", "--as", "ann\x07"), ("cancel", "withdraw", "{id}", "--as", ""),
)


@pytest.mark.parametrize("order_id", ["ORD-0001", "ORD-0002", "ORD-0003", "ORD-0004", "ORD-0005", "ORD-0404", ""])
def test_every_command_on_every_state_keeps_the_error_contract(states, db: Path, order_id: str) -> None:
    for template in ACTING:
        args = [a.format(id=order_id) for a in template]
        for as_json in (True, False):
            before = db.read_bytes()
            result = states.runner.invoke(_app(), [*args, *(["--json"] if as_json else [])])
            where = f"ordercli {' '.join(args)}{' --json' if as_json else ''}: {result.stderr}"
            if result.exit_code == 0:
                if as_json:
                    json.loads(result.stdout)
                continue
            assert result.exit_code in (2, 3, 4), where
            assert result.stdout == "", where
            assert db.read_bytes() == before, where
            if as_json:
                err = json.loads(result.stderr)["error"]
                assert err["exit"] == result.exit_code and re.fullmatch(r"[a-z_]+", err["code"]), where
            else:
                assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), where


def _app():
    from ordercli.cli.app import app

    return app


FAILING_WRITES = (
    ("clock", "next"),  # nothing pending in an empty world: refused (4)
    ("orders", "pay", "ORD-0001"),  # not found (3)
    ("orders", "place", "--buyer", "a", "--seller", "s", "--item", "x", "--amount", "-5"),  # usage (2)
    ("policy", "use", "no-such-preset"),  # usage (2)
)


@pytest.mark.parametrize("args", FAILING_WRITES, ids=" ".join)
def test_a_failing_write_on_a_missing_file_creates_nothing(cli, tmp_path: Path, args) -> None:
    target = tmp_path / "missing" / "world.json"
    result = cli.runner.invoke(_app(), ["--db", str(target), *args, "--json"])
    assert result.exit_code in (2, 3, 4) and result.stdout == ""
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("args", FAILING_WRITES, ids=" ".join)
def test_a_failing_write_beside_no_file_leaves_the_folder_as_it_was(cli, tmp_path: Path, args) -> None:
    """The folder exists, the data file doesn't: no lock file (nor anything else) appears."""
    target = tmp_path / "world.json"
    result = cli.runner.invoke(_app(), ["--db", str(target), *args, "--json"])
    assert result.exit_code in (2, 3, 4) and result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_successful_write_on_a_missing_file_creates_it_once(cli, tmp_path: Path) -> None:
    target = tmp_path / "new" / "world.json"
    args = ["--db", str(target), "orders", "place", "--buyer", "a", "--seller", "s", "--item", "x", "--amount", "5"]
    result = cli.runner.invoke(_app(), [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "ORD-0001"
    data = json.loads(target.read_bytes())
    assert [o["id"] for o in data["orders"].values()] == ["ORD-0001"]
    assert data["meta"]["1"]["next_order"] == 2
    assert [e["kind"] for e in data["events"].values()] == ["order_placed", "order_paid"]


def test_a_bad_lock_timeout_on_a_missing_file_creates_nothing(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ORDERCLI_LOCK_TIMEOUT", "soon")
    target = tmp_path / "missing" / "world.json"
    args = ["--db", str(target), "orders", "place", "--buyer", "a", "--seller", "s", "--item", "x", "--amount", "5"]
    result = cli.runner.invoke(_app(), [*args, "--json"])
    assert result.exit_code == 2 and json.loads(result.stderr)["error"]["code"] == "bad_lock_timeout"
    assert list(tmp_path.iterdir()) == []

"""Stable tables: one fixed column set per object type whatever the data (docs/cli.md: csv has a header row
and nested objects flattened to dotted names), an empty csv is the header alone, table and csv share
column names and order, --fields picks columns (unknown: exit 2 naming it), --no-headers drops the header."""

from __future__ import annotations

import csv
import io

import pytest

# The order object of docs/cli.md, flattened: every field, then cancellation, refund and dispute's own fields
# (docs/cli.md "The order object" and "The refund object"), next_deadline and actions; plus the two extra
# fields the README documents (pay_by, tracking).
ORDER_CSV = (
    "id,buyer,seller,item,quantity,amount,currency,payment_method,status,placed_at,pay_by,paid_at,ship_by,"
    "shipped_at,tracking,completed_at,cancelled_at,end_reason,"
    "cancellation.reason,cancellation.fault,cancellation.note,cancellation.requested_at,cancellation.respond_by,"
    "cancellation.status,cancellation.responded_at,cancellation.requests,"
    "refund.order_id,refund.amount,refund.currency,refund.method,refund.status,refund.initiated_at,refund.due_by,"
    "refund.refunded_at,refund.overdue,"
    "dispute.reason,dispute.status,dispute.opened_at,dispute.resolved_at,dispute.outcome,"
    "next_deadline.kind,next_deadline.at,actions.buyer,actions.seller,"
    # issue 19: packing (R22), the ship-by grace (R25) and the seller's own cancellation (R26)
    "packed_at,shipped_late,auto_cancel_by,seller_cancel.reason,seller_cancel.counts,seller_cancel.message"
)
HEADERS = {
    ("orders", "list"): ORDER_CSV,
    ("refund", "list"): "order_id,amount,currency,method,status,initiated_at,due_by,refunded_at,overdue",
    ("dispute", "list"): "order_id,buyer,seller,reason,status,opened_at,resolved_at,outcome",
    ("notifications", "list"): "seq,at,to,role,channel,order_id,kind,message",
    ("cancel", "reasons"): "code,fault,meaning",
    ("errors",): "code,exit,meaning",
}


@pytest.mark.parametrize("command", list(HEADERS), ids=[" ".join(c) for c in HEADERS])
def test_empty_csv_is_the_header_alone(cli, command):
    out = cli(*command, "--format", "csv").stdout
    if command in (("cancel", "reasons"), ("errors",)):
        out = out.splitlines()[0] + "\n"  # never empty: their header is what matters here
    assert out == HEADERS[command] + "\n"


def test_orders_csv_has_the_same_columns_with_and_without_disputes(world):
    plain = world("orders", "list", "--format", "csv").stdout.splitlines()[0]
    assert plain == ORDER_CSV
    oid = world.place()["id"]
    before = world("orders", "list", "--format", "csv").stdout.splitlines()[0]
    world.json("seller", "ship", oid)
    world.json("dispute", "open", oid, "--reason", "damaged")
    world.json("cancel", "request", world.place()["id"], "--reason", "other")
    after = world("orders", "list", "--format", "csv").stdout.splitlines()
    assert before == after[0] == ORDER_CSV
    assert len(ORDER_CSV.split(",")) == 50  # issue 19 added 6
    rows = list(csv.reader(io.StringIO("\n".join(after))))
    assert all(len(r) == 50 for r in rows)
    disputed = dict(zip(rows[0], rows[1], strict=True))
    assert (disputed["dispute.reason"], disputed["dispute.status"]) == ("damaged", "open")
    assert disputed["refund.status"] == ""
    assert disputed["actions.buyer"] == '["orders confirm"]'


def test_events_csv_columns_are_fixed_whatever_the_details(world):
    header = world("events", "list", "--format", "csv").stdout.splitlines()[0]
    world.place()
    assert world("events", "list", "--format", "csv").stdout.splitlines()[0] == header
    assert header.startswith("seq,at,order_id,kind,actor,details.")


def test_table_and_csv_share_names_and_order(world):
    world.place()
    table_header = world("orders", "list").stdout.splitlines()[0].split()
    assert table_header == ["id", "buyer", "seller", "item", "amount", "currency", "status", "next_deadline.kind",
                            "next_deadline.at"]
    csv_header = ORDER_CSV.split(",")
    assert [csv_header.index(c) for c in table_header] == sorted(csv_header.index(c) for c in table_header)


def test_fields_choose_columns_in_both_formats(world):
    world.place(amount="7.5")
    out = world("orders", "list", "--format", "csv", "--fields", "id,amount,refund.status,next_deadline.kind")
    assert out.stdout == "id,amount,refund.status,next_deadline.kind\nORD-0001,7.50,,ship_by\n"
    table = world("orders", "list", "--fields", "amount,id").stdout.splitlines()
    assert table[0].split() == ["amount", "id"] and table[2].split() == ["7.50", "ORD-0001"]


def test_a_group_is_one_column(world):
    world.place()
    out = world("orders", "list", "--format", "csv", "--fields", "id,next_deadline").stdout.splitlines()
    assert out[1] == 'ORD-0001,"{""kind"":""ship_by"",""at"":""2030-03-13T09:00:00+00:00""}"'


def test_unknown_field_is_exit_2_naming_it(world):
    err = world.json("orders", "list", "--fields", "id,colour", code=2)
    assert err["code"] == "unknown_field" and "'colour'" in err["message"]


def test_fields_with_json_is_refused(world):
    err = world.json("refund", "list", "--fields", "order_id", code=2)
    assert err["code"] == "unknown_field"


def test_no_headers(world):
    world.place()
    assert world("orders", "list", "--format", "csv", "--fields", "id,status", "--no-headers").stdout == \
        "ORD-0001,awaiting_shipment\n"
    lines = world("orders", "list", "--fields", "id,status", "--no-headers").stdout.splitlines()
    assert [line.split() for line in lines] == [["ORD-0001", "awaiting_shipment"]]
    assert world("refund", "list", "--format", "csv", "--no-headers").stdout == ""

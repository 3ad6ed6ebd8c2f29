"""The guide's "contact the seller": one thread per order between its buyer and its seller; each message
notifies the other party (R18) and is recorded (R19). And notification texts true to what happened."""

from __future__ import annotations

import pytest


def thread_of(cli, oid):
    return cli.json("messages", "list", oid)


def test_buyer_and_seller_write_and_the_other_is_told(world):
    oid = world.place()["id"]
    sent = world.json("messages", "send", oid, "Can you ship by Friday?", "--as", "alice")
    assert sent == {"order_id": oid, "n": 1, "at": "2030-03-04T09:00:00+00:00", "from": "alice", "role": "buyer",
                    "to": "acme", "text": "Can you ship by Friday?"}
    world.json("clock", "tick", "1h")
    world.json("messages", "send", oid, "Yes", "--as", "acme")
    assert [(m["n"], m["from"], m["to"], m["text"], m["at"]) for m in thread_of(world, oid)] == [
        (1, "alice", "acme", "Can you ship by Friday?", "2030-03-04T09:00:00+00:00"),
        (2, "acme", "alice", "Yes", "2030-03-04T10:00:00+00:00"),
    ]
    to_acme = [n for n in world.json("notifications", "list", "--to", "acme") if n["kind"] == "message_received"]
    assert [(n["channel"], n["message"]) for n in to_acme] == [
        ("email", f"alice wrote about order {oid}: Can you ship by Friday?"),
        ("app", f"alice wrote about order {oid}: Can you ship by Friday?"),
    ]
    to_alice = [n for n in world.json("notifications", "list", "--to", "alice") if n["kind"] == "message_received"]
    assert [n["message"] for n in to_alice] == [f"acme wrote about order {oid}: Yes"] * 2
    sent_events = [e for e in world.json("events", "list", "--order", oid) if e["kind"] == "message_sent"]
    assert [(e["actor"], e["details"]) for e in sent_events] == [
        ("alice", {"to": "acme", "n": 1, "message": "Can you ship by Friday?"}),
        ("acme", {"to": "alice", "n": 2, "message": "Yes"}),
    ]


def test_threads_are_per_order(world):
    a = world.place()["id"]
    b = world.place()["id"]
    world.json("messages", "send", a, "about a", "--as", "alice")
    assert thread_of(world, b) == []
    assert [m["order_id"] for m in thread_of(world, a)] == [a]


def test_messages_leave_the_order_as_it_was(world):
    oid = world.place()["id"]
    before = world.json("orders", "show", oid)
    world.json("messages", "send", oid, "hello", "--as", "acme")
    assert world.json("orders", "show", oid) == before


def test_a_late_refund_can_be_asked_about_on_a_cancelled_order(world):
    oid = world.place()["id"]
    world.json("cancel", "request", oid, "--reason", "other")
    world.json("seller", "respond", oid, "accept")
    assert world.json("messages", "send", oid, "Where is my refund?", "--as", "alice")["n"] == 1


def test_only_the_buyer_and_the_seller_may_write(world, db):
    oid = world.place()["id"]
    before = db.read_bytes()
    err = world.json("messages", "send", oid, "hi", "--as", "mallory", code=4)
    assert err["code"] == "not_party" and "mallory" in err["message"]
    assert db.read_bytes() == before


def test_as_is_required(world):
    oid = world.place()["id"]
    assert world.json("messages", "send", oid, "hi", code=2)["code"] == "usage"


@pytest.mark.parametrize("text", ["", "   ", "bell\x07"])
def test_text_must_be_real_text(world, text):
    oid = world.place()["id"]
    err = world.json("messages", "send", oid, text, "--as", "alice", code=2)
    assert err["code"] == "bad_value" and "TEXT" in err["message"]


def test_text_is_at_most_2000_characters(world):
    """README: TEXT is 1 to 2,000 characters."""
    oid = world.place()["id"]
    assert world.json("messages", "send", oid, "x" * 2000, "--as", "alice")["text"] == "x" * 2000
    err = world.json("messages", "send", oid, "x" * 2001, "--as", "alice", code=2)
    assert err["code"] == "bad_value" and "TEXT" in err["message"] and "2000" in err["message"]
    assert len(world.json("messages", "list", oid)) == 1


def test_unknown_order_is_exit_3(world):
    assert world.json("messages", "send", "ORD-0042", "hi", "--as", "alice", code=3)["code"] == "order_not_found"
    assert world.json("messages", "list", "ORD-0042", code=3)["code"] == "order_not_found"


def test_list_formats(world):
    oid = world.place()["id"]
    world.json("messages", "send", oid, "a, \"quoted\" word", "--as", "alice")
    assert world("messages", "list", oid, "--format", "csv").stdout == (
        "order_id,n,at,from,role,to,text\n"
        f'{oid},1,2030-03-04T09:00:00+00:00,alice,buyer,acme,"a, ""quoted"" word"\n'
    )
    assert world("messages", "list", oid, "--format", "ndjson").stdout.count("\n") == 1


# -- notification texts --------------------------------------------------------------------------

def buyer_notes(cli, kind):
    return [n["message"] for n in cli.json("notifications", "list", "--to", "alice")
            if n["kind"] == kind and n["channel"] == "app"]


def test_seller_message_reaches_the_buyer_on_accept_and_reject(world):
    a = world.place()["id"]
    world.json("cancel", "request", a, "--reason", "other")
    world.json("seller", "respond", a, "accept", "--message", "no problem")
    b = world.place()["id"]
    world.json("cancel", "request", b, "--reason", "shipping-delay")
    world.json("seller", "respond", b, "reject", "--message", "it leaves today")
    assert buyer_notes(world, "request_answered") == [
        f"acme accepted your request to cancel order {a}: no problem",
        f"acme refused to cancel order {b}: it leaves today; you may ask again (2 left) or open a dispute",
    ]


def test_seller_message_reaches_the_buyer_on_the_last_allowed_request(world):
    oid = world.place()["id"]
    for _ in range(3):
        world.json("cancel", "request", oid, "--reason", "other")
        world.json("seller", "respond", oid, "reject", "--message", "no")
    assert buyer_notes(world, "request_answered")[-1] == f"acme refused to cancel order {oid}: no"


def test_last_refusal_of_a_seller_fault_request_offers_only_a_dispute(world):
    oid = world.place()["id"]
    for _ in range(3):
        world.json("cancel", "request", oid, "--reason", "shipping-delay")
        world.json("seller", "respond", oid, "reject")
    assert buyer_notes(world, "request_answered") == [
        f"acme refused to cancel order {oid}; you may ask again (2 left) or open a dispute",
        f"acme refused to cancel order {oid}; you may ask again (1 left) or open a dispute",
        f"acme refused to cancel order {oid}; you may open a dispute",
    ]
    assert "dispute open" in world.json("orders", "show", oid)["actions"]["buyer"]


def test_overdue_refund_paid_by_a_dispute_is_told_as_paid(world):
    oid = world.place("--payment", "alipay")["id"]
    world.json("cancel", "request", oid, "--reason", "other")
    world.json("seller", "respond", oid, "accept")
    world.json("refund", "hold", oid)
    world.json("clock", "tick", "8d")
    world.json("dispute", "open", oid, "--reason", "refund-not-received")
    world.json("dispute", "resolve", oid, "refund")
    outcome = buyer_notes(world, "dispute_outcome")
    assert outcome == [f"Support decided your dispute on order {oid} in your favour: your refund is paid now"]
    assert "will be refunded" not in outcome[0]
    assert buyer_notes(world, "refund_completed") == [f"Your refund of 19.99 USD for order {oid} has been paid"]


def test_dispute_outcomes_say_what_they_did(world):
    before = world.place()["id"]
    world.json("dispute", "open", before, "--reason", "shipping-delay")
    world.json("dispute", "resolve", before, "refund")
    after = world.place()["id"]
    world.json("seller", "ship", after)
    world.json("dispute", "open", after, "--reason", "damaged")
    world.json("dispute", "resolve", after, "refund")
    assert buyer_notes(world, "dispute_outcome") == [
        f"Support decided your dispute on order {before} in your favour: the order is cancelled and refunded",
        f"Support decided your dispute on order {after} in your favour: a refund is started",
    ]


def test_db_check_finds_a_damaged_thread(world, db):
    import json

    oid = world.place()["id"]
    world.json("messages", "send", oid, "hi", "--as", "alice")
    assert world.json("db", "check")["ok"] is True
    data = json.loads(db.read_text())
    data["orders"]["1"]["messages"][0]["n"] = 7
    db.write_text(json.dumps(data))
    err = world.json("db", "check", code=5)
    assert err["code"] == "data_problems" and "malformed messages thread" in err["message"]

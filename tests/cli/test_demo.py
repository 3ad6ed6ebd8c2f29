"""`ordercli demo`: the README's first command tells the guide's story on a world of its own."""

from __future__ import annotations

import os

import pytest


def test_demo_tells_the_silent_seller_story(cli, tmp_path):
    """On a world whose clock stands at Monday 2030-03-04 09:00: a day later the request (Tuesday
    09:00), 72 h of silence (Friday 8th 09:00: cancelled), the card refund paid 15 working days
    later (Friday 29th): instants written from docs/rules.md, not read back from the demo."""
    demo_db = str(tmp_path / "demo.json")
    cli.json("--db", demo_db, "clock", "set", "2030-03-04T09:00:00Z")
    story = cli.json("demo", "--db", demo_db)
    final = story[-1]["output"]
    assert final["status"] == "cancelled"
    assert final["end_reason"] == "seller_silent"
    assert final["cancelled_at"] == "2030-03-08T09:00:00+00:00"
    assert final["refund"]["status"] == "refunded"
    assert final["refund"]["due_by"] == "2030-03-29T09:00:00+00:00"
    assert final["refund"]["refunded_at"] == "2030-03-29T09:00:00+00:00"
    assert [s["now"] for s in story] == [
        "2030-03-04T09:00:00+00:00", "2030-03-05T09:00:00+00:00", "2030-03-05T09:00:00+00:00",
        "2030-03-08T09:00:00+00:00", "2030-03-29T09:00:00+00:00", "2030-03-29T09:00:00+00:00",
    ]  # fmt: skip
    assert final["cancellation"]["status"] == "timed_out"
    assert [s["step"] for s in story] == list(range(1, len(story) + 1))
    kinds = [e["kind"] for e in cli.json("--db", demo_db, "events", "list", "--order", final["id"])]
    assert kinds == [
        "order_placed", "order_paid", "cancel_requested", "cancel_timed_out",
        "order_cancelled", "refund_started", "refund_completed",
    ]  # fmt: skip


def test_demo_leaves_the_working_world_alone(world, db, tmp_path):
    """ORDERCLI_DB (and the global --db) name the user's world: demo neither reads nor moves it."""
    order = world.place()
    before = db.read_bytes()
    other = tmp_path / "other.json"
    assert world.json("demo")[-1]["output"]["end_reason"] == "seller_silent"
    assert world.json("--db", str(other), "demo")[-1]["output"]["id"] == "ORD-0001"
    assert db.read_bytes() == before
    assert not other.exists()
    assert world.json("orders", "show", order["id"])["status"] == "awaiting_shipment"
    assert set(os.listdir(db.parent)) == {"world.json", "world.json.lock"}


def test_demo_runs_again_on_a_world_with_history(cli, tmp_path):
    demo_db = str(tmp_path / "demo.json")
    first = cli.json("demo", "--db", demo_db)[-1]["output"]["id"]
    second = cli.json("demo", "--db", demo_db)[-1]["output"]
    assert (first, second["id"]) == ("ORD-0001", "ORD-0002")
    assert second["end_reason"] == "seller_silent"
    assert len(cli.json("--db", demo_db, "orders", "list")) == 2


def test_demo_under_a_lapse_policy_says_the_request_lapsed(cli):
    story = cli.json("demo", "--policy", "ebay")
    final = story[-1]["output"]
    assert final["status"] == "awaiting_shipment"
    assert final["cancellation"]["status"] == "timed_out"
    assert final["refund"] is None
    assert any("lapses" in s["says"] for s in story)


def test_demo_text_is_a_numbered_story(cli):
    out = cli("demo").stdout
    assert out.startswith("1. [")
    assert "seller_silent" in out and "refund" in out
    assert "temporary" in out


def test_demo_policy_on_a_kept_world_goes_through_the_rule_of_policy_use(cli, tmp_path):
    """--policy sets a kept demo world's policy as `policy use` would: before its first order only."""
    empty = tmp_path / "empty.json"
    cli.json("--db", str(empty), "clock", "set", "2030-03-04T09:00:00Z")
    story = cli.json("demo", "--db", str(empty), "--policy", "ebay")
    assert "lapses" in story[3]["says"], story[3]["says"]  # ebay: a silent seller lets the request lapse
    assert cli.json("--db", str(empty), "policy", "show")["name"] == "ebay"
    before = empty.read_bytes()
    err = cli.json("demo", "--db", str(empty), "--policy", "aliexpress", code=4)
    assert err["code"] == "world_has_orders"
    assert empty.read_bytes() == before
    assert cli.json("demo", "--db", str(empty), "--policy", "ebay")[0]["output"]["id"] == "ORD-0002"


@pytest.mark.parametrize("preset", ["amazon", "etsy", "temu"])
def test_demo_tells_its_story_under_the_new_presets(cli, preset):
    """issue 19: a free cancel (amazon within 30 minutes is missed a day later; temu before packing), and a
    seller-only policy (etsy: alice writes, acme cancels) end in a told story, not an error."""
    story = cli.json("demo", "--policy", preset)
    final = story[-1]["output"]
    want = {"amazon": "awaiting_shipment", "etsy": "cancelled", "temu": "cancelled"}[preset]
    assert final["status"] == want
    if preset == "temu":
        assert final["end_reason"] == "buyer_cancelled" and final["refund"]["status"] == "refunded"
    if preset == "etsy":
        assert final["end_reason"] == "seller_cancelled" and final["seller_cancel"]["counts"] is False

"""`ordercli demo`: the README's first command tells the guide's story on the world it is given."""

from __future__ import annotations


def test_demo_tells_the_silent_seller_story(cli):
    story = cli.json("demo")
    final = story[-1]["output"]
    assert final["status"] == "cancelled"
    assert final["end_reason"] == "seller_silent"
    assert final["refund"]["status"] == "refunded"
    assert final["refund"]["refunded_at"] == final["refund"]["due_by"]
    assert final["cancellation"]["status"] == "timed_out"
    assert [s["step"] for s in story] == list(range(1, len(story) + 1))
    kinds = [e["kind"] for e in cli.json("events", "list", "--order", final["id"])]
    assert kinds == [
        "order_placed", "order_paid", "cancel_requested", "cancel_timed_out",
        "order_cancelled", "refund_started", "refund_completed",
    ]  # fmt: skip


def test_demo_runs_again_on_a_world_with_history(cli):
    first = cli.json("demo")[-1]["output"]["id"]
    second = cli.json("demo")[-1]["output"]
    assert second["id"] != first
    assert second["end_reason"] == "seller_silent"
    assert len(cli.json("orders", "list")) == 2


def test_demo_under_a_lapse_policy_says_the_request_lapsed(cli):
    cli.json("policy", "use", "ebay")
    story = cli.json("demo")
    final = story[-1]["output"]
    assert final["status"] == "awaiting_shipment"
    assert final["cancellation"]["status"] == "timed_out"
    assert final["refund"] is None
    assert any("lapses" in s["says"] for s in story)


def test_demo_text_is_a_numbered_story(cli):
    out = cli("demo").stdout
    assert out.startswith("1. [")
    assert "seller_silent" in out and "refund" in out

"""simulate reports the seller metrics of `seller stats` (issue 19 "Seller metrics", docs/rules.md) for the
population, per policy and per sweep point, with intervals, paired differences and the policy's ceilings;
and the buyer-side figures (asked to cancel, free cancels). One classification (metrics.order_figures)
serves both commands: the saved sample's `seller stats` must agree with simulate's figures exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ordercli.core import presets
from ordercli.core.metrics import ANSWERED, DECIDED, order_figures, requests_answered, seller_stats
from ordercli.core.timecalc import parse_duration
from ordercli.simulate import behaviour as behaviour_file
from ordercli.simulate.aggregate import aggregate
from ordercli.simulate.shard import draw_plans, run_policy
from ordercli.simulate.worlds import new_world

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
SCHEMA = ROOT / "src" / "ordercli" / "schemas" / "simulation.json"

# Every order paid by card; the seller ships 8 working days after payment: past aliexpress's ship_by
# (7 working days), inside a 5-day grace after it.
LATE = """\
orders: {start: 2030-03-04T00:00:00Z, days: 7, per_day: 10}
payment: {methods: {card: 1}}
sellers:
  slow: {share: 1, ship_delay: 8}
"""
GRACE = """\
extends = "aliexpress"
auto_cancel_after_ship_by = "5d"
seller_cancel_rate_max = 0.02
late_shipment_rate_max = 0.1
"""
# Every buyer asks to cancel DELAY after paying; the seller never answers and ships 5 working days after.
SILENT = """\
orders: {start: 2030-03-04T00:00:00Z, days: 7, per_day: 10}
payment: {methods: {card: 1}}
cancel: {probability: 1, delay: DELAY, reasons: {second-thought: 1}}
sellers:
  quiet: {share: 1, answer_probability: 0, ship_delay: 5}
"""
# Something of everything, for the cross-checks: requests answered or not, accepted or rejected, slow
# shipping (timeouts, late shipments in a grace), packing, seller cancels with and without a counting reason.
BUSY = """\
orders: {start: 2030-03-04T00:00:00Z, days: 7, per_day: 10}
payment: {methods: {card: 1}, unpaid_share: 0.1, pay_probability: 0.7, pay_delay: {exponential: {mean: 2h}}}
cancel: {probability: 0.5, delay: {exponential: {mean: 3h}}, reasons: {second-thought: 0.6, shipping-delay: 0.4}}
sellers:
  mixed: {share: 1, answer_probability: 0.6, answer_delay: {uniform: [1h, 100h]},
          accept_probability: {buyer: 0.5, seller: 0.5}, ship_delay: {uniform: [1, 12]},
          pack_delay: {uniform: [1h, 2d]},
          cancel_share: 0.15, cancel_delay: {uniform: [1h, 2d]}, cancel_reasons: {out-of-stock: 1, buyer-asked: 1}}
"""
PRESETS = ("aliexpress", "ebay", "amazon", "etsy", "shopee-my", "walmart", "temu")


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _share(count: int, share: float | None, ci: list[float] | None) -> dict:
    return {"count": count, "share": share, "ci95": ci}


def test_ship_timeouts_are_seller_faults_and_shipments_in_a_grace_are_late(cli, tmp_path: Path) -> None:
    """By hand: aliexpress cancels all 70 at ship_by (R4: 70 seller-fault cancellations of 70 paid, no
    shipment); with a 5-day grace (R25) all 70 ship late: 0 faults (ok against 2%), 70 late of 70 (over 10%)."""
    b = _file(tmp_path, "late.behaviour.yaml", LATE)
    grace = _file(tmp_path, "grace.toml", GRACE)
    r = cli.json("simulate", b, "--policy", "aliexpress", "--policy", grace, "--orders", "70", "--workers", "1")
    ali, gr = (p["seller_metrics"] for p in r["policies"])
    assert ali == {
        "orders_paid": 70,
        "seller_cancellations": _share(70, 1.0, [1.0, 1.0]),
        "cancel_rate_max": None,
        "cancel_rate_status": None,
        "shipments": 0,
        "late_shipments": _share(0, None, None),
        "late_shipment_rate_max": None,
        "late_shipment_rate_status": None,
        "requests": 0,
        "requests_answered_in_time": _share(0, None, None),
        "buyer_requests": _share(0, 0.0, [0.0, 0.0]),
        "buyer_free_cancels": _share(0, 0.0, [0.0, 0.0]),
    }
    assert gr["seller_cancellations"] == _share(0, 0.0, [0.0, 0.0])
    assert (gr["cancel_rate_max"], gr["cancel_rate_status"]) == (0.02, "ok")
    assert (gr["shipments"], gr["late_shipments"]) == (70, _share(70, 1.0, [1.0, 1.0]))
    assert (gr["late_shipment_rate_max"], gr["late_shipment_rate_status"]) == (0.1, "over")
    (d,) = r["differences"]
    assert d["seller_metrics"]["seller_cancellations"] == {"value": -1.0, "ci95": [-1.0, -1.0]}
    assert d["seller_metrics"]["late_shipments"] == {"value": None, "ci95": None}  # no shipment under aliexpress
    text = cli("simulate", b, "--policy", "aliexpress", "--policy", grace, "--orders", "70", "--workers", "1").stdout
    block = text[text.index("seller metrics") :]
    assert "seller-fault cancellations (of paid orders)" in block and "-100.00 pp [-100.00, -100.00]" in block
    assert "0 (0.00%) ok, max 2.00%" in block and "70 (100.00%) over, max 10.00%" in block


def test_silence_cancels_a_lapse_does_not_and_a_free_cancel_is_no_request(cli, tmp_path: Path) -> None:
    """aliexpress: silence cancels (R10), a seller fault, the request decided unanswered; ebay: it lapses
    (decided, unanswered, no fault), then the seller ships on time; amazon, asked within 30 minutes: a free
    cancel (R21), which is a buyer asking but no request to the seller."""
    late = _file(tmp_path, "silent.behaviour.yaml", SILENT.replace("DELAY", "50m"))
    r = cli.json("simulate", late, "--policy", "aliexpress", "--policy", "ebay", "--orders", "100", "--workers", "1")
    ali, ebay = (p["seller_metrics"] for p in r["policies"])
    assert ali["seller_cancellations"] == _share(100, 1.0, [1.0, 1.0])
    assert (ali["requests"], ali["requests_answered_in_time"]["share"]) == (100, 0.0)
    assert ali["buyer_requests"] == _share(100, 1.0, [1.0, 1.0]) and ali["buyer_free_cancels"]["count"] == 0
    assert ebay["seller_cancellations"]["count"] == 0
    assert (ebay["requests"], ebay["requests_answered_in_time"]["count"]) == (100, 0)
    assert (ebay["shipments"], ebay["late_shipments"]["share"]) == (100, 0.0)
    assert r["differences"][0]["seller_metrics"]["seller_cancellations"]["value"] == -1.0
    soon = _file(tmp_path, "soon.behaviour.yaml", SILENT.replace("DELAY", "10m"))
    r = cli.json("simulate", soon, "--policy", "aliexpress", "--policy", "amazon", "--orders", "100", "--workers", "1")
    ali, amazon = (p["seller_metrics"] for p in r["policies"])
    assert amazon["buyer_free_cancels"] == _share(100, 1.0, [1.0, 1.0])
    assert amazon["buyer_requests"]["count"] == 100
    assert amazon["requests"] == 0 and amazon["requests_answered_in_time"]["share"] is None
    assert amazon["seller_cancellations"]["count"] == 0
    d = r["differences"][0]["seller_metrics"]
    assert d["buyer_free_cancels"] == {"value": 1.0, "ci95": [1.0, 1.0]}
    assert d["buyer_requests"] == {"value": 0.0, "ci95": [0.0, 0.0]}
    assert d["requests_answered_in_time"] == {"value": None, "ci95": None}


def _population(stats: list[dict]) -> dict:
    keys = ("orders", "seller_cancellations", "shipments", "late_shipments", "requests", "requests_answered_in_time")
    return {k: sum(row[k] for row in stats) for k in keys}


def _figures(m: dict) -> dict:
    return {
        "orders": m["orders_paid"],
        "seller_cancellations": m["seller_cancellations"]["count"],
        "shipments": m["shipments"],
        "late_shipments": m["late_shipments"]["count"],
        "requests": m["requests"],
        "requests_answered_in_time": m["requests_answered_in_time"]["count"],
    }


@pytest.mark.parametrize("preset", ["aliexpress", "walmart", "shopee-my"])
def test_seller_stats_on_the_saved_sample_agrees_with_simulate(cli, tmp_path: Path, preset: str) -> None:
    """50 orders are one shard, and --save-sample writes that very shard's orders (under the first
    policy) as a world: `seller stats` over it counts what simulate counted, figure for figure."""
    b = _file(tmp_path, "busy.behaviour.yaml", BUSY)
    sample = tmp_path / "sample.json"
    r = cli.json("simulate", b, "--policy", preset, "--orders", "50", "--workers", "1", "--save-sample", str(sample))
    assert (r["shards"], r["sample"]["orders"]) == (1, 50)
    stats = cli.json("--db", str(sample), "seller", "stats", "--window", "3650d")
    mine = r["policies"][0]["seller_metrics"]
    assert _population(stats) == _figures(mine)
    assert mine["requests"] > 0 and mine["seller_cancellations"]["count"] > 0
    if len(stats) == 1:  # one seller name: the rates themselves, and the ceiling's verdict
        (row,) = stats
        assert row["cancel_rate"] == round(mine["seller_cancellations"]["share"], 4)
        assert row["cancel_rate_status"] == mine["cancel_rate_status"]
        assert row["late_shipment_rate_status"] == mine["late_shipment_rate_status"]


@pytest.mark.parametrize("preset", PRESETS)
def test_the_aggregate_and_seller_stats_count_the_same_300_orders(tmp_path: Path, preset: str) -> None:
    """In process, every preset: one shard's orders through the real engine, counted by simulate's
    aggregate and by seller_stats over the world and its events."""
    b = behaviour_file.load(_file(tmp_path, "busy.behaviour.yaml", BUSY))
    meta = presets.load(preset).meta()
    world = new_world(b.start, meta)
    plans = draw_plans(b, 3, 0, 300)
    orders, end = run_policy(plans, b.start, meta, 0, world=world)
    agg = aggregate(orders, end)
    events: dict[str, list[dict]] = {}
    for e in world.events.values():
        events.setdefault(e["order_id"], []).append(e)
    stats = seller_stats(orders, lambda oid: events.get(oid, []), world.policy, end, parse_duration("3650d", "w"))
    assert _population(stats) == {
        "orders": agg["paid"],
        "seller_cancellations": agg["seller_faults"],
        "shipments": agg["shipments"],
        "late_shipments": agg["late_shipments"],
        "requests": agg["decided"],
        "requests_answered_in_time": agg["decided_answered"],
    }
    # an order's own record tells what its history tells, for the one request simulated orders make
    asked = [o for o in orders if o["paid_at"] is not None and o["cancellation"] is not None]
    assert agg["seller_faults"] > 0 and (asked or preset == "etsy")  # etsy: buyers can't ask (R24)
    for o in asked:
        bits = order_figures(o)
        assert requests_answered(events[o["id"]]) == (bool(bits & ANSWERED), bool(bits & DECIDED)), o["id"]


def test_seller_stats_reads_the_history_of_an_order_asked_twice(world) -> None:
    """The order keeps only its last request: the first (rejected, answered) comes from the events."""
    oid = world.place()["id"]
    world.json("cancel", "request", oid, "--reason", "other")
    world.json("seller", "respond", oid, "reject")
    world.json("cancel", "request", oid, "--reason", "other")
    world.json("clock", "tick", "4d")  # the second one: silence (R10)
    (row,) = world.json("seller", "stats")
    assert (row["requests"], row["requests_answered_in_time"], row["seller_cancellations"]) == (2, 1, 1)


def test_every_payment_method_of_the_policy_is_reported(cli, tmp_path: Path) -> None:
    """R27: amazon's gift-card is listed and timed beside the four first methods; the text prints it."""
    b = _file(
        tmp_path,
        "gift.behaviour.yaml",
        LATE.replace("{card: 1}", "{card: 1, gift-card: 1}").replace("ship_delay: 8", "ship_delay: 30"),
    )
    args = ("simulate", b, "--policy", "amazon", "--policy", "walmart", "--orders", "100", "--workers", "1")
    err = cli.fail(*args, code=2)  # walmart has no gift-card: exit 2 naming it
    assert err["code"] == "bad_payment" and "'gift-card'" in err["message"]
    args = ("simulate", b, "--policy", "amazon", "--orders", "100", "--workers", "1")
    r = cli.json(*args)
    (p,) = r["policies"]
    assert list(p["cancellation_to_refund"]) == ["card", "paypal", "alipay", "bank-transfer", "gift-card"]
    gift = p["cancellation_to_refund"]["gift-card"]
    assert gift["count"] > 0 and gift["p50_seconds"] == 3 * 3600  # amazon: gift-card = "3h"
    assert "cancel -> refund, gift-card: mean | p50 / p90 / p99" in cli(*args).stdout


def test_a_report_with_other_methods_and_ceilings_follows_the_schema(cli) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    report = cli.json(
        "simulate",
        str(EXAMPLES / "every-preset.behaviour.yaml"),
        "--policy",
        "amazon",
        "--policy",
        "temu",
        "--policy",
        "walmart",
        "--orders",
        "300",
        "--workers",
        "1",
    )
    jsonschema.validate(report, schema)
    assert "temu-credit" in report["policies"][1]["cancellation_to_refund"]
    assert "temu-credit" not in report["differences"][0]["cancellation_to_refund"]  # amazon has none
    broken = json.loads(json.dumps(report))
    broken["policies"][0]["seller_metrics"]["cancel_rate_status"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
    del broken["policies"][0]["seller_metrics"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_a_sweep_tabulates_the_seller_metrics_with_their_ceilings(cli, tmp_path: Path) -> None:
    b = _file(tmp_path, "late.behaviour.yaml", LATE)
    grace = _file(tmp_path, "grace.toml", GRACE)
    args = (
        "simulate",
        b,
        "--policy",
        grace,
        "--sweep",
        "auto_cancel_after_ship_by=0s,5d",
        "--orders",
        "70",
        "--workers",
        "1",
    )
    r = cli.json(*args)
    none, five = r["policies"]
    assert (none["point"], none["seller_metrics"]["seller_cancellations"]["count"]) == (
        {"auto_cancel_after_ship_by": "0s"},
        70,
    )
    assert none["seller_metrics"]["cancel_rate_status"] == "over"
    assert five["seller_metrics"]["late_shipments"]["share"] == 1.0
    assert r["differences"][0]["seller_metrics"]["seller_cancellations"]["value"] == -1.0
    out = cli(*args).stdout
    table = out[out.index("seller-fault cancellations\n") :]
    table = table[: table.index("\n\n")]
    assert "ceiling" in table.splitlines()[1]
    assert "100.00% [100.00, 100.00]" in table and "over, max 2.00%" in table and "ok, max 2.00%" in table
    assert "-100.00 pp [-100.00, -100.00]" in table
    assert "late shipments\n" in out and "buyers asking to cancel" not in out  # nobody asked: no table

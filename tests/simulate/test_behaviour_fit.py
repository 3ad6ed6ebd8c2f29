"""ordercli behaviour fit: a behaviour file fitted from an event log (ordercli NDJSON events, a data
file, a CSV of one row per order), censoring-aware; the round trip simulate -> fit -> simulate
gives the same observed distributions; a malformed log is exit 2 naming its line."""

from __future__ import annotations

import csv
import json
import math
from datetime import datetime
from pathlib import Path
from statistics import NormalDist

import pytest
import yaml

from ordercli.simulate.fit import fit_delay, kaplan_meier

ROOT = Path(__file__).resolve().parent.parent.parent
B = ROOT / "tests" / "data" / "roundtrip.behaviour.yaml"
H = 3600


def events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def observed_delays(log: list[dict]) -> dict[str, list[float]]:
    """What anyone can read off a log, with no model: the time between two events of one order."""
    first: dict[tuple[str, str], datetime] = {}
    for e in log:
        first.setdefault((e["order_id"], e["kind"]), datetime.fromisoformat(e["at"]))
    pairs = {
        "placed -> paid": ("order_placed", "order_paid"),
        "paid -> cancel request": ("order_paid", "cancel_requested"),
        "cancel request -> accepted": ("cancel_requested", "cancel_accepted"),
        "cancel request -> rejected": ("cancel_requested", "cancel_rejected"),
        "paid -> shipped": ("order_paid", "order_shipped"),
        "shipped -> completed": ("order_shipped", "order_completed"),
        "paid -> cancelled": ("order_paid", "order_cancelled"),
        "cancelled -> refunded": ("order_cancelled", "refund_completed"),
        "dispute opened -> resolved": ("dispute_opened", "dispute_resolved"),
    }
    out: dict[str, list[float]] = {name: [] for name in pairs}
    orders = {e["order_id"] for e in log}
    for name, (a, b) in pairs.items():
        for o in orders:
            if (o, a) in first and (o, b) in first:
                out[name].append((first[(o, b)] - first[(o, a)]).total_seconds())
    return out


def test_round_trip_simulate_fit_simulate_gives_the_same_observed_distributions(cli, tmp_path: Path) -> None:
    """B under aliexpress, its events fitted to B', B' under aliexpress (another seed): every end
    reason's share agrees within the interval of the difference, and every observed delay passes a
    two-sample Kolmogorov-Smirnov test, each family at 95% corrected for its number of tests
    (Bonferroni). Fixed seeds: it cannot flake."""
    stats = pytest.importorskip("scipy.stats")
    one, two, fitted = tmp_path / "one.ndjson", tmp_path / "two.ndjson", tmp_path / "fitted.behaviour.yaml"
    common = ["--policy", "aliexpress", "--orders", "20000", "--workers", "1"]
    r1 = cli.json("simulate", str(B), *common, "--seed", "11", "--events-out", str(one))
    summary = cli.json("behaviour", "fit", str(one), "--out", str(fitted))
    assert summary["orders"] == 20000 and summary["out"] == str(fitted)
    r2 = cli.json("simulate", str(fitted), *common, "--seed", "12", "--events-out", str(two))

    a, b = r1["policies"][0]["end_reasons"], r2["policies"][0]["end_reasons"]
    z = NormalDist().inv_cdf(1 - 0.05 / len(a) / 2) / NormalDist().inv_cdf(0.975)  # widen 95% to Bonferroni's
    for reason in a:
        x, y = a[reason], b[reason]
        half = z * math.hypot((x["ci95"][1] - x["ci95"][0]) / 2, (y["ci95"][1] - y["ci95"][0]) / 2)
        assert abs(y["share"] - x["share"]) <= half, (reason, x, y)

    d1, d2 = observed_delays(events(one)), observed_delays(events(two))
    assert all(len(v) >= 30 for v in d1.values()), {k: len(v) for k, v in d1.items()}
    level = 0.05 / len(d1)
    for name in d1:
        p = stats.ks_2samp(d1[name], d2[name]).pvalue
        assert p > level, (name, p, len(d1[name]), len(d2[name]))


def test_the_file_says_what_each_figure_rests_on_and_what_was_censored(cli, tmp_path: Path) -> None:
    log = tmp_path / "log.ndjson"
    cli.json("simulate", str(B), "--policy", "aliexpress", "--orders", "2000", "--workers", "1", "--events-out",
             str(log))
    out = tmp_path / "fitted.behaviour.yaml"
    r = cli.json("behaviour", "fit", str(log), "--out", str(out))
    assert r["delays"] == str(tmp_path / "fitted.behaviour.delays.csv")
    answer = r["figures"]["sellers.fitted.answer_delay"]
    assert answer["horizon"] == 72 * H and answer["unit"] == "seconds"  # respond_by: aliexpress's 72 h
    assert 0 < answer["observed"] < answer["orders"]
    ship = r["figures"]["sellers.fitted.ship_delay"]
    assert ship["horizon"] == 7 and ship["censored"] > 0  # ship_by: 7 working days; requests stop the seller
    text = out.read_text()
    assert "sellers.fitted.answer_delay: " in text and "horizon 259200 seconds" in text
    data = yaml.safe_load(text)
    assert data["sellers"]["fitted"]["answer_delay"] == {
        "empirical": {"csv": "fitted.behaviour.delays.csv", "column": "answer_delay_s", "unit": "s"}}
    # answers after respond_by are never seen: the fitted probability is the share within 72 h
    assert 0.5 < data["sellers"]["fitted"]["answer_probability"] < 0.85
    with (tmp_path / "fitted.behaviour.delays.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    answers = [float(row["answer_delay_s"]) for row in rows if row["answer_delay_s"]]
    assert max(answers) <= 72 * H
    ships = [float(row["ship_delay_working_days"]) for row in rows if row["ship_delay_working_days"]]
    assert max(ships) > 7  # the mass beyond ship_by, spread over one more horizon
    # a fitted file is a behaviour file simulate accepts
    cli.json("simulate", str(out), "--policy", "ebay", "--orders", "200", "--workers", "1")


def test_kaplan_meier_counts_the_censored_as_at_risk_until_they_leave() -> None:
    # 4 at risk; one event at 1; one censored at 2; events at 3 and 4
    assert kaplan_meier([(1, True), (2, False), (3, True), (4, True)]) == [(1, 0.75), (3, 0.375), (4, 0.0)]
    # censored before the event: the naive share (1 of 2) would be too low
    f = fit_delay("x", [(5.0, False), (10.0, True)], None)
    assert f is not None and f.probability == 1.0 and f.censored == 1
    g = fit_delay("x", [(72.0, False), (10.0, True)], 72.0)  # a horizon at 72: 1 of 2 within it
    assert g is not None and g.probability == 0.5 and g.censored == 0 and set(g.quantiles) == {10.0}


CSV_HEAD = ("order_id,placed_at,payment_method,amount,paid_at,requested_at,reason,respond_by,answer,answered_at,"
            "ship_by,shipped_at,delivered_at,cancelled_at,end_reason,refunded_at\n")


def test_a_csv_of_one_row_per_order_fits_too(cli, tmp_path: Path) -> None:
    rows = []
    for i in range(40):
        day = 4 + i % 5
        placed = f"2030-03-{day:02d}T10:00:00Z"
        paid = placed
        if i % 4 == 0:  # asks to cancel 2 h after paying; half answered in 5 h, half never (timed out at 72 h)
            answered = f"2030-03-{day:02d}T17:00:00Z" if i % 8 == 0 else f"2030-03-{day + 3:02d}T12:00:00Z"
            answer = "accepted" if i % 8 == 0 else "timed_out"
            rows.append(f"O{i},{placed},card,20.00,{paid},2030-03-{day:02d}T12:00:00Z,second-thought,"
                        f"2030-03-{day + 3:02d}T12:00:00Z,{answer},{answered},,,,{answered},"
                        f"{'cancel_accepted' if answer == 'accepted' else 'seller_silent'},")
        else:
            rows.append(f"O{i},{placed},alipay,35.5,{paid},,,,,,,2030-03-{day + 2:02d}T10:00:00Z,"
                        f"2030-03-{day + 9:02d}T10:00:00Z,,,")
    log = tmp_path / "orders.csv"
    log.write_text(CSV_HEAD + "\n".join(rows) + "\n")
    out = tmp_path / "shop.behaviour.yaml"
    r = cli.json("behaviour", "fit", str(log), "--out", str(out))
    assert r["orders"] == 40
    data = yaml.safe_load(out.read_text())
    assert data["payment"]["methods"] == {"card": 0.25, "alipay": 0.75}
    assert data["sellers"]["fitted"]["answer_probability"] == 0.5
    assert data["sellers"]["fitted"]["accept_probability"] == {"buyer": 1.0}
    assert r["figures"]["sellers.fitted.answer_delay"]["horizon"] == 72 * H
    assert "payment.pay_delay" in r["defaults"]  # every order paid at once: nothing to rest on
    report = cli.json("simulate", str(out), "--policy", "aliexpress", "--orders", "400", "--workers", "1")
    assert report["policies"][0]["end_reasons"]["cancel_accepted"]["count"] > 0


def test_a_data_file_and_a_json_array_of_events_fit(cli, tmp_path: Path, world, db: Path) -> None:
    o = world.place()["id"]
    world.json("cancel", "request", o, "--reason", "other")
    world.json("seller", "respond", o, "accept")
    world.place()
    r = cli.json("behaviour", "fit", str(db), "--out", str(tmp_path / "a.yaml"))
    assert r["orders"] == 2
    listed = tmp_path / "events.json"
    listed.write_text(json.dumps(world.json("events", "list")))
    assert cli.json("behaviour", "fit", str(listed), "--out", str(tmp_path / "b.yaml"))["orders"] == 2


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"seq":1,"at":"2030-03-04T00:00:00+00:00","order_id":"ORD-0001","kind":"order_placed","actor":"a",'
         '"details":{"payment_method":"card","amount":"5"}}\n{nope\n', "line 2: not JSON"),
        ('{"seq":1,"at":"2030-03-04T00:00:00+00:00","order_id":"ORD-0001","kind":"order_placed","actor":"a",'
         '"details":{"payment_method":"card"}}\n\n{"at":"yesterday","order_id":"ORD-0001","kind":"order_paid",'
         '"details":{}}\n', "line 3: at: 'yesterday' is not an ISO 8601 instant"),
        ('{"at":"2030-03-04T00:00:00Z","order_id":"ORD-0001","kind":"order_teleported","details":{}}\n',
         "line 1: unknown event kind 'order_teleported'"),
        ('{"at":"2030-03-04T00:00:00Z","order_id":"ORD-0001","kind":"order_paid","details":{}}\n',
         "line 1: order_paid for order ORD-0001, which the log never placed"),
        ('{"at":"2030-03-04T09:00:00Z","order_id":"ORD-0001","kind":"order_placed","details":{"payment_method":"card"}}'
         '\n{"at":"2030-03-04T08:00:00Z","order_id":"ORD-0001","kind":"order_paid","details":{}}\n',
         "line 2: order ORD-0001's events are not in time order"),
        (CSV_HEAD + "O1,2030-03-04T10:00:00Z,card,5,,,,,,,,,,,,\nO2,2030-03-04T10:00:00Z,card,-5,,,,,,,,,,,,\n",
         "line 3: amount '-5' is not a positive number"),
        (CSV_HEAD + "O1,2030-03-04T10:00:00Z,card,5,,2030-03-04T11:00:00Z,because,,,,,,,,,\n",
         "line 2: reason: 'because' is not a cancel reason"),
        ("order_id,placed_at,colour\nO1,2030-03-04T10:00:00Z,red\n", "line 1: unknown column 'colour'"),
        ("order_id,placed_at\nO1,2030-03-04T10:00:00Z\n", "line 1: no column 'payment_method'"),
        (CSV_HEAD + "O1,2030-03-04T10:00:00Z,Cash!,5,,,,,,,,,,,,\n", "payment method 'Cash!'"),
    ],
)
def test_a_malformed_log_is_exit_2_naming_the_line(cli, tmp_path: Path, text: str, words: str) -> None:
    log = tmp_path / "log.txt"
    log.write_text(text)
    err = cli.fail("behaviour", "fit", str(log), "--out", str(tmp_path / "f.yaml"), code=2)
    assert err["code"] == "bad_log" and words in err["message"], err["message"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.txt"]  # nothing written


def test_the_out_file_is_never_overwritten(cli, tmp_path: Path) -> None:
    log = tmp_path / "log.ndjson"
    cli.json("simulate", str(B), "--policy", "aliexpress", "--orders", "100", "--workers", "1", "--events-out",
             str(log))
    (tmp_path / "f.yaml").write_text("mine\n")
    err = cli.fail("behaviour", "fit", str(log), "--out", str(tmp_path / "f.yaml"), code=2)
    assert err["code"] == "file_exists" and err["message"].startswith("--out: ")
    (tmp_path / "g.delays.csv").write_text("mine\n")
    err = cli.fail("behaviour", "fit", str(log), "--out", str(tmp_path / "g.yaml"), code=2)
    assert err["code"] == "file_exists" and "g.delays.csv" in err["message"]
    assert not (tmp_path / "g.yaml").exists() and (tmp_path / "f.yaml").read_text() == "mine\n"


def test_a_log_under_a_policy_with_methods_of_its_own_fits_them(cli, tmp_path: Path) -> None:
    """Any policy's payment methods (docs/rules.md R27): temu's temu-credit is fitted like card."""
    log, out = tmp_path / "log.ndjson", tmp_path / "temu.behaviour.yaml"
    every = (ROOT / "examples" / "every-preset.behaviour.yaml").read_text()
    assert "  methods: {card: 1}\n" in every
    shoppers = tmp_path / "temu-shoppers.behaviour.yaml"
    shoppers.write_text(every.replace("  methods: {card: 1}\n", "  methods: {card: 0.6, temu-credit: 0.4}\n"))
    cli.json("simulate", str(shoppers), "--policy", "temu", "--orders", "600", "--workers", "1", "--events-out",
             str(log))
    used = {e["details"]["payment_method"] for e in events(log) if e["kind"] == "order_placed"}
    assert "temu-credit" in used
    fitted = cli.json("behaviour", "fit", str(log), "--out", str(out))
    assert set(yaml.safe_load(out.read_text())["payment"]["methods"]) == used
    assert "sellers.fitted.pack_delay" in fitted["defaults"]  # temu's packing is in the log, not fitted
    cli.json("simulate", str(out), "--policy", "temu", "--orders", "200", "--workers", "1")

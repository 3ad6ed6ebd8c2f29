"""ordercli simulate: behaviour files, figures derived from the rules, common random numbers,
reproducibility across workers, the report's shape, --plot and --save-sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
H = 3600
DAY = 86400


def behaviour(tmp_path: Path, text: str, name: str = "b.behaviour.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def simulate(cli, *args: str) -> dict:
    return cli.json("simulate", *args)


# Every order paid by card on a Monday-to-Sunday week; every buyer asks to cancel one hour after
# paying; the seller never answers and would ship 5 working days after payment.
SILENT = """\
orders: {start: 2030-03-04T00:00:00Z, days: 7, per_day: 10}
payment: {methods: {card: 1}}
cancel: {probability: 1, delay: 1h, reasons: {second-thought: 1}}
sellers:
  quiet: {share: 1, answer_probability: 0, ship_delay: 5}
"""


def test_a_silent_seller_is_cancelled_at_respond_by_under_each_policy(cli, tmp_path: Path) -> None:
    """R7 + R10: respond_by = request + seller_response_within; silence cancels (aliexpress,
    72h; the 48h file) or lapses (ebay, 3 days), and then the seller ships."""
    path = behaviour(tmp_path, SILENT)
    r = simulate(cli, path, "--policy", "aliexpress", "--policy", str(EXAMPLES / "seller-48h.toml"),
                 "--policy", "ebay", "--orders", "200", "--workers", "1")
    ali, h48, ebay = r["policies"]
    assert [p["policy"] for p in r["policies"]] == ["aliexpress", "seller-48h", "ebay"]
    assert ali["end_reasons"]["seller_silent"] == {"count": 200, "share": 1.0, "ci95": [1.0, 1.0]}
    assert h48["end_reasons"]["seller_silent"]["count"] == 200
    assert ebay["end_reasons"]["shipped"]["count"] == 200  # lapsed, then shipped on day 5
    assert ebay["auto_cancel"]["count"] == 0 and ali["auto_cancel"]["count"] == 200
    assert ali["cancel_requests"] == 200 and ali["answered_in_time"]["count"] == 0
    card = ali["request_to_outcome"]["card"]
    assert (card["count"], card["p50_seconds"], card["p99_seconds"], card["mean_seconds"]) == (200, 72 * H, 72 * H,
                                                                                                72 * H)
    assert h48["request_to_outcome"]["card"]["p90_seconds"] == 48 * H
    d48, debay = r["differences"]
    assert d48["baseline"] == "aliexpress" and d48["policy"] == "seller-48h"
    assert d48["request_to_outcome"]["card"]["mean_seconds"] == -24 * H
    assert d48["request_to_outcome"]["card"]["mean_ci95"] == [-24 * H, -24 * H]  # same orders: no noise at all
    assert debay["auto_cancel"]["value"] == -1.0
    assert debay["end_reasons"]["shipped"]["value"] == 1.0


def test_an_answer_after_60_hours_is_in_time_for_72h_and_refused_for_48h(cli, tmp_path: Path) -> None:
    """Common random numbers: the same sellers answer at the same moment under both policies;
    under 48h the answer comes after the auto-cancel and is simply not taken."""
    path = behaviour(tmp_path, SILENT.replace(
        "quiet: {share: 1, answer_probability: 0, ship_delay: 5}",
        "prompt: {share: 1, answer_probability: 1, answer_delay: 60h, accept_probability: {buyer: 1}, ship_delay: 5}"))
    r = simulate(cli, path, "--policy", "aliexpress", "--policy", str(EXAMPLES / "seller-48h.toml"), "--orders", "100",
                 "--workers", "1")
    ali, h48 = r["policies"]
    assert ali["end_reasons"]["cancel_accepted"]["count"] == 100
    assert ali["answered_in_time"] == {"count": 100, "share": 1.0, "ci95": [1.0, 1.0]}
    assert ali["request_to_outcome"]["card"]["p50_seconds"] == 60 * H
    assert h48["end_reasons"]["seller_silent"]["count"] == 100
    assert h48["answered_in_time"]["count"] == 0
    assert r["differences"][0]["answered_in_time"]["value"] == -1.0


def test_ship_timeout_and_the_card_refund_15_working_days_later(cli, tmp_path: Path) -> None:
    """R3 + R4 + R15 + R16: a seller who needs 10 working days misses ship_by (7 working days);
    the card refund settles at due_by, 15 working days after a working day = 21 calendar days."""
    path = behaviour(tmp_path, """\
orders: {start: 2030-03-04T00:00:00Z, days: 14, per_day: 5}
payment: {methods: {card: 1}}
sellers:
  slow: {share: 1, ship_delay: 10}
""")
    r = simulate(cli, path, "--policy", "aliexpress", "--orders", "70", "--workers", "1")
    (p,) = r["policies"]
    assert r["differences"] == []
    assert p["end_reasons"]["ship_timeout"]["count"] == 70
    assert p["refunds"] == 70 and p["overdue_refunds"]["count"] == 0
    card = p["cancellation_to_refund"]["card"]
    assert (card["count"], card["p50_seconds"], card["p90_seconds"], card["p99_seconds"]) == (70, 21 * DAY, 21 * DAY,
                                                                                              21 * DAY)
    assert p["cancellation_to_refund"]["alipay"]["count"] == 0
    assert p["cancellation_to_refund"]["alipay"]["p50_seconds"] is None


def test_held_refunds_go_overdue_and_buyers_dispute_them(cli, tmp_path: Path) -> None:
    """R16: a refund held past due_by is overdue; R13(c): refund-not-received opens a dispute,
    and support's refund outcome pays it."""
    path = behaviour(tmp_path, """\
orders: {start: 2030-03-04T00:00:00Z, days: 7, per_day: 10}
payment: {methods: {alipay: 1}}
sellers:
  slow: {share: 1, ship_delay: 10}
refunds: {held_share: 1, release_delay: 30d}
disputes:
  overdue_refund: {probability: 1, delay: 1d}
  resolve_delay: 1d
  refund_probability: 1
""")
    r = simulate(cli, path, "--policy", "aliexpress", "--orders", "50", "--workers", "1")
    (p,) = r["policies"]
    assert p["end_reasons"]["ship_timeout"]["count"] == 50
    assert p["overdue_refunds"]["count"] == 50
    assert p["disputes_opened"]["count"] == 50
    # alipay: due 7 days after the cancellation, disputed a day later, resolved (paid) a day after that
    assert p["cancellation_to_refund"]["alipay"]["p50_seconds"] == 9 * DAY


def test_same_seed_same_report_whatever_the_workers(cli) -> None:
    args = [str(EXAMPLES / "marketplace.behaviour.yaml"), "--policy", "aliexpress", "--policy",
            str(EXAMPLES / "seller-48h.toml"), "--orders", "1200", "--seed", "7"]
    one = cli("simulate", *args, "--workers", "1", "--json").stdout
    two = cli("simulate", *args, "--workers", "2", "--json").stdout
    assert one == two
    other = cli("simulate", *args[:-1], "8", "--workers", "1", "--json").stdout
    assert other != one
    report = json.loads(one)
    assert (report["orders"], report["shards"], report["shard_size"], report["seed"]) == (1200, 20, 60, 7)
    assert sum(v["count"] for v in report["policies"][0]["end_reasons"].values()) == 1200
    # common random numbers: what the response window cannot touch is identical under both policies
    ali, h48 = report["policies"]
    assert ali["end_reasons"]["payment_timeout"] == h48["end_reasons"]["payment_timeout"]
    assert ali["cancel_requests"] == h48["cancel_requests"]


def test_the_report_follows_its_json_schema(cli) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "src" / "ordercli" / "schemas" / "simulation.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    report = simulate(cli, str(EXAMPLES / "marketplace.behaviour.yaml"), "--policy", "aliexpress", "--policy", "ebay",
                      "--orders", "400", "--workers", "1")
    jsonschema.validate(report, schema)
    broken = {**report, "orders": "many"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_the_table_for_people(cli) -> None:
    out = cli("simulate", str(EXAMPLES / "marketplace.behaviour.yaml"), "--policy", "aliexpress", "--policy",
              str(EXAMPLES / "seller-48h.toml"), "--orders", "400", "--workers", "1").stdout
    assert out.startswith("400 orders from ")
    assert "seller-48h - aliexpress (95% CI)" in out
    assert "seller_silent" in out and "cancel requests answered in time" in out
    assert "request -> outcome, card: mean | p50 / p90 / p99" in out


# -- bad input: exit 2 naming what is wrong ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("orders: {start: 2030-03-04T00:00:00Z}\nsellers: {a: {share: 1}}\nrefundz: {}\n", ": refundz: unknown key"),
        ("orders: {start: 2030-03-04T00:00:00Z}\nsellers: {a: {share: 1, answer_prob: 1}}\n",
         ": sellers.a.answer_prob: unknown key"),
        ("orders: {start: 2030-03-04T00:00:00Z}\nsellers: {a: {share: 1}}\ncancel: {probability: 1.5}\n",
         ": cancel.probability: expected a number from 0 to 1, found 1.5"),
        ("orders: {start: 2030-03-04T00:00:00Z}\nsellers: {a: {share: 1}}\ncancel: {delay: 3 hours}\n",
         ": cancel.delay: expected a duration like 30m, 6h, 2d or 1d12h, found '3 hours'"),
        ("orders: {start: 2030-03-04T00:00:00Z}\nsellers: {a: {share: 1}}\ncancel: {delay: {gamma: {k: 1}}}\n",
         ": cancel.delay.gamma: unknown key"),
        ("orders: {start: 2030-03-04T00:00:00Z}\nsellers: {a: {share: 1}}\ncancel: {reasons: {because: 1}}\n",
         ": cancel.reasons.because: unknown key"),
        # issue 19: any method spelt as a name (a policy lacking it is bad_payment), not a badly spelt one
        ("orders: {start: 2030-03-04T00:00:00Z}\nsellers: {a: {share: 1}}\npayment: {methods: {Cash: 1}}\n",
         ": payment.methods.Cash: the key is not a payment method name"),
        ("orders: {start: 2030-03-04T00:00:00Z}\nsellers: {a: {share: 1, ship_delay: {uniform: [5, 2]}}}\n",
         "sellers.a.ship_delay.uniform"),
        ("orders: {start: 2030-03-04T00:00:00Z}\n", "sellers"),
        ("orders: {start: yesterday}\nsellers: {a: {share: 1}}\n", "orders.start"),
        ("orders: {start: 2030-03-04T00:00:00Z, weekday_profile: [1, 1]}\nsellers: {a: {share: 1}}\n",
         "orders.weekday_profile"),
        ("orders: {start: 2030-03-09T00:00:00Z, days: 2, weekday_profile: [1, 1, 1, 1, 1, 0, 0]}\n"
         "sellers: {a: {share: 1}}\n", "orders.weekday_profile"),  # a weekend, and weekends weigh 0
        ("- just a list\n", ': (top level): expected a mapping, found ["just a list"]'),
        ("orders: [unclosed\n", "not valid YAML"),
    ],
)
def test_a_bad_behaviour_file_is_exit_2_naming_the_key(cli, tmp_path: Path, text: str, named: str) -> None:
    path = behaviour(tmp_path, text)
    err = cli.fail("simulate", path, "--policy", "aliexpress", code=2)
    assert err["code"] == "bad_behaviour"
    assert named in err["message"], err["message"]


def test_empirical_delays_come_from_a_csv_column(cli, tmp_path: Path) -> None:
    """Every observed answer delay is 50 hours: under 48h they all come too late."""
    (tmp_path / "observed.csv").write_text("order,answer_hours\na,50\nb,50\nc,\n")
    path = behaviour(tmp_path, SILENT.replace(
        "quiet: {share: 1, answer_probability: 0, ship_delay: 5}",
        "s: {share: 1, answer_probability: 1, accept_probability: {buyer: 1}, ship_delay: 5,\n"
        "       answer_delay: {empirical: {csv: observed.csv, column: answer_hours, unit: h}}}"))
    r = simulate(cli, path, "--policy", "aliexpress", "--policy", str(EXAMPLES / "seller-48h.toml"), "--orders", "60",
                 "--workers", "1")
    assert r["policies"][0]["request_to_outcome"]["card"]["p50_seconds"] == 50 * H
    assert r["policies"][1]["end_reasons"]["seller_silent"]["count"] == 60
    bad = behaviour(tmp_path, SILENT.replace("answer_probability: 0,", "answer_delay: {empirical: "
                                             "{csv: observed.csv, column: nope}},"), "bad.yaml")
    err = cli.fail("simulate", bad, "--policy", "aliexpress", code=2)
    assert "'nope' is not a column" in err["message"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--orders", "0"], "--orders"),
        (["--workers", "0"], "--workers"),
        (["--seed", "-1"], "--seed"),
        (["--plot", "out.jpg"], "--plot"),
        (["--policy", "nosuch.toml"], "nosuch.toml"),
    ],
)
def test_bad_options_are_exit_2(cli, args: list[str], named: str) -> None:
    base = [str(EXAMPLES / "marketplace.behaviour.yaml")]
    if "--policy" not in args:
        base += ["--policy", "aliexpress"]
    err = cli.fail("simulate", *base, *args, code=2)
    assert named in err["message"]


def test_a_missing_behaviour_file_is_exit_2(cli, tmp_path: Path) -> None:
    err = cli.fail("simulate", str(tmp_path / "none.yaml"), "--policy", "aliexpress", code=2)
    assert "none.yaml" in err["message"]


def test_the_shipped_examples_are_valid(cli) -> None:
    files = sorted(EXAMPLES.glob("*.behaviour.yaml"))
    assert [f.name for f in files] == [
        "every-preset.behaviour.yaml",  # issue 19
        "ewallet-market.behaviour.yaml", "marketplace.behaviour.yaml", "sales-peak.behaviour.yaml",
    ]
    for f in files:
        r = simulate(cli, str(f), "--policy", "aliexpress", "--orders", "100", "--workers", "1")
        assert r["policies"][0]["orders"] == 100


# -- --save-sample and --plot ------------------------------------------------------------------------


def test_save_sample_writes_a_world_every_command_opens(cli, tmp_path: Path) -> None:
    sample = tmp_path / "sample.json"
    r = simulate(cli, str(EXAMPLES / "marketplace.behaviour.yaml"), "--policy", "aliexpress", "--orders", "8000",
                 "--workers", "1", "--save-sample", str(sample))
    assert r["sample"] == {"path": str(sample), "orders": 300, "policy": "aliexpress"}
    orders = cli.json("--db", str(sample), "orders", "list")
    assert len(orders) == 300
    assert [o["id"] for o in orders[:2]] == ["ORD-0001", "ORD-0002"]
    cancelled = [o for o in orders if o["status"] == "cancelled"]
    assert cancelled, "a sample of 300 orders of the default behaviour has cancellations"
    shown = cli.json("--db", str(sample), "orders", "show", cancelled[0]["id"])
    assert shown["end_reason"] in ("payment_timeout", "cancel_accepted", "seller_silent", "ship_timeout",
                                   "dispute_refund")
    events = cli.json("--db", str(sample), "events", "list", "--order", cancelled[0]["id"])
    assert events[0]["kind"] == "order_placed" and "order_cancelled" in [e["kind"] for e in events]
    assert cli.json("--db", str(sample), "db", "check")["ok"] is True
    # never overwrites
    before = sample.read_bytes()
    err = cli.fail("simulate", str(EXAMPLES / "marketplace.behaviour.yaml"), "--policy", "aliexpress", "--orders",
               "100", "--workers", "1", "--save-sample", str(sample), code=2)
    assert "already exists" in err["message"] and sample.read_bytes() == before


def test_plot_writes_a_png(cli, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "compare.png"
    r = simulate(cli, str(EXAMPLES / "marketplace.behaviour.yaml"), "--policy", "aliexpress", "--policy",
                 str(EXAMPLES / "seller-48h.toml"), "--orders", "300", "--workers", "1", "--plot", str(png))
    assert r["plot"] == str(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- the statistics, against textbook formulas ---------------------------------------------------------


def test_equal_shards_give_the_textbook_t_interval() -> None:
    """With equal shard sizes the ratio interval is the t-interval of the shard rates:
    rates 0.1, 0.2, 0.3 -> mean 0.2, sd 0.1, t(0.975, 2) = 4.303, half-width 4.303 * 0.1 / sqrt(3)."""
    from ordercli.simulate.report import rate, rate_diff, t975

    r = rate([1, 2, 3], [10, 10, 10])
    half = 4.303 * 0.1 / 3**0.5
    assert r["value"] == 0.2
    assert r["ci95"] == [round(0.2 - half, 6), round(0.2 + half, 6)]
    # paired: b - a per shard is 0.1, 0.1, 0.1: no spread, so no width
    d = rate_diff([2, 3, 4], [10, 10, 10], [1, 2, 3], [10, 10, 10])
    assert d == {"value": 0.1, "ci95": [0.1, 0.1]}
    assert rate([3], [10]) == {"value": 0.3, "ci95": None}  # one shard: no interval
    assert abs(t975(60) - 2.000) < 1e-3 and abs(t975(1000) - 1.962) < 1e-3  # beyond the table


def test_percentiles_are_nearest_rank_on_one_minute_bins() -> None:
    from ordercli.simulate.aggregate import percentile

    hist = {0: 50, 10: 40, 100: 10}  # minutes -> orders
    assert percentile(hist, 0.5) == 0  # the 50th of 100 is in minute 0
    assert percentile(hist, 0.51) == 600
    assert percentile(hist, 0.9) == 600
    assert percentile(hist, 0.99) == 6000
    assert percentile({}, 0.5) is None


def test_a_progress_bar_only_on_a_terminal(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["simulate", str(EXAMPLES / "marketplace.behaviour.yaml"), "--policy", "aliexpress", "--orders", "200",
            "--workers", "1", "--json"]
    assert cli(*args).stderr == ""  # not a terminal: not a byte
    from ordercli.cli import render

    monkeypatch.setattr(render, "_is_tty", lambda stream: True)
    err = cli(*args).stderr
    assert "simulating [" in err and "4/4 shards" in err  # 200 orders: 4 shards of 50
    assert err.endswith("\n")

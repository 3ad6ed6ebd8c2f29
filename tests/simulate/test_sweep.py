"""simulate --sweep: every point of one policy on the same orders, its figures with intervals and
the paired difference against the first point; grids; what cannot be swept; --plot; the
report whatever --workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
MARKET = str(EXAMPLES / "marketplace.behaviour.yaml")
H = 3600
DAY = 86400

# Every buyer asks to cancel an hour after paying by card; the seller never answers.
SILENT = """\
orders: {start: 2030-03-04T00:00:00Z, days: 7, per_day: 10}
payment: {methods: {card: 1}}
cancel: {probability: 1, delay: 1h, reasons: {second-thought: 1}}
sellers:
  quiet: {share: 1, answer_probability: 0, ship_delay: 5}
"""


def behaviour(tmp_path: Path, text: str) -> str:
    path = tmp_path / "b.behaviour.yaml"
    path.write_text(text)
    return str(path)


def test_each_point_has_its_figures_and_the_difference_against_the_first(cli, tmp_path: Path) -> None:
    """R7 + R10 at three response windows: a silent seller's order is cancelled exactly at
    respond_by, so each point's request-to-outcome time is its window, with no noise at all."""
    r = cli.json(
        "simulate",
        behaviour(tmp_path, SILENT),
        "--policy",
        "aliexpress",
        "--sweep",
        "seller_response_within=24h,48h,96h",
        "--orders",
        "200",
        "--workers",
        "1",
    )
    assert r["sweep"] == {
        "policy": "aliexpress",
        "keys": ["seller_response_within"],
        "values": {"seller_response_within": ["24h", "48h", "96h"]},
        "points": 3,
    }
    pols = r["policies"]
    assert [p["point"] for p in pols] == [{"seller_response_within": v} for v in ("24h", "48h", "96h")]
    assert [p["policy"] for p in pols] == [f"seller_response_within={v}" for v in ("24h", "48h", "96h")]
    assert [p["values"]["seller_response_within"] for p in pols] == ["24h", "48h", "96h"]
    assert [p["request_to_outcome"]["card"]["mean_seconds"] for p in pols] == [24 * H, 48 * H, 96 * H]
    assert all(p["end_reasons"]["seller_silent"] == {"count": 200, "share": 1.0, "ci95": [1.0, 1.0]} for p in pols)
    assert [d["baseline"] for d in r["differences"]] == ["seller_response_within=24h"] * 2
    assert [d["request_to_outcome"]["card"]["mean_seconds"] for d in r["differences"]] == [24 * H, 72 * H]
    assert r["differences"][1]["request_to_outcome"]["card"]["mean_ci95"] == [72 * H, 72 * H]


def test_a_point_runs_the_very_orders_a_policy_file_would(cli) -> None:
    """Common random numbers: the sweep's 48h point is figure for figure what the 48h policy
    file gives beside aliexpress, and its difference against 72h is the same paired difference."""
    common = [MARKET, "--orders", "2000", "--seed", "3", "--workers", "1"]
    swept = cli.json("simulate", *common, "--policy", "aliexpress", "--sweep", "seller_response_within=72h,48h")
    files = cli.json("simulate", *common, "--policy", "aliexpress", "--policy", str(EXAMPLES / "seller-48h.toml"))
    for mine, theirs in zip(swept["policies"], files["policies"], strict=True):
        for key in (
            "end_reasons",
            "auto_cancel",
            "answered_in_time",
            "request_to_outcome",
            "cancellation_to_refund",
            "overdue_refunds",
            "disputes_opened",
        ):
            assert mine[key] == theirs[key], key
    (d,) = swept["differences"]
    (e,) = files["differences"]
    assert d["auto_cancel"] == e["auto_cancel"] and d["request_to_outcome"] == e["request_to_outcome"]


def test_a_dotted_key_and_a_grid(cli, tmp_path: Path) -> None:
    """R15 + R16: a card refund settles at due_by; refund_within.card sets it. Two --sweep make a
    grid, the first key varying slowest."""
    path = behaviour(
        tmp_path,
        """\
orders: {start: 2030-03-04T00:00:00Z, days: 7, per_day: 10}
payment: {methods: {card: 1}}
sellers:
  slow: {share: 1, ship_delay: 10}
""",
    )
    r = cli.json(
        "simulate",
        path,
        "--policy",
        "aliexpress",
        "--sweep",
        "refund_within.card=5d,10d",
        "--sweep",
        "cancel_requests_max=1,3",
        "--orders",
        "70",
        "--workers",
        "1",
    )
    points = [p["point"] for p in r["policies"]]
    assert points == [
        {"refund_within.card": "5d", "cancel_requests_max": 1},
        {"refund_within.card": "5d", "cancel_requests_max": 3},
        {"refund_within.card": "10d", "cancel_requests_max": 1},
        {"refund_within.card": "10d", "cancel_requests_max": 3},
    ]
    assert [p["values"]["refund_within"]["card"] for p in r["policies"]] == ["5d", "5d", "10d", "10d"]
    assert [p["values"]["refund_within"]["alipay"] for p in r["policies"]] == ["7d"] * 4  # the rest untouched
    assert [p["cancellation_to_refund"]["card"]["p50_seconds"] for p in r["policies"]] == [
        5 * DAY,
        5 * DAY,
        10 * DAY,
        10 * DAY,
    ]
    assert r["differences"][2]["cancellation_to_refund"]["card"]["mean_seconds"] == 5 * DAY


def test_same_seed_same_sweep_whatever_the_workers(cli) -> None:
    args = [
        MARKET,
        "--policy",
        "aliexpress",
        "--sweep",
        "seller_response_within=24h,72h",
        "--orders",
        "1500",
        "--seed",
        "5",
        "--json",
    ]
    assert cli("simulate", *args, "--workers", "1").stdout == cli("simulate", *args, "--workers", "2").stdout


def test_the_sweep_report_follows_the_json_schema(cli) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "src" / "ordercli" / "schemas" / "simulation.json").read_text())
    r = cli.json(
        "simulate",
        MARKET,
        "--policy",
        "ebay",
        "--sweep",
        "on_seller_silence=lapse,cancel",
        "--orders",
        "400",
        "--workers",
        "1",
    )
    jsonschema.validate(r, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**r, "sweep": {**r["sweep"], "keys": []}}, schema)


def test_the_text_report_has_a_table_per_metric(cli, tmp_path: Path) -> None:
    out = cli(
        "simulate",
        behaviour(tmp_path, SILENT),
        "--policy",
        "aliexpress",
        "--sweep",
        "seller_response_within=24h,48h",
        "--orders",
        "200",
        "--workers",
        "1",
    ).stdout
    assert "aliexpress at 2 points of seller_response_within" in out
    assert "ended seller_silent" in out and "vs first (95% CI)" in out
    assert "request -> outcome, card: mean" in out
    assert "48.0h [48.0, 48.0]" in out and "+24.0h [+24.0, +24.0]" in out


def test_plot_draws_each_metric_against_the_value(cli, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    for sweep in ("seller_response_within=24h,48h", "on_seller_silence=cancel,lapse"):  # numbers, categories
        png = tmp_path / f"{sweep.split('=')[0]}.png"
        r = cli.json(
            "simulate",
            MARKET,
            "--policy",
            "aliexpress",
            "--sweep",
            sweep,
            "--orders",
            "300",
            "--workers",
            "1",
            "--plot",
            str(png),
        )
        assert r["plot"] == str(png)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--sweep", "ewallets=alipay,card"], "'ewallets' is a list"),
        (["--sweep", "refund_within=5d,10d"], "'refund_within' is a table"),
        (["--sweep", "no_such_key=1,2"], "'no_such_key' is not a policy key"),
        (["--sweep", "refund_within.cash=1d"], "'refund_within.cash' is not a policy key"),
        (["--sweep", "seller_response_within"], "is not KEY=V1,V2"),
        (["--sweep", "seller_response_within=24h,,48h"], "comma-separated"),
        (["--sweep", "seller_response_within=24h,24h"], "given twice"),
        (["--sweep", "seller_response_within=24h,soon"], "seller_response_within=soon"),
        (["--sweep", "cancel_requests_max=1,two"], "'two' is not an integer"),
        (["--sweep", "cancel_requests_max=-1,1"], "cancel_requests_max=-1"),
        (["--sweep", "on_seller_silence=cancel,maybe"], "on_seller_silence=maybe"),
        (["--sweep", "pay_within=1h,2h", "--sweep", "pay_within=3h"], "swept twice"),
        (["--policy", "ebay", "--sweep", "pay_within=1h,2h"], "exactly one --policy"),
        (["--sweep", "cancel_requests_max=" + ",".join(map(str, range(1, 70)))], "more than 64"),
    ],
)
def test_what_cannot_be_swept_is_exit_2(cli, args: list[str], words: str) -> None:
    err = cli.fail("simulate", MARKET, "--policy", "aliexpress", *args, "--orders", "100", code=2)
    assert err["code"] == "bad_sweep" and words in err["message"], err["message"]
    assert err["message"].startswith("--sweep: ")

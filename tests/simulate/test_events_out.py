"""simulate --events-out: every simulated order's events under one policy, as `events list
--format ndjson` prints them; ids unique across shards; a new file, whole or not at all."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import orjson
import pytest
import yaml

from ordercli.core import presets
from ordercli.simulate import shard as sh
from ordercli.simulate.behaviour import parse
from ordercli.simulate.worlds import new_world

ROOT = Path(__file__).resolve().parent.parent.parent
MARKET = ROOT / "examples" / "marketplace.behaviour.yaml"
SILENT = """\
orders: {start: 2030-03-04T00:00:00Z, days: 7, per_day: 10}
payment: {methods: {card: 1}}
cancel: {probability: 1, delay: 1h, reasons: {second-thought: 1}}
sellers:
  quiet: {share: 1, answer_probability: 0, ship_delay: 5}
"""


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_one_shard_is_exactly_the_events_of_its_world(cli, tmp_path: Path) -> None:
    """The file is what `events list --format ndjson` would print on the simulated world."""
    out = tmp_path / "events.ndjson"
    r = cli.json(
        "simulate",
        str(MARKET),
        "--policy",
        "ebay",
        "--orders",
        "50",
        "--seed",
        "4",
        "--workers",
        "1",
        "--events-out",
        str(out),
    )
    b = parse(yaml.safe_load(MARKET.read_text()), MARKET)
    meta = presets.load("ebay").meta()
    world = new_world(b.start, meta)
    sh.run_policy(sh.draw_plans(b, 4, 0, 50), b.start, meta, 0, world=world)
    expected = b"".join(orjson.dumps(e) + b"\n" for e in world.events.values())
    assert out.read_bytes() == expected
    assert r["events_out"] == {"path": str(out), "policy": "ebay", "events": len(world.events)}


def test_orders_and_seqs_run_on_across_shards_and_the_events_follow_their_schema(cli, tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "src" / "ordercli" / "schemas" / "event.json").read_text())
    out = tmp_path / "events.ndjson"
    cli.json(
        "simulate",
        str(MARKET),
        "--policy",
        "aliexpress",
        "--orders",
        "1200",
        "--workers",
        "2",
        "--events-out",
        str(out),
    )
    events = lines(out)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    placed = [e["order_id"] for e in events if e["kind"] == "order_placed"]
    assert sorted(placed) == [f"ORD-{n:04d}" for n in range(1, 1201)]  # one each, unique across 20 shards
    by_order: dict[str, list[str]] = {}
    for e in events:
        by_order.setdefault(e["order_id"], []).append(e["at"])
    assert all(ats == sorted(ats) for ats in by_order.values())
    for e in events[:: max(1, len(events) // 200)]:
        jsonschema.validate(e, schema)


def test_the_named_policy_and_the_same_file_whatever_the_workers(cli, tmp_path: Path) -> None:
    """A silent seller: under aliexpress the request cancels the order (R10 cancel), under ebay it lapses."""
    path = tmp_path / "b.behaviour.yaml"
    path.write_text(SILENT)
    args = [str(path), "--policy", "aliexpress", "--policy", "ebay", "--orders", "300"]
    first, ebay1, ebay2 = tmp_path / "a.ndjson", tmp_path / "e1.ndjson", tmp_path / "e2.ndjson"
    cli.json("simulate", *args, "--workers", "1", "--events-out", str(first))
    cli.json("simulate", *args, "--workers", "1", "--events-out", str(ebay1), "--events-policy", "ebay")
    cli.json("simulate", *args, "--workers", "2", "--events-out", str(ebay2), "--events-policy", "ebay")
    kinds_ali = Counter(e["kind"] for e in lines(first))
    kinds_ebay = Counter(e["kind"] for e in lines(ebay1))
    assert kinds_ali["order_cancelled"] == 300 and kinds_ebay["order_cancelled"] == 0
    assert kinds_ebay["order_shipped"] == 300
    assert ebay1.read_bytes() == ebay2.read_bytes()


def test_an_existing_file_or_a_folder_is_refused_before_any_work(cli, tmp_path: Path) -> None:
    existing = tmp_path / "there.ndjson"
    existing.write_text("keep me\n")
    err = cli.fail(
        "simulate", str(MARKET), "--policy", "aliexpress", "--orders", "50", "--events-out", str(existing), code=2
    )
    assert err["code"] == "file_exists" and "--events-out" in err["message"]
    assert existing.read_text() == "keep me\n"
    err = cli.fail(
        "simulate", str(MARKET), "--policy", "aliexpress", "--orders", "50", "--events-out", str(tmp_path), code=5
    )
    assert err["code"] == "not_a_file"
    # a missing folder is made, as for every output ordercli writes (docs/never-lost.md)
    made = tmp_path / "no" / "such" / "e.ndjson"
    cli.json("simulate", str(MARKET), "--policy", "aliexpress", "--orders", "50", "--events-out", str(made))
    assert made.read_bytes().count(b"\n") > 50
    err = cli.fail(
        "simulate",
        str(MARKET),
        "--policy",
        "aliexpress",
        "--orders",
        "50",
        "--events-out",
        str(tmp_path / "e.ndjson"),
        "--events-policy",
        "ebay",
        code=2,
    )
    assert "'ebay' is not one of the run's policies" in err["message"]
    err = cli.fail(
        "simulate",
        str(MARKET),
        "--policy",
        "aliexpress",
        "--orders",
        "50",
        "--events-policy",
        "aliexpress",
        code=2,
    )
    assert "needs --events-out" in err["message"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["no", "there.ndjson"]  # "no": made above


def test_a_run_that_fails_midway_leaves_no_file(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ordercli.core.errors import StorageError
    from ordercli.simulate import runner

    real = runner.execute

    def failing(run, progress=None, events=None):  # type: ignore[no-untyped-def]
        def half(batch: list[dict]) -> None:
            assert events is not None
            events(batch)
            raise StorageError("disk gone", "write_failed")

        return real(run, progress, half)

    monkeypatch.setattr(runner, "execute", failing)
    cli.fail(
        "simulate",
        str(MARKET),
        "--policy",
        "aliexpress",
        "--orders",
        "500",
        "--workers",
        "1",
        "--events-out",
        str(tmp_path / "e.ndjson"),
        code=5,
    )
    assert list(tmp_path.iterdir()) == []

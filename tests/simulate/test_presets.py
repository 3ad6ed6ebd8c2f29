"""simulate under every preset (issue 19): the example behaviour every preset accepts runs under all of
them; a behaviour paying with a method a policy lacks is exit 2 naming it (R27); a method only one
preset knows simulates under that preset; pack_before_ship presets ship (the seller packs as it ships)."""

from __future__ import annotations

import json
from pathlib import Path

from ordercli.core import presets

ROOT = Path(__file__).resolve().parent.parent.parent
EVERY = str(ROOT / "examples" / "every-preset.behaviour.yaml")


def _simulate(cli, behaviour: str, *policies: str, code: int = 0) -> dict:
    args = ["simulate", behaviour, *[a for p in policies for a in ("--policy", p)], "--orders", "300", "--workers", "1"]
    return cli.json(*args, code=code)


def test_the_example_behaviour_runs_under_every_preset(cli) -> None:
    report = _simulate(cli, EVERY, *presets.PRESETS)
    by_name = {p["policy"]: p for p in report["policies"]}
    assert list(by_name) == list(presets.PRESETS)
    for name in ("shopee-my", "temu"):  # pack_before_ship: most orders still ship
        shipped = by_name[name]["end_reasons"]["completed"]["count"] + by_name[name]["end_reasons"]["shipped"]["count"]
        assert shipped > 0.5 * by_name[name]["orders"], name
    assert by_name["amazon"]["end_reasons"]["buyer_cancelled"]["count"] > 0  # the 30-minute free cancel


def test_a_method_the_policy_lacks_is_exit_2_naming_it(cli) -> None:
    err = _simulate(cli, str(ROOT / "examples" / "marketplace.behaviour.yaml"), "aliexpress", "amazon", code=2)
    assert err["code"] == "bad_payment"
    assert "'paypal'" in err["message"] and "amazon" in err["message"]


def test_a_method_only_one_preset_knows(cli, tmp_path: Path) -> None:
    text = (ROOT / "examples" / "every-preset.behaviour.yaml").read_text()
    gift = tmp_path / "gift.behaviour.yaml"
    gift.write_text(text.replace("methods: {card: 1}", "methods: {card: 1, gift-card: 1}"))
    report = _simulate(cli, str(gift), "amazon")
    assert report["policies"][0]["orders"] == 300
    assert _simulate(cli, str(gift), "aliexpress", code=2)["code"] == "bad_payment"
    bad = tmp_path / "bad.behaviour.yaml"
    bad.write_text(text.replace("methods: {card: 1}", "methods: {Gift Card: 1}"))
    assert _simulate(cli, str(bad), "amazon", code=2)["code"] == "bad_behaviour"
    assert json.dumps(report)  # plain JSON


def test_a_seller_reason_the_policy_lacks_is_exit_2_naming_it(cli, tmp_path: Path) -> None:
    text = (ROOT / "examples" / "every-preset.behaviour.yaml").read_text()
    odd = tmp_path / "odd.behaviour.yaml"
    odd.write_text(text.replace("cancel_reasons: {out-of-stock: 3, buyer-asked: 1}", "cancel_reasons: {bored: 1}"))
    err = _simulate(cli, str(odd), "amazon", code=2)
    assert err["code"] == "bad_behaviour" and "'bored'" in err["message"]
    assert _simulate(cli, str(odd), "temu")["policies"][0]["orders"] == 300  # temu sellers can't cancel anyway


def test_sellers_cancel_and_pack_where_the_policy_has_it(cli) -> None:
    report = _simulate(cli, EVERY, "aliexpress", "walmart", "shopee-my")
    ends = {p["policy"]: p["end_reasons"] for p in report["policies"]}
    assert ends["aliexpress"]["seller_cancelled"]["count"] == 0
    assert ends["walmart"]["seller_cancelled"]["count"] > 0
    assert ends["shopee-my"]["buyer_cancelled"]["count"] > 0

"""People at the terminal: a mistyped group suggests the right one, --help shows real types and choices,
and completion offers the contract's choices and the world's order ids."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ordercli.core import policy


@pytest.mark.parametrize(("typed", "wrong", "meant"), [
    (["order", "list"], "order", "orders"), (["ordes"], "ordes", "orders"), (["clok", "show"], "clok", "clock"),
    (["notification", "list"], "notification", "notifications"), (["orders", "lst"], "lst", "list"),
    (["messages", "sned", "x"], "sned", "send"),
])
def test_mistyped_command_suggests_the_right_one(cli, typed, wrong, meant):
    result = cli(*typed, code=2)
    assert result.stdout == ""
    assert result.stderr == f"error: No such command '{wrong}'. Did you mean '{meant}'?\n"


def test_nothing_close_suggests_nothing(cli):
    assert "Did you mean" not in cli("zzzz", code=2).stderr


def test_help_names_real_types(cli, leaf_command):  # parametrized by conftest.py's pytest_generate_tests
    out = cli(*leaf_command.split(), "--help").stdout
    assert "<str>" not in out and "<int>" not in out and "TEXT TEXT" not in out


def test_help_shows_choices_and_types(cli):
    listing = cli("orders", "list", "--help").stdout
    assert "|".join(policy.STATUSES) in listing
    place = cli("orders", "place", "--help").stdout
    assert "--quantity INTEGER" in place and "--amount DECIMAL" in place
    assert "--payment card|paypal|alipay|bank-transfer" in place
    assert "second-thought|wrong-product|shipping-delay|seller-unresponsive|other" in cli(
        "cancel", "request", "--help").stdout
    assert "accept|reject" in cli("seller", "respond", "--help").stdout


@pytest.fixture
def complete(run_completion):
    """`complete(words, env=None)`: what bash completion offers after `words`."""

    def complete(words: str, env: dict[str, str] | None = None) -> list[str]:
        cword = str(len(words.split()) - (0 if words.endswith(" ") else 1))
        return run_completion({"COMP_WORDS": words, "COMP_CWORD": cword, "_ORDERCLI_COMPLETE": "complete_bash",
                               **(env or {})}).split()

    return complete


@pytest.mark.parametrize(("words", "expected"), [
    ("ordercli orders list --status c", ["cancel_requested", "completed", "cancelled"]),
    ("ordercli orders place --payment ", list(policy.PAYMENT_METHODS)),
    ("ordercli cancel request ORD-0001 --reason s", ["second-thought", "shipping-delay", "seller-unresponsive"]),
    ("ordercli seller respond ORD-0001 ", ["accept", "reject"]),
    ("ordercli dispute resolve ORD-0001 ", ["refund", "reject"]),
    ("ordercli dispute open ORD-0001 --reason not", ["not-received", "not-as-described"]),
    ("ordercli events list --format n", ["ndjson"]),
    ("ordercli policy use e", ["ebay", "etsy"]),  # etsy: a preset since issue 19
])
def test_completion_offers_the_choices(complete, words, expected):
    assert complete(words) == expected


def test_completion_offers_the_worlds_order_ids(complete, world, db: Path):
    world.place()
    world.place()
    assert complete("ordercli orders show ORD", {"ORDERCLI_DB": str(db)}) == ["ORD-0001", "ORD-0002"]
    assert complete("ordercli refund hold ORD-0002", {"ORDERCLI_DB": str(db)}) == ["ORD-0002"]


def test_completing_ids_of_a_missing_world_offers_nothing_and_creates_nothing(complete, tmp_path: Path):
    missing = tmp_path / "none" / "w.json"
    assert complete("ordercli orders show O", {"ORDERCLI_DB": str(missing)}) == []
    assert not missing.parent.exists()


def test_help_does_not_read_the_world(tmp_path: Path):
    """--help and --version never open the data file: a directory in its place would be exit 5."""
    env = {**os.environ, "ORDERCLI_DB": str(tmp_path)}
    for args in (["orders", "show", "--help"], ["--version"], ["messages", "send", "--help"]):
        result = subprocess.run([sys.executable, "-m", "ordercli", *args], capture_output=True, env=env, timeout=60)
        assert result.returncode == 0, result.stderr

"""`orders import` and `orders place -q`, the commands meant for scripts: NDJSON rows from a file or stdin,
all or nothing, and the id alone on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROWS = [
    {"buyer": "alice", "seller": "acme", "item": "Blue headset", "amount": "19.99"},
    {"buyer": "bob", "seller": "acme", "item": "Mug", "amount": "5", "currency": "EUR", "payment": "alipay",
     "quantity": 2},
    {"buyer": "carol", "seller": "lamps", "item": "Lamp", "amount": "42.50", "unpaid": True},
]


def ndjson(rows: list) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def orders_now(cli) -> list[dict]:
    result = cli.invoke("orders", "list", "--json")
    assert result.exit_code == 0
    return json.loads(result.stdout)


def test_import_from_a_file(cli, tmp_path: Path) -> None:
    f = tmp_path / "orders.ndjson"
    f.write_text(ndjson(ROWS[:2]) + "\n" + ndjson(ROWS[2:]))  # blank lines are skipped
    result = cli.invoke("orders", "import", str(f), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"imported": 3}
    orders = orders_now(cli)
    assert [(o["id"], o["buyer"], o["status"]) for o in orders] == [
        ("ORD-0001", "alice", "awaiting_shipment"),
        ("ORD-0002", "bob", "awaiting_shipment"),
        ("ORD-0003", "carol", "awaiting_payment"),
    ]
    assert (orders[1]["currency"], orders[1]["payment_method"], orders[1]["quantity"]) == ("EUR", "alipay", 2)


def test_import_from_stdin(cli) -> None:
    result = cli.invoke("orders", "import", "-", "--json", input=ndjson(ROWS))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"imported": 3}
    assert len(orders_now(cli)) == 3


def test_import_text_output(cli) -> None:
    result = cli.invoke("orders", "import", "-", input=ndjson(ROWS[:1]))
    assert result.exit_code == 0
    assert result.stdout.strip() == "imported 1 order"


@pytest.mark.parametrize("third", [
    "{not json",
    json.dumps({"buyer": "x", "seller": "y", "item": "z", "amount": "-1"}),
    json.dumps({"buyer": "x", "seller": "y", "item": "z"}),
    json.dumps({"buyer": "x", "seller": "y", "item": "z", "amount": "1", "payment": "cash"}),
    json.dumps(["x", "y"]),
])
def test_import_is_all_or_nothing(cli, db: Path, third: str) -> None:
    text = ndjson(ROWS[:2]) + third + "\n" + ndjson(ROWS[2:])
    result = cli.invoke("orders", "import", "-", "--json", input=text)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert "line 3" in error["message"]
    assert not db.exists()
    assert orders_now(cli) == []


def test_import_unknown_key(cli, db: Path) -> None:
    row = {**ROWS[0], "colour": "blue"}
    result = cli.invoke("orders", "import", "-", input=ndjson([ROWS[0], row]))
    assert result.exit_code == 2
    assert "line 2" in result.stderr and "colour" in result.stderr
    assert orders_now(cli) == []


def test_import_keeps_existing_orders_on_failure(cli) -> None:
    assert cli.invoke("orders", "import", "-", input=ndjson(ROWS[:1])).exit_code == 0
    assert cli.invoke("orders", "import", "-", input=ndjson(ROWS[1:2]) + "{}\n").exit_code == 2
    assert [o["buyer"] for o in orders_now(cli)] == ["alice"]


def test_import_missing_file(cli, tmp_path: Path) -> None:
    result = cli.invoke("orders", "import", str(tmp_path / "nope.ndjson"))
    assert result.exit_code == 2
    assert "nope.ndjson" in result.stderr


def test_place_quiet_on_a_world_without_a_clock_prints_only_the_id(cli) -> None:
    args = ("orders", "place", "--buyer", "alice", "--seller", "acme", "--item", "Mug", "--amount", "5")
    result = cli.invoke(*args, "-q")
    assert result.exit_code == 0
    assert result.stdout == "ORD-0001\n"
    result = cli.invoke(*args, "--quiet")
    assert result.stdout == "ORD-0002\n"

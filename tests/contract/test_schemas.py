"""The JSON Schemas shipped in the package (src/ordercli/schemas) are the contract of what every
command prints: here the real output of every command, in a world that has every shape (each status,
each refund state, disputes, messages, a held and an overdue refund), is validated against them, and a
test fails when a command exists that no check covers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from typer.main import get_command

from ordercli.cli.app import app

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = str(sorted((ROOT / "examples").glob("silent-seller*.yaml"))[0])


def validator(cli, name: str) -> Draft202012Validator:
    schema = cli.json("schema", name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def check(cli, name: str, value) -> None:
    errors = sorted(validator(cli, name).iter_errors(value), key=lambda e: list(e.path))
    assert not errors, f"{name}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


@pytest.fixture
def full(world, tmp_path):
    """ORD-0001 cancelled with a held, overdue refund and an open refund dispute; 0002 unpaid; 0003
    awaiting shipment with messages; 0004 cancel requested; 0005 shipped with an open dispute; 0006
    completed; 0007 cancelled and refunded (JPY); 0008 cancelled with a pending refund."""
    cli = world
    o1 = cli.place("--payment", "alipay")["id"]
    cli.json("cancel", "request", o1, "--reason", "shipping-delay")
    cli.json("seller", "respond", o1, "accept", "--message", "sorry")
    cli.json("refund", "hold", o1)
    cli.json("clock", "tick", "8d")  # past the alipay refund's 7 days: overdue
    cli.json("dispute", "open", o1, "--reason", "refund-not-received")
    cli.place("--unpaid")
    o3 = cli.place()["id"]
    cli.json("messages", "send", o3, "is it in stock?", "--as", "alice")
    cli.json("messages", "send", o3, "yes", "--as", "acme")
    o4 = cli.place()["id"]
    cli.json("cancel", "request", o4, "--reason", "second-thought", "--note", "found it cheaper")
    o5 = cli.place()["id"]
    cli.json("seller", "ship", o5, "--tracking", "LP1")
    cli.json("dispute", "open", o5, "--reason", "damaged")
    o6 = cli.place(amount="5")["id"]
    cli.json("seller", "ship", o6)
    cli.json("orders", "confirm", o6)
    o7 = cli.place("--currency", "JPY", amount="500")["id"]
    cli.json("cancel", "request", o7, "--reason", "other")
    cli.json("seller", "respond", o7, "accept")
    cli.json("refund", "settle", o7)
    o8 = cli.place()["id"]
    cli.json("cancel", "request", o8, "--reason", "other")
    cli.json("seller", "respond", o8, "accept")
    return cli


# Every leaf command, with the arguments it is checked with and the schema of its output.
CASES: dict[str, tuple[list[str], str]] = {
    "demo": ([], "demo"),
    "orders place": (["--buyer", "zoe", "--seller", "acme", "--item", "Lamp", "--amount", "3"], "order"),
    "orders pay": (["ORD-0002"], "order"),
    "orders list": ([], "order[]"),
    "orders show": (["ORD-0001"], "order"),
    "orders confirm": (["ORD-0005"], "order"),
    "orders import": (["-"], "import-result"),
    "cancel request": (["ORD-0003", "--reason", "wrong-product"], "order"),
    "cancel withdraw": (["ORD-0004"], "order"),
    "cancel reasons": ([], "reason[]"),
    "seller respond": (["ORD-0004", "reject", "--message", "already packed"], "order"),
    "seller ship": (["ORD-0003"], "order"),
    "seller stats": ([], "seller-stats[]"),
    "seller pack": (["ORD-0001"], "order"),  # in a world of its own, under a policy that packs
    "seller cancel": (["ORD-0001", "--reason", "out-of-stock", "--message", "sold out"], "order"),  # likewise
    "clock show": ([], "clock"),
    "clock set": (["2030-05-01T00:00:00Z"], "clock-move"),
    "clock tick": (["40d"], "clock-move"),
    "clock next": ([], "clock-move"),
    "refund status": (["ORD-0001"], "refund"),
    "refund list": ([], "refund[]"),
    "refund hold": (["ORD-0008"], "refund"),
    "refund release": (["ORD-0001"], "refund"),
    "refund settle": (["ORD-0008"], "refund"),
    "dispute open": (["ORD-0006", "--reason", "not-as-described"], "order"),
    "dispute resolve": (["ORD-0001", "refund"], "order"),
    "dispute list": ([], "dispute[]"),
    "notifications list": ([], "notification[]"),
    "events list": ([], "event[]"),
    "policy show": ([], "policy"),
    "policy list": ([], "policy-preset[]"),
    "policy use": (["ebay"], "policy"),
    "policy compare": (["aliexpress", "ebay", "--scenario", EXAMPLE], "policy-compare"),
    "scenario run": ([EXAMPLE], "scenario-result"),
    "db check": ([], "db-check"),
    "db backup": (["BACKUP"], "db-backup"),
    "db restore": (["RESTORE"], "db-restore"),
    "messages send": (["ORD-0005", "where is it?", "--as", "alice"], "message"),
    "messages list": (["ORD-0003"], "message[]"),
    "errors": ([], "error-code[]"),
    "schema": (["--list"], "schema-entry[]"),
    "simulate": ([str(ROOT / "examples" / "marketplace.behaviour.yaml"), "--policy", "aliexpress", "--policy", "ebay",
                  "--orders", "200", "--workers", "1"], "simulation"),
    "behaviour fit": (["LOG", "--out", "FITTED"], "behaviour-fit"),
}


def test_every_command_is_checked_against_a_schema(leaf_commands: set[str]):
    assert get_command(app)  # the app builds
    assert leaf_commands == set(CASES)


@pytest.mark.parametrize("command", sorted(CASES))
def test_output_matches_its_schema(full, command, tmp_path, monkeypatch):
    args, schema = CASES[command]
    args = [str(tmp_path / "backup.json") if a == "BACKUP" else a for a in args]
    if args == ["RESTORE"]:
        full.json("db", "backup", str(tmp_path / "saved.json"))
        args = [str(tmp_path / "saved.json")]
    if command == "behaviour fit":  # the full world's own history, as events list --format ndjson prints it
        log = tmp_path / "log.ndjson"
        log.write_text(full("events", "list", "--format", "ndjson").stdout)
        args = [str(log) if a == "LOG" else str(tmp_path / "fitted.yaml") if a == "FITTED" else a for a in args]
    if command == "policy use":  # only an empty world may change its policy
        monkeypatch.setenv("ORDERCLI_DB", str(tmp_path / "empty.json"))
    if command == "demo":
        monkeypatch.setenv("ORDERCLI_DB", str(tmp_path / "demo.json"))
    if command in ("seller pack", "seller cancel"):  # issue 19: only where the policy has them
        monkeypatch.setenv("ORDERCLI_DB", str(tmp_path / "packs.json"))
        (tmp_path / "packs.toml").write_text("pack_before_ship = true\nseller_can_cancel = true\n")
        full.json("policy", "use", str(tmp_path / "packs.toml"))
        full.place()
    if command == "orders import":
        line = json.dumps({"buyer": "a", "seller": "b", "item": "c", "amount": 5})
        result = full.runner.invoke(app, ["orders", "import", "-", "--json"], input=line + "\n")
        assert result.exit_code == 0, result.stderr
        value = json.loads(result.stdout)
    else:
        value = full.json(*command.split(), *args)
    if schema.endswith("[]"):
        assert isinstance(value, list) and value, f"{command} printed no items to check"
        for item in value:
            check(full, schema[:-2], item)
    else:
        check(full, schema, value)


def test_the_full_world_has_every_status_and_refund_state(full):
    orders = full.json("orders", "list")
    assert {o["status"] for o in orders} == {
        "awaiting_payment", "awaiting_shipment", "cancel_requested", "shipped", "completed", "cancelled"}
    assert {r["status"] for r in full.json("refund", "list")} == {"held", "pending", "refunded"}
    assert any(r["overdue"] for r in full.json("refund", "list"))
    for order in orders:
        check(full, "order", order)


def test_ndjson_lines_match_the_schema(full):
    out = full("events", "list", "--format", "ndjson").stdout.splitlines()
    assert len(out) > 20
    for line in out:
        check(full, "event", json.loads(line))


@pytest.mark.parametrize("args", [
    ["orders", "show", "ORD-9999"],
    ["seller", "ship", "ORD-0004"],
    ["orders", "place", "--buyer", "a", "--seller", "a", "--item", "x", "--amount", "1"],
    ["orders", "lst"],
])
def test_errors_match_the_error_schema(full, args):
    result = full.runner.invoke(app, [*args, "--json"])
    assert result.exit_code in (2, 3, 4) and result.stdout == ""
    body = json.loads(result.stderr)
    check(full, "error", body)
    assert body["error"]["exit"] == result.exit_code


def test_schemas_refuse_drift(full):
    """additionalProperties: false catches a field the contract does not have."""
    order = full.json("orders", "show", "ORD-0003")
    assert list(validator(full, "order").iter_errors({**order, "colour": "blue"}))
    assert list(validator(full, "refund").iter_errors({**full.json("refund", "status", "ORD-0001"), "extra": 1}))


def test_schema_list_names_every_shipped_file(cli):
    names = [s["name"] for s in cli.json("schema", "--list")]
    files = sorted(p.stem for p in (ROOT / "src" / "ordercli" / "schemas").glob("*.json"))
    assert names == files
    for required in ("order", "refund", "event", "notification", "dispute", "clock-move", "policy",
                     "scenario-result", "error", "message"):
        assert required in names


def test_unknown_schema_is_exit_2(cli):
    err = cli.json("schema", "orders", code=2)
    assert err["code"] == "unknown_schema" and "orders" in err["message"]

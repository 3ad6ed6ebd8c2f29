"""One reader for every input file (issue 18): policy TOML, scenario YAML/JSON and behaviour YAML are read
through ordercli.core.reader, refuse unknown keys, and name a bad key by its path from the top of the file in
one message style: `SOURCE: PATH: expected WHAT, found VALUE` or `SOURCE: PATH: unknown key (expected
one of ...)`, exit 2 with the input's own error code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ordercli.core import policy as P
from ordercli.core import presets, reader
from ordercli.core.errors import UsageError

START = "2030-03-04T09:00:00Z"
PLACE = "orders place --buyer alice --seller acme --item Lamp --amount 5"

# -- the three inputs, each given an unknown key and a wrongly-typed nested key ------------------------

POLICY_BASE = 'extends = "aliexpress"\n'
SCENARIO_BASE = f"start: {START}\nsteps:\n  - run: clock show\n"
BEHAVIOUR_BASE = f"orders: {{start: {START}}}\nsellers:\n  prompt: {{share: 1}}\n"

# (input, file name, text, the path named, what the message says there)
CASES = [
    (
        "policy",
        "p.toml",
        POLICY_BASE + 'pay_whenever = "1d"\n',
        "pay_whenever",
        "unknown key (expected one of extends, ",
    ),
    (
        "policy",
        "p.toml",
        POLICY_BASE + "[seller_cancel_reasons.out-of-stock]\ncounts = true\nweight = 2\n",
        "seller_cancel_reasons.out-of-stock.weight",
        "unknown key (expected one of meaning, counts)",
    ),
    (
        "policy",
        "p.toml",
        POLICY_BASE + "[refund_within]\npaypal = 5\n",
        "refund_within.paypal",
        'expected a duration like "72h" or "7 working days", found 5',
    ),
    (
        "policy",
        "p.toml",
        POLICY_BASE + '[seller_cancel_reasons.out-of-stock]\ncounts = "yes"\n',
        "seller_cancel_reasons.out-of-stock.counts",
        "expected true or false, found 'yes'",
    ),
    (
        "scenario",
        "s.yaml",
        SCENARIO_BASE + "  - run: clock show\n    expected_exit: 0\n",
        "steps[1].expected_exit",
        "unknown key (expected one of id, run, expect, expect_exit)",
    ),
    (
        "scenario",
        "s.yaml",
        SCENARIO_BASE + "  - run: clock show\n  - run: clock show\n    expect_exit: zero\n",
        "steps[2].expect_exit",
        "expected an exit code from 0 to 255, found 'zero'",
    ),
    (
        "scenario",
        "s.json",
        json.dumps({"start": START, "steps": [{"run": "clock show", "expect": {"now": START}, "exit": 0}]}),
        "steps[0].exit",
        "unknown key (expected one of id, run, expect, expect_exit)",
    ),
    (
        "behaviour",
        "b.yaml",
        BEHAVIOUR_BASE + "buyers:\n  cancel_rate: 0.1\n",
        "buyers",
        "unknown key (expected one of name, description, orders, ",
    ),
    (
        "behaviour",
        "b.yaml",
        BEHAVIOUR_BASE + "cancel:\n  rate: 0.1\n",
        "cancel.rate",
        "unknown key (expected one of probability, delay, reasons)",
    ),
    (
        "behaviour",
        "b.yaml",
        BEHAVIOUR_BASE.replace("{share: 1}", "{share: 1, accept_probability: {buyer: high}}"),
        "sellers.prompt.accept_probability.buyer",
        "expected a number from 0 to 1, found 'high'",
    ),
]
LABEL = {"policy": "policy file", "scenario": "scenario", "behaviour": "behaviour file"}
CODE = {"policy": "bad_policy", "scenario": "bad_scenario", "behaviour": "bad_behaviour"}
# the one message style of every input
STYLE = re.compile(r"^(policy file|scenario|behaviour file) (?P<file>\S+): (?P<path>\S+): (?P<says>.+)$")


def command(kind: str, file: Path) -> list[str]:
    return {
        "policy": ["policy", "use", str(file)],
        "scenario": ["scenario", "run", str(file)],
        "behaviour": ["simulate", str(file), "--policy", "aliexpress", "--orders", "10", "--workers", "1"],
    }[kind]


@pytest.mark.parametrize(("kind", "name", "text", "path", "says"), CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_every_input_names_the_bad_key_by_its_path_in_one_style(
    cli, db: Path, tmp_path: Path, kind: str, name: str, text: str, path: str, says: str
) -> None:
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")
    before = db.read_bytes() if db.exists() else None
    result = cli(*command(kind, file), "--json", code=2)
    assert result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert (error["code"], error["exit"]) == (CODE[kind], 2)
    message = error["message"]
    assert message.startswith(f"{LABEL[kind]} {file}: {path}: {says}"), message
    found = STYLE.match(message)
    assert found and found["file"] == str(file) and found["path"] == path, message
    assert (db.read_bytes() if db.exists() else None) == before
    # and for people: one `error:` line
    text_err = cli(*command(kind, file), code=2).stderr
    assert text_err == f"error: {message}\n"


@pytest.mark.parametrize(
    ("kind", "text", "path", "lines"),
    [
        ("scenario", SCENARIO_BASE + "    run: orders list\n", "steps[0].run", (3, 4)),
        ("scenario", SCENARIO_BASE + "start: now\n", "start", (1, 4)),
        ("behaviour", BEHAVIOUR_BASE + "cancel: {probability: 0.1, probability: 0.9}\n", "cancel.probability", (4, 4)),
    ],
)
def test_a_yaml_key_given_twice_is_refused_not_silently_replaced(
    cli, tmp_path: Path, kind: str, text: str, path: str, lines: tuple[int, int]
) -> None:
    """PyYAML keeps the last of two equal keys and drops the first without a word; TOML refuses them."""
    file = tmp_path / "f.yaml"
    file.write_text(text, encoding="utf-8")
    err = cli(*command(kind, file), code=2).stderr
    assert err == (
        f"error: {LABEL[kind]} {file}: {path}: the key is given twice (lines {lines[0]} and {lines[1]}): "
        "the second would replace the first\n"
    )


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"start": "2030-03-04T09:00:00Z", "start": "now", "steps": [{"run": "clock show"}]}', "start"),
        ('{"steps": [{"run": "clock show"}, {"run": "orders list", "expect": {"a": 1, "a": 2}}]}', "steps[1].expect.a"),
        ('{"steps": [{"run": "clock show", "run": "orders list"}]}', "steps[0].run"),
    ],
)
def test_a_json_key_given_twice_is_refused_not_silently_replaced(cli, tmp_path: Path, text: str, path: str) -> None:
    """JSON parsers keep the last of two equal keys without a word, as PyYAML does: refused alike."""
    file = tmp_path / "s.json"
    file.write_text(text, encoding="utf-8")
    err = cli("scenario", "run", str(file), code=2).stderr
    assert err == (
        f"error: scenario {file}: {path}: the key is given twice in one object: the second would replace the first\n"
    )


def test_a_json_scenario_with_no_key_given_twice_still_runs(cli, tmp_path: Path) -> None:
    file = tmp_path / "s.json"
    file.write_text('{"start": "2030-03-04T09:00:00Z", "steps": [{"run": "clock show"}, {"run": "clock show"}]}')
    assert "total: 2 passed, 0 failed" in cli("scenario", "run", str(file)).stdout


def test_a_scenario_policy_file_is_named_inside_the_scenario(cli, tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('[refund_within]\npaypal = "soon"\n')
    file = tmp_path / "s.yaml"
    file.write_text(f"start: {START}\npolicy: {tmp_path / 'p.toml'}\nsteps:\n  - run: clock show\n")
    err = cli("scenario", "run", str(file), code=2).stderr
    assert err == (
        f"error: scenario {file}: policy file {tmp_path / 'p.toml'}: refund_within.paypal: "
        'expected a duration like "72h" or "7 working days", found \'soon\'\n'
    )


def test_a_preset_names_itself_and_a_policy_file_its_path(tmp_path: Path) -> None:
    f = tmp_path / "house.toml"
    f.write_text('extends = "ebay"\non_seller_silence = "shrug"\n')
    with pytest.raises(UsageError) as exc:
        presets.load(str(f))
    assert exc.value.message == f"policy file {f}: on_seller_silence: expected cancel or lapse, found 'shrug'"
    f.write_text('extends = "ebay"\newallets = ["alipay", "bitcoin"]\n')
    with pytest.raises(UsageError) as exc:
        presets.load(str(f))
    assert exc.value.message == f"policy file {f}: ewallets[1]: expected a method of refund_within, found 'bitcoin'"


# -- the reader itself ------------------------------------------------------------------------------


SOURCE = reader.Source("thing file t.yaml", "bad_thing")


@pytest.mark.parametrize(
    ("path", "key", "joined"),
    [
        ("", "orders", "orders"),
        ("orders", "start", "orders.start"),
        ("refund_within", "bank-transfer", "refund_within.bank-transfer"),
        ("steps[2].expect", "refund.status", 'steps[2].expect["refund.status"]'),
        ("sellers", "big shop", 'sellers["big shop"]'),
        ("", 5, "5"),
    ],
)
def test_a_path_joins_keys_by_dots_and_brackets_the_others(path: str, key: object, joined: str) -> None:
    assert reader.join(path, key) == joined


def test_found_values_are_shown_as_files_spell_them() -> None:
    assert [reader.show(v) for v in (True, None, "x", 5, [1, "a"], {"a": 1})] == [
        "true",
        "null",
        "'x'",
        "5",
        '[1, "a"]',
        '{"a": 1}',
    ]
    assert reader.show("x" * 500).endswith("...") and len(reader.show("x" * 500)) == 80


THING = reader.Table(
    (
        reader.Key("name", reader.Value("text", lambda v: isinstance(v, str)), required=True),
        reader.Key("sizes", reader.ListOf(reader.Value("a whole number", lambda v: isinstance(v, int)), length=2)),
        reader.Key("parts", reader.MapOf(reader.Table((reader.Key("count", reader.Value("a count", int)),)))),
    )
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1], "thing file t.yaml: (top level): expected a mapping, found [1]"),
        ({}, "thing file t.yaml: name: missing: expected text"),
        ({"name": 1}, "thing file t.yaml: name: expected text, found 1"),
        ({"name": "a", "size": 1}, "thing file t.yaml: size: unknown key (expected one of name, sizes, parts)"),
        ({"name": "a", "sizes": [1]}, "thing file t.yaml: sizes: expected a list of 2, found [1]"),
        ({"name": "a", "sizes": [1, "2"]}, "thing file t.yaml: sizes[1]: expected a whole number, found '2'"),
        (
            {"name": "a", "parts": {"x": {"count": "many"}}},
            "thing file t.yaml: parts.x.count: expected a count, found 'many'",
        ),
        (
            {"name": "a", "parts": {"x": {"cnt": 1}}},
            "thing file t.yaml: parts.x.cnt: unknown key (expected one of count)",
        ),
    ],
)
def test_check_names_the_first_bad_key(data: object, message: str) -> None:
    with pytest.raises(UsageError) as exc:
        reader.check(data, THING, SOURCE)
    assert (exc.value.message, exc.value.code, exc.value.exit_code) == (message, "bad_thing", 2)


def test_a_partial_table_may_leave_out_its_required_keys() -> None:
    assert reader.check({"sizes": [1, 2]}, THING, SOURCE, partial=True) == {"sizes": [1, 2]}


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("t.toml", "a = \n", "is not valid TOML"),
        ("t.json", "{", "is not valid JSON"),
        ("t.yaml", "a: [\n", "is not valid YAML"),
        ("t.yaml", "a: &a [*a]\n", "has an alias inside the value it names"),
        ("none.yaml", None, "cannot be read: No such file or directory"),
    ],
)
def test_read_file_refuses_a_file_it_cannot_read(tmp_path: Path, name: str, text: str | None, says: str) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(UsageError) as exc:
        reader.read_file(path, SOURCE)
    assert exc.value.message.startswith(f"thing file t.yaml: {says}"), exc.value.message


def test_read_file_keeps_yaml_timestamps_as_text(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("at: 2030-02-30T09:00:00Z\n")
    assert reader.read_file(path, SOURCE) == {"at": "2030-02-30T09:00:00Z"}


# -- the policy's keys, declared once ----------------------------------------------------------------


def test_the_policy_keys_are_the_declaration() -> None:
    assert P.POLICY_KEYS == P.POLICY.names()
    assert P.OPTIONAL_KEYS == tuple(k.name for k in P.POLICY.keys if not k.required and k.name != "extends")
    # every preset sets only declared keys, and states every required one once resolved
    for name in presets.PRESETS:
        values = presets.load(name).values
        assert set(values) <= set(P.POLICY_KEYS)
        assert {k.name for k in P.POLICY.keys if k.required} <= set(values)


def test_a_policy_of_only_its_required_keys_takes_the_declared_defaults() -> None:
    values = {k: v for k, v in presets.load("aliexpress").values.items() if P.POLICY.key(k).required}
    pol = P.policy_from_mapping(values, "bare")
    for key in P.OPTIONAL_KEYS:
        default = P.POLICY.key(key).default
        got = getattr(pol, key)
        if key == "seller_cancel_reasons":
            assert default is None and got == P.DEFAULT_SELLER_CANCEL_REASONS
        elif key in ("free_cancel_within", "auto_cancel_after_ship_by"):
            assert got == P.parse_policy_duration(default, key)
        else:
            assert got == default, key
    assert pol.describe() == {"name": "bare", **values}  # a default is not shown as if the file gave it


def test_the_docs_table_of_policy_keys_is_the_declaration() -> None:
    text = (Path(__file__).resolve().parent.parent.parent / "docs" / "rules.md").read_text(encoding="utf-8")
    for row in reader.describe(P.POLICY):
        expected = row["expected"].replace("|", "\\|")
        assert f"| `{row['name']}` | {expected} |" in text, row["name"]

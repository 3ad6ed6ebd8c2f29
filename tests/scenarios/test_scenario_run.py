"""`scenario run` (docs/cli.md "Scenario files"): every file in examples/ passes, and the runner's own
rules (references, matching, exit codes, reports, malformed files). `orders import` and `orders place -q`,
the other commands meant for scripts, are in tests/cli/test_orders_import.py."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordercli.cli.app import app

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
# *.behaviour.yaml files describe populations for `simulate`, not scenarios
EXAMPLE_FILES = sorted(
    p for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".yml", ".json") and not p.name.endswith(".behaviour.yaml")
)

PLACE = 'orders place --buyer alice --seller acme --item "Blue headset" --amount 19.99'


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def run_json(*files: Path, extra: tuple[str, ...] = ()) -> tuple[int, list]:
    result = invoke("scenario", "run", *map(str, files), *extra, "--json")
    assert result.exit_code in (0, 1), f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.exit_code, json.loads(result.stdout)


def malformed(*files: Path) -> str:
    """Runs files that must be refused as malformed: exit 2, nothing on stdout; returns stderr."""
    result = invoke("scenario", "run", *map(str, files))
    assert result.exit_code == 2, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr


# -- the examples ---------------------------------------------------------------------------------


def test_the_examples_are_there() -> None:
    names = {p.name for p in EXAMPLE_FILES}
    assert {
        "silent-seller.scenario.yaml", "seller-accepts.scenario.yaml", "seller-refuses-then-ships.scenario.yaml",
        "shipped-then-dispute.scenario.yaml", "ewallet-vs-card.scenario.yaml", "overdue-refund-dispute.scenario.yaml",
        "unpaid-order.scenario.yaml", "ship-timeout.scenario.yaml",
    } <= names


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_passes(path: Path) -> None:
    result = invoke("scenario", "run", str(path), "--json")
    reports = json.loads(result.stdout)
    failures = [
        f"step {s['index']} ({s['run']}): {'; '.join(s['failures'])}"
        for r in reports for s in r["steps"] if not s["passed"]
    ]
    assert result.exit_code == 0, "\n".join(failures) or result.stderr
    assert len(reports) == 1
    assert reports[0]["failed"] == 0
    assert reports[0]["passed"] == len(reports[0]["steps"]) > 0


def test_all_examples_in_one_run() -> None:
    code, reports = run_json(*EXAMPLE_FILES)
    assert code == 0
    assert [r["file"] for r in reports] == [str(p) for p in EXAMPLE_FILES]
    assert all(r["failed"] == 0 for r in reports)


# -- passing and failing steps --------------------------------------------------------------------


def test_a_failing_expect_exits_1_with_the_step_failure(tmp_path: Path) -> None:
    f = write(tmp_path, "bad.yaml", f"""
        name: wrong expectation
        start: 2030-03-04T09:00:00Z
        steps:
          - run: {PLACE}
            expect: {{status: shipped}}
          - run: clock show
    """)
    result = invoke("scenario", "run", str(f))
    assert result.exit_code == 1
    assert "FAIL" in result.stdout
    assert "status: awaiting_shipment, expected shipped" in result.stdout
    assert "1 passed, 1 failed" in result.stdout
    assert "total: 1 passed, 1 failed" in result.stdout

    code, reports = run_json(f)
    assert code == 1
    step = reports[0]["steps"][0]
    assert step["passed"] is False
    assert step["failures"] == ["status: awaiting_shipment, expected shipped"]
    assert reports[0]["steps"][1]["passed"] is True  # later steps still run
    assert (reports[0]["passed"], reports[0]["failed"]) == (1, 1)


def test_a_missing_path_fails(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", f"""
        start: 2030-03-04T09:00:00Z
        steps:
          - run: {PLACE}
            expect: {{refund.status: pending}}
    """)
    code, reports = run_json(f)
    assert code == 1
    assert "refund.status: not in the output" in reports[0]["steps"][0]["failures"][0]


def test_an_unexpected_exit_fails_with_the_error_message(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", """
        start: 2030-03-04T09:00:00Z
        steps:
          - run: orders show ORD-9999
    """)
    code, reports = run_json(f)
    assert code == 1
    step = reports[0]["steps"][0]
    assert step["exit"] == 3
    assert step["failures"][0].startswith("exit 3, expected 0")
    assert "ORD-9999" in step["failures"][0]


def test_expect_exit_with_error_code(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", f"""
        start: 2030-03-04T09:00:00Z
        steps:
          - id: o
            run: {PLACE}
          - run: seller ship ${{o.id}}
          - run: cancel request ${{o.id}} --reason second-thought
            expect_exit: 4
            expect: {{error.code: cancel_after_shipment, error.exit: 4}}
          - run: clock tick 5x
            expect_exit: 2
            expect: {{error.code: bad_duration}}
    """)
    code, reports = run_json(f)
    assert code == 0, reports
    step = reports[0]["steps"][2]
    assert step["exit"] == 4 and step["expect_exit"] == 4
    assert step["output"]["error"]["code"] == "cancel_after_shipment"


def test_expect_exit_mismatch_fails(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", f"""
        start: 2030-03-04T09:00:00Z
        steps:
          - run: {PLACE}
            expect_exit: 4
          - id: o
            run: {PLACE}
          - run: seller ship ${{o.id}}
          - run: cancel request ${{o.id}} --reason second-thought
            expect_exit: 4
            expect: {{error.code: request_pending}}
    """)
    code, reports = run_json(f)
    assert code == 1
    steps = reports[0]["steps"]
    assert steps[0]["failures"] == ["exit 0, expected 4"]
    assert steps[3]["failures"] == ["error.code: cancel_after_shipment, expected request_pending"]


# -- references -----------------------------------------------------------------------------------


def test_references_in_run_and_expect(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", f"""
        start: 2030-03-04T09:00:00Z
        steps:
          - id: first
            run: {PLACE}
          - id: second
            run: >-
              orders place --buyer ${{first.buyer}} --seller ${{first.seller}}
              --item "${{first.item}} (2)" --amount ${{first.amount}}
            expect:
              buyer: ${{first.buyer}}
              amount: ${{first.amount}}
              item: ${{first.item}} (2)
              placed_at: ${{first.placed_at}}
              actions.buyer: ${{first.actions.buyer}}
          - run: orders show ${{second.id}}
            expect: {{id: "${{second.id}}", ship_by: "${{first.ship_by}}"}}
    """)
    code, reports = run_json(f)
    assert code == 0, reports
    steps = reports[0]["steps"]
    assert steps[1]["args"][:5] == ["orders", "place", "--buyer", "alice", "--seller"]
    assert "Blue headset (2)" in steps[1]["args"]
    assert steps[2]["args"] == ["orders", "show", "ORD-0002"]


def test_a_reference_with_a_wrong_value_fails(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", f"""
        start: 2030-03-04T09:00:00Z
        steps:
          - id: first
            run: {PLACE}
          - run: {PLACE} --unpaid
            expect: {{status: "${{first.status}}"}}
    """)
    code, reports = run_json(f)
    assert code == 1
    assert reports[0]["steps"][1]["failures"] == ["status: awaiting_payment, expected awaiting_shipment"]


def test_list_indices_in_references(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", f"""
        start: 2030-03-04T09:00:00Z
        steps:
          - run: {PLACE}
          - run: orders place --buyer bob --seller acme --item Mug --amount 5
          - id: orders
            run: orders list
          - run: orders show ${{orders.0.id}}
            expect: {{buyer: alice, id: ORD-0001}}
          - run: orders show ${{orders.1.id}}
            expect: {{buyer: bob, id: "${{orders.1.id}}", item: "${{orders.1.item}}"}}
          - run: cancel request ${{orders.-1.id}} --reason other
            expect: {{id: ORD-0002, status: cancel_requested}}
    """)
    code, reports = run_json(f)
    assert code == 0, reports
    assert reports[0]["steps"][3]["args"] == ["orders", "show", "ORD-0001"]
    assert reports[0]["steps"][4]["args"] == ["orders", "show", "ORD-0002"]


def test_a_reference_to_a_path_not_in_the_output_fails_the_step(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", """
        start: 2030-03-04T09:00:00Z
        steps:
          - id: orders
            run: orders list
          - run: orders show ${orders.0.id}
          - run: clock show
    """)
    code, reports = run_json(f)
    assert code == 1
    steps = reports[0]["steps"]
    assert "${orders.0.id}" in steps[1]["failures"][0]
    assert steps[1]["exit"] is None  # it did not run
    assert steps[2]["passed"] is True


# -- matching scalars (docs/cli.md: "equals the JSON value or reads the same as text") ---------------------


@pytest.mark.parametrize("path, value", [
    ("amount", "19.99"),
    ("amount", 19.99),
    ("amount", "19.990"),
    ("quantity", 1),
    ("quantity", "1"),
    ("placed_at", "2030-03-04T09:00:00Z"),
    ("placed_at", "2030-03-04T09:00:00+00:00"),
    ("placed_at", "2030-03-04T10:00:00+01:00"),
    ("placed_at", "2030-03-04 09:00:00Z"),
    ("refund.overdue", False),
    ("refund.overdue", "false"),
    ("dispute", None),
    ("dispute", "null"),
    ("shipped_at", None),
    ("status", "cancelled"),
    ("cancellation.requests", 1),
    ("actions", {"buyer": [], "seller": []}),
])
def test_scalar_matches(tmp_path: Path, path: str, value) -> None:
    steps = [
        {"id": "o", "run": PLACE},
        {"run": "cancel request ${o.id} --reason other"},
        {"run": "seller respond ${o.id} accept", "expect": {path: value}},
    ]
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"start": "2030-03-04T09:00:00Z", "steps": steps}))
    code, reports = run_json(f)
    assert code == 0, reports[0]["steps"][2]["failures"]


@pytest.mark.parametrize("path, value", [
    ("amount", 19.9),
    ("amount", "19.98"),
    ("placed_at", "2030-03-04T09:00:01Z"),
    ("placed_at", "2030-03-04T09:00:00+01:00"),
    ("refund.overdue", True),
    ("refund.overdue", None),
    ("dispute", False),
    ("refund", None),
    ("quantity", 2),
    ("status", "CANCELLED"),
    ("actions", {"buyer": []}),
])
def test_scalar_mismatches(tmp_path: Path, path: str, value) -> None:
    steps = [
        {"id": "o", "run": PLACE},
        {"run": "cancel request ${o.id} --reason other"},
        {"run": "seller respond ${o.id} accept", "expect": {path: value}},
    ]
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"start": "2030-03-04T09:00:00Z", "steps": steps}))
    code, reports = run_json(f)
    assert code == 1
    assert reports[0]["steps"][2]["failures"][0].startswith(f"{path}: ")


def test_yaml_scalars_match(tmp_path: Path) -> None:
    """Unquoted YAML: 19.99 is a float, the instant a timestamp, true/null native values."""
    f = write(tmp_path, "s.yaml", f"""
        start: 2030-03-04T09:00:00Z
        steps:
          - id: o
            run: {PLACE}
          - run: refund hold ${{o.id}}
            expect_exit: 3
          - run: cancel request ${{o.id}} --reason other
          - run: seller respond ${{o.id}} accept
            expect:
              amount: 19.99
              refund.amount: 19.99
              cancelled_at: 2030-03-04T09:00:00Z
              refund.due_by: 2030-03-25T09:00:00Z
              refund.overdue: false
              refund.refunded_at: null
              dispute: null
              quantity: 1
          - run: refund hold ${{o.id}}
          - run: clock tick 21d1s
          - run: refund status ${{o.id}}
            expect: {{overdue: true, status: held, refunded_at: ~}}
    """)
    code, reports = run_json(f)
    assert code == 0, [s["failures"] for s in reports[0]["steps"]]


# -- reports --------------------------------------------------------------------------------------


def test_text_output_lines(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", f"""
        name: first file
        start: 2030-03-04T09:00:00Z
        steps:
          - run: {PLACE}
          - run: clock tick 1h
            expect: {{to: 2030-03-04T10:00:00Z}}
    """)
    b = write(tmp_path, "b.yaml", """
        name: second file
        start: 2030-03-08T09:00:00Z
        steps:
          - run: clock show
            expect: {now: 2030-03-08T09:00:00Z}
          - run: clock show
            expect: {now: 2030-03-09T09:00:00Z}
          - run: orders list
            expect: {}
    """)
    result = invoke("scenario", "run", str(a), str(b))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "\x1b[" not in result.stdout  # no colour off a terminal
    assert f"{a}: first file" in lines
    assert f"{b}: second file" in lines
    step_lines = [line for line in lines if line.lstrip().startswith(("ok", "FAIL"))]
    assert len(step_lines) == 5
    # the command as run: references expanded, words quoted as a shell would need them
    expanded = "orders place --buyer alice --seller acme --item 'Blue headset' --amount 19.99"
    assert step_lines[0].split()[:2] == ["ok", "1"] and step_lines[0].endswith(expanded)
    assert step_lines[3].split()[:2] == ["FAIL", "2"]
    assert "2 passed, 0 failed" in lines
    assert "2 passed, 1 failed" in lines
    assert lines[-1] == "total: 4 passed, 1 failed"
    assert "now: 2030-03-08T09:00:00+00:00, expected 2030-03-09" in result.stdout


def test_json_output_one_object_per_file(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", f"""
        name: alpha
        start: 2030-03-04T09:00:00Z
        steps:
          - id: o
            run: {PLACE}
          - run: orders show ${{o.id}}
    """)
    b = write(tmp_path, "b.json", json.dumps({"start": "2030-03-04T09:00:00Z", "steps": [{"run": "clock show"}]}))
    result = invoke("scenario", "run", str(a), str(b), "--json")
    assert result.exit_code == 0
    reports = json.loads(result.stdout)  # stdout is exactly one JSON value
    assert isinstance(reports, list) and len(reports) == 2
    first, second = reports
    assert first["file"] == str(a) and first["name"] == "alpha"
    assert (first["passed"], first["failed"]) == (2, 0)
    assert [s["index"] for s in first["steps"]] == [1, 2]
    step = first["steps"][0]
    assert step["id"] == "o" and step["run"] == PLACE and step["exit"] == 0 and step["passed"] is True
    assert step["output"]["id"] == "ORD-0001"
    assert first["steps"][1]["args"] == ["orders", "show", "ORD-0001"]
    assert second["name"] == "b"  # no name: the file's stem
    assert len(second["steps"]) == 1


def test_each_file_gets_a_fresh_world(tmp_path: Path) -> None:
    text = f"""
        start: 2030-03-04T09:00:00Z
        steps:
          - run: {PLACE}
            expect: {{id: ORD-0001}}
    """
    a, b = write(tmp_path, "a.yaml", text), write(tmp_path, "b.yaml", text)
    code, reports = run_json(a, b)
    assert code == 0, reports


def test_policy_key(tmp_path: Path) -> None:
    (tmp_path / "slow.toml").write_text('extends = "aliexpress"\nseller_response_within = "5d"\n')
    f = write(tmp_path, "s.yaml", f"""
        start: 2030-03-04T09:00:00Z
        policy: slow.toml
        steps:
          - id: o
            run: {PLACE}
          - run: cancel request ${{o.id}} --reason other
            expect: {{cancellation.respond_by: 2030-03-09T09:00:00Z}}
    """)
    g = write(tmp_path, "g.yaml", f"""
        start: 2030-03-04T09:00:00Z
        policy: ebay
        steps:
          - id: o
            run: {PLACE}
          - run: cancel request ${{o.id}} --reason other
          - run: clock tick 3d
          - run: orders show ${{o.id}}
            expect: {{status: awaiting_shipment, cancellation.status: timed_out}}
    """)
    code, reports = run_json(f, g)
    assert code == 0, [s["failures"] for r in reports for s in r["steps"]]


def test_junit_report(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", f"""
        name: alpha
        start: 2030-03-04T09:00:00Z
        steps:
          - run: {PLACE}
          - run: clock show
            expect: {{now: 2031-01-01T00:00:00Z}}
    """)
    b = write(tmp_path, "b.yaml", """
        name: beta <&> "quoted"
        start: 2030-03-04T09:00:00Z
        steps:
          - run: clock show
    """)
    report = tmp_path / "reports" / "junit.xml"
    result = invoke("scenario", "run", str(a), str(b), "--junit", str(report))
    assert result.exit_code == 1
    root = ET.parse(report).getroot()
    suites = root.findall("testsuite") if root.tag == "testsuites" else [root]
    assert [s.get("name") for s in suites] == ["alpha", 'beta <&> "quoted"']
    assert [s.get("tests") for s in suites] == ["2", "1"]
    assert [s.get("failures") for s in suites] == ["1", "0"]
    cases = suites[0].findall("testcase")
    assert len(cases) == 2
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert "now: 2030-03-04T09:00:00+00:00, expected 2031-01-01" in failure.get("message")
    assert len(suites[1].findall("testcase")) == 1
    assert suites[1].find("testcase/failure") is None


def test_junit_with_json(tmp_path: Path) -> None:
    f = write(tmp_path, "a.yaml", "start: now\nsteps:\n  - run: clock show\n")
    report = tmp_path / "junit.xml"
    code, reports = run_json(f, extra=("--junit", str(report)))
    assert code == 0 and reports[0]["passed"] == 1
    assert ET.parse(report).getroot().find(".//testcase") is not None


def test_db_keeps_the_world(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", f"""
        start: 2030-03-04T09:00:00Z
        steps:
          - run: {PLACE}
          - run: orders place --buyer bob --seller acme --item Mug --amount 5
          - run: clock tick 2h
    """)
    kept = tmp_path / "kept" / "world.json"
    result = invoke("scenario", "run", str(f), "--db", str(kept))
    assert result.exit_code == 0, result.stdout + result.stderr
    orders = json.loads(invoke("--db", str(kept), "orders", "list", "--json").stdout)
    assert [o["id"] for o in orders] == ["ORD-0001", "ORD-0002"]
    assert json.loads(invoke("--db", str(kept), "clock", "show", "--json").stdout)["now"] == "2030-03-04T11:00:00+00:00"


def test_without_db_the_world_is_temporary(tmp_path: Path, db: Path) -> None:
    f = write(tmp_path, "s.yaml", f"start: 2030-03-04T09:00:00Z\nsteps:\n  - run: {PLACE}\n")
    assert invoke("scenario", "run", str(f)).exit_code == 0
    assert not db.exists()  # ORDERCLI_DB is not the scenario's world
    assert json.loads(invoke("orders", "list", "--json").stdout) == []


def test_a_json_scenario_file(tmp_path: Path) -> None:
    f = tmp_path / "s.json"
    f.write_text(json.dumps({
        "name": "json scenario",
        "start": "2030-03-08T15:00:00Z",
        "policy": "aliexpress",
        "steps": [
            {"id": "o", "run": PLACE, "expect": {"ship_by": "2030-03-19T15:00:00Z"}},
            {"run": "seller ship ${o.id}", "expect": {"status": "shipped"}},
            {"run": "seller ship ${o.id}", "expect_exit": 4, "expect": {"error.code": "already_shipped"}},
        ],
    }))
    code, reports = run_json(f)
    assert code == 0, reports
    assert reports[0]["name"] == "json scenario" and reports[0]["passed"] == 3


# -- malformed files: exit 2 naming the file and the step; nothing runs -----------------------------


def test_bad_yaml(tmp_path: Path) -> None:
    f = write(tmp_path, "bad.yaml", "steps:\n  - run: clock show\n   expect: [\n")
    err = malformed(f)
    assert str(f) in err and "YAML" in err


def test_bad_json(tmp_path: Path) -> None:
    f = write(tmp_path, "bad.json", '{"steps": [')
    err = malformed(f)
    assert str(f) in err and "JSON" in err


def test_unknown_top_level_key(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", "name: x\nstepz: []\nsteps:\n  - run: clock show\n")
    err = malformed(f)
    assert str(f) in err and "stepz" in err


def test_unknown_step_key(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", """
        steps:
          - run: clock show
          - run: clock show
            expected: {now: 2030-03-04T09:00:00Z}
    """)
    err = malformed(f)
    assert f"scenario {f}: steps[1].expected: unknown key (expected one of id, run, expect, expect_exit)" in err


def test_reference_to_a_missing_step(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", f"""
        steps:
          - id: o
            run: {PLACE}
          - run: orders show ${{missing.id}}
    """)
    err = malformed(f)
    assert f"scenario {f}: steps[1].run: " in err and "missing" in err


def test_reference_to_a_later_step(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", f"""
        steps:
          - run: clock show
          - run: orders show ${{later.id}}
          - id: later
            run: {PLACE}
    """)
    err = malformed(f)
    assert f"scenario {f}: steps[1].run: " in err and "later" in err


def test_reference_in_expect_to_a_missing_step(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", f"""
        steps:
          - id: o
            run: {PLACE}
            expect: {{id: "${{o.id}}"}}
    """)
    err = malformed(f)
    assert f"scenario {f}: steps[0].expect.id: " in err


def test_steps_not_a_list(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", "steps:\n  run: clock show\n")
    err = malformed(f)
    assert str(f) in err and "steps" in err


@pytest.mark.parametrize("text, words", [
    ("- run: clock show\n", ["mapping"]),
    ("steps: []\n", ["steps"]),
    ("steps:\n  - expect: {}\n", ["steps[0].run: missing"]),
    ("steps:\n  - run: clock show\n    expect_exit: four\n", ["steps[0].expect_exit: expected", "found 'four'"]),
    ("steps:\n  - run: clock show\n    expect: [now]\n", ["steps[0].expect: expected", "found [\"now\"]"]),
    ("steps:\n  - run: 'orders show \"ORD-0001'\n", ["steps[0].run: "]),
    ("steps:\n  - {id: a, run: clock show}\n  - {id: a, run: clock show}\n", ["steps[1].id: ", "'a'"]),
    ("start: yesterday\nsteps:\n  - run: clock show\n", ["start: expected", "found 'yesterday'"]),
])
def test_other_malformed_files(tmp_path: Path, text: str, words: list[str]) -> None:
    f = write(tmp_path, "s.yaml", text)
    err = malformed(f)
    assert str(f) in err
    for word in words:
        assert word in err


def test_malformed_error_as_json(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", "steps:\n  - run: clock show\n    bogus: 1\n")
    result = invoke("scenario", "run", str(f), "--json")
    assert result.exit_code == 2 and result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert error["exit"] == 2 and error["message"].startswith(f"scenario {f}: steps[0].bogus: unknown key")


def test_missing_file(tmp_path: Path) -> None:
    err = malformed(tmp_path / "nope.yaml")
    assert "nope.yaml" in err


def test_nothing_runs_when_any_file_is_malformed(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", f"start: 2030-03-04T09:00:00Z\nsteps:\n  - run: {PLACE}\n")
    bad = write(tmp_path, "bad.yaml", "steps:\n  - run: clock show\n    bogus: 1\n")
    report = tmp_path / "junit.xml"
    result = invoke("scenario", "run", str(good), str(bad), "--junit", str(report))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert str(bad) in result.stderr
    assert not report.exists()

"""`scenario run` for CI: a required start, malformed values as exit 2 naming file and step,
steps kept in their own world, --fail-fast, -k, expanded step lines, JUnit times and output."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordercli.cli.app import app

PLACE = 'orders place --buyer alice --seller acme --item "Blue headset" --amount 19.99'


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def refused(*args: str) -> str:
    result = invoke("scenario", "run", *args)
    assert result.exit_code == 2, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    assert result.stdout == "" and "Traceback" not in result.stderr and "internal" not in result.stderr
    return result.stderr


# -- start ------------------------------------------------------------------------------------------


def test_a_scenario_without_start_is_refused_naming_the_file(tmp_path: Path) -> None:
    f = write(tmp_path, "nostart.yaml", "steps:\n  - run: clock show\n")
    err = refused(str(f))
    assert err.startswith(f"error: scenario {f}: start: missing: expected an ISO 8601 instant")
    assert "or now (the wall clock)" in err


def test_start_now_runs_at_the_wall_clock(tmp_path: Path) -> None:
    f = write(tmp_path, "now.yaml", "start: now\nsteps:\n  - id: c\n    run: clock show\n")
    before = datetime.now(UTC).replace(microsecond=0)
    result = invoke("scenario", "run", str(f), "--json")
    after = datetime.now(UTC)
    assert result.exit_code == 0
    now = datetime.fromisoformat(json.loads(result.stdout)[0]["steps"][0]["output"]["now"])
    assert before <= now <= after


NOT_AN_INSTANT = "start: expected an ISO 8601 instant (e.g. 2030-03-04T09:00:00Z) or now (the wall clock), found"


@pytest.mark.parametrize("start, says", [
    # unquoted: YAML would make it a date first, and fail as one
    ("2030-02-30T09:00:00Z", f"{NOT_AN_INSTANT} '2030-02-30T09:00:00Z'"),
    ("2030-13-01T09:00:00Z", f"{NOT_AN_INSTANT} '2030-13-01T09:00:00Z'"),
    ("2030-02-30", f"{NOT_AN_INSTANT} '2030-02-30'"),
    ("'yesterday'", f"{NOT_AN_INSTANT} 'yesterday'"),
    ("5", f"{NOT_AN_INSTANT} 5"),
    ("[2030]", f"{NOT_AN_INSTANT} [2030]"),
    ("{at: 2030}", f'{NOT_AN_INSTANT} {{"at": 2030}}'),
])
def test_a_bad_start_is_exit_2_naming_the_file(tmp_path: Path, start: str, says: str) -> None:
    f = write(tmp_path, "s.yaml", f"start: {start}\nsteps:\n  - run: clock show\n")
    err = refused(str(f))
    assert err.startswith(f"error: scenario {f}: {says}")


def test_an_unquoted_timestamp_stays_as_written(tmp_path: Path) -> None:
    """YAML timestamps are read as text: an unquoted start keeps its offset's meaning, and an
    unquoted expected instant matches by moment."""
    f = write(tmp_path, "s.yaml", """
        start: 2030-03-04T10:00:00+01:00
        steps:
          - run: clock show
            expect: {now: 2030-03-04T09:00:00Z}
          - run: clock show
            expect: {now: 2030-03-04 09:00:00+00:00}
    """)
    result = invoke("scenario", "run", str(f), "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)[0]["steps"][0]["output"] == {"now": "2030-03-04T09:00:00+00:00"}


# -- malformed values and ways out of the world -------------------------------------------------------


@pytest.mark.parametrize("step, words", [
    ("- run: clock show\n    expect_exit: true", ["steps[1].expect_exit: expected an exit code", "found true"]),
    ("- run: clock show\n    expect_exit: 300", ["steps[1].expect_exit: expected an exit code", "found 300"]),
    ("- run: clock show\n    id: 5", ["steps[1].id: expected a word", "found 5"]),
    ("- run: clock show\n    id: two words", ["steps[1].id: expected a word", "found 'two words'"]),
    ("- run: 5", ["steps[1].run: expected", "found 5"]),
    ("- run: ''", ["steps[1].run: expected", "found ''"]),
    ("- run: clock show\n    expect: now", ["steps[1].expect: expected a mapping", "found 'now'"]),
    ("- clock show", ["steps[1]: expected a mapping", "found 'clock show'"]),
])
def test_malformed_step_values_are_exit_2_naming_file_and_step(tmp_path: Path, step: str, words: list[str]) -> None:
    f = write(tmp_path, "s.yaml", f"start: now\nsteps:\n  - run: clock show\n  {step}\n")
    err = refused(str(f))
    assert f"scenario {f}: steps[1]" in err
    for word in words:
        assert word in err


@pytest.mark.parametrize("run", [
    "--db other.json orders list",
    "--db=other.json orders list",
    "orders list --db other.json",
    "db check",
    "db backup copy.json",
    "demo",
])
def test_a_step_may_not_leave_its_world(tmp_path: Path, run: str) -> None:
    f = write(tmp_path, "s.yaml", f"start: now\nsteps:\n  - run: clock show\n  - run: {run}\n")
    err = refused(str(f))
    assert f"scenario {f}: steps[1].run: " in err
    assert "not allowed" in err
    assert not (tmp_path / "other.json").exists() and not (tmp_path / "copy.json").exists()


@pytest.mark.parametrize("run", ["scenario run other.yaml", "policy compare aliexpress ebay --scenario other.yaml"])
def test_a_nested_run_fails_as_a_step(tmp_path: Path, run: str) -> None:
    """Running scenarios inside a step does not leave the world, it runs others: the step fails
    (nested_scenario, exit 2) and the file is not malformed."""
    write(tmp_path, "other.yaml", "start: now\nsteps:\n  - run: clock show\n")
    f = write(tmp_path, "s.yaml", f"start: now\nsteps:\n  - run: {run}\n    expect_exit: 2\n"
                                  "    expect: {error.code: nested_scenario}\n")
    result = invoke("scenario", "run", str(f), "--json")
    assert result.exit_code == 0, result.stdout


def test_the_cli_itself_refuses_db_inside_a_step() -> None:
    """Behind the loader's check: a step's command line can't name another data file."""
    from ordercli.api import Sandbox
    from ordercli.cli.invoke import InProcess

    world = Sandbox(start="2030-03-04T09:00:00Z")
    code, out, err = InProcess(world)(["--db", "elsewhere.json", "orders", "list", "--json"])
    assert code == 2 and out == ""
    assert json.loads(err)["error"]["message"].startswith("--db is not allowed in a scenario step")
    code, out, _ = InProcess(world)(["orders", "place", "--buyer", "a", "--seller", "b", "--item", "c",
                                     "--amount", "1", "--json"])
    assert code == 0 and world.order("ORD-0001")["buyer"] == "a"  # the step ran on that very world


# -- fail-fast, -k, step lines ---------------------------------------------------------------------

FIRST = f"""
    name: first file
    start: 2030-03-04T09:00:00Z
    steps:
      - id: place
        run: {PLACE}
      - id: wrong
        run: orders show ${{place.id}}
        expect: {{status: shipped}}
      - id: tick
        run: clock tick 1h
      - run: clock show
"""
SECOND = f"""
    name: second file
    start: 2030-03-04T09:00:00Z
    steps:
      - id: other
        run: {PLACE}
      - id: ship
        run: seller ship ${{other.id}}
"""


def test_fail_fast_stops_at_the_first_failing_step(tmp_path: Path) -> None:
    a, b = write(tmp_path, "a.yaml", FIRST), write(tmp_path, "b.yaml", SECOND)
    result = invoke("scenario", "run", str(a), str(b), "--fail-fast", "--json")
    assert result.exit_code == 1
    reports = json.loads(result.stdout)
    assert len(reports) == 1  # the second file never ran
    assert [s["index"] for s in reports[0]["steps"]] == [1, 2]
    assert (reports[0]["passed"], reports[0]["failed"], reports[0]["skipped"]) == (1, 1, 2)
    text = invoke("scenario", "run", str(a), str(b), "-x").stdout.splitlines()
    assert text[-2:] == ["1 passed, 1 failed, 2 not run", "total: 1 passed, 1 failed, 2 not run"]
    # without it every step of every file runs
    reports = json.loads(invoke("scenario", "run", str(a), str(b), "--json").stdout)
    assert [len(r["steps"]) for r in reports] == [4, 2]


def test_k_by_scenario_name(tmp_path: Path) -> None:
    a, b = write(tmp_path, "a.yaml", FIRST), write(tmp_path, "b.yaml", SECOND)
    result = invoke("scenario", "run", str(a), str(b), "-k", "SECOND", "--json")
    assert result.exit_code == 0
    assert [r["name"] for r in json.loads(result.stdout)] == ["second file"]
    text = invoke("scenario", "run", str(a), str(b), "-k", "second").stdout
    assert text.splitlines()[-1] == "total: 2 passed, 0 failed, 1 scenario(s) deselected"


def test_k_by_step_id_runs_up_to_that_step(tmp_path: Path) -> None:
    a, b = write(tmp_path, "a.yaml", FIRST), write(tmp_path, "b.yaml", SECOND)
    reports = json.loads(invoke("scenario", "run", str(a), str(b), "-k", "place", "--json").stdout)
    assert [(r["name"], [s["id"] for s in r["steps"]], r["skipped"]) for r in reports] == [
        ("first file", ["place"], 3)
    ]
    reports = json.loads(invoke("scenario", "run", str(a), str(b), "-k", "tick", "--json").stdout)
    assert [s["id"] for s in reports[0]["steps"]] == ["place", "wrong", "tick"]


@pytest.mark.parametrize("json_", [False, True], ids=["text", "json"])
def test_k_that_selects_nothing_is_exit_2_naming_it(tmp_path: Path, json_: bool) -> None:
    """A mistyped -k must not pass CI having run nothing; nothing is written either."""
    a, b = write(tmp_path, "a.yaml", FIRST), write(tmp_path, "b.yaml", SECOND)
    report = tmp_path / "junit.xml"
    args = [str(a), str(b), "-k", "nothing-matches", "--junit", str(report)]
    err = refused(*args, *(["--json"] if json_ else []))
    if json_:
        error = json.loads(err)["error"]
        assert (error["code"], error["exit"]) == ("nothing_selected", 2)
        assert "-k 'nothing-matches' selects no scenario and no step" in error["message"]
    else:
        assert err.startswith("error: -k 'nothing-matches' selects no scenario and no step")
        assert len(err.splitlines()) == 1
    assert not report.exists()
    kept = tmp_path / "kept.json"  # --db keeps one file's world: refused before it is created
    assert refused(str(a), "-k", "nothing-matches", "--db", str(kept))
    assert not kept.exists()
    # a pattern that selects one step of one file is enough
    assert invoke("scenario", "run", str(a), str(b), "-k", "SHIP", "--json").exit_code == 0


# -- a scenario's policy is checked when the file is loaded ---------------------------------------------


@pytest.mark.parametrize("policy, says", [
    ("missing.toml", "policy file 'missing.toml' does not exist, here or beside the scenario"),
    ("bad.toml", "bad.toml: cancel_requests_max: expected an integer"),
    ("broken.toml", "policy file"),  # not TOML
])
def test_a_bad_policy_is_exit_2_naming_the_scenario_before_any_step_runs(
    tmp_path: Path, policy: str, says: str
) -> None:
    (tmp_path / "bad.toml").write_text('cancel_requests_max = "many"\n')
    (tmp_path / "broken.toml").write_text("cancel_requests_max = \n")
    first = write(tmp_path, "first.yaml", f"start: 2030-03-04T09:00:00Z\nsteps:\n  - run: {PLACE}\n")
    f = write(tmp_path, "s.yaml", f"start: 2030-03-04T09:00:00Z\npolicy: {policy}\nsteps:\n  - run: clock show\n")
    report = tmp_path / "junit.xml"
    err = refused(str(first), str(f), "--junit", str(report))
    assert err.startswith(f"error: scenario {f}: ") and says in err
    assert len(err.splitlines()) == 1
    assert not report.exists()  # the file before it did not run
    kept = tmp_path / "kept.json"
    assert refused(str(f), "--db", str(kept)).startswith(f"error: scenario {f}: ")
    assert not kept.exists()
    result = invoke("scenario", "run", str(first), str(f), "--json")
    error = json.loads(result.stderr)["error"]
    assert (result.exit_code, error["code"]) == (2, "bad_policy") and result.stdout == ""


def test_a_policy_beside_the_scenario_is_found_from_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "slow.toml").write_text('seller_response_within = "5d"\n')
    f = write(tmp_path, "s.yaml", f"""
        start: 2030-03-04T09:00:00Z
        policy: slow.toml
        steps:
          - id: o
            run: {PLACE}
          - run: cancel request ${{o.id}} --reason other
            expect: {{cancellation.respond_by: 2030-03-09T09:00:00Z}}
    """)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke("scenario", "run", str(f))
    assert result.exit_code == 0, result.stdout + result.stderr


def test_step_lines_show_the_command_as_run(tmp_path: Path) -> None:
    b = write(tmp_path, "b.yaml", SECOND)
    lines = invoke("scenario", "run", str(b)).stdout.splitlines()
    assert lines[1].split() == ["ok", "1", *"orders place --buyer alice --seller acme --item".split(),
                                "'Blue", "headset'", "--amount", "19.99"]
    assert lines[2].split() == ["ok", "2", "seller", "ship", "ORD-0001"]
    step = json.loads(invoke("scenario", "run", str(b), "--json").stdout)[0]["steps"][1]
    assert step["run"] == "seller ship ${other.id}" and step["command"] == "seller ship ORD-0001"


def test_junit_has_each_steps_time_and_output(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", f"""
        name: hints
        start: 2030-03-04T09:00:00Z
        steps:
          - id: o
            run: {PLACE}
          - run: cancel request ${{o.id}} --reason shipping-delay
          - run: orders show ${{o.id}}
            expect: {{status: shipped}}
    """)
    report = tmp_path / "junit.xml"
    assert invoke("scenario", "run", str(f), "--junit", str(report)).exit_code == 1
    cases = list(ET.parse(report).getroot().iter("testcase"))
    assert [c.get("name") for c in cases] == [
        "step 1 (o): orders place --buyer alice --seller acme --item 'Blue headset' --amount 19.99",
        "step 2: cancel request ORD-0001 --reason shipping-delay",
        "step 3: orders show ORD-0001",
    ]
    assert all(float(c.get("time") or "x") >= 0 for c in cases)
    placed = json.loads(cases[0].findtext("system-out") or "")
    assert placed["id"] == "ORD-0001" and placed["status"] == "awaiting_shipment"
    assert "hint: shipping-delay is the seller's fault" in (cases[1].findtext("system-err") or "")
    failure = cases[2].find("failure")
    assert failure is not None and failure.get("message") == "status: cancel_requested, expected shipped"


def test_a_failing_step_reports_the_history_of_its_order_so_far(tmp_path: Path) -> None:
    f = write(tmp_path, "s.yaml", f"""
        start: 2030-03-04T09:00:00Z
        steps:
          - id: o
            run: {PLACE}
          - run: cancel request ${{o.id}} --reason other
          - run: clock tick 72h
            expect: {{fired.0.kind: order_cancelled}}
          - run: orders show ${{o.id}}
    """)
    report = json.loads(invoke("scenario", "run", str(f), "--json").stdout)[0]
    failed = report["steps"][2]
    assert failed["mismatches"] == [{"path": "fired.0.kind", "expected": "order_cancelled",
                                     "actual": "cancel_timed_out"}]
    assert [e["kind"] for e in failed["history"]] == [
        "order_placed", "order_paid", "cancel_requested", "cancel_timed_out", "order_cancelled", "refund_started"]
    assert "history" not in report["steps"][3]  # only failing steps carry it
    lines = invoke("scenario", "run", str(f)).stdout.splitlines()
    at = lines.index("           history of ORD-0001 up to this step:")
    assert [line.split()[2] for line in lines[at + 1 : at + 7]] == [e["kind"] for e in failed["history"]]

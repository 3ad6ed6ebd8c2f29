"""The pytest plugin: scenario files collected as tests (examples/ among them), -k, -x, --junitxml,
-n (xdist), the failure report, malformed files, the ini option for more patterns, and the
ordercli_sandbox fixture."""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.glob("*.scenario.yaml"))

PLACE = 'orders place --buyer alice --seller acme --item "Blue headset" --amount 19.99'

PASSING = f"""
name: seller silent for 72 hours
start: 2030-03-04T09:00:00Z
steps:
  - id: first
    run: {PLACE}
  - id: ask
    run: cancel request ${{first.id}} --reason second-thought
  - run: clock tick 72h
  - run: orders show ${{first.id}}
    expect: {{status: cancelled, end_reason: seller_silent}}
"""

FAILING = f"""
name: wrong expectation
start: 2030-03-04T09:00:00Z
steps:
  - id: first
    run: {PLACE}
  - id: ask
    run: cancel request ${{first.id}} --reason second-thought
  - id: check
    run: orders show ${{first.id}}
    expect: {{status: shipped, cancellation.status: pending}}
  - run: clock tick 1h
"""


def scenario(pytester: pytest.Pytester, name: str, text: str) -> Path:
    path = pytester.path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.mark.parametrize("on_ci", [False, True], ids=["terminal", "ci"])
def test_a_failure_report_follows_the_tb_option(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, on_ci: bool
) -> None:
    # On CI (CI=true) pytest prints a failure's summary line whole: it must still be one line.
    for var in ("CI", "BUILD_NUMBER"):
        monkeypatch.delenv(var, raising=False)
    if on_ci:
        monkeypatch.setenv("CI", "true")
    scenario(pytester, "bad.scenario.yaml", FAILING)
    crash = "step 3 (id check) failed: ordercli orders show ORD-0001"
    summary = f"FAILED bad.scenario.yaml::wrong expectation - {crash}"

    def run(*args: str) -> list[str]:
        return pytester.runpytest("-p", "no:cacheprovider", "-rf", *args).stdout.lines

    def summary_of(lines: list[str]) -> list[str]:
        return lines[lines.index(next(x for x in lines if "short test summary info" in x)) + 1 : -1]

    long = run()
    assert crash in long and "history of ORD-0001 up to this step:" in long
    short = run("--tb=short")
    assert crash in short and "    - shipped" in short
    assert not any("history of" in x for x in short)  # the diff, not the history
    line = run("--tb=line")
    assert f"bad.scenario.yaml: {crash}" in line
    assert not any("- shipped" in x or "history of" in x for x in line)
    quiet = run("--tb=no")
    assert not any("FAILURES" in x or "- shipped" in x or "history of" in x for x in quiet)
    for lines in (long, short, line, quiet):
        assert len(summary_of(lines)) == 1
        if on_ci:
            assert summary_of(lines) == [summary]
        else:  # trimmed to the terminal's width
            assert summary_of(lines)[0][:-3] in summary


def test_the_examples_pass_under_the_plugin(pytester: pytest.Pytester) -> None:
    assert len(EXAMPLE_NAMES) == 8
    result = pytester.runpytest(str(EXAMPLES), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)


def test_the_examples_pass_with_xdist_in_a_subprocess(pytester: pytest.Pytester) -> None:
    """As CI runs them: `pytest -n 2 examples/`, each worker collecting the same items."""
    result = pytester.runpytest_subprocess(str(EXAMPLES), "-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["bringing up nodes*"])  # xdist did run them


def test_under_xdist_on_ci_a_failure_is_whole_in_its_section_and_one_line_in_the_summary(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")  # the subprocess inherits it: summary lines printed whole
    scenario(pytester, "bad.scenario.yaml", FAILING)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "-rf")
    result.assert_outcomes(failed=1)
    lines = result.stdout.lines
    assert "history of ORD-0001 up to this step:" in lines
    summary = lines[lines.index(next(x for x in lines if "short test summary info" in x)) + 1 : -1]
    assert summary == [
        "FAILED bad.scenario.yaml::wrong expectation - step 3 (id check) failed: ordercli orders show ORD-0001"
    ]


def test_a_passing_and_a_failing_file(pytester: pytest.Pytester) -> None:
    scenario(pytester, "good.scenario.yaml", PASSING)
    scenario(pytester, "bad.scenario.yml", FAILING)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    # the file, the step and its id, the command with ${first.id} expanded
    assert "bad.scenario.yml: wrong expectation" in out
    assert "step 3 (id check) failed: ordercli orders show ORD-0001" in out
    # expected against actual, for the failing path only (cancellation.status did hold)
    result.stdout.fnmatch_lines(["*status: (- expected, + actual)", "*- shipped", "*+ cancel_requested"])
    assert "cancellation.status: (" not in out
    # the order's history up to that step: placed, paid, asked; nothing from the later tick
    history = out[out.index("history of ORD-0001 up to this step:") :].splitlines()[1:4]
    assert [line.split()[2] for line in history] == ["order_placed", "order_paid", "cancel_requested"]
    assert "cancel_timed_out" not in out
    # the steps run, in the captured output; step 4 never ran
    result.stdout.fnmatch_lines(["*FAIL step 3 (check)*: orders show ORD-0001"])
    assert "clock tick 1h" not in out


def test_k_selects_by_scenario_name_file_name_or_step_id(pytester: pytest.Pytester) -> None:
    scenario(pytester, "good.scenario.yaml", PASSING)
    scenario(pytester, "bad.scenario.yml", FAILING)
    pytester.runpytest("-p", "no:cacheprovider", "-k", "silent").assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:cacheprovider", "-k", "check").assert_outcomes(failed=1)  # a step id of bad
    pytester.runpytest("-p", "no:cacheprovider", "-k", "ask").assert_outcomes(passed=1, failed=1)
    pytester.runpytest("-p", "no:cacheprovider", "-k", "not wrong").assert_outcomes(passed=1)


def test_x_stops_at_the_first_failing_scenario(pytester: pytest.Pytester) -> None:
    scenario(pytester, "a.scenario.yaml", FAILING)
    scenario(pytester, "b.scenario.yaml", PASSING)
    result = pytester.runpytest("-p", "no:cacheprovider", "-x")
    result.assert_outcomes(failed=1)


def test_junitxml_has_a_testcase_per_scenario_with_its_steps(pytester: pytest.Pytester) -> None:
    scenario(pytester, "good.scenario.yaml", PASSING)
    scenario(pytester, "bad.scenario.yaml", FAILING)
    report = pytester.path / "junit.xml"
    # steps as properties under xunit1; under xunit2 (the default) in system-out (tests/scenarios/test_junit_schema.py)
    pytester.runpytest("-p", "no:cacheprovider", f"--junitxml={report}", "-o", "junit_logging=system-out",
                       "-o", "junit_family=xunit1")
    cases = {c.get("name"): c for c in ET.parse(report).getroot().iter("testcase")}
    assert set(cases) == {"seller silent for 72 hours", "wrong expectation"}
    good = cases["seller silent for 72 hours"]
    assert good.find("failure") is None
    steps = [p.get("name") for p in good.iter("property")]
    assert steps == ["step 1", "step 2", "step 3", "step 4"]
    failure = cases["wrong expectation"].find("failure")
    assert failure is not None and "step 3 (id check) failed: ordercli orders show ORD-0001" in (failure.text or "")
    assert "history of ORD-0001" in (failure.text or "")  # the whole report; its message is one line
    assert failure.get("message") == "step 3 (id check) failed: ordercli orders show ORD-0001"
    captured = cases["wrong expectation"].find("system-out")
    assert captured is not None and "FAIL step 3 (check)" in (captured.text or "")


def test_a_malformed_file_is_a_collection_error_naming_file_and_step(pytester: pytest.Pytester) -> None:
    # unquoted, YAML would read this as a date (and fail as an internal error); it is refused as an instant
    scenario(pytester, "date.scenario.yaml", "start: 2030-02-30T09:00:00Z\nsteps:\n  - run: clock show\n")
    scenario(pytester, "db.scenario.yaml", "start: now\nsteps:\n  - run: clock show\n  - run: --db x.json clock show\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    assert "scenario date.scenario.yaml: start: expected an ISO 8601 instant" in out
    assert "found '2030-02-30T09:00:00Z'" in out
    assert "scenario db.scenario.yaml: steps[1].run: --db is not allowed" in out
    assert "Traceback" not in out


def test_a_bad_policy_is_a_one_line_collection_error_and_nothing_runs(pytester: pytest.Pytester) -> None:
    """Not a traceback from inside the run: the file is refused when collected, naming it."""
    (pytester.path / "bad.toml").write_text('cancel_requests_max = "many"\n')
    scenario(pytester, "a.scenario.yaml", PASSING)
    scenario(pytester, "missing.scenario.yaml", "start: now\npolicy: nowhere.toml\nsteps:\n  - run: clock show\n")
    scenario(pytester, "bad.scenario.yaml", "start: now\npolicy: bad.toml\nsteps:\n  - run: clock show\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)  # collection errors stop the session: a.scenario.yaml does not run either
    lines = result.stdout.lines
    errors = lines[lines.index(next(x for x in lines if "ERRORS" in x)) : lines.index(
        next(x for x in lines if "short test summary info" in x))]
    assert [x for x in errors[1:] if not x.startswith("_")] == [
        "scenario bad.scenario.yaml: policy file bad.toml: cancel_requests_max: "
        "expected an integer from 0 to 9223372036854775807, found 'many'",
        "scenario missing.scenario.yaml: policy file 'nowhere.toml' does not exist, here or beside the scenario "
        "(presets: aliexpress, aliexpress-2020, ebay, amazon, etsy, shopee-my, walmart, temu)",
    ]
    assert len(errors) == 5  # the heading, and a title and one line per file


def test_an_alias_bomb_is_a_one_line_collection_error(pytester: pytest.Pytester) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)
    ]
    body = "start: now\nsteps:\n  - run: clock show\n    expect:\n" + "".join(f"      {x}\n" for x in levels)
    scenario(pytester, "bomb.scenario.yaml", body)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["scenario bomb.scenario.yaml: expands through its aliases (*NAME) to more than *"])


def test_more_patterns_from_the_ini_file(pytester: pytest.Pytester) -> None:
    scenario(pytester, "story.yaml", PASSING)
    scenario(pytester, "other.yaml", "not: a scenario\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes()  # not collected by default
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nordercli_scenarios = ["story.yaml"]\n')
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_sandbox_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_default(ordercli_sandbox):
            assert ordercli_sandbox.clock() == {"now": "2030-03-04T09:00:00+00:00"}
            assert ordercli_sandbox.policy()["name"] == "aliexpress"
            assert ordercli_sandbox.path is None  # in memory

        @pytest.mark.ordercli(policy="ebay", start="2031-01-06T12:00:00Z")
        def test_marker(ordercli_sandbox):
            assert ordercli_sandbox.clock() == {"now": "2031-01-06T12:00:00+00:00"}
            assert ordercli_sandbox.policy()["name"] == "ebay"

        @pytest.mark.parametrize("ordercli_sandbox", ["ebay", "aliexpress"], indirect=True)
        def test_indirect(ordercli_sandbox, request):
            assert ordercli_sandbox.policy()["name"] == request.node.callspec.id

        def test_fresh_each_time_1(ordercli_sandbox):
            assert ordercli_sandbox.place("a", "b", "c", "1")["id"] == "ORD-0001"

        def test_fresh_each_time_2(ordercli_sandbox):
            assert ordercli_sandbox.place("a", "b", "c", "1")["id"] == "ORD-0001"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=6)

"""JUnit reports, `scenario run --junit` and the pytest plugin's under `--junitxml`, are valid under the
JUnit XSD that pytest checks its own reports with (tests/data/junit-10.xsd, the Jenkins/Surefire
shape; its source is in tests/data/junit-10.xsd.source.md), and follow pytest's `junit_family`:
xunit2 (the default) is valid, xunit1 adds each testcase's `file`."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from typer.testing import CliRunner

from ordercli.cli.app import app

pytest_plugins = ["pytester"]

XSD = Path(__file__).resolve().parent.parent / "data" / "junit-10.xsd"
PLACE = 'orders place --buyer alice --seller acme --item "Blue headset" --amount 19.99'

PASSING = f"""
name: seller silent for 72 hours
start: 2030-03-04T09:00:00Z
steps:
  - id: first
    run: {PLACE}
  - run: cancel request ${{first.id}} --reason second-thought
  - run: clock tick 72h
  - run: orders show ${{first.id}}
    expect: {{status: cancelled, end_reason: seller_silent}}
"""

FAILING = f"""
name: wrong <expectation> & "quotes"
start: 2030-03-04T09:00:00Z
steps:
  - id: first
    run: {PLACE}
  - id: check
    run: orders show ${{first.id}}
    expect: {{status: shipped}}
  - run: clock tick 1h
  - run: clock show
"""


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def errors_of(schema: xmlschema.XMLSchema, report: Path) -> list[str]:
    return [f"{e.path}: {e.reason}" for e in schema.iter_errors(str(report))]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def scenario_files(tmp_path: Path) -> list[Path]:
    # a JSON file can hold characters XML 1.0 cannot: they are escaped, not written raw
    odd = tmp_path / "odd.json"
    odd.write_text(
        json.dumps(
            {
                "name": "bell \x07 and \ufffe",
                "start": "2030-03-04T09:00:00Z",
                "steps": [
                    {"id": "c", "run": "clock show", "expect": {"now": "2030-03-04T09:00:00Z"}},
                    {"run": "orders show ORD-0009 --as 'x\x01'", "expect_exit": 3},
                ],
            }
        )
    )
    return [write(tmp_path, "good.yaml", PASSING), write(tmp_path, "bad.yaml", FAILING), odd]


def run_cli(*args: str) -> int:
    return CliRunner().invoke(app, ["scenario", "run", *args]).exit_code


def test_the_schema_is_pytests_and_refuses_what_it_should(schema: xmlschema.XMLSchema, tmp_path: Path) -> None:
    """The XSD is the real one: it refuses what the old reports had (`file` on a testcase, `skipped`
    on testsuites, six decimals in a suite's time), so a test that passes through it means something."""
    assert "Gregory Boissinot" in XSD.read_text(encoding="utf-8")  # its MIT licence header travels with it
    bad = tmp_path / "old.xml"
    bad.write_text(
        '<testsuites tests="1" failures="0" skipped="0" time="0.000100">'
        '<testsuite name="s" tests="1" failures="0" errors="0" time="0.000100">'
        '<testcase classname="s" name="step 1" file="s.yaml" time="0.000100"/>'
        "</testsuite></testsuites>"
    )
    found = " ".join(errors_of(schema, bad))
    assert "'skipped'" in found and "'file'" in found and "0.000100" in found


@pytest.mark.parametrize("family", [None, "xunit2"])
def test_scenario_run_junit_is_valid(schema: xmlschema.XMLSchema, tmp_path: Path, family: str | None) -> None:
    report = tmp_path / "junit.xml"
    extra = ["--junit-family", family] if family else []
    assert run_cli(*map(str, scenario_files(tmp_path)), "--junit", str(report), *extra) == 1
    assert errors_of(schema, report) == []
    root = ET.parse(report).getroot()
    assert root.get("skipped") is None and all(c.get("file") is None for c in root.iter("testcase"))
    suites = root.findall("testsuite")
    assert [s.get("file") for s in suites] == [str(p) for p in scenario_files(tmp_path)]  # valid on a suite
    assert suites[2].get("name") == "bell \\x07 and \\uFFFE"
    assert [c.get("name") for c in suites[2].iter("testcase")][1] == "step 2: orders show ORD-0009 --as 'x\\x01'"
    # a step's time, and the suite's (at most 3 decimals), stay in the report
    assert all(len(c.get("time", "").split(".")[1]) == 3 for c in root.iter("testcase"))


def test_fail_fast_leaves_the_steps_not_run_as_skipped_testcases(schema: xmlschema.XMLSchema, tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    bad = write(tmp_path, "bad.yaml", FAILING)
    assert run_cli(str(bad), "-x", "--junit", str(report)) == 1
    assert errors_of(schema, report) == []
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "2")
    cases = suite.findall("testcase")
    assert [c.find("skipped") is not None for c in cases] == [False, False, True, True]
    assert [c.get("name") for c in cases[2:]] == ["step 3: clock tick 1h", "step 4: clock show"]


def test_xunit1_puts_the_file_on_each_testcase(schema: xmlschema.XMLSchema, tmp_path: Path) -> None:
    """For readers that link a testcase to its file (GitLab); the schema refuses that attribute only."""
    report = tmp_path / "junit.xml"
    files = scenario_files(tmp_path)
    assert run_cli(*map(str, files), "--junit", str(report), "--junit-family", "xunit1") == 1
    root = ET.parse(report).getroot()
    for suite, path in zip(root.findall("testsuite"), files, strict=True):
        assert {c.get("file") for c in suite.iter("testcase")} == {str(path)}
    found = errors_of(schema, report)
    assert found and all("'file'" in e for e in found)


def test_an_unknown_junit_family_is_exit_2(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    result = CliRunner().invoke(
        app,
        [
            "scenario",
            "run",
            str(write(tmp_path, "good.yaml", PASSING)),
            "--junit",
            str(report),
            "--junit-family",
            "xunit3",
        ],
    )
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: --junit-family: unknown family 'xunit3' (expected one of: xunit2, xunit1)")
    assert not report.exists()


# -- the pytest plugin ------------------------------------------------------------------------------


def plugin_report(
    pytester: pytest.Pytester, *args: str, subprocess: bool = False, unloadable: bool = False
) -> ET.Element:
    write(pytester.path, "good.scenario.yaml", PASSING)
    write(pytester.path, "bad.scenario.yaml", FAILING)
    if unloadable:  # a scenario that can't be collected: an error testcase
        write(
            pytester.path, "nopolicy.scenario.yaml", "start: now\npolicy: nowhere.toml\nsteps:\n  - run: clock show\n"
        )
    report = pytester.path / "junit.xml"
    run = pytester.runpytest_subprocess if subprocess else pytester.runpytest
    result = run("-p", "no:cacheprovider", "--continue-on-collection-errors", f"--junitxml={report}", *args)
    result.assert_outcomes(passed=1, failed=1, errors=1 if unloadable else 0)
    return ET.parse(report).getroot()


@pytest.mark.parametrize("ini", [[], ["-o", "junit_family=xunit2"]], ids=["default", "xunit2"])
def test_the_plugins_report_is_valid_under_xunit2(
    schema: xmlschema.XMLSchema, pytester: pytest.Pytester, ini: list[str]
) -> None:
    root = plugin_report(pytester, *ini)
    assert errors_of(schema, pytester.path / "junit.xml") == []
    assert root.find(".//testcase/properties") is None
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert "seller silent for 72 hours" in cases


def test_under_xunit2_the_steps_go_to_system_out(schema: xmlschema.XMLSchema, pytester: pytest.Pytester) -> None:
    """With pytest's own switch for captured output in the report: each step, its time and command."""
    root = plugin_report(pytester, "-o", "junit_logging=system-out")
    assert errors_of(schema, pytester.path / "junit.xml") == []
    good = next(c for c in root.iter("testcase") if c.get("name") == "seller silent for 72 hours")
    out = (good.findtext("system-out") or "").splitlines()
    steps = [line for line in out if line.startswith("ok ")]
    assert [line.split("]:")[1].strip() for line in steps] == [
        "orders place --buyer alice --seller acme --item 'Blue headset' --amount 19.99",
        "cancel request ORD-0001 --reason second-thought",
        "clock tick 72h",
        "orders show ORD-0001",
    ]
    assert all(" ms]: " in line for line in steps)


def test_a_file_that_cant_be_collected_is_a_valid_error_testcase(
    schema: xmlschema.XMLSchema, pytester: pytest.Pytester
) -> None:
    root = plugin_report(pytester, unloadable=True)
    assert errors_of(schema, pytester.path / "junit.xml") == []
    error = root.find(".//testcase/error")
    assert error is not None and (error.text or "").strip() == (
        "scenario nopolicy.scenario.yaml: policy file 'nowhere.toml' does not exist, here or beside the scenario "
        "(presets: aliexpress, aliexpress-2020, ebay, amazon, etsy, shopee-my, walmart, temu)"
    )


def test_the_plugins_report_is_valid_under_xdist(schema: xmlschema.XMLSchema, pytester: pytest.Pytester) -> None:
    plugin_report(pytester, "-n", "2", subprocess=True, unloadable=True)
    assert errors_of(schema, pytester.path / "junit.xml") == []


@pytest.mark.parametrize("family", ["xunit1", "legacy"])
def test_under_xunit1_the_steps_are_properties(pytester: pytest.Pytester, family: str) -> None:
    root = plugin_report(pytester, "-o", f"junit_family={family}")
    good = next(c for c in root.iter("testcase") if c.get("name") == "seller silent for 72 hours")
    properties = [(p.get("name"), p.get("value", "").split("s ", 1)[1]) for p in good.iter("property")]
    assert properties == [
        ("step 1", "orders place --buyer alice --seller acme --item 'Blue headset' --amount 19.99"),
        ("step 2", "cancel request ORD-0001 --reason second-thought"),
        ("step 3", "clock tick 72h"),
        ("step 4", "orders show ORD-0001"),
    ]

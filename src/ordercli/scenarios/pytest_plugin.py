"""ordercli's pytest plugin (registered through the `pytest11` entry point): scenario files as
tests, and a fixture handing a test a fresh world.

- Files named `*.scenario.yaml`, `*.scenario.yml` or `*.scenario.json` (and any pattern listed
  in the `ordercli_scenarios` ini option) are collected, one test per scenario, named after the
  scenario; its steps' ids are keywords too, so `-k` selects by scenario name, file name or
  step id. Each runs in its own world in memory, steps in-process; the first failing step ends
  it and is reported with its file, step, command (references expanded), expected against
  actual, and the history of the order it is about.
- `ordercli_sandbox`: a fresh `ordercli.Sandbox` in memory at 2030-03-04T09:00:00Z (a Monday)
  under the aliexpress policy; `@pytest.mark.ordercli(policy=..., start=...)` or an indirect
  parameter (`@pytest.mark.parametrize("ordercli_sandbox", ["ebay"], indirect=True)`, a policy
  name or a dict with policy and start) chooses others.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ordercli.api import Sandbox
    from ordercli.scenarios.runner import Scenario

DEFAULT_PATTERNS = ("*.scenario.yaml", "*.scenario.yml", "*.scenario.json")
DEFAULT_START = "2030-03-04T09:00:00Z"  # a Monday
INI_PATTERNS = "ordercli_scenarios"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI_PATTERNS,
        type="args",
        default=[],
        help="more file name patterns (glob) collected as ordercli scenario files, besides "
        + ", ".join(DEFAULT_PATTERNS),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "ordercli(policy=None, start=None): the policy (preset or TOML file) and start instant of the "
        "ordercli_sandbox fixture's world",
    )


def _is_scenario(path: Path, config: pytest.Config) -> bool:
    patterns = [*DEFAULT_PATTERNS, *config.getini(INI_PATTERNS)]
    return any(fnmatch.fnmatch(path.name, p) or path.match(p) for p in patterns)


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(report: Any) -> Generator[None, Any, dict[str, Any] | None]:
    """pytest-xdist sends a report as a dict, with a longrepr like ours as its text only: the
    one-line crash message travels beside it so the summary stays one line under `-n`."""
    data = yield
    longrepr = getattr(report, "longrepr", None)
    if data is not None and isinstance(longrepr, _FailureReport):
        data["ordercli_crash"] = [longrepr.reprcrash.path, longrepr.reprcrash.message]
    return data


@pytest.hookimpl(wrapper=True)
def pytest_report_from_serializable(data: dict[str, Any]) -> Generator[None, Any, Any]:
    crash = data.pop("ordercli_crash", None)
    report = yield
    if crash is not None and report is not None:
        report.longrepr = _FailureReport(str(report.longrepr), _Crash(*crash))
    return report


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_scenario(file_path, parent.config):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioLoadError(Exception):
    """A malformed scenario file: reported as a collection error, with the loader's message."""


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from ordercli.core.errors import UsageError
        from ordercli.scenarios import runner as sc

        try:
            loaded = sc.load(_shown(self.path))
        except UsageError as exc:
            raise ScenarioLoadError(exc.message) from None
        # "::" separates the parts of a node id: a name holding it would not select itself again
        yield ScenarioItem.from_parent(self, name=loaded.name.replace("::", ": "), scenario=loaded)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioLoadError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def _shown(path: Path) -> Path:
    """The path as the user would write it: relative to the working folder when inside it."""
    try:
        return Path(os.path.relpath(path))
    except ValueError:  # another drive
        return path


class StepFailed(Exception):
    def __init__(self, scenario: Scenario, step: dict[str, Any]):
        super().__init__(f"step {step['index']} failed")
        self.scenario = scenario
        self.step = step


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.extra_keyword_matches.update(s.id for s in scenario.steps if s.id)

    def runtest(self) -> None:
        from ordercli.cli.invoke import InProcess
        from ordercli.scenarios import runner as sc

        world = sc.world_for(self.scenario)
        report = sc.run_scenario(self.scenario, world, InProcess(world), fail_fast=True, on_step=_print_step)
        if _steps_as_properties(self.config):
            for step in report["steps"]:
                self.user_properties.append((f"step {step['index']}", f"{step['seconds']:.6f}s {step['command']}"))
        failed = [s for s in report["steps"] if not s["passed"]]
        if failed:
            raise StepFailed(self.scenario, failed[0])

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, StepFailed):
            failed = excinfo.value
            tb = str(self.config.getoption("tbstyle", "auto"))
            # --tb=line prints the crash line after the report: the report itself is then empty.
            text = "" if tb == "line" else describe_failure(failed.scenario, failed.step, tb)
            return _FailureReport(
                text,
                _Crash(str(failed.scenario.path), _failure_line(failed.step)),
            )
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"scenario: {self.name}"


def _steps_as_properties(config: pytest.Config) -> bool:
    """Whether each step's time and command go in the test's user_properties. pytest's JUnit XML
    writes those inside the testcase, which junit_family xunit2 (its default) does not allow: there
    the steps are left to the captured output (`_print_step`), which `junit_logging = system-out`
    puts in the testcase's valid `system-out`. Without --junitxml, or under xunit1 (legacy), they
    are properties as before."""
    if not getattr(config.option, "xmlpath", None):  # no JUnit XML (or its plugin disabled)
        return True
    return config.getini("junit_family") in ("xunit1", "legacy")


class _Crash:
    """What pytest shows of a failure in one line: the summary (`-rf`, whole on CI), `--tb=line`,
    JUnit's failure message. pytest reads its `message` and str()."""

    def __init__(self, path: str, message: str) -> None:
        self.path, self.message = path, message

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class _FailureReport:
    """A scenario failure as pytest prints it: the whole report in the failures section, one line
    (`reprcrash`) wherever pytest wants one, so a CI summary does not repeat the history."""

    def __init__(self, text: str, crash: _Crash) -> None:
        self.text, self.reprcrash = text, crash

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text


def _print_step(step: dict[str, Any]) -> None:
    """Captured by pytest: shown with a failure, and in JUnit's system-out with junit_logging."""
    mark = "ok  " if step["passed"] else "FAIL"
    label = f"step {step['index']}" + (f" ({step['id']})" if step["id"] else "")
    print(f"{mark} {label} [{step['seconds'] * 1000:.1f} ms]: {step['command']}")


def _lines(value: Any) -> list[str]:
    import orjson

    if isinstance(value, (dict, list)):
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode().splitlines()
    return [orjson.dumps(value).decode() if not isinstance(value, str) else value]


def _diff(expected: Any, actual: Any) -> list[str]:
    """- expected, + actual: whole values when short, a line diff of their JSON when long."""
    want, got = _lines(expected), _lines(actual)
    if len(want) == 1 and len(got) == 1:
        return [f"- {want[0]}", f"+ {got[0]}"]
    return [line.rstrip() for line in difflib.ndiff(want, got) if not line.startswith("?")]


def _failure_line(step: dict[str, Any]) -> str:
    label = f"step {step['index']}" + (f" (id {step['id']})" if step["id"] else "")
    return f"{label} failed: ordercli {step['command']}"


def describe_failure(scenario: Scenario, step: dict[str, Any], style: str = "long") -> str:
    """File, step, the command with its references expanded, expected against actual, the history.
    `style` is pytest's --tb: "short" leaves out the history."""
    out = [f"{scenario.path}: {scenario.name}", _failure_line(step)]
    if step["exit"] != step["expect_exit"]:
        line = f"  exit {step['exit']}, expected {step['expect_exit']}"
        output = step["output"]
        if isinstance(output, dict) and isinstance(output.get("error"), dict):
            line += f": {output['error'].get('code')}: {output['error'].get('message')}"
        out.append(line)
    for mismatch in step.get("mismatches", []):
        if mismatch.get("missing"):
            out.append(f"  {mismatch['path']}: not in the output (expected {_lines(mismatch['expected'])[0]})")
            continue
        out.append(f"  {mismatch['path']}: (- expected, + actual)")
        out += [f"    {line}" for line in _diff(mismatch["expected"], mismatch["actual"])]
    others = [f for f in step["failures"] if f.startswith("${")]
    out += [f"  {f}" for f in others]
    history = step.get("history") or []
    if history and style != "short":
        from ordercli.scenarios.runner import history_lines

        out.append(f"history of {history[0]['order_id']} up to this step:")
        out += [f"  {line}" for line in history_lines(history)]
    return "\n".join(out)


@pytest.fixture
def ordercli_sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """A fresh ordercli world in memory, at 2030-03-04T09:00:00Z under aliexpress unless a
    `@pytest.mark.ordercli(policy=..., start=...)` marker or an indirect parameter says otherwise."""
    from ordercli.api import Sandbox

    policy: str | None = None
    start: str | None = None
    marker = request.node.get_closest_marker("ordercli")
    if marker is not None:
        policy = marker.kwargs.get("policy", marker.args[0] if marker.args else None)
        start = marker.kwargs.get("start")
    param = getattr(request, "param", None)
    if isinstance(param, str):
        policy = param
    elif isinstance(param, dict):
        policy = param.get("policy", policy)
        start = param.get("start", start)
    return Sandbox(start=start or DEFAULT_START, policy=policy)

"""Scenario files (docs/cli.md "Scenario files"): parse, check, run in-process, report.

The runner never starts a process and knows no command-line syntax beyond splitting words: it
is handed an `invoke(words) -> (exit, stdout, stderr)` (the CLI's, run in this process) bound
to the scenario's own world, a `Sandbox` kept in memory unless the caller keeps it in a file.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordercli.core.errors import NotFound, UsageError
from ordercli.core.reader import Key, ListOf, Source, Table, Value, check, index, join, read_file, show
from ordercli.core.timecalc import parse_stored

if TYPE_CHECKING:
    from ordercli.api import Sandbox

_STEP_ID = re.compile(r"[A-Za-z0-9_\-]+")
START_TEXT = "an ISO 8601 instant (e.g. 2030-03-04T09:00:00Z) or now (the wall clock)"
# A scenario file's keys (docs/cli.md "Scenario files"), read by ordercli.core.reader
STEP = Table(
    (
        Key(
            "id",
            Value("a word (letters, digits, _ and -)", lambda v: isinstance(v, str) and bool(_STEP_ID.fullmatch(v))),
        ),
        Key("run", Value("an ordercli command line", lambda v: isinstance(v, str) and v.strip() != ""), required=True),
        Key(
            "expect",
            Value("a mapping of dotted paths to values", lambda v: v is None or isinstance(v, dict)),
            default={},
        ),
        Key(
            "expect_exit",
            Value(
                "an exit code from 0 to 255", lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255
            ),
            default=0,
        ),
    ),
    expected="a mapping with run, and optionally id, expect, expect_exit",
)
SCENARIO = Table(
    (
        Key("name", Value("text", lambda v: isinstance(v, (str, int, float)))),
        Key("policy", Value("a preset name or a TOML file path", lambda v: isinstance(v, str))),
        Key("steps", ListOf(STEP, non_empty=True, expected="a list of steps"), required=True),
        Key("start", Value(START_TEXT, lambda v: isinstance(v, str)), required=True),
    ),
    expected="a mapping with name, start, policy and steps",
)
FILE_KEYS = set(SCENARIO.names())
STEP_KEYS = set(STEP.names())
_REF_RE = re.compile(r"\$\{([A-Za-z0-9_\-]+)((?:\.[^.}]+)*)\}")
_ORDER_ID_RE = re.compile(r"ORD-\d+")
# A step works on its scenario's own world and nothing else: no other data file, no world of
# its own (demo). (Nested runs, `scenario run` and `policy compare`, fail as steps instead, with
# nested_scenario: they would not leave the world, only run others.)
OUT_OF_WORLD_OPTIONS = ("--db", "--save-sample", "--plot", "--events-out")  # files outside the world
OUT_OF_WORLD_COMMANDS = {"db": "the data file", "demo": "a world of its own"}

Invoke = Callable[[list[str]], tuple[int, str, str]]


@dataclass
class Step:
    index: int
    run: str
    id: str | None = None
    expect: dict[str, Any] = field(default_factory=dict)
    expect_exit: int = 0
    words: list[str] = field(default_factory=list)  # `run` split as a shell would, once


@dataclass
class Scenario:
    path: Path
    name: str
    start: datetime | None  # None: `start: now`, the wall clock when it runs
    policy: str | None
    steps: list[Step]

    def selection(self, pattern: str | None) -> int | None:
        """How many steps `-k PATTERN` runs: all of them when the pattern is in the scenario's
        name (or file name), else up to the last step whose id holds it, else none (None).
        Case-insensitive, as pytest's -k."""
        if not pattern:
            return len(self.steps)
        p = pattern.lower()
        if p in self.name.lower() or p in self.path.name.lower():
            return len(self.steps)
        hits = [s.index for s in self.steps if s.id is not None and p in s.id.lower()]
        return max(hits) if hits else None


def _source(path: Path) -> Source:
    return Source(f"scenario {path}", "bad_scenario")


def _read(path: Path) -> Any:
    # YAML without its timestamp type: `start: 2030-02-30T09:00:00Z` stays the text it is (and is
    # refused as an instant) instead of failing as a date, and expected instants are compared as
    # text, as in JSON files
    return read_file(path, _source(path), "json" if path.suffix.lower() == ".json" else "yaml")


def _start(path: Path, value: str) -> datetime | None:
    if value == "now":
        return None
    from ordercli.core.timecalc import parse_instant

    try:
        return parse_instant(value, "start")
    except UsageError as exc:
        # the parser's own reason where it says more than "expected ISO 8601" (fractional seconds)
        reason = exc.message.split("': ", 1)[-1]
        detail = "" if reason.startswith("expected") else f" ({reason})"
        raise _source(path).problem("start", f"expected {START_TEXT}, found {show(value)}{detail}") from None


def _leaves_its_world(words: list[str]) -> str | None:
    """Why a step's command line would reach outside the scenario's world, or None."""
    for word in words:
        if word in OUT_OF_WORLD_OPTIONS or word.startswith(tuple(o + "=" for o in OUT_OF_WORLD_OPTIONS)):
            return f"{word.split('=')[0]} is not allowed: every step runs on the scenario's own world"
    commands = [w for w in words if not w.startswith("-")]
    if commands and commands[0] in OUT_OF_WORLD_COMMANDS:
        return f"`{commands[0]}` is not allowed in a step: it works on {OUT_OF_WORLD_COMMANDS[commands[0]]}"
    return None


def load(path: Path) -> Scenario:
    """Parse and check one file; exit 2 naming the file and the key's path when it is malformed."""
    source = _source(path)
    # the steps are read whole before a missing start is named: it is most often a file's only fault
    data = check(_read(path), SCENARIO, source, partial=True)
    if "steps" not in data:
        raise source.missing("steps", SCENARIO.key("steps").value.expected)
    name = data.get("name")
    steps: list[Step] = []
    seen: set[str] = set()
    for n, raw in enumerate(data["steps"], start=1):
        where = index("steps", n - 1)
        run = raw["run"]
        try:
            words = shlex.split(run)
        except ValueError as exc:
            raise source.problem(f"{where}.run", f"can't be split into words: {exc}") from None
        way_out = _leaves_its_world(words)
        if way_out:
            raise source.problem(f"{where}.run", way_out)
        expect = raw.get("expect") or {}
        for ref in _refs(run):
            if ref not in seen:
                raise source.problem(f"{where}.run", f"${{{ref}...}} names no earlier step with that id")
        for k, v in expect.items():
            for ref in _refs(v):
                if ref not in seen:
                    raise source.problem(
                        join(f"{where}.expect", k), f"${{{ref}...}} names no earlier step with that id"
                    )
        step_id = raw.get("id")
        if step_id is not None:
            if step_id in seen:
                raise source.problem(f"{where}.id", f"{step_id!r} is the id of an earlier step")
            seen.add(step_id)
        steps.append(Step(n, run, step_id, {str(k): v for k, v in expect.items()}, STEP.get(raw, "expect_exit"), words))
    if "start" not in data:
        raise source.missing("start", START_TEXT)
    start = _start(path, data["start"])
    policy = _checked_policy(path, data.get("policy"))
    return Scenario(path, str(name) if name is not None else path.name.split(".")[0], start, policy, steps)


def _checked_policy(path: Path, policy: str | None) -> str | None:
    """The scenario's policy, a preset or a TOML file (a relative one is looked up beside the
    scenario too), read and checked now: a bad one is exit 2 naming the scenario before any
    step of any file runs, not a failure halfway through a run."""
    from ordercli.core import presets

    if policy is None or policy in presets.PRESETS:
        return policy
    if not Path(policy).exists() and (path.parent / policy).exists():
        policy = str(path.parent / policy)
    try:
        presets.load(policy)
    except UsageError as exc:
        message = exc.message
        if not Path(policy).exists() and not Path(policy).is_absolute():
            message = (
                f"policy file {policy!r} does not exist, here or beside the scenario "
                f"(presets: {', '.join(presets.PRESETS)})"
            )
        raise UsageError(f"scenario {path}: {message}", "bad_policy") from None
    return policy


def world_for(scenario: Scenario, policy: str | None = None, db: Path | None = None) -> Sandbox:
    """The scenario's own fresh world at its start, under its policy (or `policy`, overriding
    it): in memory, or starting afresh in the file `db`."""
    from ordercli.api import Sandbox

    policy = policy or scenario.policy
    if db is None:
        return Sandbox(start=scenario.start, policy=policy)
    return Sandbox(db, start=scenario.start, policy=policy, replace=True)


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return [m.group(1) for m in _REF_RE.finditer(value)] if isinstance(value, str) else []


_MISSING = object()


def lookup(value: Any, dotted: str, default: Any = _MISSING) -> Any:
    """The value at a dotted path (list items by index), or `default` (_MISSING)."""
    for part in [p for p in dotted.split(".") if p != ""]:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and re.fullmatch(r"-?\d+", part) and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        else:
            return default
    return value


def as_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import orjson

        return orjson.dumps(value).decode()
    return str(value)


class RefError(Exception):
    pass


def substitute(value: Any, outputs: dict[str, Any]) -> Any:
    """`${id.path}` -> the value there. A string that is one whole reference keeps the
    value's type (for expect); references inside text become text; mappings and lists
    (expected whole) have theirs replaced too."""
    if isinstance(value, dict):
        return {k: substitute(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, outputs) for v in value]
    if not isinstance(value, str):
        return value

    def resolve(m: re.Match[str]) -> Any:
        found = lookup(outputs.get(m.group(1)), m.group(2))
        if found is _MISSING:
            raise RefError(f"${{{m.group(1)}{m.group(2)}}} is not in the output of step {m.group(1)!r}")
        return found

    whole = _REF_RE.fullmatch(value)
    if whole:
        return resolve(whole)
    return _REF_RE.sub(lambda m: as_text(resolve(m)), value)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _instant(value: Any) -> datetime | None:
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            dt = parse_stored(value)
        except ValueError:
            return None
        return dt if dt is None or dt.tzinfo else dt.replace(tzinfo=UTC)
    return None


def matches(expected: Any, actual: Any) -> bool:
    """docs/cli.md: equal as JSON, or reads the same as text; decimals by value; instants by moment."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(matches(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(matches(e, a) for e, a in zip(expected, actual, strict=True))
    if type(expected) is type(actual) and expected == actual:
        return True
    if as_text(expected) == as_text(actual):
        return True
    e_dec, a_dec = _decimal(expected), _decimal(actual)
    if e_dec is not None and a_dec is not None and e_dec.is_finite() and a_dec.is_finite():
        return e_dec == a_dec
    e_at, a_at = _instant(expected), _instant(actual)
    return e_at is not None and a_at is not None and e_at == a_at


def _order_of(words: list[str], output: Any) -> str | None:
    """The order a step is about: the one it printed, else the first order id it names, else
    the order of the first event it fired."""
    if isinstance(output, dict):
        for key in ("id", "order_id"):
            value = output.get(key)
            if isinstance(value, str) and _ORDER_ID_RE.fullmatch(value):
                return value
    for word in words:
        found = _ORDER_ID_RE.search(word)
        if found:
            return found.group(0)
    fired = output.get("fired") if isinstance(output, dict) else None
    for event in fired if isinstance(fired, list) else []:
        if isinstance(event, dict) and isinstance(event.get("order_id"), str):
            return event["order_id"]
    return None


def _history(world: Sandbox, order_id: str | None) -> list[dict[str, Any]]:
    if order_id is None:
        return []
    try:
        return [dict(e) for e in world.events(order_id=order_id)]
    except NotFound:
        return []


def run_scenario(
    sc: Scenario,
    world: Sandbox,
    invoke: Invoke,
    *,
    until: int | None = None,
    fail_fast: bool = False,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Runs the steps (the first `until` of them, default all) on `world`, a fresh world at the
    scenario's start, through `invoke`. With `fail_fast`, stops after the first failing step.
    A failing step's report carries `history`: the events of the order it is about, so far.
    `on_step(step_report)` is told of each step as it ends. Returns the file's report; the
    steps not run are counted as `skipped`."""
    import orjson

    outputs: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    last = len(sc.steps) if until is None else until
    about: str | None = None  # the order the latest step was about
    for step in sc.steps[:last]:
        began = time.perf_counter()
        failures: list[str] = []
        mismatches: list[dict[str, Any]] = []
        output: Any = None
        code: int | None = None
        err = ""
        try:
            words = [substitute(w, outputs) for w in step.words or shlex.split(step.run)]
            words = [as_text(w) if not isinstance(w, str) else w for w in words]
        except RefError as exc:
            failures.append(str(exc))
            words = []
        if words:
            args = words if "--json" in words else [*words, "--json"]
            code, out, err = invoke(args)
            text = out if code == 0 else err
            try:
                output = orjson.loads(text) if text.strip() else None
            except orjson.JSONDecodeError:
                output = text
            if code != step.expect_exit:
                detail = ""
                if code != 0 and isinstance(output, dict) and isinstance(output.get("error"), dict):
                    detail = f": {output['error'].get('message')}"
                failures.append(f"exit {code}, expected {step.expect_exit}{detail}")
            for dotted, want in step.expect.items():
                try:
                    want = substitute(want, outputs)
                except RefError as exc:
                    failures.append(str(exc))
                    continue
                got = lookup(output, dotted)
                if got is _MISSING:
                    failures.append(f"{dotted}: not in the output (expected {as_text(want)})")
                    mismatches.append({"path": dotted, "expected": want, "missing": True})
                elif not matches(want, got):
                    failures.append(f"{dotted}: {as_text(got)}, expected {as_text(want)}")
                    mismatches.append({"path": dotted, "expected": want, "actual": got})
        if step.id is not None:
            outputs[step.id] = output
        result: dict[str, Any] = {
            "index": step.index,
            "id": step.id,
            "run": step.run,
            "args": words,
            "command": shlex.join(words) if words else step.run,
            "exit": code,
            "expect_exit": step.expect_exit,
            "passed": not failures,
            "failures": failures,
            "output": output,
            "stderr": err,
            "seconds": round(time.perf_counter() - began, 6),
        }
        about = _order_of(words, output) or about
        if failures:
            result["mismatches"] = mismatches
            result["history"] = _history(world, about)
        results.append(result)
        if on_step is not None:
            on_step(result)
        if failures and fail_fast:
            break
    passed = sum(1 for r in results if r["passed"])
    return {
        "file": str(sc.path),
        "name": sc.name,
        "passed": passed,
        "failed": len(results) - passed,
        "skipped": len(sc.steps) - len(results),
        "steps": results,
    }


def history_lines(history: list[dict[str, Any]]) -> list[str]:
    """A failing step's `history`, a line an event, for people (the CLI's and pytest's reports)."""
    lines = []
    for e in history:
        details = ", ".join(f"{k}={v}" for k, v in e["details"].items() if v is not None)
        lines.append(f"{e['seq']:>4}  {e['at']}  {e['kind']:<18} {e['actor']}" + (f"  ({details})" if details else ""))
    return lines


# Where two policies' outcomes are compared, per order (`policy compare`).
COMPARED = ("status", "end_reason", "cancelled_at", "refund.due_by", "refund.refunded_at", "refund.status")


def compare_policies(sc: Scenario, a: str, b: str, invoker: Callable[[Sandbox], Invoke]) -> dict[str, Any]:
    """Runs the scenario under policy `a` and under `b`, each in a fresh world in memory, and
    lists the orders' fields (COMPARED) whose final values differ."""
    from ordercli.core import presets

    for name in (a, b):
        presets.load(name)  # a bad policy is exit 2 before anything runs
    finals: list[dict[str, Any]] = []
    runs = []
    for name in (a, b):
        world = world_for(sc, policy=name)
        report = run_scenario(sc, world, invoker(world))
        runs.append({"policy": name, "passed": report["passed"], "failed": report["failed"]})
        finals.append({o["id"]: o for o in world.orders()})
    rows = []
    for oid in sorted(set(finals[0]) | set(finals[1]), key=lambda i: int(i[4:])):
        for path in COMPARED:
            va = lookup(finals[0].get(oid), path, None)
            vb = lookup(finals[1].get(oid), path, None)
            if va != vb:
                rows.append({"order_id": oid, "field": path, "a": va, "b": vb})
    return {"a": a, "b": b, "scenario": str(sc.path), "runs": runs, "differences": rows}


JUNIT_FAMILIES = ("xunit2", "xunit1")
# Characters XML 1.0 can't hold (pytest's junitxml leaves out DEL too).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\u007e\u0080-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    """Text as XML can hold it: a character it can't is written `\\xNN` (`\\uNNNN`), as pytest does."""
    return _NOT_XML.sub(
        lambda m: f"\\x{ord(m.group()):02X}" if ord(m.group()) <= 0xFF else f"\\u{ord(m.group()):04X}", text
    )


def _seconds(value: float) -> str:
    # the Surefire schema's SUREFIRE_TIME allows at most 3 decimals
    return f"{value:.3f}"


def _testcase(suite: Any, report: dict[str, Any], family: str, label: str, command: str, seconds: float) -> Any:
    import xml.etree.ElementTree as ET

    attrib = {"classname": _xml(report["name"]), "name": _xml(f"{label}: {command}")}
    if family == "xunit1":  # as pytest's xunit1; the Surefire schema refuses it
        attrib["file"] = _xml(report["file"])
    return ET.SubElement(suite, "testcase", attrib, time=_seconds(seconds))


def junit_xml(runs: list[tuple[Scenario, dict[str, Any]]], family: str = "xunit2") -> bytes:
    """JUnit XML of (scenario, its report) pairs: a testsuite per file, a testcase per step with
    its time and its captured output (the JSON it printed on stdout, and its stderr); the steps
    not run are skipped testcases.

    `xunit2` (the default, as pytest's) is valid under the Jenkins/Surefire schema that pytest
    checks its own reports with (tests/data/junit-10.xsd); `xunit1` adds the scenario's `file`
    to each testcase, as pytest's xunit1 does, for readers that link a testcase to its file
    (GitLab), which that schema refuses."""
    import xml.etree.ElementTree as ET

    import orjson

    root = ET.Element(
        "testsuites",
        tests=str(sum(len(sc.steps) for sc, _ in runs)),
        failures=str(sum(r["failed"] for _, r in runs)),
        errors="0",
        time=_seconds(sum(s["seconds"] for _, r in runs for s in r["steps"])),
    )
    for scenario, report in runs:
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_xml(report["name"]),
            file=_xml(report["file"]),
            tests=str(len(scenario.steps)),
            failures=str(report["failed"]),
            errors="0",
            skipped=str(len(scenario.steps) - len(report["steps"])),
            time=_seconds(sum(s["seconds"] for s in report["steps"])),
        )
        for step in report["steps"]:
            case = _testcase(
                suite,
                report,
                family,
                f"step {step['index']}" + (f" ({step['id']})" if step["id"] else ""),
                step["command"],
                step["seconds"],
            )
            if not step["passed"]:
                failure = ET.SubElement(case, "failure", message=_xml("; ".join(step["failures"])))
                failure.text = _xml("\n".join(step["failures"]))
            if step["output"] is not None:
                out = ET.SubElement(case, "system-out")
                out.text = _xml(orjson.dumps(step["output"], option=orjson.OPT_INDENT_2).decode())
            if step["stderr"]:
                err = ET.SubElement(case, "system-err")
                err.text = _xml(step["stderr"])
        for not_run in scenario.steps[len(report["steps"]) :]:
            label = f"step {not_run.index}" + (f" ({not_run.id})" if not_run.id else "")
            ET.SubElement(_testcase(suite, report, family, label, not_run.run, 0.0), "skipped", message="not run")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)

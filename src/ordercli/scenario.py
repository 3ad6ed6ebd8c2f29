"""Scenario files (CLI.md "Scenario files"): parse, check, run in-process, report.

The runner never starts a process: it is handed an `invoke(args) -> (exit, stdout, stderr)`
by the CLI layer and runs each step's command line through it, against the scenario's own
data file.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ordercli.errors import UsageError

FILE_KEYS = {"name", "start", "policy", "steps"}
STEP_KEYS = {"id", "run", "expect", "expect_exit"}
_REF_RE = re.compile(r"\$\{([A-Za-z0-9_\-]+)((?:\.[^.}]+)*)\}")

Invoke = Callable[[list[str]], tuple[int, str, str]]


@dataclass
class Step:
    index: int
    run: str
    id: str | None = None
    expect: dict[str, Any] = field(default_factory=dict)
    expect_exit: int = 0


@dataclass
class Scenario:
    path: Path
    name: str
    start: datetime | None
    policy: str | None
    steps: list[Step]


def _bad(path: Path, message: str, step: int | None = None) -> UsageError:
    where = f"{path}" + (f", step {step}" if step is not None else "")
    return UsageError(f"scenario {where}: {message}", "bad_scenario")


def _to_instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def load(path: Path) -> Scenario:
    """Parse and check one file; exit 2 naming the file (and step) when it is malformed."""
    if "\x00" in str(path):
        raise _bad(path, "is not a usable file path")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(path, f"cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    if path.suffix.lower() == ".json":
        import orjson

        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise _bad(path, f"is not valid JSON: {exc}") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise _bad(path, f"is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise _bad(path, "must be a mapping with name, start, policy and steps")
    unknown = sorted(set(map(str, data)) - FILE_KEYS)
    if unknown:
        raise _bad(path, f"unknown key {unknown[0]!r} (expected {', '.join(sorted(FILE_KEYS))})")
    start = data.get("start")
    if start is not None:
        instant = _to_instant(start)
        if instant is None:
            from ordercli.timecalc import parse_instant

            try:
                instant = parse_instant(str(start), "start")
            except UsageError as exc:
                raise _bad(path, exc.message) from None
        start = instant.astimezone(UTC)
    policy = data.get("policy")
    if policy is not None and not isinstance(policy, str):
        raise _bad(path, "policy must be a preset name or a TOML file path")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise _bad(path, "steps must be a non-empty list")
    steps: list[Step] = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_steps, start=1):
        if not isinstance(raw, dict):
            raise _bad(path, "a step must be a mapping with run, and optionally id, expect, expect_exit", n)
        unknown = sorted(set(map(str, raw)) - STEP_KEYS)
        if unknown:
            raise _bad(path, f"unknown key {unknown[0]!r} (expected {', '.join(sorted(STEP_KEYS))})", n)
        run = raw.get("run")
        if not isinstance(run, str) or not run.strip():
            raise _bad(path, "run must be an ordercli command line", n)
        try:
            shlex.split(run)
        except ValueError as exc:
            raise _bad(path, f"run can't be split into words: {exc}", n) from None
        expect = raw.get("expect") or {}
        if not isinstance(expect, dict):
            raise _bad(path, "expect must be a mapping of dotted paths to values", n)
        expect_exit = raw.get("expect_exit", 0)
        if not isinstance(expect_exit, int) or isinstance(expect_exit, bool) or not 0 <= expect_exit <= 255:
            raise _bad(path, "expect_exit must be an exit code", n)
        for ref in _refs(run) + [r for v in expect.values() for r in _refs(v)]:
            if ref not in seen:
                raise _bad(path, f"${{{ref}...}} names no earlier step with that id", n)
        step_id = raw.get("id")
        if step_id is not None:
            if not isinstance(step_id, str) or not re.fullmatch(r"[A-Za-z0-9_\-]+", step_id):
                raise _bad(path, "id must be a word (letters, digits, _ and -)", n)
            if step_id in seen:
                raise _bad(path, f"id {step_id!r} is used twice", n)
            seen.add(step_id)
        steps.append(Step(n, run, step_id, {str(k): v for k, v in expect.items()}, expect_exit))
    name = data.get("name")
    return Scenario(path, str(name) if name is not None else path.stem, start, policy, steps)


def _refs(value: Any) -> list[str]:
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
    value's type (for expect); references inside text become text."""
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
    found = _to_instant(value)
    if found is not None:
        return found
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return None


def matches(expected: Any, actual: Any) -> bool:
    """CLI.md: equal as JSON, or reads the same as text; decimals by value; instants by moment."""
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


def run_scenario(sc: Scenario, invoke: Invoke, db: Path) -> dict[str, Any]:
    """Runs every step against `db` (a fresh world already there). Returns the file's report."""
    import orjson

    outputs: dict[str, Any] = {}
    results = []
    for step in sc.steps:
        failures: list[str] = []
        output: Any = None
        code: int | None = None
        try:
            words = [substitute(w, outputs) for w in shlex.split(step.run)]
            words = [as_text(w) if not isinstance(w, str) else w for w in words]
        except RefError as exc:
            failures.append(str(exc))
            words = []
        if words:
            args = ["--db", str(db), *words]
            if "--json" not in words:
                args.append("--json")
            code, out, err = invoke(args)
            text = out if code == 0 else err
            try:
                output = orjson.loads(text) if text.strip() else None
            except orjson.JSONDecodeError:
                output = text
            if code != step.expect_exit:
                detail = ""
                if code != 0 and isinstance(output, dict) and "error" in output:
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
                elif not matches(want, got):
                    failures.append(f"{dotted}: {as_text(got)}, expected {as_text(want)}")
        if step.id is not None:
            outputs[step.id] = output
        results.append(
            {
                "index": step.index,
                "id": step.id,
                "run": step.run,
                "args": words,
                "exit": code,
                "expect_exit": step.expect_exit,
                "passed": not failures,
                "failures": failures,
                "output": output,
            }
        )
    passed = sum(1 for r in results if r["passed"])
    return {
        "file": str(sc.path),
        "name": sc.name,
        "passed": passed,
        "failed": len(results) - passed,
        "steps": results,
    }


def junit_xml(reports: list[dict[str, Any]]) -> bytes:
    import xml.etree.ElementTree as ET

    root = ET.Element(
        "testsuites", tests=str(sum(len(r["steps"]) for r in reports)), failures=str(sum(r["failed"] for r in reports))
    )
    for report in reports:
        suite = ET.SubElement(
            root,
            "testsuite",
            name=report["name"],
            file=report["file"],
            tests=str(len(report["steps"])),
            failures=str(report["failed"]),
            errors="0",
        )
        for step in report["steps"]:
            case = ET.SubElement(
                suite, "testcase", classname=report["name"], name=f"step {step['index']}: {step['run']}"
            )
            if not step["passed"]:
                failure = ET.SubElement(case, "failure", message="; ".join(step["failures"]))
                failure.text = "\n".join(step["failures"])
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)

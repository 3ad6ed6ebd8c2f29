"""A small AST mutation tester: does the suite notice when the code is subtly wrong?

    nice -n 10 .venv/bin/python tools/mutate.py src/ordercli/core/policy.py [more modules...] \
        [--tests tests/core/test_policy.py ...] [--timeout 60] [--every N | --max N] [--report FILE]

For each module, every mutant (one small change: a comparison flipped, `and` for `or`, a
constant changed, a statement dropped, a condition negated, ...) is written into a snapshot
of the checkout in a temporary folder, and pytest runs the chosen tests against it with `-x` (first
failure stops) and a per-mutant timeout. A mutant is *killed* when a test fails or the run
times out, *survived* when every test passes. The working tree is never modified, so the
tool is safe to run beside an editor, and any module path works (new files included).

Mutants listed in the equivalents file (tests/MUTATION-equivalent.txt by default: one
`path:line:col:operator` key per line, then ` # reason`) are counted apart: no test can
kill a change that doesn't change behaviour. `--every N` keeps one mutant in N (always the
same ones: deterministic sampling) to fit a time budget; the report says so.

Message strings (containing a space) are not mutated: tests check error *codes* exactly
and messages by the facts they carry, not by their wording. Docstrings and f-strings are
skipped. A line ending in `# pragma: no mutate` is skipped.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EQUIVALENTS = ROOT / "tests" / "MUTATION-equivalent.txt"
# Tests that run processes or time imports: slow, and they test nothing the others don't.
SLOW_TESTS = {"process/test_streams_and_exits.py", "process/test_import_cost.py", "process/test_terminal_progress.py",
              "cli/test_completions.py"}  # fmt: skip

_CMP_SWAP: dict[type, type] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_BIN_SWAP: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
}
_CODE_LIKE = re.compile(r"[A-Za-z0-9_.\-]+")


@dataclass
class Mutant:
    path: str
    line: int
    col: int
    op: str
    start: tuple[int, int]
    end: tuple[int, int]
    replacement: str
    original: str

    @property
    def key(self) -> str:
        return f"{self.path}:{self.line}:{self.col}:{self.op}"


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0]))
                ids.add(id(body[0].value))
    return ids


def _skipped(tree: ast.AST) -> set[int]:
    """Nodes never mutated: docstrings, f-string insides, annotations, imports, __all__."""
    skip = _docstring_nodes(tree)
    for node in ast.walk(tree):
        inner: list[ast.AST] = []
        if isinstance(node, ast.JoinedStr):
            inner = [node]
        elif isinstance(node, ast.AnnAssign | ast.arg) and node.annotation is not None:
            inner = [node.annotation]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            inner = [node.returns]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            inner = [node]
        for n in inner:
            skip.update(id(x) for x in ast.walk(n))
    return skip


def mutants_of(path: Path, rel: str) -> list[Mutant]:
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    skip = _skipped(tree)
    out: list[Mutant] = []

    def add(node: ast.AST, op: str, replacement: str, paren: bool = True) -> None:
        line = node.lineno  # type: ignore[attr-defined]
        if lines[line - 1].rstrip().endswith("# pragma: no mutate"):
            return
        original = ast.get_source_segment(source, node) or ""
        out.append(
            Mutant(
                rel,
                line,
                node.col_offset,  # type: ignore[attr-defined]
                op,
                (line, node.col_offset),  # type: ignore[attr-defined]
                (node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
                f"({replacement})" if paren else replacement,
                original,
            )
        )

    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                swap = _CMP_SWAP.get(type(op))
                if swap is not None:
                    ops = list(node.ops)
                    ops[i] = swap()
                    add(node, f"cmp{i}", ast.unparse(ast.Compare(node.left, ops, node.comparators)))
        elif isinstance(node, ast.BoolOp):
            other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            add(node, "boolop", ast.unparse(ast.BoolOp(other, node.values)))
            for i in range(len(node.values)):
                rest = node.values[:i] + node.values[i + 1 :]
                kept = rest[0] if len(rest) == 1 else ast.BoolOp(node.op, rest)
                add(node, f"drop{i}", ast.unparse(kept))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            add(node, "unnot", ast.unparse(node.operand))
        elif isinstance(node, ast.BinOp):
            swap = _BIN_SWAP.get(type(node.op))
            if swap is not None:
                add(node, "binop", ast.unparse(ast.BinOp(node.left, swap(), node.right)))
        elif isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool):
                add(node, "const", repr(not v))
            elif isinstance(v, int | float) and not isinstance(v, bool):
                add(node, "const", repr(v + 1))
            elif isinstance(v, str) and v and _CODE_LIKE.fullmatch(v):
                add(node, "const", repr(v + "_X"))
            elif v is None:
                pass
        elif isinstance(node, ast.If | ast.While):
            add(node.test, "negate", f"not ({ast.unparse(node.test)})")
        elif isinstance(node, ast.IfExp):
            add(node.test, "negate", f"not ({ast.unparse(node.test)})")
        elif isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                add(node, "return", "return None", paren=False)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            add(node, "delete", "pass", paren=False)
        elif isinstance(node, ast.Assign | ast.AugAssign) and any(
            isinstance(t, ast.Subscript | ast.Attribute)
            for t in getattr(node, "targets", [getattr(node, "target", None)])
        ):
            add(node, "delete", "pass", paren=False)
        elif isinstance(node, ast.Raise):
            add(node, "delete", "pass", paren=False)
        elif isinstance(node, ast.Break):
            add(node, "break", "continue", paren=False)
        elif isinstance(node, ast.Continue):
            add(node, "continue", "break", paren=False)
    out.sort(key=lambda m: (m.line, m.col, m.op))
    return out


def apply(source: str, m: Mutant) -> str:
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln.encode()))
    raw = source.encode()

    def pos(lc: tuple[int, int]) -> int:
        return offsets[lc[0] - 1] + lc[1]  # ast columns are UTF-8 byte offsets

    return (raw[: pos(m.start)] + m.replacement.encode() + raw[pos(m.end) :]).decode()


def load_equivalents(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, reason = line.partition(" # ")
            found[key.strip()] = reason.strip()
    return found


def default_tests() -> list[str]:
    """Fast, targeted files first: -x stops at the first failure, so a mutant they kill costs little."""
    first = ["core/test_policy.py", "core/test_calendar.py", "cli/test_cancel.py", "cli/test_refunds.py",
             "cli/test_disputes.py", "cli/test_orders.py", "core/test_event_stories.py",
             "store/test_data_file_stress.py"]  # fmt: skip
    tests = ROOT / "tests"
    files = sorted(p.relative_to(tests).as_posix() for p in tests.rglob("test_*.py"))
    files = [f for f in files if f not in SLOW_TESTS]
    ordered = [f for f in first if f in files] + [f for f in files if f not in first]
    return [f"tests/{f}" for f in ordered]


def run_one(workdir: Path, tests: list[str], timeout: float, budget: float) -> tuple[str, float, str]:
    """One pytest run against `workdir`/src: a test running past `timeout` fails (a mutant that
    loops forever is killed), and so does the whole run past `budget` seconds."""
    env = {**os.environ, "PYTHONPATH": str(workdir / "src"), "PYTHONDONTWRITEBYTECODE": "1",
           "ORDERCLI_HYPOTHESIS_PROFILE": "mutation", "ORDERCLI_FUZZ_EXAMPLES": "30"}  # fmt: skip
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
           "--timeout", str(int(timeout)), *tests]  # fmt: skip
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=budget)
    except subprocess.TimeoutExpired:
        return "killed", time.monotonic() - t0, "timeout"
    elapsed = time.monotonic() - t0
    if proc.returncode == 0:
        return "survived", elapsed, ""
    failed = next((ln for ln in proc.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))), None)
    if proc.returncode != 1 or failed is None:
        # pytest itself could not run (no tests, a plugin or conftest that won't load, ...): the
        # run says nothing about the mutant, so it is not counted as killed
        return "error", elapsed, (proc.stdout + proc.stderr)[-500:]
    return "killed", elapsed, failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("modules", nargs="+", help="module paths, e.g. src/ordercli/core/policy.py")
    ap.add_argument("--tests", nargs="+", help="test files to run (default: all but the slow process tests)")
    ap.add_argument("--timeout", type=float, default=30, help="seconds per test (pytest-timeout; default 30)")
    ap.add_argument("--every", type=int, default=1, help="keep one mutant in N, deterministically")
    ap.add_argument("--offset", type=int, default=0, help="with --every: which one of the N (0..N-1)")
    ap.add_argument("--equivalents", type=Path, default=DEFAULT_EQUIVALENTS)
    ap.add_argument("--report", type=Path, default=Path("mutation-report.json"))
    ap.add_argument("--only", type=Path, help="a report: run again only the mutants that survived in it")
    ap.add_argument("--list", action="store_true", help="only list the mutants")
    args = ap.parse_args(argv)

    tests = args.tests or default_tests()
    equivalents = load_equivalents(args.equivalents)
    report: dict = {"tests": tests, "every": args.every, "offset": args.offset, "modules": {}}
    with tempfile.TemporaryDirectory(prefix="mutate-") as tmp:
        work = Path(tmp)
        # a snapshot of the whole checkout (src, tests, examples, pyproject): edits made while a
        # run goes on can't skew it
        shutil.copytree(
            ROOT,
            work,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", ".*_cache"),
        )
        budget = 0.0
        if not args.list:  # the unmutated code must pass, and sets the time budget of a run
            verdict, baseline, why = run_one(work, tests, args.timeout, 3600)
            if verdict != "survived":
                print(f"the tests fail without any mutant: {why}", file=sys.stderr)
                return 2
            budget = max(3 * baseline, 60)
            report["baseline_seconds"] = round(baseline, 1)
            print(f"baseline: {baseline:.1f}s; a run past {budget:.0f}s counts as killed (a hang)", flush=True)
        for module in args.modules:
            rel = str(Path(module).resolve().relative_to(ROOT))
            original = (work / rel).read_text()
            mutants = mutants_of(work / rel, rel)
            chosen = [m for i, m in enumerate(mutants) if i % args.every == args.offset % args.every]
            if args.only:
                again = {r["key"] for e in json.loads(args.only.read_text())["modules"].values() for r in e["survived"]}
                chosen = [m for m in mutants if m.key in again]
            entry = {"generated": len(mutants), "run": 0, "killed": 0, "survived": [], "equivalent": [],
                     "errors": []}  # fmt: skip
            report["modules"][rel] = entry
            if args.list:
                for m in chosen:
                    print(f"{m.key}  {m.original!r} -> {m.replacement!r}")
                continue
            target = work / rel
            for n, m in enumerate(chosen, 1):
                row = {"key": m.key, "from": m.original, "to": m.replacement}
                if m.key in equivalents:
                    entry["equivalent"].append({**row, "reason": equivalents[m.key]})
                    continue
                mutated = apply(original, m)
                try:
                    ast.parse(mutated)
                except SyntaxError:
                    continue  # not a program: not a mutant
                target.write_text(mutated)
                try:
                    verdict, elapsed, why = run_one(work, tests, args.timeout, budget)
                finally:
                    target.write_text(original)
                entry["run"] += 1
                if verdict == "killed":
                    entry["killed"] += 1
                elif verdict == "survived":
                    entry["survived"].append(row)
                else:
                    entry["errors"].append({**row, "why": why})
                print(f"[{rel} {n}/{len(chosen)}] {verdict:8} {elapsed:5.1f}s {m.key}  "
                      f"{m.original!r} -> {m.replacement!r}", flush=True)  # fmt: skip
                args.report.write_text(json.dumps(report, indent=1))
            scored = entry["run"] - len(entry["errors"])
            entry["score"] = round(100 * entry["killed"] / scored, 1) if scored else None
            print(f"== {rel}: killed {entry['killed']} / {scored} run, {len(entry['equivalent'])} equivalent, "
                  f"{len(entry['survived'])} survived, score {entry['score']}%", flush=True)  # fmt: skip
    if not args.list:
        args.report.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

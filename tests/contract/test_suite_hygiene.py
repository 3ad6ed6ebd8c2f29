"""The test suite's own rules (issue 18): test files live in a folder by area, shared helpers are fixtures
(tests/conftest.py), never imported from conftest.py or from another test module, and every test has a
name of its own across the whole suite, so `-k NAME` and a failure's name point at one test."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
AREAS = {"api", "cli", "contract", "core", "process", "scenarios", "simulate", "store"}


def suite_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if p.name.startswith("test_") or p.name == "conftest.py")


def test_every_test_file_is_in_an_area_folder() -> None:
    misplaced = [str(p.relative_to(TESTS)) for p in suite_files() if p.name.startswith("test_")
                 and p.relative_to(TESTS).parts[0] not in AREAS]
    assert not misplaced, f"put these in one of tests/{{{','.join(sorted(AREAS))}}}/: {misplaced}"


def test_no_test_imports_conftest_or_another_test_module() -> None:
    found = []
    for path in suite_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                last = module.rsplit(".", 1)[-1]
                if last == "conftest" or last.startswith("test_") or module.split(".")[0] == "tests":
                    found.append(f"{path.relative_to(TESTS)}:{node.lineno}: {module}")
    assert not found, f"use a fixture of tests/conftest.py instead: {found}"


def defined_tests(tree: ast.Module) -> list[tuple[str, int]]:
    """The tests a module defines: test_ functions, and Test classes with their test_ methods."""
    names: list[tuple[str, int]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
            names.append((node.name, node.lineno))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names.append((node.name, node.lineno))
            names += [(f"{node.name}.{f.name}", f.lineno) for f in node.body
                      if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) and f.name.startswith("test_")]
        elif isinstance(node, ast.Assign):  # TestMachine = Machine.TestCase (hypothesis' stateful tests)
            names += [(t.id, node.lineno) for t in node.targets if isinstance(t, ast.Name) and t.id.startswith("Test")]
    return names


def test_every_test_name_is_unique_across_the_suite() -> None:
    where: dict[str, list[str]] = defaultdict(list)
    for path in suite_files():
        for name, line in defined_tests(ast.parse(path.read_text(encoding="utf-8"))):
            where[name.rsplit(".", 1)[-1]].append(f"{path.relative_to(TESTS)}:{line}")
    twice = {name: places for name, places in where.items() if len(places) > 1}
    assert not twice, f"rename one of each: {twice}"

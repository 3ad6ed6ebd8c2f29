"""The docs live with the code: the generated parts of docs/ match the program (cog), and the README,
CONTRIBUTING.md and docs link only to files inside the repository that exist, and to headings that exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
GENERATED = ["docs/cli.md", "docs/errors.md", "docs/schemas.md", "docs/marketplaces.md"]
PAGES = ["README.md", "CONTRIBUTING.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
COG_CODE = re.compile(r"\[\[\[cog.*?\]\]\]", re.S)
# The engineers' own spec files, which users don't have: the project cites its docs/ pages instead.
SPEC_FILES = re.compile(r"\b(?:" + "POLICY" + "|" + "CLI" + r")\.md\b")


@pytest.mark.parametrize("page", GENERATED)
def test_generated_docs_are_up_to_date(page):
    result = subprocess.run([sys.executable, "-m", "cogapp", "--check", page], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"{page} is stale: run `cog -r {page}`\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("page", PAGES)
def test_links_stay_inside_the_repository_and_resolve(page):
    text = COG_CODE.sub("", (ROOT / page).read_text(encoding="utf-8"))  # the generator, not the output
    assert "shared/" not in text and not SPEC_FILES.search(text)
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path = target.split("#", 1)[0]
        if not path:
            continue
        resolved = (ROOT / page).parent.joinpath(path).resolve()
        assert resolved.is_relative_to(ROOT), f"{page} links outside the repository: {target}"
        assert resolved.exists(), f"{page} links to a missing file: {target}"
        fragment = target.partition("#")[2]
        if fragment and resolved.suffix == ".md":
            assert fragment in anchors(resolved), f"{page} links to a missing heading: {target}"
    for fragment in re.findall(r"\]\(#([^)\s]+)\)", text):
        assert fragment in anchors(ROOT / page), f"{page} links to a missing heading: #{fragment}"


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings (outside code blocks): lower case, punctuation dropped,
    spaces as hyphens, a repeated heading numbered on."""
    found: set[str] = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        heading = re.match(r"#{1,6} (.+)", line)
        if heading and not fenced:
            slug = re.sub(r"[^\w\- ]", "", heading[1].strip().lower()).replace(" ", "-")
            number = 0
            while (anchor := slug if number == 0 else f"{slug}-{number}") in found:
                number += 1
            found.add(anchor)
    return found


def test_anchors_follow_githubs_rule() -> None:
    assert {"safe-retries", "ordercli-orders-place", "tables-and-csv", "scenario-runs-in-ci"} <= anchors(
        ROOT / "docs" / "cli.md")
    assert "writing-the-simulated-events---events-out" in anchors(ROOT / "docs" / "simulate.md")


def test_readme_links_the_docs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in ("docs/tutorial.md", "docs/rules.md", "docs/cli.md", "docs/errors.md", "docs/schemas.md",
                 "docs/python-api.md", "docs/data-file.md", "docs/never-lost.md", "docs/simulate.md",
                 "docs/benchmarks.md", "docs/architecture.md", "CONTRIBUTING.md"):
        assert f"]({page})" in text


def test_the_code_and_tests_cite_the_docs_not_the_engineers_spec_files() -> None:
    """What a contributor reads in src/ and tests/ points at docs/ (docs/rules.md, docs/cli.md)."""
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("src", "tests", "examples", "bench", "tools")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.is_file() and path.suffix in {".py", ".toml", ".yaml", ".yml", ".md", ".json", ".txt"}
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1)
        if SPEC_FILES.search(line)
    ]
    assert found == []

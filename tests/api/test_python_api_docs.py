"""docs/python-api.md: its Python examples run as written (the pytest one under pytest, with
the plugin), and the README links to it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent.parent
PAGE = ROOT / "docs" / "python-api.md"
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)


def test_the_page_has_its_examples() -> None:
    assert len(BLOCKS) == 4
    assert BLOCKS[-1].startswith("# test_shop.py")


@pytest.mark.parametrize("index", [0, 1, 2])
def test_a_library_example_runs(index: int) -> None:
    exec(compile(BLOCKS[index], f"{PAGE}:block{index + 1}", "exec"), {"__name__": "docs_example"})


def test_the_pytest_example_passes_under_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_shop=BLOCKS[-1])
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_the_library_examples_type_check_strictly(tmp_path: Path) -> None:
    """The published types (py.typed, ordercli.core.model) carry a user's code through mypy --strict."""
    mypy_api = pytest.importorskip("mypy.api")
    example = tmp_path / "example.py"
    example.write_text("\n".join(BLOCKS[:-1]), encoding="utf-8")
    out, err, status = mypy_api.run(["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"),
                                     str(example)])
    assert status == 0, out + err


def test_the_readme_links_the_page() -> None:
    assert "docs/python-api.md" in (ROOT / "README.md").read_text(encoding="utf-8")

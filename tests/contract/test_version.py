"""The version is written once (src/ordercli/__init__.py); the package metadata reads it from there."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import ordercli

ROOT = Path(__file__).resolve().parent.parent.parent


def test_pyproject_takes_the_version_from_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "ordercli.__version__"}
    assert len(re.findall(r"__version__ = ", (ROOT / "src" / "ordercli" / "__init__.py").read_text())) == 1


def test_the_installed_metadata_and_the_version_option_agree(cli) -> None:  # noqa: ANN001
    assert version("ordercli") == ordercli.__version__
    assert cli("--version").stdout == f"ordercli {ordercli.__version__}\n"

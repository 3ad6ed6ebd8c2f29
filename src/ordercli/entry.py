"""The console script. `ordercli --version` answers before anything else is imported:
scripts call it to probe for the tool, and it needs nothing but the version string."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from ordercli import __version__

        sys.stdout.write(f"ordercli {__version__}\n")
        return
    from ordercli.cli.app import main as run

    run()

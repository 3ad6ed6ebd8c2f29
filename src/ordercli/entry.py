"""The console script. `ordercli --version` answers before anything else is imported:
scripts call it to probe for the tool, and it needs nothing but the version string."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from ordercli import __version__

        try:
            sys.stdout.write(f"ordercli {__version__}\n")
            sys.stdout.flush()
        except BrokenPipeError:  # the reader went away: not an error, as for every command
            return
        except OSError as exc:  # a full disk: exit 5 output_failed, as for every command
            sys.stderr.write(f"error: could not write the output: {exc.strerror or exc}\n")
            raise SystemExit(5) from None
        return
    from ordercli.cli.app import main as run

    run()


def console() -> None:
    """The console script: `main`, then leave without tearing the interpreter down. A command on a
    big world holds a gigabyte of small objects (the store keeps its world alive until exit), and
    freeing them one by one would cost a noticeable share of the command's time for nothing."""
    import os

    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # stdout already reported as unwritable (exit 5) or gone (`| head`)
        pass
    os._exit(code)

"""Runs ordercli command lines in this process, on a given world: how scenario steps run
(`scenario run`, `policy compare`, the pytest plugin)."""

from __future__ import annotations

import io
import sys
from typing import TYPE_CHECKING

import typer

from ordercli.cli.common import Env

if TYPE_CHECKING:
    from ordercli.api import Sandbox


class InProcess:
    """`invoke(words) -> (exit code, stdout, stderr)` for command lines on `world`: each runs
    as the program would, but on that world (which a step can't leave) and without a process."""

    def __init__(self, world: Sandbox) -> None:
        from ordercli.cli.app import app as root

        self.command = typer.main.get_command(root)
        self.world = world

    def __call__(self, args: list[str]) -> tuple[int, str, str]:
        out, err = io.BytesIO(), io.BytesIO()
        so = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
        se = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = so, se
        try:
            self.command.main(args=args, prog_name="ordercli", obj=Env(sandbox=self.world))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            so.flush()
            se.flush()
            sys.stdout, sys.stderr = saved
        return code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8")


def invoker(world: Sandbox) -> InProcess:
    return InProcess(world)

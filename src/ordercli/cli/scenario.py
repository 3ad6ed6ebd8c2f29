"""ordercli scenario run FILE..."""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from ordercli import render
from ordercli import scenario as sc
from ordercli.cli import common
from ordercli.cli.common import JsonOpt

app = common.group(help="Scenario files: scripted worlds for CI.")


@app.callback()
def _app_group() -> None:
    """Keeps the group a group though it has one command."""


class InProcess:
    """Runs ordercli command lines in this process, capturing exit code, stdout, stderr."""

    def __init__(self) -> None:
        from ordercli.cli.app import app as root

        self.command = typer.main.get_command(root)

    def __call__(self, args: list[str]) -> tuple[int, str, str]:
        out, err = io.BytesIO(), io.BytesIO()
        so = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
        se = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = so, se
        try:
            self.command.main(args=args, prog_name="ordercli")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            so.flush()
            se.flush()
            sys.stdout, sys.stderr = saved
        return code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8")


def fresh_world(scenario: sc.Scenario, db: Path, durable: bool, policy: str | None = None) -> None:
    """The scenario's own world at its start, under its policy (or `policy`, overriding it)."""
    from ordercli import presets
    from ordercli.store import Store
    from ordercli.world import empty_tables

    policy = policy or scenario.policy
    if policy is not None and policy not in presets.PRESETS and not Path(policy).exists():
        beside = scenario.path.parent / policy
        if beside.exists():
            policy = str(beside)
    loaded = presets.load(policy or "aliexpress")
    start = scenario.start or common.wall_now()
    tables = empty_tables(start, loaded.meta())
    Store(db, lambda: tables, durable=durable).replace_world(tables)


def run_one(scenario: sc.Scenario, invoke: InProcess, path: Path, durable: bool, policy: str | None = None) -> dict:
    fresh_world(scenario, path, durable, policy)
    saved = common.state.durable, common.state.in_scenario
    common.state.durable, common.state.in_scenario = durable, True
    try:
        return sc.run_scenario(scenario, invoke, path)
    finally:
        common.state.durable, common.state.in_scenario = saved


@app.command("run")
def run(
    files: Annotated[
        list[str], typer.Argument(help="YAML or JSON scenario files.", metavar="FILE...", show_default=False)
    ],
    db_arg: Annotated[
        str | None,
        typer.Option(
            "--db", help="Keep the world in this file (default: a temporary file per scenario).", metavar="PATH"
        ),
    ] = None,
    junit_arg: Annotated[
        str | None, typer.Option("--junit", help="Write a JUnit XML report here.", metavar="FILE")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Run scenario files: exit 0 when every step passed, 1 when any failed."""
    from ordercli.errors import UsageError
    from ordercli.validate import path as checked

    if common.state.in_scenario:
        raise UsageError("scenario run can't run inside a scenario step", "nested_scenario")
    db = Path(checked(db_arg, "--db")) if db_arg is not None else None
    junit = Path(checked(junit_arg, "--junit")) if junit_arg is not None else None
    scenarios = [sc.load(Path(f)) for f in files]  # all malformed files are found before anything runs
    invoke = InProcess()
    reports: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ordercli-scenario-") as tmp:
        for i, scenario in enumerate(scenarios):
            path = db if db is not None else Path(tmp) / f"world-{i}.json"
            durable = db is not None
            report = run_one(scenario, invoke, path, durable)
            reports.append(report)
            if not json_:
                _print_report(report)
    passed = sum(r["passed"] for r in reports)
    failed = sum(r["failed"] for r in reports)
    if junit is not None:
        from ordercli.store import atomic_write

        try:
            junit.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(junit, sc.junit_xml(reports))
        except OSError as exc:
            from ordercli.errors import StorageError

            raise StorageError(
                f"could not write the JUnit report {junit}: {exc.strerror or exc}", "write_failed"
            ) from None
    if json_:
        render.emit_json(reports)
    else:
        render.echo(f"total: {passed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


def _print_report(report: dict[str, Any]) -> None:
    render.echo(f"{report['file']}: {report['name']}")
    for step in report["steps"]:
        mark = render.paint("ok  ", "32") if step["passed"] else render.paint("FAIL", "31")
        render.echo(f"  {mark} {step['index']:>3} {step['run']}")
        for failure in step["failures"]:
            render.echo(f"           {failure}")
    render.echo(f"{report['passed']} passed, {report['failed']} failed")

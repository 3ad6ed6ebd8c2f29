"""ordercli scenario run FILE..."""

from __future__ import annotations

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


@app.command("run")
def run(
    ctx: typer.Context,
    files: Annotated[
        list[str], typer.Argument(help="YAML or JSON scenario files.", metavar="FILE...", show_default=False)
    ],
    db_arg: Annotated[
        str | None,
        typer.Option(
            "--db", help="Keep the world in this file (default: in memory, one per scenario).", metavar="PATH"
        ),
    ] = None,
    junit_arg: Annotated[
        str | None, typer.Option("--junit", help="Write a JUnit XML report here.", metavar="FILE")
    ] = None,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", "-x", help="Stop at the first failing step, running nothing after it.")
    ] = False,
    pattern: Annotated[
        str | None,
        typer.Option(
            "-k",
            help="Run only the scenarios whose name holds PATTERN, or, in the others, the steps up to "
            "the last whose id holds it (case-insensitive).",
            metavar="PATTERN",
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Run scenario files: exit 0 when every step passed, 1 when any failed."""
    from ordercli.cli.invoke import InProcess
    from ordercli.errors import UsageError
    from ordercli.validate import path as checked

    if common.env(ctx).in_scenario:
        raise UsageError("scenario run can't run inside a scenario step", "nested_scenario")
    db = Path(checked(db_arg, "--db")) if db_arg is not None else None
    junit = Path(checked(junit_arg, "--junit")) if junit_arg is not None else None
    scenarios = [sc.load(Path(f)) for f in files]  # all malformed files are found before anything runs
    reports: list[dict[str, Any]] = []
    deselected = 0
    for scenario in scenarios:
        until = scenario.selection(pattern)
        if until is None:
            deselected += 1
            continue
        world = sc.world_for(scenario, db=db)
        if not json_:
            render.echo(f"{scenario.path}: {scenario.name}")
        report = sc.run_scenario(
            scenario,
            world,
            InProcess(world),
            until=until,
            fail_fast=fail_fast,
            on_step=None if json_ else _print_step,
        )
        reports.append(report)
        if not json_:
            render.echo(_counts(report))
        if fail_fast and report["failed"]:
            break
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
        total = {"passed": passed, "failed": failed, "skipped": sum(r["skipped"] for r in reports)}
        render.echo("total: " + _counts(total) + (f", {deselected} scenario(s) deselected" if deselected else ""))
    if failed:
        raise typer.Exit(1)


def _counts(report: dict[str, Any]) -> str:
    line = f"{report['passed']} passed, {report['failed']} failed"
    return line + (f", {report['skipped']} not run" if report["skipped"] else "")


def _print_step(step: dict[str, Any]) -> None:
    mark = render.paint("ok  ", "32") if step["passed"] else render.paint("FAIL", "31")
    render.echo(f"  {mark} {step['index']:>3} {step['command']}")
    for failure in step["failures"]:
        render.echo(f"           {failure}")
    history = step.get("history") or []
    if history:
        render.echo(f"           history of {history[0]['order_id']} up to this step:")
        for line in sc.history_lines(history):
            render.echo(f"           {line}")

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
    junit_family: Annotated[
        str,
        typer.Option(
            "--junit-family",
            help="The JUnit report's shape, as pytest's junit_family: xunit2 (the default, valid under the "
            "Jenkins/Surefire schema) or xunit1 (adds each testcase's file, for GitLab's links).",
            metavar="FAMILY",
            show_default=False,
        ),
    ] = "xunit2",
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", "-x", help="Stop at the first failing step, running nothing after it.")
    ] = False,
    pattern: Annotated[
        str | None,
        typer.Option(
            "-k",
            help="Run only the scenarios whose name holds PATTERN, or, in the others, the steps up to "
            "the last whose id holds it (case-insensitive); exit 2 when it selects nothing.",
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
    if junit_family not in sc.JUNIT_FAMILIES:
        raise UsageError(
            f"--junit-family: unknown family {junit_family!r} (expected one of: {', '.join(sc.JUNIT_FAMILIES)})",
            "usage",
        )
    scenarios = [sc.load(Path(f)) for f in files]  # all malformed files are found before anything runs
    selections = [scenario.selection(pattern) for scenario in scenarios]
    if all(until is None for until in selections):
        # a mistyped -k would otherwise pass CI having run nothing
        raise UsageError(
            f"-k {pattern!r} selects no scenario and no step: no scenario's name or file name and no step id "
            "holds it (case-insensitive)",
            "nothing_selected",
        )
    runs: list[tuple[sc.Scenario, dict[str, Any]]] = []
    deselected = 0
    for scenario, until in zip(scenarios, selections, strict=True):
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
        runs.append((scenario, report))
        if not json_:
            render.echo(_counts(report))
        if fail_fast and report["failed"]:
            break
    reports = [report for _, report in runs]
    passed = sum(r["passed"] for r in reports)
    failed = sum(r["failed"] for r in reports)
    if junit is not None:
        from ordercli.store import atomic_write

        try:
            junit.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(junit, sc.junit_xml(runs, junit_family))
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

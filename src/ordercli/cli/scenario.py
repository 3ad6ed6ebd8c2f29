"""ordercli scenario run FILE..."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ordercli.cli import common, render
from ordercli.cli.common import JsonOpt
from ordercli.scenarios import runner as sc

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
            "--db",
            help="Keep the world in this new file (one scenario file only; default: in memory).",
            metavar="PATH",
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Let --db replace an existing ordercli world (never other data).")
    ] = False,
    junit_arg: Annotated[
        str | None,
        typer.Option(
            "--junit", help="Write a JUnit XML report here; - for stdout (then the steps go to stderr).", metavar="FILE"
        ),
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
    from ordercli.core.errors import UsageError
    from ordercli.core.validate import path as checked

    e = common.env(ctx)
    if e.in_scenario:
        raise UsageError("scenario run can't run inside a scenario step", "nested_scenario")
    if e.db is not None:
        # the data file of other commands is never a scenario's world: say so instead of ignoring it
        raise UsageError(
            "ordercli --db does not apply to scenario run (each scenario runs on its own world): "
            "use `ordercli scenario run FILE --db PATH` to keep the world in a file",
            "usage",
        )
    if db_arg is not None and len(files) != 1:
        raise UsageError(f"--db keeps the world of one scenario file, and {len(files)} were given", "usage")
    if overwrite and db_arg is None:
        raise UsageError("--overwrite goes with --db", "usage")
    to_stdout = junit_arg == "-"
    if to_stdout and json_:
        raise UsageError("--junit - and --json both write stdout: use one of them", "usage")
    db = Path(checked(db_arg, "--db")) if db_arg is not None else None
    junit = Path(checked(junit_arg, "--junit")) if junit_arg is not None and not to_stdout else None
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
    _check_outputs(scenarios, db, junit, overwrite)
    say = render.note if to_stdout else render.echo  # with --junit -, the report alone is on stdout
    runs: list[tuple[sc.Scenario, dict[str, Any]]] = []
    deselected = 0
    for scenario, until in zip(scenarios, selections, strict=True):
        if until is None:
            deselected += 1
            continue
        world = sc.world_for(scenario, db=db)
        if not json_:
            say(f"{scenario.path}: {scenario.name}")
        report = sc.run_scenario(
            scenario,
            world,
            InProcess(world),
            until=until,
            fail_fast=fail_fast,
            on_step=None if json_ else (lambda step: _print_step(step, say)),
        )
        runs.append((scenario, report))
        if not json_:
            say(_counts(report))
        if fail_fast and report["failed"]:
            break
    reports = [report for _, report in runs]
    passed = sum(r["passed"] for r in reports)
    failed = sum(r["failed"] for r in reports)
    if to_stdout:
        render.emit_bytes(sc.junit_xml(runs, junit_family))
    elif junit is not None:
        from ordercli.store import write_output

        write_output(junit, sc.junit_xml(runs, junit_family), what="the JUnit report")
    if json_:
        render.emit_json(reports)
    else:
        total = {"passed": passed, "failed": failed, "skipped": sum(r["skipped"] for r in reports)}
        say("total: " + _counts(total) + (f", {deselected} scenario(s) deselected" if deselected else ""))
    if failed:
        raise typer.Exit(1)


def _counts(report: dict[str, Any]) -> str:
    line = f"{report['passed']} passed, {report['failed']} failed"
    return line + (f", {report['skipped']} not run" if report["skipped"] else "")


def _check_outputs(scenarios: list[sc.Scenario], db: Path | None, junit: Path | None, overwrite: bool) -> None:
    """Before any step runs: --db and --junit are writable outputs, and neither is an input."""
    from ordercli.store.file import DataFile, check_output

    inputs: list[tuple[Path, str]] = []
    for scenario in scenarios:
        inputs.append((scenario.path, "a scenario file"))
        if scenario.policy:
            for policy in (Path(scenario.policy), scenario.path.parent / scenario.policy):
                inputs.append((policy, f"the policy file of {scenario.path}"))
    if db is not None:
        world = DataFile(db)  # a world reached through a symlink is written at its target
        world.check_kind()
        check_output(
            world.real,
            what="--db",
            inputs=inputs,
            existing="world" if overwrite else "refuse",
            hint="choose a new file, or give --overwrite to replace the ordercli world there",
        )
        inputs.append((world.real, "the --db world"))
    if junit is not None:
        check_output(junit, what="--junit", inputs=inputs)


def _print_step(step: dict[str, Any], say: Any = render.echo) -> None:
    mark = render.paint("ok  ", "32") if step["passed"] else render.paint("FAIL", "31")
    say(f"  {mark} {step['index']:>3} {step['command']}")
    for failure in step["failures"]:
        say(f"           {failure}")
    history = step.get("history") or []
    if history:
        say(f"           history of {history[0]['order_id']} up to this step:")
        for line in sc.history_lines(history):
            say(f"           {line}")

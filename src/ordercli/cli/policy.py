"""ordercli policy show|use|compare|list"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ordercli.cli import common, render
from ordercli.cli.common import IdempotencyKeyOpt, JsonOpt

app = common.group(help="The policy in force: a preset or a TOML file.")


def _presets(incomplete: str) -> list[str]:
    from ordercli.core.presets import PRESETS

    return [p for p in PRESETS if p.startswith(incomplete)]


def _text(p: dict) -> str:
    lines = [f"policy {p['name']} ({p['source']})"]
    sources = p["sources"]
    for key, value in p.items():
        if key in ("name", "source", "sources"):
            continue
        if isinstance(value, dict):
            lines += [f"  {key}.{k} = {v}    # {sources.get(f'{key}.{k}', '')}" for k, v in value.items()]
        else:
            shown = ", ".join(value) if isinstance(value, list) else ('""' if value == "" else value)
            lines.append(f"  {key} = {shown}    # {sources.get(key, '')}")
    return "\n".join(lines)


@app.command("show")
def show(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Every value of the policy in force."""
    render.emit_object(common.sandbox(ctx).policy(), json_, _text)


@app.command("use")
def use(
    ctx: typer.Context,
    name_or_file: Annotated[
        str,
        typer.Argument(
            help="A preset (ordercli policy list) or a TOML file.",
            metavar="NAME|FILE",
            show_default=False,
            autocompletion=_presets,
        ),
    ],
    key: IdempotencyKeyOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Set the world's policy; refused once the world has orders."""
    sandbox = common.sandbox(ctx)
    render.emit_object(sandbox.use_policy(name_or_file, idempotency_key=key), json_, _text)
    common.tell_replay(sandbox)


@app.command("compare")
def compare(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="A preset or a TOML file.", metavar="A", show_default=False)],
    b: Annotated[str, typer.Argument(help="Another preset or TOML file.", metavar="B", show_default=False)],
    scenario: Annotated[Path, typer.Option("--scenario", help="The scenario file to run under both.", metavar="FILE")],
    json_: JsonOpt = False,
) -> None:
    """Run one scenario under two policies and show where the outcomes differ."""
    from ordercli.cli.invoke import invoker
    from ordercli.scenarios import runner as sc

    if common.env(ctx).in_scenario:
        from ordercli.core.errors import UsageError

        raise UsageError("policy compare can't run inside a scenario step", "nested_scenario")
    result = sc.compare_policies(sc.load(scenario), a, b, invoker)
    if json_:
        render.emit_json(result)
        return
    rows = result["differences"]
    render.echo(f"{scenario} under {a} and {b}: {len(rows)} difference{'s' if len(rows) != 1 else ''}")
    render.emit_list(
        rows,
        "table",
        [
            ("order", lambda r: r["order_id"]),
            ("field", lambda r: r["field"]),
            (a, lambda r: r["a"]),
            (b, lambda r: r["b"]),
        ],
        empty="same outcomes",
    )


@app.command("list")
def list_(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """The presets, each with a one-line description (docs/marketplaces.md compares them)."""
    from ordercli.core.presets import describe_presets

    rows = describe_presets()
    if json_:
        render.emit_json(rows)
        return
    width = max(len(r["name"]) for r in rows)
    render.echo("\n".join(f"{r['name']:<{width}}  {r['description']}" for r in rows))

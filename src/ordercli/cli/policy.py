"""ordercli policy show|use"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ordercli import presets, render, views
from ordercli.cli import common
from ordercli.cli.common import JsonOpt
from ordercli.errors import Refused
from ordercli.world import World

app = common.group(help="The policy in force: a preset or a TOML file.")


def _presets(incomplete: str) -> list[str]:
    return [p for p in ("aliexpress", "ebay") if p.startswith(incomplete)]


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


def _describe(w: World) -> dict:
    """Every value in force, and where each came from (a preset or a file)."""
    meta = w.meta["policy"]
    origins = meta.get("origins") or {}
    values = w.policy.describe()
    default_origin = f"{meta.get('source', 'preset')} {meta['name']}"
    flat_keys = [k for k in values if k != "name"]
    sources: dict[str, str] = {}
    for key in flat_keys:
        if isinstance(values[key], dict):
            for sub in values[key]:
                sources[f"{key}.{sub}"] = origins.get(f"{key}.{sub}", default_origin)
        else:
            sources[key] = origins.get(key, default_origin)
    return {**values, "source": meta.get("source", "preset"), "sources": sources}


@app.command("show")
def show(json_: JsonOpt = False) -> None:
    """Every value of the policy in force."""
    with common.reading() as w:
        described = _describe(w)
    render.emit_object(described, json_, _text)


@app.command("use")
def use(
    name_or_file: Annotated[
        str,
        typer.Argument(
            help="aliexpress, ebay, or a TOML file.", metavar="NAME|FILE", show_default=False, autocompletion=_presets
        ),
    ],
    json_: JsonOpt = False,
) -> None:
    """Set the world's policy; refused once the world has orders."""
    loaded = presets.load(name_or_file)
    with common.writing() as w:
        if w.count_orders():
            raise Refused(
                "the policy can't change once the world has orders: start a new data file", "world_has_orders"
            )
        w.set_policy(loaded.meta(), loaded.policy)
        described = _describe(w)
    render.emit_object(described, json_, _text)


COMPARED = ("status", "end_reason", "cancelled_at", "refund.due_by", "refund.refunded_at", "refund.status")


@app.command("compare")
def compare(
    a: Annotated[str, typer.Argument(help="A preset or a TOML file.", metavar="A", show_default=False)],
    b: Annotated[str, typer.Argument(help="Another preset or TOML file.", metavar="B", show_default=False)],
    scenario: Annotated[Path, typer.Option("--scenario", help="The scenario file to run under both.", metavar="FILE")],
    json_: JsonOpt = False,
) -> None:
    """Run one scenario under two policies and show where the outcomes differ."""
    import tempfile

    from ordercli import scenario as sc
    from ordercli.cli.scenario import InProcess, run_one
    from ordercli.store import Store

    if common.state.in_scenario:
        from ordercli.errors import UsageError

        raise UsageError("policy compare can't run inside a scenario step", "nested_scenario")
    for name in (a, b):
        presets.load(name)  # a bad policy is exit 2 before anything runs
    loaded = sc.load(scenario)
    invoke = InProcess()
    finals: list[dict[str, dict]] = []
    runs = []
    with tempfile.TemporaryDirectory(prefix="ordercli-compare-") as tmp:
        for i, name in enumerate((a, b)):
            path = Path(tmp) / f"world-{i}.json"
            report = run_one(loaded, invoke, path, durable=False, policy=name)
            runs.append({"policy": name, "passed": report["passed"], "failed": report["failed"]})
            with Store(path, dict).reading() as w:  # the run wrote it: never the empty world
                finals.append({o["id"]: views.order(w, o) for o in w.iter_orders()})
    rows = []
    for oid in sorted(set(finals[0]) | set(finals[1]), key=lambda i: int(i[4:])):
        for field in COMPARED:
            va = sc.lookup(finals[0].get(oid), field, None)
            vb = sc.lookup(finals[1].get(oid), field, None)
            if va != vb:
                rows.append({"order_id": oid, "field": field, "a": va, "b": vb})
    result = {"a": a, "b": b, "scenario": str(scenario), "runs": runs, "differences": rows}
    if json_:
        render.emit_json(result)
        return
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

"""ordercli policy show|use"""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli import presets, render
from ordercli.cli import common
from ordercli.cli.common import JsonOpt
from ordercli.errors import Refused
from ordercli.world import World

app = typer.Typer(help="The policy in force: a preset or a TOML file.", no_args_is_help=True)


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
    name_or_file: Annotated[str, typer.Argument(help="aliexpress, ebay, or a TOML file.", metavar="NAME|FILE",
                                                show_default=False)],
    json_: JsonOpt = False,
) -> None:
    """Set the world's policy; refused once the world has orders."""
    loaded = presets.load(name_or_file)
    with common.writing() as w:
        if w.orders:
            raise Refused("the policy can't change once the world has orders: start a new data file", "world_has_orders")
        w.set_policy(loaded.meta(), loaded.policy)
        described = _describe(w)
    render.emit_object(described, json_, _text)

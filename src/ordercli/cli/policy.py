"""ordercli policy show|use"""

from __future__ import annotations

from typing import Annotated

import typer

from ordercli import presets, render
from ordercli.cli import common
from ordercli.cli.common import JsonOpt
from ordercli.errors import Refused

app = typer.Typer(help="The policy in force: a preset or a TOML file.", no_args_is_help=True)


def _text(p: dict) -> str:
    lines = [f"policy {p['name']}"]
    for key, value in p.items():
        if key == "name":
            continue
        if isinstance(value, dict):
            lines += [f"  {key}.{k} = {v}" for k, v in value.items()]
        else:
            lines.append(f"  {key} = {value}")
    return "\n".join(lines)


@app.command("show")
def show(json_: JsonOpt = False) -> None:
    """Every value of the policy in force."""
    with common.reading() as w:
        described = w.policy.describe()
    render.emit_object(described, json_, _text)


@app.command("use")
def use(
    name_or_file: Annotated[str, typer.Argument(help="aliexpress, ebay, or a TOML file.", metavar="NAME|FILE",
                                                show_default=False)],
    json_: JsonOpt = False,
) -> None:
    """Set the world's policy; refused once the world has orders."""
    name, values, pol = presets.load(name_or_file)
    with common.writing() as w:
        if w.orders:
            raise Refused("the policy can't change once the world has orders: start a new data file", "world_has_orders")
        w.set_policy(name, values, pol)
        described = pol.describe()
    render.emit_object(described, json_, _text)

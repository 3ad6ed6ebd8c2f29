"""Shell completion: the fixed choices of the contract, and order ids read from the world.
The world is read only when a shell asks to complete an id, never for --help or --version."""

from __future__ import annotations

from collections.abc import Callable

import typer

from ordercli.core import policy

STATUS_CHOICES = "|".join(policy.STATUSES)
PAYMENT_CHOICES = "|".join(policy.PAYMENT_METHODS)
REASON_CHOICES = "|".join(policy.CANCEL_REASONS)
DISPUTE_REASON_CHOICES = "|".join(policy.DISPUTE_REASONS)


def choices(values: tuple[str, ...] | list[str]) -> Callable[[str], list[str]]:
    def complete(incomplete: str) -> list[str]:
        return [v for v in values if v.startswith(incomplete)]

    return complete


statuses = choices(policy.STATUSES)
payments = choices(policy.PAYMENT_METHODS)
reasons = choices(tuple(policy.CANCEL_REASONS))
dispute_reasons = choices(policy.DISPUTE_REASONS)
answers = choices(policy.RESPONSES)
outcomes = choices(policy.DISPUTE_OUTCOMES)


def order_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    """The ids of the world's orders; nothing (not an error) when the world can't be read. The
    root's --db, when given before the id, names the world (completion runs no callbacks)."""
    from ordercli.cli import common
    from ordercli.core.errors import OrderCliError

    env = common.env(ctx)
    db = ctx.find_root().params.get("db")
    if db is not None and not env.in_scenario:
        env.db = db
    try:
        with common.reading(ctx) as session:
            return [o["id"] for o in session.world.iter_orders() if o["id"].startswith(incomplete)]
    except (OrderCliError, OSError):
        return []

"""Shell completion: the fixed choices of the contract. (Order ids, read from the world, are
completed by `common.OrderArg`.)"""

from __future__ import annotations

from collections.abc import Callable

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

"""The report: figures per policy, and each policy's difference from the first (the baseline),
with 95% intervals.

Intervals treat the shards as replicates (each is an independent, equally drawn
sub-population): a rate is a ratio of sums, and its variance is estimated from the shards'
residuals (the linearised ratio estimator), with Student's t on shards - 1 degrees of
freedom. Differences are paired by shard: both policies saw the very same orders there
(common random numbers), so the shard-to-shard noise of the population cancels out. With
fewer than two shards there is no interval (null).
Percentiles come from the merged one-minute histograms: exact to the minute, no interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ordercli.core.metrics import against
from ordercli.core.policy import PAYMENT_METHODS
from ordercli.simulate.aggregate import AUTO_CANCEL, OUTCOMES, TIMES, percentile

QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))
# Student's t, 97.5% quantile, for 1..30 degrees of freedom
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
DIGITS = 6


def t975(df: int) -> float:
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959963984540054  # Cornish-Fisher expansion beyond the table: good to 1e-4
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, DIGITS)


Pairs = Sequence[tuple[float, float]]  # per shard: (numerator, denominator)


def _estimate(terms: list[Pairs]) -> tuple[float | None, list[float] | None]:
    """sum over terms of sign * ratio, with a linearised variance across shards.
    Each term is a list of (y_i, x_i) per shard, with its sign folded into y."""
    total = 0.0
    parts = []
    for pairs in terms:
        x = sum(p[1] for p in pairs)
        if x == 0:
            return None, None
        ratio = sum(p[0] for p in pairs) / x
        total += ratio
        parts.append((pairs, ratio, x))
    k = len(terms[0])
    if k < 2:
        return total, None
    z = [sum((pairs[i][0] - ratio * pairs[i][1]) / x for pairs, ratio, x in parts) for i in range(k)]
    half = t975(k - 1) * math.sqrt(k / (k - 1) * sum(v * v for v in z))
    return total, [total - half, total + half]


def rate(ys: Sequence[float], xs: Sequence[float]) -> dict[str, Any]:
    est, ci = _estimate([list(zip(ys, xs, strict=True))])
    return {"value": _r(est), "ci95": None if ci is None else [_r(ci[0]), _r(ci[1])]}


def rate_diff(yb: Sequence[float], xb: Sequence[float], ya: Sequence[float], xa: Sequence[float]) -> dict[str, Any]:
    neg = [-y for y in ya]
    est, ci = _estimate([list(zip(yb, xb, strict=True)), list(zip(neg, xa, strict=True))])
    return {"value": _r(est), "ci95": None if ci is None else [_r(ci[0]), _r(ci[1])]}


# -- building the report -------------------------------------------------------------------------


def _series(shards: list[dict], get: Any) -> list[float]:
    return [float(get(s)) for s in shards]


# The seller metrics (docs/rules.md "Seller metrics"): (report key, numerator, denominator) in the aggregates
SELLER_RATES = (
    ("seller_cancellations", "seller_faults", "paid"),
    ("late_shipments", "late_shipments", "shipments"),
    ("requests_answered_in_time", "decided_answered", "decided"),
    ("buyer_requests", "buyer_asked", "paid"),
    ("buyer_free_cancels", "free_cancels", "paid"),
)
# (the policy's ceiling, the field names `seller stats` gives it)
CEILINGS = {
    "seller_cancellations": ("seller_cancel_rate_max", "cancel_rate"),
    "late_shipments": ("late_shipment_rate_max", "late_shipment_rate"),
}


def methods(meta: dict[str, Any], total: dict[str, Any]) -> list[str]:
    """The payment methods a policy's entry lists: the four of the first policy language (always, so
    a report keeps its shape), then the policy's own (R27), then any other an order was paid with."""
    out: list[str] = list(PAYMENT_METHODS)
    for m in (*meta["values"].get("refund_within", {}), *total["times"][TIMES[0]]):
        if m not in out:
            out.append(m)
    return out


def _rates(shards: list[dict], methods: Sequence[str] = PAYMENT_METHODS) -> dict[str, tuple[list[float], list[float]]]:
    """Every rate of the report as (numerators, denominators) per shard."""
    n = _series(shards, lambda s: s["orders"])
    out = {f"end.{k}": (_series(shards, lambda s, k=k: s["outcomes"][k]), n) for k in OUTCOMES}
    out["auto_cancel"] = (_series(shards, lambda s: sum(s["outcomes"][k] for k in AUTO_CANCEL)), n)
    out["answered"] = (_series(shards, lambda s: s["answered"]), _series(shards, lambda s: s["requests"]))
    out["overdue"] = (_series(shards, lambda s: s["overdue"]), n)
    out["disputes"] = (_series(shards, lambda s: s["disputes"]), n)
    for key, num, den in SELLER_RATES:
        out[f"seller.{key}"] = (_series(shards, lambda s, k=num: s[k]), _series(shards, lambda s, k=den: s[k]))
    for t in TIMES:
        for m in methods:
            out[f"{t}.{m}"] = (
                _series(shards, lambda s, t=t, m=m: s["times"][t].get(m, (0, 0))[1]),
                _series(shards, lambda s, t=t, m=m: s["times"][t].get(m, (0, 0))[0]),
            )
    return out


def _seller_metrics(meta: dict[str, Any], total: dict[str, Any], share: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"orders_paid": total["paid"]}
    for key, num, _ in SELLER_RATES:
        if key == "late_shipments":
            out["shipments"] = total["shipments"]
        elif key == "requests_answered_in_time":
            out["requests"] = total["decided"]
        out[key] = share(f"seller.{key}", total[num])
        if key in CEILINGS:
            policy_key, name = CEILINGS[key]
            ceiling = meta["values"].get(policy_key)
            out[f"{name}_max"] = ceiling
            out[f"{name}_status"] = against(out[key]["share"], ceiling)
    return out


def policy_report(label: str, meta: dict[str, Any], total: dict[str, Any], shards: list[dict]) -> dict[str, Any]:
    paid_with = methods(meta, total)
    rates = _rates(shards, paid_with)
    n = total["orders"]

    def share(key: str, count: int) -> dict[str, Any]:
        r = rate(*rates[key])
        return {"count": count, "share": r["value"], "ci95": r["ci95"]}

    times: dict[str, Any] = {}
    for t in TIMES:
        times[t] = {}
        for m in paid_with:
            slot = total["times"][t].get(m) or {"count": 0, "sum": 0, "hist": {}}
            mean = rate(*rates[f"{t}.{m}"]) if slot["count"] else {"value": None, "ci95": None}
            times[t][m] = {
                "count": slot["count"],
                "mean_seconds": mean["value"],
                "mean_ci95": mean["ci95"],
                **{f"{name}_seconds": percentile(slot["hist"], q) for name, q in QUANTILES},
            }
    auto = sum(total["outcomes"][k] for k in AUTO_CANCEL)
    return {
        "policy": label,
        "source": meta["source"],
        "values": meta["values"],
        "orders": n,
        "end_reasons": {k: share(f"end.{k}", total["outcomes"][k]) for k in OUTCOMES},
        "auto_cancel": share("auto_cancel", auto),
        "cancel_requests": total["requests"],
        "answered_in_time": share("answered", total["answered"]) if total["requests"] else None,
        "request_to_outcome": times["request_to_outcome"],
        "cancellation_to_refund": times["cancellation_to_refund"],
        "refunds": total["refunds"],
        "overdue_refunds": share("overdue", total["overdue"]),
        "disputes_opened": share("disputes", total["disputes"]),
        "seller_metrics": _seller_metrics(meta, total, share),
    }


def difference(label: str, base_label: str, mine: list[dict], base: list[dict], me: dict, them: dict) -> dict[str, Any]:
    """`label` minus `base_label`, paired by shard."""
    paid_with = [m for m in them[TIMES[0]] if m in me[TIMES[0]]]  # the methods both policies list
    a, b = _rates(base, paid_with), _rates(mine, paid_with)

    def d(key: str) -> dict[str, Any]:
        if sum(b[key][1]) == 0 or sum(a[key][1]) == 0:
            return {"value": None, "ci95": None}
        return rate_diff(b[key][0], b[key][1], a[key][0], a[key][1])

    times: dict[str, Any] = {}
    for t in TIMES:
        times[t] = {}
        for m in paid_with:
            mean = d(f"{t}.{m}")
            row: dict[str, Any] = {"mean_seconds": mean["value"], "mean_ci95": mean["ci95"]}
            for name, _ in QUANTILES:
                x, y = me[t][m][f"{name}_seconds"], them[t][m][f"{name}_seconds"]
                row[f"{name}_seconds"] = None if x is None or y is None else x - y
            times[t][m] = row
    return {
        "policy": label,
        "baseline": base_label,
        "end_reasons": {k: d(f"end.{k}") for k in OUTCOMES},
        "auto_cancel": d("auto_cancel"),
        "answered_in_time": d("answered"),
        "request_to_outcome": times["request_to_outcome"],
        "cancellation_to_refund": times["cancellation_to_refund"],
        "overdue_refunds": d("overdue"),
        "disputes_opened": d("disputes"),
        "seller_metrics": {key: d(f"seller.{key}") for key, _, _ in SELLER_RATES},
    }


def build(
    head: dict[str, Any],
    policies: list[tuple[str, dict[str, Any]]],
    totals: list[dict[str, Any]],
    shards: list[list[dict]],
) -> dict[str, Any]:
    """`shards[p]` is policy p's per-shard scalars, in shard order; `totals[p]` its merged aggregates."""
    reports = [policy_report(label, meta, totals[i], shards[i]) for i, (label, meta) in enumerate(policies)]
    diffs = []
    for i in range(1, len(policies)):
        t0 = {t: reports[0][t] for t in TIMES}
        ti = {t: reports[i][t] for t in TIMES}
        diffs.append(difference(policies[i][0], policies[0][0], shards[i], shards[0], ti, t0))
    return {**head, "policies": reports, "differences": diffs}

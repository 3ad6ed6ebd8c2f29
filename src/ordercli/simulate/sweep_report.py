"""A sweep's report for people (a small table per metric, one row per point) and its plot
(each metric against the swept value, with its 95% interval)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ordercli.core.errors import StorageError, UsageError

Getter = Callable[[dict[str, Any]], Any]


class Metric:
    """One figure of the report: how to read it in a point's entry and in its difference."""

    def __init__(
        self,
        title: str,
        seconds: bool,
        mine: Getter,
        diff: Getter,
        ceiling: Getter | None = None,
        unit: str | None = None,
    ):
        self.title = title
        self.seconds = seconds  # a mean time (hours in text), else a share (percent)
        self.mine = mine
        self.diff = diff
        self.ceiling = ceiling  # a point's (ceiling, ok/over) where the policy has one
        self.unit = unit  # the plot's axis, when the title does not say it

    def value(self, entry: dict[str, Any]) -> tuple[float | None, list[float] | None]:
        v = self.mine(entry)
        if v is None:
            return None, None
        if self.seconds:
            return v["mean_seconds"], v["mean_ci95"]
        return v["share"], v["ci95"]

    def difference(self, entry: dict[str, Any]) -> tuple[float | None, list[float] | None]:
        v = self.diff(entry)
        if v is None:
            return None, None
        if self.seconds:
            return v["mean_seconds"], v["mean_ci95"]
        return v["value"], v["ci95"]


def _at(*keys: str) -> Getter:
    def get(entry: dict[str, Any]) -> Any:
        for k in keys:
            entry = entry[k]
        return entry

    return get


def metrics(report: dict[str, Any]) -> Iterator[Metric]:
    """The figures that are not zero (or absent) at every point, in the report's order."""
    pols = report["policies"]
    for reason in pols[0]["end_reasons"]:
        if any(p["end_reasons"][reason]["count"] for p in pols):
            yield Metric(f"ended {reason}", False, _at("end_reasons", reason), _at("end_reasons", reason))
    simple = (
        ("auto_cancel", "auto-cancel (silent + timeout)"),
        ("answered_in_time", "cancel requests answered in time"),
        ("overdue_refunds", "overdue refunds (per order)"),
        ("disputes_opened", "disputes opened (per order)"),
    )
    for key, title in simple:
        if any(p[key] is not None and p[key]["count"] for p in pols):
            yield Metric(title, False, _at(key), _at(key))
    for key, title, ceiling, unit in SELLER_METRICS:
        limited = ceiling is not None and any(p["seller_metrics"][f"{ceiling}_max"] is not None for p in pols)
        if limited or any(p["seller_metrics"][key]["count"] for p in pols):
            mine = _at("seller_metrics", key)
            yield Metric(title, False, mine, mine, _ceiling(ceiling) if limited and ceiling else None, unit)
    for key, title in (("request_to_outcome", "request -> outcome"), ("cancellation_to_refund", "cancel -> refund")):
        for method in dict.fromkeys(m for p in pols for m in p[key]):  # every method a point lists (R27)
            if any(p[key][method]["count"] for p in pols if method in p[key]):
                yield Metric(f"{title}, {method}: mean", True, _method(key, method), _method(key, method))


# the seller metrics (docs/rules.md "Seller metrics"): key, title, the ceiling's field prefix, plot unit
SELLER_METRICS = (
    ("seller_cancellations", "seller-fault cancellations", "cancel_rate", "% of paid orders"),
    ("late_shipments", "late shipments", "late_shipment_rate", "% of shipments"),
    ("requests_answered_in_time", "requests answered in time (seller metrics)", None, "% of requests"),
    ("buyer_requests", "buyers asking to cancel", None, "% of paid orders"),
    ("buyer_free_cancels", "buyer free cancels", None, "% of paid orders"),
)


def _ceiling(prefix: str) -> Getter:
    def get(entry: dict[str, Any]) -> tuple[float | None, str | None]:
        m = entry["seller_metrics"]
        return m[f"{prefix}_max"], m[f"{prefix}_status"]

    return get


def _method(key: str, method: str) -> Getter:
    def get(entry: dict[str, Any]) -> Any:
        return entry[key].get(method)  # None where this point (or its difference) lacks the method

    return get


def _fmt(x: float | None, ci: list[float] | None, seconds: bool, signed: bool) -> str:
    if x is None:
        return "-"
    if seconds:
        sign = "+" if signed else ""
        head = f"{x / 3600:{sign}.1f}h"
        return head if ci is None else f"{head} [{ci[0] / 3600:{sign}.1f}, {ci[1] / 3600:{sign}.1f}]"
    if signed:
        head = f"{x * 100:+.2f} pp"
        return head if ci is None else f"{head} [{ci[0] * 100:+.2f}, {ci[1] * 100:+.2f}]"
    head = f"{x * 100:.2f}%"
    return head if ci is None else f"{head} [{ci[0] * 100:.2f}, {ci[1] * 100:.2f}]"


def text(report: dict[str, Any]) -> str:
    from tabulate import tabulate

    sweep = report["sweep"]
    keys = sweep["keys"]
    pols = report["policies"]
    diffs = report["differences"]
    intro = (
        f"{report['orders']:,} orders from {report['behaviour']}, seed {report['seed']}, "
        f"{report['shards']} shard{'s' if report['shards'] != 1 else ''} of {report['shard_size']:,}; "
        f"{sweep['policy']} at {sweep['points']} points of {' x '.join(keys)}, every point on the same orders "
        "and draws; differences against the first point, paired by shard"
    )
    blocks = [intro]
    for metric in metrics(report):
        unit = "mean (95% CI)" if metric.seconds else "share (95% CI)"
        rows = []
        ceiling = metric.ceiling
        for i, p in enumerate(pols):
            value = _fmt(*metric.value(p), metric.seconds, signed=False)
            vs = "baseline" if i == 0 else _fmt(*metric.difference(diffs[i - 1]), metric.seconds, signed=True)
            row = [*(_point_text(p["point"][k]) for k in keys), value, vs]
            if ceiling is not None:
                most, status = ceiling(p)
                row.append("-" if most is None else f"{status or '-'}, max {most * 100:.2f}%")
            rows.append(row)
        head = [*keys, unit, "vs first (95% CI)", *(["ceiling"] if ceiling is not None else [])]
        table = tabulate(rows, headers=head, tablefmt="simple", disable_numparse=True)
        blocks.append(f"{metric.title}\n{table}")
    if report["shards"] < 2:
        blocks.append("(one shard: no intervals; simulate more orders for them)")
    if "plot" in report:
        blocks.append(f"plot: {report['plot']}")
    return "\n\n".join(blocks)


def _point_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def write_png(report: dict[str, Any], path: Path) -> None:
    """Each metric against the first swept key's value (a number or a duration on a numeric axis,
    in hours; anything else as categories), one line per combination of the other keys."""
    try:
        import matplotlib
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'ordercli[plot]'", "missing_extra") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ordercli.simulate.sweep import axis_numbers

    sweep = report["sweep"]
    keys = sweep["keys"]
    first = keys[0]
    xs_values = sweep["values"][first]
    numbers = axis_numbers(tuple(xs_values))
    ms = list(metrics(report))
    ncols = min(3, max(1, len(ms)))
    nrows = -(-len(ms) // ncols) if ms else 1
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.3 * nrows), squeeze=False)
    pols = report["policies"]
    others = keys[1:]
    groups = list(itertools.product(*(sweep["values"][k] for k in others))) if others else [()]
    for ax, metric in zip(axes.flat, ms, strict=False):
        scale = 1 / 3600 if metric.seconds else 100.0
        for group in groups:
            xs, ys, lo, hi = [], [], [], []
            for j, xv in enumerate(xs_values):
                want = {first: xv, **dict(zip(others, group, strict=True))}
                entry = next(p for p in pols if p["point"] == want)
                y, ci = metric.value(entry)
                if y is None:
                    continue
                xs.append(numbers[j] if numbers is not None else j)
                ys.append(y * scale)
                lo.append(y * scale - (ci[0] * scale if ci else y * scale))
                hi.append((ci[1] * scale if ci else y * scale) - y * scale)
            name = ", ".join(f"{k}={_point_text(v)}" for k, v in zip(others, group, strict=True)) or None
            ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, label=name)
        ax.set_title(metric.title, fontsize=9)
        ax.set_ylabel(_unit(metric))
        if numbers is None:
            ax.set_xticks(range(len(xs_values)), [_point_text(v) for v in xs_values])
        ax.set_xlabel(f"{first}" + (" (hours)" if numbers is not None and _is_duration(xs_values) else ""))
        ax.grid(alpha=0.3)
        if others:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(ms) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{sweep['policy']}: sweep of {' x '.join(keys)} ({report['orders']:,} orders, seed {report['seed']}, 95% CI)"
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (3.3 * nrows)))
    try:
        fig.savefig(path, dpi=100)
    except OSError as exc:
        raise StorageError(f"--plot: cannot write {path}: {exc.strerror or exc}", "write_failed") from None
    finally:
        plt.close(fig)


def _is_duration(values: list[Any]) -> bool:
    return any(isinstance(v, str) for v in values)


def _unit(metric: Metric) -> str:
    if metric.unit is not None:
        return metric.unit
    if metric.seconds:
        return "hours"
    if "answered" in metric.title:
        return "% of requests"
    return "% (per order)" if "per order" in metric.title else "% of orders"

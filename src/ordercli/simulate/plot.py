"""--plot: the refund-time CDF per policy and the end reasons side by side, as a PNG.
matplotlib is imported here only, so nothing else pays for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ordercli.core.errors import UsageError
from ordercli.core.policy import END_REASONS
from ordercli.simulate.aggregate import BIN


def write_png(report: dict[str, Any], totals: list[dict[str, Any]], path: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'ordercli[plot]'", "missing_extra") from None
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    fig, (cdf, bars) = plt.subplots(1, 2, figsize=(12, 4.8))
    labels = [p["policy"] for p in report["policies"]]
    for label, total in zip(labels, totals, strict=True):
        hist: dict[int, int] = {}
        for slot in total["times"]["cancellation_to_refund"].values():  # every method (R27)
            for b, c in slot["hist"].items():
                hist[b] = hist.get(b, 0) + c
        n = sum(hist.values())
        if not n:
            continue
        xs, ys, seen = [0.0], [0.0], 0
        for b in sorted(hist):
            seen += hist[b]
            xs.append(b * BIN / 86400)
            ys.append(seen / n)
        cdf.step(xs, ys, where="post", label=f"{label} ({n:,} refunds)")
    cdf.set_xlabel("cancellation to refund (days)")
    cdf.set_ylabel("share of refunds paid")
    cdf.set_title("Time to refund, all payment methods")
    cdf.grid(alpha=0.3)
    cdf.legend(loc="lower right")

    width = 0.8 / max(1, len(labels))
    for i, p in enumerate(report["policies"]):
        shares = [p["end_reasons"][r]["share"] or 0.0 for r in END_REASONS]
        xs = [j + (i - (len(labels) - 1) / 2) * width for j in range(len(END_REASONS))]
        bars.bar(xs, [s * 100 for s in shares], width=width, label=p["policy"])
    bars.set_xticks(range(len(END_REASONS)), [r.replace("_", "\n") for r in END_REASONS], fontsize=8)
    bars.set_ylabel("% of orders")
    bars.set_title(f"End reasons ({report['orders']:,} orders, seed {report['seed']})")
    bars.legend()
    fig.tight_layout()
    from io import BytesIO

    from ordercli.store import write_output

    png = BytesIO()  # rendered in memory, then written whole by the careful writer
    try:
        fig.savefig(png, format="png", dpi=110)
    finally:
        plt.close(fig)
    write_output(path, png.getvalue(), what="the plot")

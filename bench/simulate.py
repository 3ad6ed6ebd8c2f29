"""How fast and how lean is `ordercli simulate`?

Each measurement runs `ordercli simulate ... --json` as a fresh process and reads its wall time, its
CPU time and its peak memory (the largest resident set of the command or any of its worker processes,
sampled from /proc over the command's process tree).

  throughput   the default behaviour (examples/marketplace.behaviour.yaml) under one policy, --workers 1:
               orders per CPU second (= per core), goal >= 10,000
  scale        10k, 100k, 1M orders under two policies (aliexpress vs examples/seller-48h.toml),
               --workers 2: wall time (1M goal <= 120 s), peak memory (1M within 1.5x of 100k)
  speedup      100k orders under two policies, --workers 1 against --workers 2 (goal >= 1.7x)

Writes bench/simulate_results.json and the plot bench/simulate_scaling.png (time against N).

  python bench/simulate.py                 # everything (the 1M run takes a minute or two)
  python bench/simulate.py --only throughput speedup
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEHAVIOUR = ROOT / "examples" / "marketplace.behaviour.yaml"
POLICY_48H = ROOT / "examples" / "seller-48h.toml"
OUT = ROOT / "bench" / "simulate_results.json"
PLOT = ROOT / "bench" / "simulate_scaling.png"

PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _tree(root: int) -> list[int]:
    """The pid and every descendant of `root`, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """user + system CPU seconds of one process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def _rss_kib(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KIB
    except (OSError, IndexError, ValueError):
        return 0


def run(orders: int, policies: list[str], workers: int, seed: int = 1) -> dict:
    """`ordercli simulate` as a fresh process: wall time, CPU time (the kernel's rusage of the
    reaped command: exact for --workers 1), peak resident memory of its process tree (sampled
    every 20 ms: the sum over its processes, and the largest single process)."""
    import tempfile

    args = [str(BEHAVIOUR), "--orders", str(orders), "--seed", str(seed), "--workers", str(workers), "--json"]
    for p in policies:
        args += ["--policy", p]
    env = {**os.environ, "ORDERCLI_DB": "/nonexistent/never-written.json"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "ordercli", "simulate", *args], stdout=out, stderr=err, env=env)
        peak_sum = peak_one = 0
        cpu_seen: dict[int, float] = {}  # per process of the tree, its CPU time at the last look
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            tree = _tree(proc.pid)
            for p in tree:
                cpu_seen[p] = max(cpu_seen.get(p, 0.0), _cpu_s(p))
            sizes = [_rss_kib(p) for p in tree]
            peak_sum = max(peak_sum, sum(sizes))
            peak_one = max(peak_one, max(sizes, default=0))
            time.sleep(0.02)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"simulate failed ({proc.returncode}): {stderr.decode()[-2000:]}")
    report = json.loads(stdout)
    return {
        "orders": orders,
        "policies": len(policies),
        "workers": workers,
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),  # the command's own process
        # every process of the tree (workers included), as last seen (within 20 ms of its end)
        "tree_cpu_s": round(sum(v for p, v in cpu_seen.items() if p != proc.pid) + usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_sum_mib": round(peak_sum / 1024, 1),
        "peak_rss_one_mib": round(peak_one / 1024, 1),
        "maxrss_main_mib": round(usage.ru_maxrss / 1024, 1),
        "completed": report["policies"][0]["end_reasons"]["completed"]["count"],
        "load_after": round(os.getloadavg()[0], 2),
    }


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_before": os.getloadavg(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=["throughput", "speedup", "scale"])
    ap.add_argument("--sizes", nargs="*", type=int, default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--throughput-orders", type=int, default=100_000)
    opts = ap.parse_args()
    results: dict = json.loads(OUT.read_text()) if OUT.exists() else {}
    results["machine"] = machine()
    one = ["aliexpress"]
    two = ["aliexpress", str(POLICY_48H)]
    if "throughput" in opts.only:
        runs = [run(opts.throughput_orders, one, 1) for _ in range(opts.repeat)]
        best = min(runs, key=lambda r: r["cpu_s"])
        results["throughput"] = {
            "runs": runs,
            "orders_per_cpu_s": round(best["orders"] / best["cpu_s"]),
            "orders_per_wall_s": round(best["orders"] / best["wall_s"]),
        }
        print("throughput", results["throughput"]["orders_per_cpu_s"], "orders/s/core (CPU)", flush=True)
    if "speedup" in opts.only:
        pairs = []
        for _ in range(opts.repeat):  # interleaved, so a busy machine slows both alike
            pairs.append((run(100_000, two, 1), run(100_000, two, 2)))
        w1 = min(p[0]["wall_s"] for p in pairs)
        w2 = min(p[1]["wall_s"] for p in pairs)
        results["speedup"] = {"runs": pairs, "one_worker_s": w1, "two_workers_s": w2, "speedup": round(w1 / w2, 2)}
        print("speedup", results["speedup"]["speedup"], flush=True)
    if "scale" in opts.only:
        scale = []
        for n in opts.sizes:
            reps = 1 if n >= 1_000_000 else opts.repeat
            runs = [run(n, two, 2) for _ in range(reps)]
            best = min(runs, key=lambda r: r["wall_s"])
            scale.append({"orders": n, "best": best, "runs": runs})
            print("scale", n, best["wall_s"], "s", best["peak_rss_sum_mib"], "MiB", flush=True)
        results["scale"] = scale
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    if "scale" in results:
        plot(results["scale"])


def plot(scale: list[dict]) -> None:
    try:
        import matplotlib
    except ImportError:
        print("no matplotlib: plot skipped")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [s["orders"] for s in scale]
    walls = [s["best"]["wall_s"] for s in scale]
    mems = [s["best"]["peak_rss_sum_mib"] for s in scale]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.loglog(ns, walls, "o-", label="wall time, 2 workers, 2 policies")
    ax.loglog(ns, [walls[0] * n / ns[0] for n in ns], ":", color="grey", label="linear in N")
    ax.axhline(120, color="red", linewidth=0.8, linestyle="--", label="goal for 1M: 120 s")
    for n, w, m in zip(ns, walls, mems, strict=True):
        ax.annotate(f"{w:.1f} s, {m:.0f} MiB", (n, w), textcoords="offset points", xytext=(6, -12), fontsize=8)
    ax.set_xlabel("orders simulated (N)")
    ax.set_ylabel("seconds")
    ax.set_title("ordercli simulate: time against N")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    print("plot", PLOT)


if __name__ == "__main__":
    main()

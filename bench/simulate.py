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
  python bench/simulate.py --before        # also today's main (4ad4ead), side by side, in the same run
  python bench/simulate.py --only simpy    # a SimPy toy order model, for scale (pip install 'ordercli[bench]')

--before [REV|SRC] runs every measurement twice, interleaved, a second time with the ordercli of
REV (a git revision of this repository, extracted with `git archive`; default 4ad4ead, the main the
speed goal of issue 20 is measured against) or of SRC (a folder holding the `ordercli` package)
first on PYTHONPATH, and records both and their ratio (after / before, in orders per CPU second and
in wall time). The machine's absolute figures drift from hour to hour; the ratio of one run does not.
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


BEFORE_REV = "4ad4ead"


def before_src(spec: str) -> str:
    """The folder to put first on PYTHONPATH for the `before` runs."""
    import tempfile

    if Path(spec).is_dir():
        # a source tree (/tmp/before, as `git archive` unpacks it) or its src/; else PYTHONPATH would
        # not find ordercli there and the "before" runs would silently import some other ordercli
        for folder in (Path(spec) / "src", Path(spec)):
            if (folder / "ordercli" / "__init__.py").is_file():
                return str(folder.resolve())
        raise SystemExit(f"--before {spec}: no ordercli package in {spec}/src or {spec}")
    folder = Path(tempfile.mkdtemp(prefix="ordercli-before-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", spec, "src"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return str(folder / "src")


def run(orders: int, policies: list[str], workers: int, seed: int = 1, src: str | None = None) -> dict:
    """`ordercli simulate` as a fresh process: wall time, CPU time (the kernel's rusage of the
    reaped command: exact for --workers 1), peak resident memory of its process tree (sampled
    every 20 ms: the sum over its processes, and the largest single process)."""
    import tempfile

    args = [str(BEHAVIOUR), "--orders", str(orders), "--seed", str(seed), "--workers", str(workers), "--json"]
    for p in policies:
        args += ["--policy", p]
    env = {**os.environ, "ORDERCLI_DB": "/nonexistent/never-written.json"}
    src = src or str(ROOT / "src")  # this checkout's ordercli, whatever the venv has installed
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
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
        # every process of the tree (workers included), each its own time as last seen (within 20 ms of its
        # end); not the command's rusage, which also counts the descendants it reaped (since issue 17 it
        # reaps the forkserver, and with it the workers' time: they were counted twice)
        "tree_cpu_s": round(sum(cpu_seen.values()), 3),
        "peak_rss_sum_mib": round(peak_sum / 1024, 1),
        "peak_rss_one_mib": round(peak_one / 1024, 1),
        "maxrss_main_mib": round(usage.ru_maxrss / 1024, 1),
        "completed": report["policies"][0]["end_reasons"]["completed"]["count"],
        "src": src,
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
    ap.add_argument("--before", nargs="?", const=BEFORE_REV, default=None, metavar="REV|SRC")
    opts = ap.parse_args()
    results: dict = json.loads(OUT.read_text()) if OUT.exists() else {}
    results["machine"] = machine()
    one = ["aliexpress"]
    two = ["aliexpress", str(POLICY_48H)]
    if "simpy" in opts.only:
        results["simpy_toy"] = simpy_figure(opts.throughput_orders, opts.repeat)
    if opts.before is not None:
        side_by_side(opts, before_src(opts.before), one, two, results)
        OUT.write_text(json.dumps(results, indent=2) + "\n")
        return
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


def simpy_figure(orders: int, repeat: int) -> dict:
    """bench/simpy_toy.py in a fresh process, best of `repeat`: a much simpler order model in SimPy."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, str(ROOT / "bench" / "simpy_toy.py"), str(orders)], capture_output=True,
                             text=True, check=True)  # fmt: skip
        runs.append(__import__("ast").literal_eval(out.stdout.strip()))
    best = max(runs, key=lambda r: r["orders_per_cpu_s"])
    print("simpy toy", best["orders_per_cpu_s"], "orders/s/core (CPU)", flush=True)
    return {"runs": runs, "orders_per_cpu_s": best["orders_per_cpu_s"]}


def side_by_side(opts: argparse.Namespace, old: str, one: list[str], two: list[str], results: dict) -> None:
    """Before and after, interleaved run by run, so that a busy machine slows both alike."""
    out: dict = {"before": {"rev_or_src": opts.before, "src": old}, "after": {"src": str(ROOT / "src")}}
    if "throughput" in opts.only:
        pairs = [(run(opts.throughput_orders, one, 1, src=old), run(opts.throughput_orders, one, 1))
                 for _ in range(opts.repeat)]  # fmt: skip
        b = min((p[0] for p in pairs), key=lambda r: r["cpu_s"])
        a = min((p[1] for p in pairs), key=lambda r: r["cpu_s"])
        assert b["completed"] == a["completed"], "before and after must simulate the same orders"
        out["throughput"] = {
            "runs": pairs,
            "before_orders_per_cpu_s": round(b["orders"] / b["cpu_s"]),
            "after_orders_per_cpu_s": round(a["orders"] / a["cpu_s"]),
            "ratio": round(b["cpu_s"] / a["cpu_s"], 3),
        }
        print("throughput before", out["throughput"]["before_orders_per_cpu_s"], "after",
              out["throughput"]["after_orders_per_cpu_s"], "orders/s/core (CPU); ratio",
              out["throughput"]["ratio"], flush=True)  # fmt: skip
    if "scale" in opts.only:
        n = max(opts.sizes)
        b, a = run(n, two, 2, src=old), run(n, two, 2)
        out["scale"] = {"orders": n, "policies": 2, "workers": 2, "before": b, "after": a,
                        "wall_ratio": round(b["wall_s"] / a["wall_s"], 3),
                        "tree_cpu_ratio": round(b["tree_cpu_s"] / a["tree_cpu_s"], 3)}  # fmt: skip
        print("scale", n, "before", b["wall_s"], "s", b["tree_cpu_s"], "CPU s; after", a["wall_s"], "s",
              a["tree_cpu_s"], "CPU s", flush=True)  # fmt: skip
    results["before_after"] = out


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

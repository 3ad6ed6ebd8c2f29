"""How fast is ordercli, against what the same interpreter needs to do anyway?

Every figure is a median over repeated runs of a fresh process, and each command is timed side by side
with its baseline (the runs are interleaved, so a busy machine slows both alike). The baselines are a bare
interpreter doing only the file work, with the cycle collector off:

  ordercli --version                        vs  python -c "import typer"                  goal <= 0.5x
  orders show ID --json   (10-order world)  vs  python -c "import typer"                  goal <= 1.5x
  orders show ID --json   (big world)       vs  python: orjson.loads(file)                goal <= 1.2x
  orders place ... --json (big world)       vs  python: orjson.loads + dumps + fsync      goal <= 1.2x
  orders list --json      (big world)       vs  the same load + dump                      goal <= 2x
  clock tick 9d --json    (big world)       vs  the same load + dump                      goal <= 4x
  peak RSS of any command on the big world                                                goal <= 1.2 GiB

With `--before SRC` the same probes also run another ordercli source tree (e.g. `git archive` of an older
commit, unpacked), interleaved with this one in the same rounds: "before" and "after" figures from one run.
Both are then started the same way, `python -c` running what the tree's console script runs, with
PYTHONPATH set to the tree's src/.

The big world is the largest of --sizes (100,000 orders by default). Worlds are built with `clock set
2030-03-04T09:00:00Z` (a Monday) and one `orders import`, every order paid by card, so every order's
ship_by is the same instant, Wednesday 2030-03-13T09:00Z (7 working days), and `clock tick 9d` fires all
of them: N cancellations and N refunds. Writing commands (place, tick) and the load+dump baseline run on a
fresh copy of the pristine world each time (copied and synced to disk before the clock starts). With
--before, each version runs on a world its own code built (the same orders; 0.1.0 refuses the newer
schema of later versions), and the baselines on the newest version's.

Also times show, place, list and tick against world size and plots it (log-log) to bench/scaling.png
(needs matplotlib, imported only for the plot; without it the plot is skipped with a message).

Peak memory is the kernel's maximum resident set size of each child, read with os.wait4 when the child
is reaped (the per-child form of resource.getrusage(RUSAGE_CHILDREN).ru_maxrss); CPU time (user + system)
comes from the same rusage and is shown next to wall time, since it is less sensitive to other load.

Usage:

  python bench/run.py                        # 1,000 / 10,000 / 100,000 orders, 7 repetitions (minutes)
  python bench/run.py --quick                # 100 / 1,000 orders, 3 repetitions (seconds)
  python bench/run.py --sizes 1000,10000,100000 --repeat 9

Startup rows (--version, show on the 10-order world) are cheap and noisy: they run 3x --repeat times.
Results: a table on stdout, JSON in bench/results.json (bench/results-quick.json with --quick).
Public tools only: the standard library, orjson (in the measured baselines), matplotlib for the plot.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
START = "2030-03-04T09:00:00Z"  # a Monday
SHIP_BY = "2030-03-13T09:00:00+00:00"  # 7 working days later
TICK = "9d"  # past SHIP_BY: every order's ship deadline fires
SMALL = 10  # orders in the "small world" of the startup rows
GIB = 1024**3
PY = sys.executable

LOAD_SRC = "import gc, sys, orjson\ngc.disable()\nwith open(sys.argv[1], 'rb') as f:\n    orjson.loads(f.read())\n"
LOAD_DUMP_SRC = """\
import gc, os, sys, orjson
gc.disable()
path = sys.argv[1]
with open(path, 'rb') as f:
    data = orjson.loads(f.read())
raw = orjson.dumps(data)
tmp = path + '.baseline.tmp'
with open(tmp, 'wb') as f:
    f.write(raw)
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, path)
"""


# ------------------------------------------------------------------------------------ running a child


def ordercli() -> list[str]:
    """The console script next to this interpreter, else `python -m ordercli`."""
    bindir = Path(sys.executable).parent
    for name in ("ordercli", "ordercli.exe"):
        if (bindir / name).exists():
            return [str(bindir / name)]
    return [sys.executable, "-m", "ordercli"]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERCLI_")}
    env["NO_COLOR"] = "1"
    return env


ENV = child_env()
# what each version's console script runs (0.1.0's is entry.main, later ones entry.console)
LAUNCH = "import sys, ordercli.entry as e; sys.exit(getattr(e, 'console', e.main)())"
# label -> (argv prefix, environment): "after" alone, or "before" and "after" with --before
VERSIONS: dict[str, tuple[list[str], dict[str, str]]] = {}


def use_versions(before: Path | None) -> None:
    trees = [HERE.parent]
    if before is None:
        VERSIONS["after"] = (ordercli(), ENV)
    else:
        trees.insert(0, before)
        for label, tree in (("before", before), ("after", HERE.parent)):
            VERSIONS[label] = ([PY, "-c", LAUNCH], {**ENV, "PYTHONPATH": str(Path(tree).resolve() / "src")})
    # as pip does at install: with PYTHONDONTWRITEBYTECODE set, every run would compile ordercli again
    for tree in trees:
        subprocess.run([PY, "-m", "compileall", "-q", str(Path(tree) / "src")], check=True)
HAVE_WAIT4 = hasattr(os, "wait4")


@dataclass
class Sample:
    wall: float
    cpu: float | None
    rss: int | None  # bytes


def _rss_bytes(maxrss: int) -> int:
    return maxrss if sys.platform == "darwin" else maxrss * 1024  # Linux reports KiB


def run(argv: list[str], stdin: Path | None = None, capture: bool = False,
        env: dict[str, str] | None = None) -> tuple[Sample, bytes]:
    """Runs argv to completion; stdout goes to /dev/null (or is returned with capture=True)."""
    with tempfile.TemporaryFile() as err, \
            (tempfile.TemporaryFile() if capture else open(os.devnull, "wb")) as out, \
            (open(stdin, "rb") if stdin else open(os.devnull, "rb")) as inp:
        before = None
        if not HAVE_WAIT4:  # pragma: no cover - non-POSIX fallback: a high-water mark only
            import resource

            before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=inp, stdout=out, stderr=err, env=env or ENV)
        if HAVE_WAIT4:
            _, status, ru = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
            cpu: float | None = ru.ru_utime + ru.ru_stime
            rss: int | None = _rss_bytes(ru.ru_maxrss)
        else:  # pragma: no cover
            import resource

            proc.wait()
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            rss = _rss_bytes(after.ru_maxrss) if after.ru_maxrss > before.ru_maxrss else None
        if proc.returncode != 0:
            err.seek(0)
            message = err.read().decode(errors="replace")
            raise SystemExit(f"bench: {' '.join(argv)} exited {proc.returncode}:\n{message}")
        data = b""
        if capture:
            out.seek(0)
            data = out.read()
    return Sample(wall, cpu, rss), data


# ------------------------------------------------------------------------------------------- worlds


@dataclass
class World:
    n: int
    dir: Path
    pristine: Path  # the newest version's world: the baselines read and write this one
    work: Path
    build: dict[str, Any] = field(default_factory=dict)
    # each version's own (pristine, work): a version reads the world its own code built (0.1.0 refuses
    # the newer schema of later ones)
    copies: dict[str, tuple[Path, Path]] = field(default_factory=dict)

    def fresh_copy(self, label: str | None = None) -> None:
        """A writing command's starting point: the pristine world, on disk (not just in the page cache)."""
        pristine, work = self.copies[label] if label else (self.pristine, self.work)
        shutil.copyfile(pristine, work)
        if hasattr(os, "sync"):
            os.sync()

    def files(self, label: str) -> tuple[Path, Path]:
        return self.copies.get(label, (self.pristine, self.work))


def build_world(root: Path, n: int) -> World:
    d = root / f"world-{n}"
    d.mkdir(parents=True)
    ndjson = d / "orders.ndjson"
    with open(ndjson, "w", encoding="utf-8") as fh:
        for i in range(1, n + 1):
            fh.write(json.dumps({"buyer": f"b{i % 997}", "seller": f"s{i % 101}", "item": f"item {i}",
                                 "amount": f"{i % 500 + 1}.{i % 100:02d}", "payment": "card"}) + "\n")
    world = World(n, d, d / "world.json", d / "work.json")
    for label, (oc, env) in VERSIONS.items():
        pristine, work = (world.pristine, world.work) if label == "after" else (
            d / f"world-{label}.json", d / f"work-{label}.json")
        world.copies[label] = (pristine, work)
        db = ["--db", str(pristine)]
        run([*oc, *db, "clock", "set", START, "--json"], env=env)
        sample, out = run([*oc, *db, "orders", "import", str(ndjson), "--json"], capture=True, env=env)
        if json.loads(out) != {"imported": n}:
            raise SystemExit(f"bench: {label}: import of {n} orders said {out[:200]!r}")
        if label == "after":
            world.build = {"import_wall_s": sample.wall, "import_cpu_s": sample.cpu,
                           "import_peak_rss_bytes": sample.rss, "file_bytes": pristine.stat().st_size}
    ndjson.unlink()
    return world


# ------------------------------------------------------------------------------------------- probes


@dataclass
class Probe:
    name: str
    argv: list[str]
    prep: Callable[[], None] | None = None
    check: Callable[[bytes], None] | None = None  # validates the output of the (untimed) warm-up run
    env: dict[str, str] | None = None
    samples: list[Sample] = field(default_factory=list)

    def stats(self) -> dict[str, Any]:
        walls = [s.wall for s in self.samples]
        cpus = [s.cpu for s in self.samples if s.cpu is not None]
        rss = [s.rss for s in self.samples if s.rss is not None]
        return {
            "median_s": statistics.median(walls),
            "min_s": min(walls),
            "max_s": max(walls),
            "cpu_median_s": statistics.median(cpus) if cpus else None,
            "peak_rss_bytes": max(rss) if rss else None,
            "runs": len(walls),
            "samples_s": [round(w, 6) for w in walls],
        }


def measure(probes: list[Probe], repeat: int, label: str) -> dict[str, dict[str, Any]]:
    """One untimed, checked warm-up run each, then `repeat` interleaved rounds (alternating direction)."""
    for p in probes:
        if p.prep:
            p.prep()
        _, out = run(p.argv, capture=p.check is not None, env=p.env)
        if p.check:
            p.check(out)
    for r in range(repeat):
        order = probes if r % 2 == 0 else probes[::-1]
        for p in order:
            if p.prep:
                p.prep()
            sample, _ = run(p.argv, env=p.env)
            p.samples.append(sample)
        print(f"  {label}: round {r + 1}/{repeat}", file=sys.stderr, flush=True)
    return {p.name: p.stats() for p in probes}


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise SystemExit(f"bench: unexpected output: {what}")


def check_show(oid: str) -> Callable[[bytes], None]:
    def check(out: bytes) -> None:
        o = json.loads(out)
        expect(o["id"] == oid and o["status"] == "awaiting_shipment" and o["ship_by"] == SHIP_BY, f"show {oid}")
    return check


def check_place(out: bytes) -> None:
    expect(json.loads(out)["status"] == "awaiting_shipment", "orders place")


def check_list(n: int) -> Callable[[bytes], None]:
    def check(out: bytes) -> None:
        rows = json.loads(out)
        expect(len(rows) == n and all(r["ship_by"] == SHIP_BY for r in rows), f"orders list of {n}")
    return check


def check_tick(n: int) -> Callable[[bytes], None]:
    def check(out: bytes) -> None:
        # counted on the bytes: json.loads of 2N events would cost the bench more memory than the command
        cancelled = out.count(b'"kind": "order_cancelled"')
        refunds = out.count(b'"kind": "refund_started"')
        ship_timeouts = out.count(b'"end_reason": "ship_timeout"')
        expect(cancelled == refunds == ship_timeouts == n and f'"to": "{SHIP_BY}"'.encode() in out,
               f"tick fired {cancelled} cancellations, {refunds} refunds, {ship_timeouts} ship timeouts, not {n}")
    return check


def world_probes(w: World) -> list[Probe]:
    oid = f"ORD-{(w.n + 1) // 2:04d}"
    probes = [Probe("load", [PY, "-c", LOAD_SRC, str(w.pristine)]),
              Probe("load_dump", [PY, "-c", LOAD_DUMP_SRC, str(w.work)], prep=w.fresh_copy)]
    for v, (oc, env) in VERSIONS.items():
        pristine, work = map(str, w.files(v))
        prep = partial(w.fresh_copy, v)
        probes += [
            Probe(f"show@{v}", [*oc, "--db", pristine, "orders", "show", oid, "--json"], check=check_show(oid),
                  env=env),
            Probe(f"place@{v}", [*oc, "--db", work, "orders", "place", "--buyer", "bench", "--seller", "benchshop",
                                 "--item", "bench item", "--amount", "9.99", "--json"], prep=prep,
                  check=check_place, env=env),
            Probe(f"list@{v}", [*oc, "--db", pristine, "orders", "list", "--json"], check=check_list(w.n), env=env),
            Probe(f"tick@{v}", [*oc, "--db", work, "clock", "tick", TICK, "--json"], prep=prep,
                  check=check_tick(w.n), env=env),
        ]
    return probes


# ------------------------------------------------------------------------------------------ machine


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "ram_bytes": None,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
        "executable": sys.executable,
        "ordercli": " ".join(ordercli()),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["ram_bytes"] = int(line.split()[1]) * 1024
    except OSError:
        try:
            info["ram_bytes"] = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            pass
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                info["os"] = f"{line.split('=', 1)[1].strip(chr(34))} ({platform.system()} {platform.release()})"
    except OSError:
        pass
    import importlib.metadata as md

    for pkg in ("ordercli", "typer", "orjson"):
        try:
            info[f"{pkg}_version"] = md.version(pkg)
        except md.PackageNotFoundError:
            info[f"{pkg}_version"] = None
    return info


def filesystem_of(path: Path) -> str | None:
    try:
        best = ("", "")
        for line in Path("/proc/mounts").read_text().splitlines():
            dev, mnt, fstype = line.split()[:3]
            if str(path.resolve()).startswith(mnt) and len(mnt) >= len(best[0]):
                best = (mnt, f"{fstype} ({dev} on {mnt})")
        return best[1] or None
    except OSError:
        return None


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


# --------------------------------------------------------------------------------------------- report


def fmt_s(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:.0f} ms" if s < 10 else f"{s:.1f} s"


def fmt_bytes(b: int | None) -> str:
    return "-" if b is None else f"{b / 2**20:,.0f} MiB"


GOALS = {"version": 0.5, "show_small": 1.5, "show": 1.2, "place": 1.2, "list": 2.0, "tick": 4.0}
PEAK_GOAL = 1.2 * GIB


def rows(startup: dict, big: dict, big_n: int, big_world: World) -> list[dict[str, Any]]:
    def ratio_row(key: str, what: str, base: str, c: dict, b: dict, goal: float) -> dict[str, Any]:
        ratio = c["median_s"] / b["median_s"]
        cpu_ratio = (c["cpu_median_s"] / b["cpu_median_s"]) if c["cpu_median_s"] and b["cpu_median_s"] else None
        return {"key": key, "command": what, "baseline": base, "command_s": c["median_s"], "baseline_s": b["median_s"],
                "command_cpu_s": c["cpu_median_s"], "baseline_cpu_s": b["cpu_median_s"], "ratio": ratio,
                "cpu_ratio": cpu_ratio, "goal": goal, "pass": ratio <= goal, "runs": c["runs"]}

    n = f"{big_n:,}"
    out = []
    for v in VERSIONS:
        out += [
            ratio_row(f"version@{v}", f"[{v}] ordercli --version", 'python -c "import typer"',
                      startup[f"version@{v}"], startup["typer"], GOALS["version"]),
            ratio_row(f"show_small@{v}", f"[{v}] orders show ID --json ({SMALL} orders)", 'python -c "import typer"',
                      startup[f"show_small@{v}"], startup["typer"], GOALS["show_small"]),
            ratio_row(f"show@{v}", f"[{v}] orders show ID --json ({n} orders)", "python: orjson.loads(file)",
                      big[f"show@{v}"], big["load"], GOALS["show"]),
            ratio_row(f"place@{v}", f"[{v}] orders place ... --json ({n} orders)",
                      "python: orjson loads + dumps + fsync", big[f"place@{v}"], big["load_dump"], GOALS["place"]),
            ratio_row(f"list@{v}", f"[{v}] orders list --json ({n} orders)", "python: orjson loads + dumps + fsync",
                      big[f"list@{v}"], big["load_dump"], GOALS["list"]),
            ratio_row(f"tick@{v}", f"[{v}] clock tick {TICK} --json ({n} orders, all fire)",
                      "python: orjson loads + dumps + fsync", big[f"tick@{v}"], big["load_dump"], GOALS["tick"]),
        ]
        peaks = {name: big[f"{name}@{v}"]["peak_rss_bytes"] for name in ("show", "place", "list", "tick")}
        if v == "after":
            peaks["import"] = big_world.build["import_peak_rss_bytes"]
        known = {k: val for k, val in peaks.items() if val is not None}
        worst = max(known, key=known.__getitem__) if known else None
        out.append({"key": f"peak_rss@{v}", "command": f"[{v}] peak RSS of any command ({n} orders)",
                    "per_command_bytes": peaks, "worst_command": worst,
                    "peak_bytes": known.get(worst) if worst else None,
                    "baseline_load_bytes": big["load"]["peak_rss_bytes"],
                    "baseline_load_dump_bytes": big["load_dump"]["peak_rss_bytes"],
                    "goal_bytes": int(PEAK_GOAL), "pass": (known[worst] <= PEAK_GOAL) if worst else None})
    return out


def print_table(table: list[dict[str, Any]]) -> None:
    head = f"{'command':<58} {'baseline':<38} {'cmd':>9} {'base':>9} {'ratio':>7} {'cpu ratio':>9} {'goal':>7}  result"
    print(head)
    print("-" * len(head))
    for r in table:
        if r["key"].startswith("peak_rss"):
            result = "n/a" if r["pass"] is None else ("PASS" if r["pass"] else "FAIL")
            print(f"{r['command']:<58} {'worst: ' + str(r['worst_command']):<38} {fmt_bytes(r['peak_bytes']):>9} "
                  f"{fmt_bytes(r['baseline_load_dump_bytes']):>9} {'':>7} {'':>9} {'1.2 GiB':>7}  {result}")
            print("    per command: " + ", ".join(f"{k} {fmt_bytes(v)}" for k, v in r["per_command_bytes"].items())
                  + f"; baselines: load {fmt_bytes(r['baseline_load_bytes'])}, "
                    f"load+dump {fmt_bytes(r['baseline_load_dump_bytes'])}")
            continue
        cpu = "-" if r["cpu_ratio"] is None else f"{r['cpu_ratio']:.2f}x"
        print(f"{r['command'][:58]:<58} {r['baseline']:<38} {fmt_s(r['command_s']):>9} {fmt_s(r['baseline_s']):>9} "
              f"{r['ratio']:>6.2f}x {cpu:>9} {'<=' + format(r['goal'], 'g') + 'x':>7}  "
              f"{'PASS' if r['pass'] else 'FAIL'}")


def print_scaling(scaling: dict[int, dict]) -> None:
    names = [f"{c}@{v}" for v in VERSIONS for c in ("show", "place", "list", "tick")] + ["load", "load_dump"]
    print(f"\n{'orders':>8} " + " ".join(f"{n:>10}" for n in names) + f" {'file':>10} {'import':>9}")
    for n, res in sorted(scaling.items()):
        print(f"{n:>8,} " + " ".join(f"{fmt_s(res['results'][k]['median_s']):>10}" for k in names)
              + f" {res['build']['file_bytes'] / 2**20:>8.1f}MB {fmt_s(res['build']['import_wall_s']):>9}")


def plot(scaling: dict[int, dict], path: Path, title: str) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"\nmatplotlib is not installed: skipping the plot {path} "
              f"(install it with `{sys.executable} -m pip install matplotlib` to get it)")
        return None
    sizes = sorted(scaling)
    fig, ax = plt.subplots(figsize=(8, 5.5))
    marks = {"show": "o", "place": "s", "list": "^", "tick": "D"}
    colours = {"show": "C0", "place": "C1", "list": "C2", "tick": "C3"}
    labels = {"show": "orders show ID --json", "place": "orders place --json", "list": "orders list --json",
              "tick": f"clock tick {TICK} --json (fires all)"}
    for v in VERSIONS:
        line = ":" if v == "before" else "-"
        for name, mark in marks.items():
            ys = [scaling[n]["results"][f"{name}@{v}"]["median_s"] for n in sizes]
            ax.plot(sizes, ys, mark + line, label=f"{labels[name]} ({v})", color=colours[name],
                    alpha=0.45 if v == "before" else 1.0)
    for name, style, label in (("load", "o--", "baseline: orjson.loads (gc off)"),
                               ("load_dump", "s--", "baseline: loads + dumps + fsync (gc off)")):
        ys = [scaling[n]["results"][name]["median_s"] for n in sizes]
        ax.plot(sizes, ys, style, label=label, color="grey")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("orders in the world")
    ax.set_ylabel("median wall time per command (s)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)


# ----------------------------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (100, 1000) and 3 repetitions")
    ap.add_argument("--sizes", help="comma-separated world sizes (default 1000,10000,100000); the largest is "
                                    "the big world of the table")
    ap.add_argument("--repeat", type=int, help="timed runs per measurement (default 7, 3 with --quick)")
    ap.add_argument("--out", type=Path, help="JSON results (default bench/results.json, -quick with --quick)")
    ap.add_argument("--plot", type=Path, help="the scaling plot (default bench/scaling.png, -quick with --quick)")
    ap.add_argument("--workdir", type=Path, help="where the worlds are built (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the worlds after the run")
    ap.add_argument("--before", type=Path, help="another ordercli source tree to measure side by side")
    args = ap.parse_args()
    use_versions(args.before)

    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",")}) if args.sizes else (
        [100, 1000] if args.quick else [1000, 10000, 100000])
    repeat = args.repeat or (3 if args.quick else 7)
    if repeat < 1 or not sizes or min(sizes) < 1:
        ap.error("--repeat and --sizes must be positive")
    suffix = "-quick" if args.quick else ""
    out_json = args.out or HERE / f"results{suffix}.json"
    out_png = args.plot or HERE / f"scaling{suffix}.png"

    info = machine()
    root = Path(tempfile.mkdtemp(prefix="ordercli-bench-", dir=args.workdir))
    info["workdir_filesystem"] = filesystem_of(root)
    info["loadavg_start"] = loadavg()
    print(f"ordercli bench: {info['cpu']}, {info['cores']} cores, "
          f"{(info['ram_bytes'] or 0) / GIB:.1f} GiB RAM, {info['python']}, {info['os']}")
    print(f"  {info['ordercli']}; worlds in {root} ({info['workdir_filesystem']}); sizes {sizes}; "
          f"{repeat} runs per measurement ({3 * repeat} for startup rows); load average {info['loadavg_start']}")
    if not HAVE_WAIT4:
        print("  (no os.wait4 here: peak memory is resource.RUSAGE_CHILDREN's high-water mark)")
    t_start = time.perf_counter()
    try:
        print(f"building a {SMALL}-order world ...", file=sys.stderr, flush=True)
        small = build_world(root, SMALL)
        oid = "ORD-0005"
        probes = [Probe("typer", [PY, "-c", "import typer"])]
        for v, (vc, env) in VERSIONS.items():
            probes += [Probe(f"version@{v}", [*vc, "--version"], env=env),
                       Probe(f"show_small@{v}", [*vc, "--db", str(small.files(v)[0]), "orders", "show", oid, "--json"],
                             check=check_show(oid), env=env)]
        startup = measure(probes, 3 * repeat, "startup")

        scaling: dict[int, dict] = {}
        worlds: dict[int, World] = {}
        for n in sizes:
            print(f"building a {n:,}-order world ...", file=sys.stderr, flush=True)
            w = worlds[n] = build_world(root, n)
            results = measure(world_probes(w), repeat, f"{n:,} orders")
            scaling[n] = {"build": w.build, "results": results}
            if n != sizes[-1]:
                shutil.rmtree(w.dir, ignore_errors=True)
        big_n = sizes[-1]
        table = rows(startup, scaling[big_n]["results"], big_n, worlds[big_n])
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    info["loadavg_end"] = loadavg()
    elapsed = time.perf_counter() - t_start

    print()
    print_table(table)
    print_scaling(scaling)
    if big_n != 100000:
        print(f"\nnote: the goals are stated for a 100,000-order world; this run's big world has {big_n:,} orders")
    title = f"ordercli: median of {repeat} runs — {info['cpu']}, {info['cores']} cores, {info['python']}"
    png = plot(scaling, out_png, title)
    result = {
        "machine": info,
        "config": {"sizes": sizes, "repeat": repeat, "startup_repeat": 3 * repeat, "small_world": SMALL,
                   "start": START, "tick": TICK, "ship_by": SHIP_BY, "elapsed_s": elapsed},
        "table": table,
        "startup": startup,
        "scaling": {str(n): v for n, v in scaling.items()},
        "plot": png,
    }
    out_json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out_json}" + (f" and {png}" if png else "") + f" in {elapsed:.0f} s "
          f"(load average {info['loadavg_start']} -> {info['loadavg_end']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

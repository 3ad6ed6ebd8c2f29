"""In-process speed (issue 10): a scenario step should cost what the engine costs.

Times, side by side for this checkout and for another source tree of ordercli (`--base`, e.g. an
export of an older commit: `git archive bc5d442 | tar -x -C /tmp/base`), each in a fresh process:

  1. 10 separate `ordercli orders place ... --json` processes on one data file: the budget;
  2. `ordercli scenario run FILE` (one process) of a 1,000-step scenario, place and tick alternating;
  3. the same file under the pytest plugin: `pytest FILE` (this checkout only; the base has none),
     with the test's own call time from --junitxml;
  4. the API's place + tick loop for 10,000 orders in memory (`Sandbox`); for the base, which has no
     API, the same loop on its engine directly (`World` + `engine.place_order` + `engine.clock_tick`).

Each figure is the median of --repeat runs (the base's API loop, quadratic there, runs once). Usage:

  python bench/inprocess.py [--base /tmp/base/src] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "src"
START = "2030-03-04T09:00:00Z"

API_LOOP_NEW = """
import sys, time
from ordercli import Sandbox
n = int(sys.argv[1])
world = Sandbox(start="2030-03-04T09:00:00Z")
t0 = time.perf_counter()
for i in range(n):
    world.place(f"buyer{i}", "acme", "Mug", "5")
    world.clock_tick("1h")
elapsed = time.perf_counter() - t0
assert len(world.orders()) == n
print(elapsed)
"""

API_LOOP_BASE = """
import sys, time
from datetime import datetime
from ordercli.core import engine, presets
from ordercli.core.world import World, empty_tables
n = int(sys.argv[1])
world = World(empty_tables(datetime.fromisoformat("2030-03-04T09:00:00+00:00"), presets.load("aliexpress").meta()))
t0 = time.perf_counter()
for i in range(n):
    engine.place_order(world, buyer=f"buyer{i}", seller="acme", item="Mug", amount="5")
    engine.clock_tick(world, "1h")
elapsed = time.perf_counter() - t0
assert len(world.orders) == n
print(elapsed)
"""


def scenario(steps: int) -> dict:
    body = []
    for i in range(steps // 2):
        body.append({"run": f"orders place --buyer buyer{i} --seller acme --item Mug --amount 5"})
        body.append({"run": "clock tick 1h"})
    return {"name": f"bench: {steps} steps", "start": START, "steps": body}


def env_for(src: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src), "NO_COLOR": "1"}


def timed(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True)
    elapsed = time.perf_counter() - t0
    if done.returncode not in ok:
        sys.stderr.write(done.stdout.decode()[-2000:] + done.stderr.decode()[-2000:])
        raise SystemExit(f"{' '.join(cmd[:6])}...: exit {done.returncode}")
    return elapsed


def ten_places(src: Path, tmp: Path) -> float:
    db = tmp / f"ten-{src.parent.name}.json"
    env = env_for(src)
    subprocess.run([sys.executable, "-m", "ordercli", "--db", str(db), "clock", "set", START], env=env, check=True,
                   capture_output=True)
    total = 0.0
    for i in range(10):
        total += timed([sys.executable, "-m", "ordercli", "--db", str(db), "orders", "place", "--buyer", f"b{i}",
                        "--seller", "acme", "--item", "Mug", "--amount", "5", "--json"], env)
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, help="the src/ folder of another ordercli to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=10_000)
    args = parser.parse_args()
    trees = {"this checkout": HERE}
    if args.base:
        trees = {"base": args.base.resolve(), **trees}
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="ordercli-bench-") as tmpdir:
        tmp = Path(tmpdir)
        sc = tmp / "bench.scenario.json"
        sc.write_text(json.dumps(scenario(args.steps)))
        for label, src in trees.items():
            env = env_for(src)
            row: dict[str, list[float]] = {"ten_places": [], "scenario_run": [], "api_loop": []}
            if label != "base":
                row |= {"pytest": [], "pytest_call": []}
            for _ in range(args.repeat):
                row["ten_places"].append(ten_places(src, tmp))
                row["scenario_run"].append(
                    timed([sys.executable, "-m", "ordercli", "scenario", "run", str(sc), "--json"], env)
                )
                loop = API_LOOP_BASE if label == "base" else API_LOOP_NEW
                if label == "base" and row["api_loop"]:
                    continue  # quadratic there (a tick scans every order): once is enough
                out = subprocess.run([sys.executable, "-c", loop, str(args.orders)], env=env, capture_output=True,
                                     text=True, timeout=3600)
                if out.returncode != 0:
                    raise SystemExit(out.stderr[-2000:])
                row["api_loop"].append(float(out.stdout.strip()))
                if label != "base":
                    junit = tmp / "junit.xml"
                    row["pytest"].append(timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                                f"--junitxml={junit}", "--rootdir", str(tmp), str(sc)], env))
                    case = ET.parse(junit).getroot().find(".//testcase")
                    assert case is not None and case.find("failure") is None
                    row["pytest_call"].append(float(case.get("time") or "nan"))
            results[label] = {k: statistics.median(v) for k, v in row.items()}
    print(json.dumps(results, indent=2))
    names = {
        "ten_places": "10 separate `orders place` processes",
        "scenario_run": f"`scenario run` of {args.steps} steps (one process)",
        "pytest": f"`pytest` of the same file ({args.steps} steps, one process)",
        "pytest_call": "  of which the test item itself",
        "api_loop": f"place + tick loop, {args.orders:,} orders, in memory",
    }
    labels = list(results)
    print("| measure | " + " | ".join(labels) + " |")
    print("|---|" + "---:|" * len(labels))
    for key, name in names.items():
        cells = [f"{results[lb][key]:.2f} s" if key in results[lb] else "-" for lb in labels]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

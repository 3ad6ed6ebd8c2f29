"""How much faster is `ordercli scenario run` (one process, every step in-process) than running
the same command lines as separate `ordercli` processes?

Builds a scenario of ROUNDS x [orders place, cancel request, seller respond accept|reject,
clock tick 1h] (1,000 steps by default, with ${...} references), times

  1. `ordercli scenario run FILE` (one process), and
  2. the same 1,000 command lines, each as its own `ordercli --db TMP ... --json` process,
     against one temporary data file whose clock starts where the scenario's does,

and prints both times and the ratio. Usage:

  python bench/scenario_vs_processes.py [--rounds 250]
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = "2030-03-04T09:00:00Z"  # a Monday


def ordercli() -> list[str]:
    bindir = Path(sys.executable).parent
    for name in ("ordercli", "ordercli.exe"):
        if (bindir / name).exists():
            return [str(bindir / name)]
    return [sys.executable, "-m", "ordercli"]


def build(rounds: int) -> tuple[dict, list[str]]:
    """The scenario, and the same steps as plain command lines (references resolved: ids are
    ORD-0001, ORD-0002, ... in placement order)."""
    steps: list[dict] = []
    lines: list[str] = []
    for i in range(1, rounds + 1):
        ref, oid = f"o{i}", f"ORD-{i:04d}"
        answer = "accept" if i % 2 else "reject"
        place = f'orders place --buyer buyer{i} --seller seller{i % 7} --item "Item {i}" --amount {i}.99'
        steps += [
            {"id": ref, "run": place, "expect": {"status": "awaiting_shipment"}},
            {"run": f"cancel request ${{{ref}.id}} --reason second-thought",
             "expect": {"status": "cancel_requested", "id": f"${{{ref}.id}}"}},
            {"run": f"seller respond ${{{ref}.id}} {answer}",
             "expect": {"status": "cancelled" if answer == "accept" else "awaiting_shipment"}},
            {"run": "clock tick 1h"},
        ]
        lines += [place, f"cancel request {oid} --reason second-thought", f"seller respond {oid} {answer}",
                  "clock tick 1h"]
    return {"name": f"bench: {len(steps)} steps", "start": START, "steps": steps}, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=250, help="rounds of 4 steps (default 250: 1,000 steps)")
    args = parser.parse_args()
    scenario, lines = build(args.rounds)
    cmd = ordercli()

    with tempfile.TemporaryDirectory(prefix="ordercli-bench-") as tmp:
        path = Path(tmp) / "bench.json"
        path.write_text(json.dumps(scenario))

        t0 = time.perf_counter()
        done = subprocess.run([*cmd, "scenario", "run", str(path), "--json"], capture_output=True, text=True)
        one_process = time.perf_counter() - t0
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
            print(f"scenario run failed (exit {done.returncode})", file=sys.stderr)
            return 1
        report = json.loads(done.stdout)[0]

        db = Path(tmp) / "world.json"
        subprocess.run([*cmd, "--db", str(db), "clock", "set", START, "--json"], check=True, capture_output=True)
        t0 = time.perf_counter()
        for line in lines:
            r = subprocess.run([*cmd, "--db", str(db), *shlex.split(line), "--json"], capture_output=True)
            if r.returncode != 0:
                print(f"{line}: exit {r.returncode}: {r.stderr.decode()}", file=sys.stderr)
                return 1
        processes = time.perf_counter() - t0

    n = len(lines)
    print(f"steps:                          {n} ({report['passed']} passed, {report['failed']} failed)")
    print(f"scenario run (one process):     {one_process:8.2f} s  ({one_process / n * 1000:6.1f} ms/step)")
    print(f"{n} separate processes:       {processes:8.2f} s  ({processes / n * 1000:6.1f} ms/step)")
    print(f"ratio:                          {processes / one_process:8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

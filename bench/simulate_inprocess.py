"""`simulate` in this process, for profilers and instruction counters (issue 20's speed work).

    PYTHONPATH=src python bench/simulate_inprocess.py 20000            # CPU seconds on stderr
    PYTHONPATH=src python bench/simulate_inprocess.py 20000 profile    # cProfile to /tmp/simulate.prof
    PYTHONPATH=src valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python bench/simulate_inprocess.py 20000                       # instructions ("Collected")
    PYTHONPATH=/tmp/before/src python bench/simulate_inprocess.py 20000   # 4ad4ead's layout works too

The default behaviour (examples/marketplace.behaviour.yaml) under aliexpress, seed 1, one worker: the
run `bench/simulate.py`'s throughput measures, without the command line around it.
"""

import sys
import time
from pathlib import Path

try:
    from ordercli.core import presets
except ImportError:  # before issue 18's layout (4ad4ead)
    from ordercli import presets  # type: ignore[no-redef]
from ordercli.simulate import behaviour, runner

ROOT = Path(__file__).resolve().parent.parent
orders = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
profile = len(sys.argv) > 2 and sys.argv[2] == "profile"
b = behaviour.load(ROOT / "examples" / "marketplace.behaviour.yaml")
run = runner.Run(behaviour=b, policies=[("aliexpress", presets.load("aliexpress").meta())], orders=orders, seed=1)
started = time.process_time()
if profile:
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
report, _ = runner.execute(run)
if profile:
    profiler.disable()
    profiler.dump_stats("/tmp/simulate.prof")
completed = report["policies"][0]["end_reasons"]["completed"]["count"]
print(f"cpu {time.process_time() - started:.3f} s, {orders} orders, {completed} completed", file=sys.stderr)

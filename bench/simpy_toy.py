"""A toy order model in SimPy, for scale beside `ordercli simulate` (bench/simulate.py --simpy).

Much simpler than the real rules: an order is paid at once; 12% of buyers ask to cancel after an
exponential delay (mean 30 h); the seller answers 85% of requests after a lognormal delay (median
6 h) and accepts 60% of them, else the request times out at 72 h and the order is cancelled; an
unanswered shipment after 7 days (calendar, not working days) is cancelled; a refund settles 15 days
after a cancellation. No calendars, no events, no notifications, no records: only the clock, the
processes and a tally. Its throughput says what a process-based DES library costs per order in
Python, not what ordercli's rules cost.

    python bench/simpy_toy.py 100000
"""

from __future__ import annotations

import math
import random
import sys
import time

H = 3600.0
DAY = 86400.0


def run(orders: int, seed: int = 1) -> dict:
    import simpy

    env = simpy.Environment()
    rng = random.Random(seed)
    tally = {"completed": 0, "cancel_accepted": 0, "seller_silent": 0, "ship_timeout": 0, "refunded": 0}

    def refund(env: simpy.Environment):
        yield env.timeout(15 * DAY)
        tally["refunded"] += 1

    def order(env: simpy.Environment, placed: float):
        yield env.timeout(placed)
        ship = env.timeout(rng.uniform(0.5, 9) * DAY)
        ship_by = env.timeout(7 * DAY)
        if rng.random() < 0.12:
            request = env.timeout(rng.expovariate(1 / (30 * H)))
            first = yield request | ship | ship_by
            if request in first and ship not in first and ship_by not in first:
                answers = rng.random() < 0.85
                answer = env.timeout(6 * H * math.exp(rng.gauss(0, 1))) if answers else env.event()
                respond_by = env.timeout(72 * H)
                got = yield answer | respond_by | ship_by
                if answer in got and rng.random() < 0.6:
                    tally["cancel_accepted"] += 1
                    env.process(refund(env))
                    return
                if answer not in got:
                    tally["seller_silent" if respond_by in got else "ship_timeout"] += 1
                    env.process(refund(env))
                    return
        got = yield ship | ship_by
        if ship in got:
            tally["completed"] += 1
        else:
            tally["ship_timeout"] += 1
            env.process(refund(env))

    started = time.process_time()
    for _ in range(orders):
        env.process(order(env, rng.uniform(0, 28 * DAY)))
    env.run()
    cpu = time.process_time() - started
    return {"orders": orders, "cpu_s": round(cpu, 3), "orders_per_cpu_s": round(orders / cpu), **tally}


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))

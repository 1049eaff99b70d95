"""Benchmark: net capital requirement + funding split for 1,000,000 schemes x 10 years.

Prints a table of median times over several runs, each with a ratio to comparisons run in the
same go: the bare numpy arithmetic (what the calculation costs with no validation or
structure: the floor) and a plain per-scheme Python loop (extrapolated from 10,000 schemes).

    .venv/bin/python bench/bench_core.py [--schemes 1000000] [--years 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from xl_stp import capital_net, funding_waterfall


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schemes", type=int, default=1_000_000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    rng = np.random.default_rng(2016)
    n, y = a.schemes, a.years
    costs = rng.uniform(0, 10_000, (n, y))
    disposals = -rng.uniform(0, 5_000, n)
    internal = rng.uniform(0, 1_000, (n, y))
    sources = {name: -rng.uniform(0, 2_000, (n, y)) for name in ("Site disposals", "PF2", "Local authority funded")}

    def ours():
        r = capital_net(costs, disposals)
        net = r.net_by_scheme
        w = funding_waterfall(costs, sources, internal=internal)
        dh = w.dh_requirement
        return net, dh, w.over_funded.any()

    def bare_numpy():
        net = costs.sum(axis=1) + disposals
        dh = costs - internal + sum(sources.values())
        return net, dh, (dh < 0).any()

    k = min(n, 10_000)
    cl, il, sl, dl = costs[:k].tolist(), internal[:k].tolist(), [v[:k].tolist() for v in sources.values()], disposals[:k].tolist()

    def python_loop():
        out = []
        for i in range(k):
            net = sum(cl[i]) + dl[i]
            dh = [cl[i][j] - il[i][j] + sum(s[i][j] for s in sl) for j in range(y)]
            out.append((net, dh))
        return out

    ours()  # warm-up
    t_ours = timed(ours, a.repeat)
    t_bare = timed(bare_numpy, a.repeat)
    t_loop = timed(python_loop, max(1, a.repeat // 2)) * (n / k)
    cells = n * y * (1 + 1 + len(sources) + 1)
    print(f"net requirement + funding split, {n:,} schemes x {y} years ({cells / 1e6:.0f}M input cells), median of {a.repeat}")
    print(f"{'method':<34}{'seconds':>10}{'x ours':>10}")
    for label, t in (("xl_stp (validated, vectorised)", t_ours), ("bare numpy arithmetic (floor)", t_bare),
                     (f"plain Python loop (from {k:,})", t_loop)):
        print(f"{label:<34}{t:>10.3f}{t / t_ours:>10.2f}")
    print(f"goal: under 1 second -> {'met' if t_ours < 1 else 'NOT met'}")


if __name__ == "__main__":
    main()

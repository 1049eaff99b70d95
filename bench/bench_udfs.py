"""Benchmark: what the Excel adapter adds on top of the core.

1. Overhead per call: STP_CAPITAL_NET on a small LLR-sized range (13 schemes x 4 years, as
   xlwings hands it over: lists of rows with blanks) minus the core call on ready numpy arrays.
   Goal: under 50 us (xlwings Server's stock path costs about 320 us per call).
2. Conversion per input cell: STP_CAPITAL_NET over a 1,000 x 10 range (10,000 cells, with blanks)
   against the core alone and against numpy's own list-of-lists -> float array (the floor).
   Goal: under 1 us per cell, so a 10,000-cell call takes under 20 ms.
3. The same two calls through xlwings' Office.js call path (``custom_functions_call`` over
   ``lite/main.py``, what xlwings Lite and Server run), next to the direct call: what the route adds
   on top of ours. Run in a child process with ``XLWINGS_ON_SERVER=true`` and xlwings'
   noncommercial licence key (the benchmark's only; the product needs neither). Native CPython on
   Linux: Lite's WebAssembly is slower. On Linux xlwings tries ``from pyodide.ffi import JsNull``
   for every cell (about 38 us each, which does not happen under Pyodide), so the child provides
   that module as Pyodide does.

    .venv/bin/python bench/bench_udfs.py
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np

from udfs import discover
from xl_stp import capital_net

def per_call(fn, repeat: int = 7, number: int = 200) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)

def excel_range(rows: int, cols: int, seed: int) -> list[list[float | None]]:
    rnd = random.Random(seed)
    return [[None if rnd.random() < 0.2 else float(rnd.randint(0, 40_000)) for _ in range(cols)] for _ in range(rows)]

LITE_MAIN = Path(__file__).resolve().parent.parent / "lite" / "main.py"

def officejs_leg() -> None:
    """In the child: per-call seconds through xlwings' custom_functions_call, small and big, as JSON."""
    import importlib.util

    ffi = types.ModuleType("pyodide.ffi")
    ffi.JsNull = type("JsNull", (), {})
    sys.modules.update({"pyodide": types.ModuleType("pyodide"), "pyodide.ffi": ffi})
    import xlwings
    from xlwings.server import custom_functions_call

    spec = importlib.util.spec_from_file_location("lite_main", LITE_MAIN)
    main_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main_module)
    out = {}
    for key, (costs, disposals, number) in {"small": (*SMALL, 200), "big": (*BIG, 5)}.items():
        data = {"func_name": "STP_CAPITAL_NET", "args": [costs, disposals, None], "client": "Office.js",
                "version": xlwings.__version__, "runtime": "1.4"}
        assert asyncio.run(custom_functions_call(data, main_module)) == discover()["STP_CAPITAL_NET"](costs, disposals)
        out[key] = asyncio.run(_per_call_async(lambda: custom_functions_call(data, main_module), number))
    print(json.dumps(out))

async def _per_call_async(call, number: int, repeat: int = 5) -> float:
    """per_call for a coroutine function, in one event loop (as a server or Lite runs them)."""
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            await call()
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)

def officejs_times() -> dict[str, float] | None:
    env = dict(os.environ, XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial")
    proc = subprocess.run([sys.executable, __file__, "--officejs-leg"], capture_output=True, text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        print(f"Office.js leg not run: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])

def main() -> None:
    udf = discover()["STP_CAPITAL_NET"]
    print(f"{'case':<52}{'time':>12}{'per cell':>12}{'ratio':>8}")

    small_costs, small_disp = SMALL
    c_np, d_np = np.nan_to_num(np.array(small_costs, dtype=float)), np.nan_to_num(np.array(small_disp, dtype=float)).reshape(-1)
    t_core = per_call(lambda: capital_net(c_np, d_np).table())
    t_udf = per_call(lambda: udf(small_costs, small_disp))
    overhead = t_udf - t_core
    print(f"{'core, 13 x 4 numpy arrays':<52}{t_core * 1e6:>10.1f}us{'':>12}{1.0:>8.2f}")
    print(f"{'STP_CAPITAL_NET, 13 x 4 Excel range (xlwings shape)':<52}{t_udf * 1e6:>10.1f}us{'':>12}{t_udf / t_core:>8.2f}")
    print(f"{'  adapter overhead per call (goal < 50 us)':<52}{overhead * 1e6:>10.1f}us")

    big_costs, big_disp = BIG
    n_cells = 1000 * 10 + 1000
    bc, bd = np.nan_to_num(np.array(big_costs, dtype=float)), np.nan_to_num(np.array(big_disp, dtype=float)).reshape(-1)
    t_core_big = per_call(lambda: capital_net(bc, bd).table(), number=20)
    t_floor = per_call(lambda: (np.array(big_costs, dtype=float), np.array(big_disp, dtype=float)), number=20)
    assert isinstance(udf(big_costs, big_disp), list) and isinstance(udf(small_costs, small_disp), list)
    t_udf_big = per_call(lambda: udf(big_costs, big_disp), number=20)
    conv = (t_udf_big - t_core_big) / n_cells
    print(f"{'core, 1,000 x 10 numpy arrays':<52}{t_core_big * 1e3:>10.2f}ms{'':>12}{1.0:>8.2f}")
    print(f"{'numpy list->float array, same cells (floor)':<52}{t_floor * 1e3:>10.2f}ms{t_floor / n_cells * 1e6:>10.3f}us{t_floor / t_core_big:>8.2f}")
    print(f"{'STP_CAPITAL_NET, 1,000 x 10 range + 1,000 disposals':<52}{t_udf_big * 1e3:>10.2f}ms{t_udf_big / n_cells * 1e6:>10.3f}us{t_udf_big / t_core_big:>8.2f}")
    print(f"{'  conversion per input cell (goal < 1 us)':<52}{'':>12}{conv * 1e6:>10.3f}us")
    print(f"goals: overhead < 50 us {'met' if overhead < 50e-6 else 'NOT met'}; "
          f"per cell < 1 us {'met' if conv < 1e-6 else 'NOT met'}; 10,000-cell call < 20 ms {'met' if t_udf_big < 0.02 else 'NOT met'}")

    js = officejs_times()
    if js is not None:
        print(f"{'Office.js (xlwings Lite/Server), 13 x 4':<52}{js['small'] * 1e6:>10.1f}us{'':>12}{js['small'] / t_udf:>8.2f}  x direct")
        print(f"{'  xlwings adds per call':<52}{(js['small'] - t_udf) * 1e6:>10.1f}us")
        print(f"{'Office.js (xlwings Lite/Server), 1,000 x 10':<52}{js['big'] * 1e3:>10.2f}ms{js['big'] / n_cells * 1e6:>10.3f}us"
              f"{js['big'] / t_udf_big:>8.2f}  x direct")
        print(f"{'  xlwings adds per input cell':<52}{'':>12}{(js['big'] - t_udf_big) / n_cells * 1e6:>10.3f}us")

SMALL = (excel_range(13, 4, 1), [[-28350.0]] + [[None]] * 12)
BIG = (excel_range(1000, 10, 2), excel_range(1000, 1, 3))

if __name__ == "__main__":
    if sys.argv[1:] == ["--officejs-leg"]:
        officejs_leg()
    else:
        main()

"""Benchmark: xl-stp regen against LibreOffice's own native-only recalculation and pycel.

    .venv/bin/python bench/bench_regen.py [--pycel-python /path/to/python-with-pycel] [--throughput 1,10,100,1000]

One run, the same files: the LLR reference workbook and finance-style models of about 2,400 and
24,000 formulas (10% of rows call STP_*, in the middle of the dependency graph; built by
tests/data/corpus.py). For each:

- regen, libreoffice engine (warm soffice): scan + STP_* fixed point + read-back + surgical patch;
- LibreOffice native-only (same warm soffice): open (recalculating every formula on load) + save
  as .xlsx — what LibreOffice alone does (STP_* cells and their dependents come out #NAME?);
- regen, formulas engine (pure Python);
- pycel (pure Python, GPL, unmaintained since 2021): run from its own environment with
  --pycel-python, because it needs openpyxl 3.0.10 and numpy < 2:
  ``python3 -m venv /tmp/venv-pycel && /tmp/venv-pycel/bin/pip install pycel==1.0b30 openpyxl==3.0.10 "numpy<2"``.
  STP_* go to it as a plugin through the same registry; timed from load to a full recalculate().

"wrong" counts formula cells where the libreoffice engine and the formulas engine disagree (each
is the other's check; on the LLR workbook both are also compared with its stored values, which
are the core's own). Then throughput of the local process pool on 1..1,000 small workbooks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from models import finance_workbook  # bench/models.py, beside this script
from rich.console import Console
from rich.table import Table

from udfs import discover
from udfs.excel import decode_cached
from xl_stp.batch import regen_file, run_batch, scan
from xl_stp.batch.engines.libreoffice import available, worker

PYCEL = r'''
import json, sys, time, types
import openpyxl
if not openpyxl.__version__.startswith("3.0."):  # pycel 1.0b30 misreads defined names with openpyxl 3.1
    sys.exit(f"pycel needs openpyxl 3.0.10 in its environment (found {openpyxl.__version__}); see bench/bench_regen.py")
from pycel import ExcelCompiler
from udfs import discover
REGISTRY = discover()
plugin = types.ModuleType("stp_plugin")  # STP_* through the one registry, as pycel spells them
def rows(v):
    return [list(r) if isinstance(r, tuple) else [r] for r in v] if isinstance(v, tuple) else v
def make(fn):
    def call(*args):
        out = fn(*(rows(a) for a in args))
        if isinstance(out, list):
            return out[0][0] if len(out) == 1 and len(out[0]) == 1 else tuple(tuple(r) for r in out)
        return out
    return call
for name, fn in REGISTRY.items():
    for alias in (name.lower(), "_xludf_" + name.lower(), "_xll_" + name.lower()):
        setattr(plugin, alias, make(fn))
sys.modules["stp_plugin"] = plugin
path = sys.argv[1]
wb = openpyxl.load_workbook(path)
cells = [f"{ws.title}!{c.coordinate}" for ws in wb.worksheets for row in ws.iter_rows() for c in row
         if isinstance(c.value, str) and c.value.startswith("=")]
t = time.perf_counter()
xl = ExcelCompiler(filename=path, plugins=["stp_plugin"])
for a in cells:  # builds the graph (pycel returns stored values until it recalculates)
    try:
        xl.evaluate(a)
    except Exception:
        pass
xl.recalculate()
values = {}
for a in cells:
    try:
        v = xl.evaluate(a)
    except Exception as e:
        v = "#ERROR"
    values[a] = v if isinstance(v, (int, float, str, bool)) or v is None else str(v)
print(json.dumps({"seconds": time.perf_counter() - t, "values": values}))
'''


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def native_only(path: Path, tmp: Path) -> float:
    """LibreOffice alone, warm: open (recalculating everything), save as .xlsx (what a server would do
    with LibreOffice and no xl-stp; the STP_* cells and everything downstream come out #NAME?)."""
    w = worker()
    out = tmp / f"native_{path.stem}.xlsx"

    def run():
        w.call("open", path=str(path))  # the worker's profile recalculates every formula on load
        w.call("store", path=str(out))
        w.call("close")
    return timed(run, 3)[0]


def cached_values(path: str) -> dict[str, dict[str, object]]:
    """The cached value of every formula cell of a regenerated file, as Python values."""
    out: dict[str, dict[str, object]] = {}
    for s in scan(path).sheets:
        cells = out.setdefault(s.name, {})
        for f in s.formulas:
            cells[f.ref] = decode_cached(f.cached_type, f.cached)
    return out


def disagreements(a: dict, b: dict) -> int:
    wrong = 0
    for sheet, cells in a.items():
        for cell, x in cells.items():
            y = b.get(sheet, {}).get(cell)
            if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
                wrong += abs(x - y) > 1e-9 * max(1.0, abs(x), abs(y))
            else:
                wrong += x != y
    return wrong


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pycel-python", default=os.environ.get("XL_STP_PYCEL_PYTHON"), help="a Python with pycel installed")
    ap.add_argument("--throughput", default="1,10,100,1000", help="workbook counts for the pool (empty: skip)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--sizes", default="200,2000", help="rows of the generated models (x12 formulas each)")
    a = ap.parse_args()
    registry = discover()
    console = Console(width=220)
    if not available():
        console.print("LibreOffice is not installed: run scripts/setup as root first")
        return
    tmp = Path(tempfile.mkdtemp(prefix="xl-stp-bench-"))
    files = [("LLR reference", ROOT / "workbooks" / "llr_stp_2016.xlsx")]
    for rows in (int(x) for x in a.sizes.split(",") if x):
        path, n = finance_workbook(tmp / f"model_{rows}.xlsx", rows=rows, stp_every=1, check_every=5)
        files.append((f"model, {n:,} formulas", path))
    t0 = time.perf_counter()
    worker()
    start = time.perf_counter() - t0
    table = Table(title=f"xl-stp regen, one run (soffice start-up once: {start:.2f} s; times are the best of 3, warm)")
    for h in ("workbook", "formulas", "STP cells", "regen LO", "LO native-only", "regen LO / native",
              "regen formulas", "pycel", "formulas / regen LO", "pycel / regen LO", "wrong LO vs formulas", "pycel wrong"):
        table.add_column(h, justify="right" if h != "workbook" else "left")
    out = tmp / "out"
    lo_legs = {}  # LibreOffice first, for every workbook, before the pure-Python engines fill the heap
    for label, path in files:
        lo_t, lo_res = timed(lambda: regen_file(path, registry, out_dir=out / "lo", engine="libreoffice"), 3)
        lo_legs[label] = (lo_t, lo_res, native_only(path, tmp))
    for label, path in files:
        sc = scan(path)
        lo_t, lo_res, nat_t = lo_legs[label]
        fo_t, fo_res = timed(lambda: regen_file(path, registry, out_dir=out / "fo", engine="formulas"), 1)
        lo_vals, fo_vals = cached_values(lo_res.output), cached_values(fo_res.output)
        wrong = disagreements(lo_vals, fo_vals)
        if label.startswith("LLR"):
            wrong += lo_res.values_changed + fo_res.values_changed  # against the stored (core) values
        pycel_t = pycel_wrong = None
        if a.pycel_python:
            res = subprocess.run([a.pycel_python, "-c", PYCEL, str(path)], capture_output=True, text=True,
                                 env=dict(os.environ, PYTHONPATH=str(ROOT)),
                                 timeout=3600)
            if res.returncode == 0:
                got = json.loads(res.stdout.strip().splitlines()[-1])
                pycel_t = got["seconds"]
                pv: dict[str, dict] = {}
                for key, v in got["values"].items():
                    sheet, cell = key.rsplit("!", 1)
                    pv.setdefault(sheet, {})[cell] = v
                pycel_wrong = disagreements({s: {c: v for c, v in cells.items() if c in pv.get(s, {})}
                                             for s, cells in lo_vals.items()}, pv)
            else:
                console.print(f"pycel failed on {label}: {res.stderr.strip().splitlines()[-1:]}")
        table.add_row(label, f"{sc.formula_count:,}", f"{len(sc.stp_cells()):,}", f"{lo_t:.3f} s", f"{nat_t:.3f} s",
                      f"{lo_t / nat_t:.2f}x", f"{fo_t:.3f} s", f"{pycel_t:.3f} s" if pycel_t else "-",
                      f"{fo_t / lo_t:.1f}x", f"{pycel_t / lo_t:.1f}x" if pycel_t else "-", str(wrong),
                      "-" if pycel_wrong is None else str(pycel_wrong))
    console.print(table)

    counts = [int(x) for x in a.throughput.split(",") if x]
    if counts:
        small, n_small = finance_workbook(tmp / "small.xlsx", rows=20, stp_every=1, check_every=5)
        t2 = Table(title=f"Throughput on the local pool ({a.jobs} processes; workbooks of {n_small} formulas, 10% STP_*)")
        for h in ("workbooks", "libreoffice: seconds", "workbooks/s", "formulas: seconds", "workbooks/s"):
            t2.add_column(h, justify="right")
        for n in counts:
            d = tmp / f"batch_{n}"
            d.mkdir()
            paths = []
            for i in range(n):
                p = d / f"wb_{i:04d}.xlsx"
                shutil.copyfile(small, p)
                paths.append(p)
            row = [f"{n:,}"]
            for engine in ("libreoffice", "formulas"):
                t = time.perf_counter()
                results = run_batch(paths, registry, out_dir=str(tmp / f"out_{engine}_{n}"), in_place=False, engine=engine, jobs=a.jobs)
                secs = time.perf_counter() - t
                assert all(not r.failed for r in results), [r.error for r in results if r.failed][:3]
                row += [f"{secs:.2f}", f"{n / secs:.1f}"]
            t2.add_row(*row)
        console.print(t2)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark: xl-stp regen against LibreOffice's own native-only recalculation and pycel, and the
goals of issue 15, with ratios against LibreOffice measured in the same run.

    .venv/bin/python bench/bench_regen.py [--pycel-python /path/to/python-with-pycel] [--throughput 1,10,100,1000]
                                          [--sizes 200,2000] [--repeat 3]

One run, the same files: the LLR reference workbook and finance-style models of about 2,400 and
24,000 formulas (10% of rows call STP_*, in the middle of the dependency graph; built by
bench/models.py). Every timed leg runs ``--repeat`` times, the legs of one comparison interleaved
(so that a busy moment of a shared machine falls on all of them), and the median is shown.

Per workbook:

- regen, libreoffice engine and fused engine (warm soffice): scan + STP_* fixed point + read-back +
  surgical patch (these files ask for a full recalculation on load, so every formula is recomputed);
- LibreOffice native-only (same warm soffice): open (recalculating every formula on load) + save
  as .xlsx — what LibreOffice alone does (STP_* cells and their dependents come out #NAME?);
- regen, formulas engine (pure Python);
- pycel (pure Python, GPL, unmaintained since 2021): run from its own environment with
  --pycel-python, because it needs openpyxl 3.0.10 and numpy < 2:
  ``python3 -m venv /tmp/venv-pycel && /tmp/venv-pycel/bin/pip install pycel==1.0b30 openpyxl==3.0.10 "numpy<2"``.
  STP_* go to it as a plugin through the same registry; timed from load to a full recalculate().

"wrong" counts formula cells where the libreoffice engine and the formulas engine disagree (each
is the other's check; on the LLR workbook both are also compared with its stored values, which
are the core's own).

The goals (one table):

(a) one-shot: the ``xl-stp regen`` command on the smaller model, a new process each time (warm
    disk cache; LibreOffice's prepared profile in the cache), on its own (``XL_STP_RESIDENT=0``) and
    handed to the resident process an earlier command left (after each such run the bench waits,
    untimed, until the next command's LibreOffice has started, and it checks that the resident
    process ran every one), against ``soffice --headless --convert-to xlsx`` of its native twin
    (the same model with native formulas where it calls STP_*), with a prepared profile of its own
    that recalculates on load as the worker's does (LibreOffice's default profile would copy the
    stored values: shown too, for reference); and Python's start-up and imports alone (the command
    on its own starts LibreOffice before its imports);
(b) warm, the larger model: regen (libreoffice, fused) against native-only;
(c) default mode on an Excel-saved-like copy of the larger model (regenerated once, then
    ``fullCalcOnLoad`` removed so that its stored values are trusted, as Excel's are): regen recomputes
    the STP_* cells and what depends on a changed value; against native-only of the same file. Its
    STP_* results are the values stored, so nothing is dirty (:mod:`xl_stp.batch.settled`); (c')
    shows the same file with the inputs of 1 scheme in 100 edited, where the engine recomputes what
    depends on them.

Then throughput of the local process pool on 1..1,000 small workbooks.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from models import finance_workbook  # bench/models.py, beside this script
from rich.console import Console
from rich.table import Table

from udfs import discover
from udfs.excel import decode_cached
from xl_stp.batch import regen_file, run_batch, scan
from xl_stp.batch.engines.libreoffice import available, client, worker
from xl_stp.cli import resident

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


#: Python's start-up and the imports of ``xl-stp regen``, doing nothing else: a floor for (a).
IMPORTS = ("from xl_stp.cli import commands; from udfs import discover; discover(excel=False); "
           "from xl_stp.batch.run import regen_file, run_batch")


def medians(legs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Each leg run ``repeat`` times, the legs interleaved; the median time of each."""
    times: dict[str, list[float]] = {k: [] for k in legs}
    for _ in range(repeat):
        for k, fn in legs.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
            getattr(fn, "settle", lambda: None)()
    return {k: statistics.median(v) for k, v in times.items()}


def native_only(path: Path, tmp: Path) -> Callable[[], None]:
    """LibreOffice alone, warm: open (recalculating everything), save as .xlsx (what a server would do
    with LibreOffice and no xl-stp; the STP_* cells and everything downstream come out #NAME?)."""
    out = tmp / f"native_{path.stem}.xlsx"

    def run() -> None:
        w = worker()
        w.call("open", path=str(path))  # the worker's profile recalculates every formula on load
        w.call("store", path=str(out))
        w.call("close")
    return run


def regen_leg(path: Path, out: Path, engine: str, keep: dict, full: bool = False) -> Callable[[], None]:
    """regen_file in this process (warm soffice); the last result kept in ``keep[engine]``."""
    registry = discover()

    def run() -> None:
        r = regen_file(path, registry, out_dir=out / engine, engine=engine, full=full)
        if r.failed:
            raise SystemExit(f"regen of {path.name} with {engine} failed: {r.error}")
        keep[engine] = r
    return run


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


def worker_settings() -> str:
    """The worker's profile settings (recalculate .xlsx files on load), read from worker.py (which
    runs under Debian's python3 and cannot be imported here)."""
    tree = ast.parse(client.WORKER.read_text())
    return next(ast.literal_eval(n.value) for n in tree.body
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "SETTINGS")


def soffice_profile(folder: Path, sample: Path, recalc: bool) -> Path:
    """A prepared profile for ``soffice --convert-to`` itself: the worker's settings (recalculate on
    load) or LibreOffice's defaults, created by two untimed conversions (the first creates it and
    restarts, the second does LibreOffice's first-start work)."""
    (folder / "user").mkdir(parents=True)
    if recalc:
        (folder / "user" / "registrymodifications.xcu").write_text(worker_settings())
    for _ in range(2):
        convert(folder, sample, folder.parent / "warm-up")()
    return folder


def convert(profile: Path, path: Path, out: Path) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "xlsx",
                        "--outdir", str(out), str(path)], check=True, capture_output=True, timeout=600)
    return run


def command(args: list[str], resident_seconds: int = 0) -> Callable[[], None]:
    """``xl-stp regen ARGS`` in a new process (``python -m xl_stp.cli``, as the console script runs it):
    on its own (``XL_STP_RESIDENT=0``), or handed to the resident process (:func:`resident_ready`)."""
    argv = [sys.executable, "-m", "xl_stp.cli"]
    env = {**os.environ, "XL_STP_RESIDENT": str(resident_seconds)}

    def run() -> None:
        res = subprocess.run(argv + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
        if res.returncode != 0:
            raise SystemExit(f"xl-stp {' '.join(args)}: exit {res.returncode}: {res.stderr.strip()[-500:]}")
    if resident_seconds:
        run.settle = resident_ready  # after each run, untimed: the next command's LibreOffice has started
    return run


def resident_ready(timeout: float = 120) -> dict:
    """Wait until this environment's resident process is there with the next command's LibreOffice
    started, so that its start in the background does not fall on the next leg timed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [r for r in resident.running() if r["current"] and not r["running"] and r["libreoffice"] == "ready"]
        if found:
            return found[0]
        time.sleep(0.05)
    raise SystemExit("the resident process did not become ready")


def one_shot(model: Path, twin: Path, tmp: Path, repeat: int) -> dict[str, float]:
    """(a): the command, cold, against soffice --convert-to of the native twin (interleaved)."""
    recalc = soffice_profile(tmp / "soffice-recalc", twin, recalc=True)
    default = soffice_profile(tmp / "soffice-default", twin, recalc=False)
    out = tmp / "one-shot"
    args = ["regen", str(model), "--out"]
    legs = {
        "libreoffice": command(args + [str(out / "lo"), "--engine", "libreoffice"]),
        "auto": command(args + [str(out / "auto")]),
        "resident libreoffice": command(args + [str(out / "resident-lo"), "--engine", "libreoffice"], 600),
        "resident auto": command(args + [str(out / "resident-auto")], 600),
        "imports": lambda: subprocess.run([sys.executable, "-c", IMPORTS], cwd=ROOT, check=True, timeout=600),
        "convert": convert(recalc, twin, out / "convert"),
        "convert-default": convert(default, twin, out / "convert-default"),
    }
    command(args + [str(out / "warm-up"), "--engine", "libreoffice"])()  # the prepared profile exists
    resident.stop_all()
    command(args + [str(out / "warm-up"), "--engine", "libreoffice"], 600)()  # starts the resident process
    served = resident_ready()["served"]
    try:
        times = medians(legs, repeat)
        if resident_ready()["served"] - served != 2 * repeat:
            raise SystemExit("the resident process did not run every resident leg: not comparable")
    finally:
        resident.stop_all()
    recomputed = cached_values(str(out / "convert" / twin.name))["Summary"]["B1"]
    if not recomputed:
        raise SystemExit("soffice --convert-to did not recalculate the native twin: the baseline is not comparable")
    return times


def excel_saved_like(path: Path, tmp: Path) -> Path:
    """The model regenerated once (every cached value right), then without ``fullCalcOnLoad``: a file
    whose stored values are trusted, as Excel's own are."""
    r = regen_file(path, discover(), out_dir=tmp / "excel-saved-once", engine="libreoffice", full=True)
    if r.failed:
        raise SystemExit(f"regen of {path.name} failed: {r.error}")
    dst = tmp / f"excel_like_{path.stem}.xlsx"
    with zipfile.ZipFile(r.output) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                data = re.sub(rb'\s+fullCalcOnLoad="(?:1|true)"', b"", data)
            zout.writestr(info, data)
    if scan(dst).full_calc_on_load:
        raise SystemExit("fullCalcOnLoad is still set")
    return dst


def models(tmp: Path, sizes: str) -> list[tuple[str, Path, Path | None]]:
    """(label, workbook, native twin) of the LLR workbook and each model size."""
    files: list[tuple[str, Path, Path | None]] = [("LLR reference", ROOT / "workbooks" / "llr_stp_2016.xlsx", None)]
    for rows in (int(x) for x in sizes.split(",") if x):
        path, n = finance_workbook(tmp / f"model_{rows}.xlsx", rows=rows, stp_every=1, check_every=5)
        never = 10 ** 9  # no row calls STP_*: the native formulas it has where a row does not
        twin, _n = finance_workbook(tmp / f"twin_{rows}.xlsx", rows=rows, stp_every=never, check_every=never)
        files.append((f"model, {n:,} formulas", path, twin))
    return files


def per_workbook(files, tmp: Path, repeat: int, pycel_python: str | None, console: Console) -> tuple[Table, dict]:
    """The table of each workbook; {label: (medians of the warm legs, results)}."""
    table = Table(title=f"xl-stp regen per workbook (warm soffice; medians of {repeat}, interleaved)")
    for h in ("workbook", "formulas", "STP cells", "regen LO", "regen fused", "LO native-only", "regen LO / native",
              "regen formulas", "pycel", "formulas / regen LO", "pycel / regen LO", "wrong LO vs formulas", "pycel wrong"):
        table.add_column(h, justify="right" if h != "workbook" else "left")
    warm = {}
    for label, path, _twin in files:  # LibreOffice first, for every workbook, before the pure-Python engines fill the heap
        kept: dict = {}
        legs = {"lo": regen_leg(path, tmp / "out", "libreoffice", kept), "fused": regen_leg(path, tmp / "out", "fused", kept),
                "native": native_only(path, tmp)}
        warm[label] = (medians(legs, repeat), kept)
    for label, path, _twin in files:
        sc = scan(path)
        t, kept = warm[label]
        fo_t, _none = timed(regen_leg(path, tmp / "out", "formulas", kept))
        lo_res, fo_res = kept["libreoffice"], kept["formulas"]
        lo_vals = cached_values(lo_res.output)
        wrong = disagreements(lo_vals, cached_values(fo_res.output))
        if label.startswith("LLR"):
            wrong += lo_res.values_changed + fo_res.values_changed  # against the stored (core) values
        pycel_t, pycel_wrong = pycel(pycel_python, path, lo_vals, label, console) if pycel_python else (None, None)
        table.add_row(label, f"{sc.formula_count:,}", f"{len(sc.stp_cells()):,}", f"{t['lo']:.3f} s", f"{t['fused']:.3f} s",
                      f"{t['native']:.3f} s", f"{t['lo'] / t['native']:.2f}x", f"{fo_t:.3f} s",
                      f"{pycel_t:.3f} s" if pycel_t else "-", f"{fo_t / t['lo']:.1f}x",
                      f"{pycel_t / t['lo']:.1f}x" if pycel_t else "-", str(wrong), "-" if pycel_wrong is None else str(pycel_wrong))
    return table, warm


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def pycel(python: str, path: Path, lo_vals: dict, label: str, console: Console) -> tuple[float | None, int | None]:
    """pycel's time and its disagreements with the libreoffice engine, from its own environment."""
    res = subprocess.run([python, "-c", PYCEL, str(path)], capture_output=True, text=True, check=False,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=3600)
    if res.returncode != 0:
        console.print(f"pycel failed on {label}: {res.stderr.strip().splitlines()[-1:]}")
        return None, None
    got = json.loads(res.stdout.strip().splitlines()[-1])
    pv: dict[str, dict] = {}
    for key, v in got["values"].items():
        sheet, cell = key.rsplit("!", 1)
        pv.setdefault(sheet, {})[cell] = v
    return got["seconds"], disagreements({s: {c: v for c, v in cells.items() if c in pv.get(s, {})}
                                          for s, cells in lo_vals.items()}, pv)


def goals_table(small: tuple, large: tuple, a: dict, b: dict, c: tuple, repeat: int) -> Table:
    """The issue's goals, each a ratio against LibreOffice measured in the same run."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    version = ".".join(map(str, client.version())) or "?"
    table = Table(title=f"Goals (issue 15): LibreOffice {version}, {os.cpu_count()} cores, load average {load}; "
                        f"medians of {repeat}, interleaved")
    for h in ("goal", "xl-stp", "seconds", "LibreOffice alone", "seconds", "ratio", "target", "met"):
        table.add_column(h, justify="right" if h in ("seconds", "ratio", "target", "met") else "left")

    def row(goal, ours, t, base, tb, target=None):
        ratio = t / tb
        met = "-" if target is None else ("yes" if ratio <= target else "no")
        table.add_row(goal, ours, f"{t:.3f}", base, f"{tb:.3f}", f"{ratio:.2f}x",
                      "-" if target is None else (f"<= {target:g}x" if target != 1 else "< 1x"), met)
    conv, lo_b = "soffice --convert-to, native twin", "LibreOffice native-only"
    row(f"(a) one-shot: {small[0]}", "xl-stp regen, resident process (auto: fused)", a["resident auto"], conv, a["convert"], 1.5)
    row("", "xl-stp regen, resident process, --engine libreoffice", a["resident libreoffice"], conv, a["convert"], 1.5)
    row("", "xl-stp regen on its own (auto: fused)", a["auto"], conv, a["convert"], 1.5)
    row("", "xl-stp regen on its own, --engine libreoffice", a["libreoffice"], conv, a["convert"], 1.5)
    row("", "Python start-up and imports alone", a["imports"], conv, a["convert"])
    row("", "xl-stp regen --engine libreoffice", a["libreoffice"], "convert-to, default profile: no recalc", a["convert-default"])
    row(f"(b) warm: {large[0]}", "regen --engine libreoffice", b["lo"], lo_b, b["native"], 1.2)
    row("", "regen --engine fused", b["fused"], lo_b, b["native"], 1.2)
    for label, (times, kept) in zip(("(c) default mode, Excel-saved-like, STP_* results as stored",
                                     "(c') the same file, inputs of 1 scheme in 100 edited"), c):
        for engine, key in (("libreoffice", "lo"), ("fused", "fused")):
            r = kept[engine]
            row(label if key == "lo" else "", f"regen --engine {engine} ({r.recomputed:,} of "
                f"{r.formula_cells:,} recomputed)", times[key], f"{lo_b}, same file", times["native"],
                1 if label.startswith("(c)") else None)
    return table


def excel_like_legs(path: Path, tmp: Path, repeat: int) -> list[tuple[dict, dict]]:
    """(c): default mode (Excel's semantics) on the Excel-saved-like copy, against native-only of it:
    its STP_* results are the values stored, so nothing is dirty; (c'): the same file with the
    inputs of 1 scheme in 100 edited, so that their STP_* results and what depends on them change."""
    excel_like = excel_saved_like(path, tmp)
    out = []
    for label, file in (("c", excel_like), ("c-edited", edited_inputs(excel_like, tmp, every=100))):
        kept: dict = {}
        legs = {"lo": regen_leg(file, tmp / f"out-{label}", "libreoffice", kept),
                "fused": regen_leg(file, tmp / f"out-{label}", "fused", kept), "native": native_only(file, tmp)}
        out.append((medians(legs, repeat), kept))
    return out


def edited_inputs(path: Path, tmp: Path, every: int) -> Path:
    """A copy with the disposal input (Inputs!E) of one scheme in ``every`` changed, as a user edits
    inputs in a file Excel saved (the stored values of the formulas are then stale)."""
    dst = tmp / f"edited_{path.stem}.xlsx"
    cell = re.compile(rb'(<c r="E(\d+)"[^>]*><v>)([^<]*)(</v>)')

    def edit(m: re.Match) -> bytes:
        row = int(m.group(2))
        return m.group(0) if row % every else m.group(1) + str(float(m.group(3)) - 100).encode() + m.group(4)
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":  # Inputs
                data, n = cell.subn(edit, data)
                if not n:
                    raise SystemExit("no input cell to edit in Inputs!E")
            zout.writestr(info, data)
    return dst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pycel-python", default=os.environ.get("XL_STP_PYCEL_PYTHON"), help="a Python with pycel installed")
    ap.add_argument("--throughput", default="1,10,100,1000", help="workbook counts for the pool (empty: skip)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--sizes", default="200,2000", help="rows of the generated models (x12 formulas each): "
                                                       "the first is (a)'s, the last (b)'s and (c)'s")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each timed leg (the median is shown)")
    a = ap.parse_args()
    console = Console(width=220)
    if not available():
        console.print("LibreOffice is not installed: run scripts/setup as root first")
        return
    tmp = Path(tempfile.mkdtemp(prefix="xl-stp-bench-"))
    try:
        files = models(tmp, a.sizes)
        small, large = files[1], files[-1]
        one = one_shot(small[1], small[2], tmp, a.repeat)  # new processes: before this one has a worker
        t0 = time.perf_counter()
        worker().ready()
        started = time.perf_counter() - t0
        table, warm = per_workbook(files, tmp, a.repeat, a.pycel_python, console)
        table.caption = f"soffice start-up of this process's worker: {started:.2f} s"
        c = excel_like_legs(large[1], tmp, a.repeat)
        console.print(table)
        console.print(goals_table(small, large, one, warm[large[0]][0], c, a.repeat))
        throughput(a, tmp, console)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def throughput(a, tmp: Path, console: Console) -> None:
    counts = [int(x) for x in a.throughput.split(",") if x]
    if not counts:
        return
    registry = discover()
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


if __name__ == "__main__":
    main()

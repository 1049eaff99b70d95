"""The LibreOffice engine: native formulas in LibreOffice headless, STP_* cells in Python.

A warm worker (``lo_worker.py`` under Debian's ``/usr/bin/python3``, which has the UNO bridge)
keeps one soffice per process. For a workbook: open it (macros never run, links never updated),
then repeat until the STP_* results stop changing: read each STP_* call's arguments from
LibreOffice's cells in bulk, compute the call through the one registry, write the results into
LibreOffice's in-memory copy (where the unknown STP_* formula is replaced by its values), and
recalculate. Finally every formula-result cell is read back in one range call per sheet.

STP_* calls must be the whole formula of their cell — as in the workbooks xl-stp generates; their
arguments may be references, names, literals or expressions (LibreOffice evaluates an expression
in a scratch cell of its in-memory copy). A workbook that nests STP_* inside a larger formula is
computed by the formulas engine instead, and the report says so.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import shutil
import subprocess
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import range_boundaries, get_column_letter

from .engines import Computed
from .ooxml import WorkbookError
from .scan import STP_CALL, FormulaCell, WorkbookScan, expand

SYSTEM_PYTHON = os.environ.get("XL_STP_UNO_PYTHON", "/usr/bin/python3")
WORKER = Path(__file__).with_name("lo_worker.py")
TIMEOUT = float(os.environ.get("XL_STP_LO_TIMEOUT", "300"))
REF = re.compile(r"^(?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_. ]*)!)?(?P<a>\$?[A-Z]{1,3}\$?[0-9]+)(?::(?P<b>\$?[A-Z]{1,3}\$?[0-9]+))?$")
SCRATCH_ROW = 1_048_576  # the last row of a sheet, where scratch cells go (upwards)
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?%?$")


def available() -> bool:
    if not (shutil.which("soffice") and os.path.exists(SYSTEM_PYTHON)):
        return False
    try:
        return subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, timeout=30).returncode == 0
    except Exception:
        return False


class _Worker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([SYSTEM_PYTHON, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1)
        ready = self._reply(120)
        if not ready.get("ready"):
            raise WorkbookError("LibreOffice did not start")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _reply(self, timeout: float) -> dict:
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            self.kill()
            raise WorkbookError(f"LibreOffice did not answer within {timeout:g} s; stopped")
        line = self.proc.stdout.readline()
        if not line:
            self.kill()
            raise WorkbookError("LibreOffice stopped unexpectedly")
        return json.loads(line)

    def call(self, op: str, **kw) -> dict:
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        res = self._reply(TIMEOUT)
        if not res.get("ok"):
            raise WorkbookError(f"LibreOffice: {res.get('error')}")
        return res

    def kill(self) -> None:
        try:
            self.proc.kill()
        except Exception:
            pass

    def quit(self) -> None:
        if self.alive():
            try:
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=20)
            except Exception:
                self.kill()


_worker: _Worker | None = None


def worker() -> _Worker:
    global _worker
    if _worker is None or not _worker.alive():
        _worker = _Worker()
        atexit.register(_worker.quit)
    return _worker


# ---- STP_* calls -------------------------------------------------------------------------------

def split_call(text: str) -> tuple[str, list[str]] | None:
    """'STP_X(A1:B2,,"net")' -> ('STP_X', ['A1:B2', '', '"net"']), or None when the STP_* call is
    not the whole formula."""
    text = (text or "").strip().lstrip("=").strip()
    m = STP_CALL.match(text)
    if not m or not text.endswith(")"):
        return None
    inner = text[m.end():].strip()
    if not inner.startswith("("):
        return None
    body = inner[1:-1]
    args, depth, cur, in_str = [], 0, [], False
    for ch in body:
        if ch == '"':
            in_str = not in_str
        elif not in_str:
            if ch in "({":
                depth += 1
            elif ch in ")}":
                depth -= 1
                if depth < 0:
                    return None  # the call closes before the end: something follows it
            elif ch == "," and depth == 0:
                args.append("".join(cur).strip())
                cur = []
                continue
        cur.append(ch)
    if depth != 0 or in_str:
        return None
    args.append("".join(cur).strip())
    if args == [""]:
        args = []
    return m.group(0), args


def _sheet_name(raw: str | None, default: str) -> str:
    if not raw:
        return default
    return raw[1:-1].replace("''", "'") if raw.startswith("'") else raw


def parse_arg(arg: str, sheet: str, names: dict[str, str]) -> tuple[str, Any]:
    """('empty', None) | ('value', literal) | ('ref', (sheet, 'A1:B2')) | ('unsupported', text)."""
    a = arg.strip()
    if a == "":
        return "empty", None
    if len(a) >= 2 and a[0] == a[-1] == '"':
        return "value", a[1:-1].replace('""', '"')
    if a.upper() in ("TRUE", "FALSE"):
        return "value", a.upper() == "TRUE"
    if NUMBER.match(a):
        return "value", float(a.rstrip("%")) / (100 if a.endswith("%") else 1)
    m = REF.match(a)
    if m:
        ref = (m["a"] + (":" + m["b"] if m["b"] else "")).replace("$", "")
        return "ref", (_sheet_name(m["sheet"], sheet), ref)
    if a in names:  # a defined name that is a plain reference
        kind, val = parse_arg(names[a], sheet, {})
        if kind == "ref":
            return kind, val
    return "unsupported", a


class LibreOfficeEngine:
    name = "libreoffice"

    def compute(self, path: Path, registry, scan: WorkbookScan) -> Computed:
        calls, unsupported = [], []
        for cell in scan.stp_cells():
            split = split_call(cell.text or "")
            fn = registry.resolve(split[0]) if split else None
            if split is None or fn is None:
                unsupported.append(cell)
                continue
            parsed = [parse_arg(a, cell.sheet, scan.names) for a in split[1]]
            if any(k == "unsupported" and STP_CALL.search(v) for k, v in parsed):
                unsupported.append(cell)  # an STP_* call inside an argument
                continue
            calls.append((cell, fn, parsed))
        if unsupported:
            from .engines import FormulasEngine

            c = unsupported[0]
            result = FormulasEngine().compute(path, registry, scan)
            result.problems.insert(0, WorkbookError(
                "computed with the formulas engine: the libreoffice engine needs each STP_* call to be the whole formula of "
                f"its cell with references or literals as arguments ({c.sheet}!{c.ref} is not)"))
            return result

        w = worker()
        sheets = w.call("open", path=str(Path(path).resolve()))["sheets"]
        # An argument that is an expression (A10+Inputs!E10) is evaluated by LibreOffice in a
        # scratch cell at the foot of the calling cell's sheet (the in-memory copy only).
        scratch, next_row = [], {}
        for i, (cell, fn, parsed) in enumerate(calls):
            for j, (k, v) in enumerate(parsed):
                if k == "unsupported":
                    row = next_row.get(cell.sheet, SCRATCH_ROW)
                    next_row[cell.sheet] = row - 1
                    scratch.append([cell.sheet, f"A{row}", v])
                    parsed[j] = ("scratch", (cell.sheet, f"A{row}"))
        try:
            if scratch:
                w.call("formulas", cells=scratch)
            stp_values: dict[tuple[str, str], Any] = {}
            for _pass in range(len(calls) + 2):
                w.call("calc")
                refs = sorted({val for _, _, parsed in calls for k, val in parsed if k == "ref"})
                missing = [r for r in refs if r[0] not in sheets]
                if missing:
                    raise WorkbookError(f"an STP_* argument refers to a sheet that does not exist: {missing[0][0]}")
                got = _read_refs(w, refs)
                got.update(_read_refs(w, sorted({v for _, _, parsed in calls for k, v in parsed if k == "scratch"})))
                writes, changed = [], False
                for cell, fn, parsed in calls:
                    args = []
                    for k, val in parsed:
                        if k in ("ref", "scratch"):
                            data = got[val]
                            args.append(data[0][0] if len(data) == 1 and len(data[0]) == 1 else data)
                        else:
                            args.append(val)
                    out = fn(*args)
                    key = (cell.sheet, cell.ref)
                    if stp_values.get(key, object()) != out:
                        changed = True
                        target = cell.array_ref or cell.ref
                        writes.append([cell.sheet, target, _fit(out, target)])
                    stp_values[key] = out
                if not changed:
                    break
                w.call("write", ranges=_merge(writes))
            w.call("calc")
            values = self._read_results(w, scan)
            for cell, _fn, _parsed in calls:  # STP_* cells: our own values, with their types
                block = _fit(stp_values[(cell.sheet, cell.ref)], cell.array_ref or cell.ref, keep_types=True)
                for name, v in zip(expand(cell.array_ref or cell.ref), [v for row in block for v in row]):
                    values[cell.sheet][name] = v
        finally:
            try:
                w.call("close")
            except WorkbookError:
                pass
        result = Computed(values=values)
        for sheet, cells in values.items():
            for name, v in list(cells.items()):
                if v == "#CIRC!":
                    result.problems.append(WorkbookError("is part of a circular reference; left as it was", sheet, name))
                    del cells[name]
                elif v == "#NAME?":
                    result.problems.append(WorkbookError("evaluates to #NAME? (an unknown function or name)", sheet, name))
        return result

    @staticmethod
    def _read_results(w: _Worker, scan: WorkbookScan) -> dict[str, dict[str, Any]]:
        """Every formula-result cell, read in bulk: one range per band of rows (split further
        where the cells are sparse), never one huge rectangle."""
        out: dict[str, dict[str, Any]] = {s.name: {} for s in scan.sheets}
        for s in scan.sheets:
            cells = sorted((range_boundaries(c)[1], range_boundaries(c)[0], c) for c in s.result_cells())
            boxes = []
            for band in _bands(cells):
                r1, r2 = band[0][0], band[-1][0]
                c1, c2 = min(b[1] for b in band), max(b[1] for b in band)
                if (r2 - r1 + 1) * (c2 - c1 + 1) > MAX_READ and r2 > r1:
                    for r in sorted({b[0] for b in band}):
                        row = [b for b in band if b[0] == r]
                        boxes.append((r, r, min(b[1] for b in row), max(b[1] for b in row), row))
                else:
                    boxes.append((r1, r2, c1, c2, band))
            if not boxes:
                continue
            cached_types = {f.ref: f.cached_type for f in s.formulas}
            for i in range(0, len(boxes), 200):
                chunk = boxes[i:i + 200]
                data = w.call("read", ranges=[[s.name, f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"]
                                              for r1, r2, c1, c2, _ in chunk])["values"]
                for (r1, _r2, c1, _c2, members), block in zip(chunk, data):
                    for r, c, name in members:
                        v = block[r - r1][c - c1]
                        if v is None:
                            v = 0.0
                        if cached_types.get(name) == "b" and v in (0.0, 1.0):
                            v = bool(v)  # LibreOffice has no boolean type: keep Excel's
                        out[s.name][name] = v
        return out


MAX_READ = 200_000  # cells in one bulk read


def _bands(cells: list[tuple[int, int, str]], rows: int = 500) -> list[list[tuple[int, int, str]]]:
    bands: list[list[tuple[int, int, str]]] = []
    for item in cells:
        if bands and item[0] - bands[-1][0][0] < rows:
            bands[-1].append(item)
        else:
            bands.append([item])
    return bands


def _merge(writes: list[list[Any]]) -> list[list[Any]]:
    """Single-cell writes in consecutive rows of one column become one range write (a column of
    STP_CHECK cells is one UNO call, not 175)."""
    singles = sorted((w for w in writes if ":" not in w[1]), key=lambda w: (w[0], *reversed(range_boundaries(w[1])[:2])))
    out = [w for w in writes if ":" in w[1]]
    run: list[list[Any]] = []

    def flush() -> None:
        if run:
            c, r = range_boundaries(run[0][1])[:2]
            last = range_boundaries(run[-1][1])[1]
            out.append([run[0][0], f"{get_column_letter(c)}{r}:{get_column_letter(c)}{last}", [w[2][0] for w in run]])
            run.clear()

    for w in singles:
        if run:
            c0, r0 = range_boundaries(run[-1][1])[:2]
            c1, r1 = range_boundaries(w[1])[:2]
            if not (w[0] == run[-1][0] and c1 == c0 and r1 == r0 + 1):
                flush()
        run.append(w)
    flush()
    return out


def _read_refs(w: _Worker, refs: list[tuple[str, str]]) -> dict[tuple[str, str], list[list[Any]]]:
    """Every referenced range, read with one bulk call per sheet (its bounding box)."""
    boxes: dict[str, list[int]] = {}
    for sheet, ref in refs:
        c1, r1, c2, r2 = range_boundaries(ref)
        b = boxes.setdefault(sheet, [c1, r1, c2, r2])
        b[:] = [min(b[0], c1), min(b[1], r1), max(b[2], c2), max(b[3], r2)]
    names = list(boxes)
    blocks = w.call("read", ranges=[[n, f"{get_column_letter(b[0])}{b[1]}:{get_column_letter(b[2])}{b[3]}"]
                                    for n, b in ((n, boxes[n]) for n in names)])["values"] if names else []
    data = dict(zip(names, blocks))
    out = {}
    for sheet, ref in refs:
        c1, r1, c2, r2 = range_boundaries(ref)
        bc, br = boxes[sheet][0], boxes[sheet][1]
        out[(sheet, ref)] = [row[c1 - bc:c2 - bc + 1] for row in data[sheet][r1 - br:r2 - br + 1]]
    return out


def _fit(out: Any, target: str, keep_types: bool = False) -> list[list[Any]]:
    """A result shaped to the range it fills (Excel fills an oversized array range with #N/A)."""
    c1, r1, c2, r2 = range_boundaries(target)
    rows, cols = r2 - r1 + 1, c2 - c1 + 1
    block = out if isinstance(out, list) else [[out]]
    fitted = [[(block[i][j] if i < len(block) and j < len(block[i]) else "#N/A") for j in range(cols)] for i in range(rows)]
    if keep_types:
        return fitted
    return [[(float(v) if isinstance(v, bool) else ("" if v is None else v)) for v in row] for row in fitted]

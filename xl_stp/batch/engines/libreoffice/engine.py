"""The LibreOffice engine: native formulas in LibreOffice headless, STP_* cells in Python.

A warm worker (``worker.py`` under Debian's ``/usr/bin/python3``, which has the UNO bridge)
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
import math
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import functools

from openpyxl.utils.cell import get_column_letter
from openpyxl.utils.cell import range_boundaries as _range_boundaries

from ...package import WorkbookError
from ...scan import STP_CALL, FormulaCell, WorkbookScan, constants
from ...scan import expand as _expand
from ..base import Computed

SYSTEM_PYTHON = os.environ.get("XL_STP_UNO_PYTHON", "/usr/bin/python3")
WORKER = Path(__file__).with_name("worker.py")
TIMEOUT = float(os.environ.get("XL_STP_LO_TIMEOUT", "300"))
REF = re.compile(r"^(?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_. ]*)!)?(?P<a>\$?[A-Z]{1,3}\$?[0-9]+)(?::(?P<b>\$?[A-Z]{1,3}\$?[0-9]+))?$")
SCRATCH_ROW = 1_048_576  # the last row of a sheet, where scratch cells go (upwards)
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?%?$")


@functools.lru_cache(maxsize=65536)
def range_boundaries(ref: str) -> tuple[int, int, int, int]:
    return _range_boundaries(ref)


@functools.lru_cache(maxsize=65536)
def _expand_cached(ref: str) -> tuple[str, ...]:
    return tuple(_expand(ref))


def expand(ref: str) -> tuple[str, ...]:
    return _expand_cached(ref)


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """LibreOffice and Debian's UNO bridge are installed (checked once per process)."""
    if not (shutil.which("soffice") and os.path.exists(SYSTEM_PYTHON)):
        return False
    try:
        return subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, timeout=30).returncode == 0
    except Exception:
        return False


class _Worker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([SYSTEM_PYTHON, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)  # stdout read with os.read only
        self._owed = 0
        self._buffer = b""  # answers read from the pipe but not yet taken (several may arrive together)
        ready = self._reply(120)
        if not ready.get("ready"):
            raise WorkbookError("LibreOffice did not start")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _reply(self, timeout: float) -> dict:
        """The next answer, one JSON line; the pipe is read directly (not through a buffered
        reader, which could hold a second answer where select() cannot see it)."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                self.kill()
                raise WorkbookError(f"LibreOffice did not answer within {timeout:g} s; stopped")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self.kill()
                raise WorkbookError("LibreOffice stopped unexpectedly")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def send(self, op: str, **kw) -> None:
        self.proc.stdin.write((json.dumps({"op": op, **kw}) + "\n").encode())
        self.proc.stdin.flush()

    def defer(self, op: str, **kw) -> None:
        """Send a request whose answer nobody waits for (closing a document while Python writes
        the output); it is collected, and a failure ignored, before the next answer is read."""
        self.send(op, **kw)
        self._owed += 1

    def receive(self) -> dict:
        while self._owed:
            self._owed -= 1
            self._reply(TIMEOUT)
        res = self._reply(TIMEOUT)
        if not res.get("ok"):
            raise WorkbookError(f"LibreOffice: {res.get('error')}")
        return res

    def call(self, op: str, **kw) -> dict:
        self.send(op, **kw)
        return self.receive()

    def kill(self) -> None:
        try:
            self.proc.kill()
        except Exception:
            pass

    def quit(self) -> None:
        if self.alive():
            try:
                self.proc.stdin.write(b'{"op": "quit"}\n')
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

    def __init__(self) -> None:
        self._pending: str | None = None  # a workbook LibreOffice is opening while Python scans it

    def prepare(self, path: Path) -> None:
        """Start LibreOffice loading the workbook (call only once the package has passed the safety
        checks: sizes and no DTDs); :meth:`compute` collects it, :meth:`release` drops it."""
        self.release()
        self._pending = str(Path(path).resolve())
        worker().send("open", path=self._pending)

    def release(self) -> None:
        if self._pending is not None:
            self._pending = None
            w = worker()
            try:
                w.receive()
            except WorkbookError:
                pass
            try:
                w.call("close")
            except WorkbookError:
                pass

    def _open(self, path: Path) -> list[str]:
        w = worker()
        if self._pending == str(Path(path).resolve()):
            self._pending = None
            return w.receive()["sheets"]
        self.release()
        return w.call("open", path=str(Path(path).resolve()))["sheets"]

    def compute(self, path: Path, registry, scan: WorkbookScan) -> Computed:
        range_boundaries.cache_clear()  # the caches serve one workbook's passes (and keep timings honest)
        _expand_cached.cache_clear()
        calls, unsupported = [], []
        for cell in scan.stp_cells():
            if not any(registry.resolve(sp) for sp in cell.stp_spellings):
                continue  # not one of ours (STP_SOMETHING_ELSE): LibreOffice shows #NAME?, which is reported
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
            from ..formulas import FormulasEngine

            self.release()

            c = unsupported[0]
            result = FormulasEngine().compute(path, registry, scan)
            result.problems.insert(0, WorkbookError(
                "computed with the formulas engine: the libreoffice engine needs each STP_* call to be the whole formula of "
                f"its cell with references or literals as arguments ({c.sheet}!{c.ref} is not)"))
            return result

        plan = _Plan(scan, calls)  # pure Python, done while LibreOffice is still loading the workbook
        plan.precompute(path, scan)
        w = worker()
        sheets = self._open(path)
        try:
            values, spill_problems = self._fixed_point(w, scan, plan, sheets)
        finally:
            try:
                w.defer("close")  # LibreOffice closes the document while Python writes the output
            except (WorkbookError, OSError):
                pass
        result = Computed(values=values)
        result.problems.extend(spill_problems)
        for sheet, cells in values.items():
            for name, v in list(cells.items()):
                if v == "#CIRC!":
                    result.problems.append(WorkbookError("is part of a circular reference; left as it was", sheet, name))
                    del cells[name]
                elif v == "#NAME?":
                    result.problems.append(WorkbookError("evaluates to #NAME? (an unknown function or name)", sheet, name))
        return result

    def _fixed_point(self, w: _Worker, scan: WorkbookScan, plan: "_Plan",
                     sheets: list[str]) -> tuple[dict[str, dict[str, Any]], list[WorkbookError]]:
        """Compute the STP_* calls, feed their results to LibreOffice, recalculate, and repeat until
        no STP_* argument changes; then read every formula-result cell. Also returns the array
        formulas whose result no longer fits their range."""
        calls, order, deps = plan.calls, plan.order, plan.deps
        for _cell, _fn, parsed in calls:  # a reference to a sheet that does not exist: Excel passes #REF!
            for j, (k, v) in enumerate(parsed):
                if k == "ref" and v[0] not in sheets:
                    parsed[j] = ("value", "#REF!")
        _set_scratch(w, plan.scratch)
        writer = plan.writer
        writer.load(w)
        refs = plan.lo_refs()
        stp_values: dict[int, Any] = {}
        pre_args = plan.pre_args  # computed from the file's input cells while LibreOffice loaded
        last_args: dict[int, list[Any]] = dict(pre_args)
        known: dict[int, Any] = dict(plan.pre_out)
        for n_pass in range(len(calls) + 2):
            if n_pass or plan.scratch:  # the worker's profile recalculates every formula on load; then only
                w.call("calc", all=False)  # what writes made dirty (the scratch formulas, before the first pass)
            # The first pass reads errors without their kind (a call per error cell: slow where
            # everything downstream of an STP_* cell is still #NAME?); any pass whose inputs held
            # an error is followed by one that reads them exactly.
            got = _read_refs(w, refs, exact=n_pass > 0)
            fresh: dict[tuple[str, str], Any] = {}  # STP_* results of this pass, fed to later calls
            changed = []
            for i in order:
                cell, fn, parsed = calls[i]
                if i in pre_args:
                    args = pre_args[i]
                else:
                    args = self._args(parsed, got, deps, fresh)
                if i in last_args and (i in pre_args or last_args[i] == args):
                    out = known[i]  # same arguments, same result: the functions are pure
                else:
                    out = fn(*args)
                    last_args[i] = args
                    known[i] = out
                target = cell.array_ref or cell.ref
                block = _fit(out, target, keep_types=True)
                for name, v in zip(expand(target), [v for row in block for v in row]):
                    fresh[(cell.sheet, name)] = v
                if i not in stp_values or stp_values[i] != out:
                    changed.append(i)
                stp_values[i] = out
            if not changed:
                break
            writer.write(changed, stp_values)
        values = self._read_results(w, scan, plan.result_boxes)
        for i, (cell, _fn, _parsed) in enumerate(calls):  # STP_* cells: our own values, with their types
            target = cell.array_ref or cell.ref
            block = _fit(stp_values[i], target, keep_types=True)
            for name, v in zip(expand(target), [v for row in block for v in row]):
                values[cell.sheet][name] = v
        return values, _spill_problems(calls, stp_values)

    @staticmethod
    def _args(parsed: list, got: dict, deps: dict, fresh: dict) -> list[Any]:
        """A call's arguments as Excel would pass them: from what LibreOffice read, with the STP_*
        results of this pass laid over the cells they fill."""
        args = []
        for k, val in parsed:
            if k in ("ref", "scratch"):
                data = got[val]
                if fresh and deps.get(val):
                    data = _overlay(data, val, fresh)
                args.append(_as_arg(data))
            else:
                args.append(val)
        return args

    @staticmethod
    def _result_boxes(scan: WorkbookScan) -> dict[str, list]:
        """Where the formula-result cells are: one range per band of rows (split further where the
        cells are sparse), never one huge rectangle."""
        out: dict[str, list] = {}
        for s in scan.sheets:
            split = CELL_NAME.fullmatch
            cells = sorted((int(m.group(2)), _column_index(m.group(1)), c) for c in s.result_cells() for m in (split(c),))
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
            out[s.name] = boxes
        return out

    @staticmethod
    def _read_results(w: _Worker, scan: WorkbookScan, all_boxes: dict[str, list] | None = None) -> dict[str, dict[str, Any]]:
        """Every formula-result cell, read in bulk."""
        all_boxes = all_boxes if all_boxes is not None else LibreOfficeEngine._result_boxes(scan)
        out: dict[str, dict[str, Any]] = {s.name: {} for s in scan.sheets}
        for s in scan.sheets:
            boxes = all_boxes.get(s.name, [])
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
PRE_MAX_CELLS = 10_000  # a larger argument range is read by LibreOffice, not from the file
CELL_NAME = re.compile(r"([A-Z]{1,3})([0-9]+)")


@functools.lru_cache(maxsize=4096)
def _column_index(col: str) -> int:
    n = 0
    for ch in col:
        n = n * 26 + ord(ch) - 64
    return n


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
            out.append([run[0][0], f"{get_column_letter(c)}{r}:{get_column_letter(c)}{last}", [w[2][0] for w in run],
                        any(w[3] for w in run)])
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


def _read_refs(w: _Worker, refs: list[tuple[str, str]], exact: bool = True) -> dict[tuple[str, str], list[list[Any]]]:
    """Every referenced range, read in one call: nearby ranges of a sheet share a box, as long as
    the box is not mostly cells nobody asked for."""
    boxes: list[tuple[str, list[int], list[tuple[str, str]]]] = []
    by_sheet: dict[str, list[tuple[list[int], tuple[str, str]]]] = {}
    for key in refs:
        by_sheet.setdefault(key[0], []).append((list(range_boundaries(key[1])), key))
    for sheet, items in by_sheet.items():
        items.sort(key=lambda x: (x[0][1], x[0][0]))
        cur, members, area = None, [], 0
        for b, key in items:
            a = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
            if cur is not None:
                u = [min(cur[0], b[0]), min(cur[1], b[1]), max(cur[2], b[2]), max(cur[3], b[3])]
                if (u[2] - u[0] + 1) * (u[3] - u[1] + 1) <= 2 * (area + a) + 1000:
                    cur, area = u, area + a
                    members.append(key)
                    continue
                boxes.append((sheet, cur, members))
            cur, members, area = b, [key], a
        if cur is not None:
            boxes.append((sheet, cur, members))
    if not boxes:
        return {}
    blocks = w.call("read", ranges=[[sheet, f"{get_column_letter(b[0])}{b[1]}:{get_column_letter(b[2])}{b[3]}"]
                                    for sheet, b, _ in boxes], exact=exact)["values"]
    out = {}
    for (sheet, box, members), data in zip(boxes, blocks):
        for key in members:
            c1, r1, c2, r2 = range_boundaries(key[1])
            out[key] = [row[c1 - box[0]:c2 - box[0] + 1] for row in data[r1 - box[1]:r2 - box[1] + 1]]
    return out


def _order(calls: list) -> tuple[list[int], dict[tuple[str, str], set[int]]]:
    """The calls in dependency order where one STP_* call reads another's cells directly (so one
    pass gets chains of STP_* calls right), and, for each argument range, the calls it reads."""
    index: dict[str, dict[str, int]] = {}
    for i, (cell, _fn, _parsed) in enumerate(calls):
        for name in expand(cell.array_ref or cell.ref):
            index.setdefault(cell.sheet, {})[name] = i
    deps: dict[tuple[str, str], set[int]] = {}
    for _cell, _fn, parsed in calls:
        for k, key in parsed:
            if k != "ref" or key in deps:
                continue
            sheet, ref = key
            targets = index.get(sheet, {})
            c1, r1, c2, r2 = range_boundaries(ref)
            if (c2 - c1 + 1) * (r2 - r1 + 1) <= len(targets):
                found = {targets[n] for n in expand(ref) if n in targets}
            else:
                found = {i for n, i in targets.items() if c1 <= range_boundaries(n)[0] <= c2 and r1 <= range_boundaries(n)[1] <= r2}
            deps[key] = found
    order: list[int] = []
    state = [0] * len(calls)  # 0 new, 1 visiting, 2 done

    def visit(i: int) -> None:
        stack = [(i, iter(sorted({d for k, key in calls[i][2] if k == "ref" for d in deps[key]} - {i})))]
        state[i] = 1
        while stack:
            node, it = stack[-1]
            nxt = next((d for d in it if state[d] == 0), None)
            if nxt is None:
                stack.pop()
                state[node] = 2
                order.append(node)
            else:
                state[nxt] = 1
                stack.append((nxt, iter(sorted({d for k, key in calls[nxt][2] if k == "ref" for d in deps[key]} - {nxt}))))

    for i in range(len(calls)):
        if state[i] == 0:
            visit(i)
    return order, deps


def _overlay(data: list[list[Any]], key: tuple[str, str], fresh: dict[tuple[str, str], Any]) -> list[list[Any]]:
    sheet, ref = key
    c1, r1, _c2, _r2 = range_boundaries(ref)
    out = [list(row) for row in data]
    for i, row in enumerate(out):
        for j in range(len(row)):
            name = f"{get_column_letter(c1 + j)}{r1 + i}"
            if (sheet, name) in fresh:
                row[j] = fresh[(sheet, name)]
    return out


API_SHEET_REF = re.compile(r"('(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!(\$?[A-Z]{1,3}\$?[0-9]+(?::\$?[A-Z]{1,3}\$?[0-9]+)?)")


def to_api(text: str) -> str | None:
    """An Excel formula (as stored in a file, without '=') in LibreOffice's API syntax
    (``Inputs!E10`` -> ``$Inputs.E10``, ``,`` -> ``;``), or None when it is not a plain expression
    that this can translate with certainty (array constants, external or whole-column references)."""
    out, pieces = [], re.split(r'("(?:[^"]|"")*")', text)
    for k, piece in enumerate(pieces):
        if k % 2:
            out.append(piece)
            continue
        if any(ch in piece for ch in "{}[]") or "_xlfn." in piece.lower():
            return None
        piece = API_SHEET_REF.sub(lambda m: f"${m.group(1)}.{m.group(2)}", piece)
        if "!" in piece:
            return None
        out.append(piece.replace(",", ";"))
    return "=" + "".join(out)


def _set_scratch(w: _Worker, scratch: dict[str, list[tuple[int, str]]]) -> None:
    """Scratch formulas: one range call per sheet where they translate, the parser for the rest."""
    blocks, singles = [], []
    for sheet, rows in scratch.items():
        api = [to_api(text) for _row, text in rows]
        top = rows[-1][0]
        blocks.append([sheet, f"A{top}:A{rows[0][0]}", [[a or ""] for a in reversed(api)]])
        singles.extend([sheet, f"A{row}", text] for (row, text), a in zip(rows, api) if a is None)
    if blocks:
        w.call("set_formulas", ranges=blocks)
    if singles:
        w.call("formulas", cells=singles)


def _api_value(v: Any) -> str:
    """A value as a constant formula in LibreOffice's API syntax (locale-independent, typed)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "=1" if v else "=0"
    if isinstance(v, (int, float)):
        x = float(v)
        return f"={x!r}" if math.isfinite(x) else "=NA()"
    text = str(v)
    if text == "#N/A":
        return "=NA()"
    return '="' + text.replace('"', '""') + '"'


def _as_arg(rows: list[list[Any]]) -> Any:
    """A range as Excel hands it to a function: one cell as its value, more as a list of rows."""
    return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows


def _spill_problems(calls: list, outputs: dict[int, Any]) -> list[WorkbookError]:
    """An array formula whose STP_* result no longer has the size of its range: the file's range is
    kept (changing it is a structural edit), so say what was cut off or filled with #N/A."""
    out = []
    for i, (cell, _fn, _parsed) in enumerate(calls):
        result = outputs.get(i)
        if not cell.array_ref or not isinstance(result, list) or not result:
            continue
        c1, r1, c2, r2 = range_boundaries(cell.array_ref)
        rows, cols = len(result), max(len(r) for r in result)
        if (rows, cols) != (r2 - r1 + 1, c2 - c1 + 1):
            out.append(WorkbookError(
                f"the result is now {rows} x {cols} but its array range {cell.array_ref} is {r2 - r1 + 1} x {c2 - c1 + 1}; "
                "the range is kept as it is (cells beyond the result show #N/A, results beyond the range are not shown); "
                "re-enter the formula in Excel to resize it", cell.sheet, cell.ref))
    return out


class _Plan:
    """Everything about a workbook's STP_* calls that needs no LibreOffice: scratch cells for
    expression arguments, the dependency order, how results are written and where results are read."""

    def __init__(self, scan: WorkbookScan, calls: list):
        self.calls = calls
        # An argument that is an expression (A10+Inputs!E10) is evaluated by LibreOffice in a
        # scratch cell at the foot of the calling cell's sheet (its in-memory copy only).
        self.scratch: dict[str, list[tuple[int, str]]] = {}
        for cell, _fn, parsed in calls:
            for j, (k, v) in enumerate(parsed):
                if k == "unsupported":
                    rows = self.scratch.setdefault(cell.sheet, [])
                    row = SCRATCH_ROW - len(rows)
                    rows.append((row, v))
                    parsed[j] = ("scratch", (cell.sheet, f"A{row}"))
        self.order, self.deps = _order(calls)
        self.writer = _WritePlan(scan, calls)
        self.result_boxes = LibreOfficeEngine._result_boxes(scan)
        self.pre_args: dict[int, list[Any]] = {}
        self.pre_out: dict[int, Any] = {}

    def precompute(self, path: Path, scan: WorkbookScan) -> None:
        """Compute now, while LibreOffice is still loading the workbook, the STP_* calls whose
        arguments are all literals or input cells (no formula result in any of their ranges): input
        cells hold the same values before and after a recalculation, so they are read from the file
        itself (which also hands TRUE over as TRUE, as Excel does, where LibreOffice would give 1).
        A call whose ranges cannot all be read that way waits for LibreOffice as before."""
        sheets = {s.name: s for s in scan.sheets}
        results: dict[str, set[str]] = {}
        candidates: list[int] = []
        wanted: dict[str, set[str]] = {}
        for i, (_cell, _fn, parsed) in enumerate(self.calls):
            need = []
            for k, v in parsed:
                if k in ("value", "empty"):
                    continue
                sheet = sheets.get(v[0]) if k == "ref" else None
                if sheet is None or not sheet.plain:
                    break
                c1, r1, c2, r2 = range_boundaries(v[1])
                if (c2 - c1 + 1) * (r2 - r1 + 1) > PRE_MAX_CELLS:
                    break
                if sheet.name not in results:
                    results[sheet.name] = sheet.result_cells()
                names = expand(v[1])
                if not results[sheet.name].isdisjoint(names):
                    break
                need.append((sheet.name, names))
            else:
                candidates.append(i)
                for sheet_name, names in need:
                    wanted.setdefault(sheet_name, set()).update(names)
        if not candidates:
            return
        values: dict[str, dict[str, Any]] = {}
        for sheet_name, names in wanted.items():
            try:
                got = constants(path, sheets[sheet_name], names)
            except WorkbookError:
                got = None  # e.g. a limit raised for the scan: LibreOffice reads these cells instead
            if got is not None:
                values[sheet_name] = got
        for i in candidates:
            _cell, fn, parsed = self.calls[i]
            args = []
            for k, v in parsed:
                if k != "ref":
                    args.append(v)
                    continue
                got = values.get(v[0])
                if got is None:
                    break
                c1, r1, c2, r2 = range_boundaries(v[1])
                args.append(_as_arg([[got[f"{get_column_letter(c)}{r}"] for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]))
            else:
                self.pre_args[i] = args
                self.pre_out[i] = fn(*args)

    def lo_refs(self) -> list[tuple[str, str]]:
        """The argument ranges LibreOffice must be asked for: those of the calls not computed ahead."""
        return sorted({val for i, (_, _, parsed) in enumerate(self.calls) if i not in self.pre_args
                       for k, val in parsed if k in ("ref", "scratch")})


class _WritePlan:
    """How STP_* results go into LibreOffice's copy with few calls: an array range as one range;
    a column of single-cell calls as one range when they are adjacent, or, when they are spread
    among other formulas (every fifth row of a column), as one formula-array call over the column
    that puts the other formulas back as they were."""

    def __init__(self, scan: WorkbookScan, calls: list):
        self.w: _Worker | None = None
        self.calls = calls
        self.cleared: set[int] = set()
        self.box_of: dict[int, int] = {}
        self.boxes: list[dict] = []
        groups: dict[tuple[str, int], list[tuple[int, int]]] = {}
        for i, (cell, _fn, _parsed) in enumerate(calls):
            if not cell.array_ref:
                c, r = range_boundaries(cell.ref)[:2]
                groups.setdefault((cell.sheet, c), []).append((r, i))
        formula_cells = {(s.name, f.ref) for s in scan.sheets for f in s.formulas if f.kind != "array"}
        array_cells = {(s.name, c) for s in scan.sheets for c in s.array_members}
        wanted = []
        for (sheet, col), members in groups.items():
            members.sort()
            r1, r2 = members[0][0], members[-1][0]
            if len(members) < 8 or r2 - r1 + 1 == len(members) or r2 - r1 + 1 > 50 * len(members):
                continue
            letter = get_column_letter(col)
            box = [f"{letter}{r}" for r in range(r1, r2 + 1)]
            if all((sheet, n) in formula_cells and (sheet, n) not in array_cells for n in box):
                b = {"sheet": sheet, "ref": f"{letter}{r1}:{letter}{r2}", "top": r1, "rows": {r: i for r, i in members}}
                for _r, i in members:
                    self.box_of[i] = len(self.boxes)
                self.boxes.append(b)
                wanted.append([sheet, b["ref"]])
        self.wanted = wanted

    def load(self, w: _Worker) -> None:
        """Read the formulas of the columns it will rewrite (in LibreOffice's own syntax)."""
        self.w = w
        if self.wanted:
            for b, formulas in zip(self.boxes, w.call("get_formulas", ranges=self.wanted)["formulas"]):
                b["formulas"] = [row[0] for row in formulas]

    def write(self, changed: list[int], values: dict[int, Any]) -> None:
        ranges, boxes = [], set()
        for i in changed:
            if i in self.box_of:
                boxes.add(self.box_of[i])
                continue
            cell = self.calls[i][0]
            target = cell.array_ref or cell.ref
            ranges.append([cell.sheet, target, _fit(values[i], target), i not in self.cleared])
            self.cleared.add(i)
        if ranges:
            self.w.call("write", ranges=_merge(ranges))
        if boxes:
            out = []
            for k in sorted(boxes):
                b = self.boxes[k]
                rows = [[_api_value(_fit(values[b["rows"][b["top"] + j]], "A1", keep_types=True)[0][0]) if b["top"] + j in b["rows"] else f]
                        for j, f in enumerate(b["formulas"])]
                out.append([b["sheet"], b["ref"], rows])
            self.w.call("set_formulas", ranges=out)


def _fit(out: Any, target: str, keep_types: bool = False) -> list[list[Any]]:
    """A result shaped to the range it fills (Excel fills an oversized array range with #N/A)."""
    c1, r1, c2, r2 = range_boundaries(target)
    rows, cols = r2 - r1 + 1, c2 - c1 + 1
    block = out if isinstance(out, list) else [[out]]
    fitted = [[(block[i][j] if i < len(block) and j < len(block[i]) else "#N/A") for j in range(cols)] for i in range(rows)]
    if keep_types:
        return fitted
    return [[(float(v) if isinstance(v, bool) else ("" if v is None else v)) for v in row] for row in fitted]

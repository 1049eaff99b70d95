"""The call plan: everything about a workbook's STP_* calls that needs no LibreOffice.

Each call's arguments (references, literals, or expressions LibreOffice evaluates in a scratch
cell), the order the calls go in, the calls computed from the file's input cells while
LibreOffice loads, how results are written into LibreOffice's copy with few calls, and where the
formula-result cells are read from.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from udfs.excel import as_argument, is_error

from ...cells import SHEET_CELLS, bounds, column_index, column_letter, expand
from ...diagnose import FAILED, as_excel, evaluate, failed
from ...diagnose import fit_result as _fit
from ...formula import code_and_strings, parse_arg, references  # noqa: F401 (parse_arg: where it was)
from ...package import WorkbookError
from ...recalc import Parser
from ...scan import FormulaCell, SheetScan, WorkbookScan, constants
from .client import Worker

SCRATCH_ROW = 1_048_576  # the last row of a sheet, where scratch cells go (upwards)
MAX_READ = 200_000  # cells in one bulk read
PRE_MAX_CELLS = 10_000  # a larger argument range is read by LibreOffice, not from the file
#: Excel's error values that LibreOffice takes as constant formulas (=#VALUE!); #N/A is =NA().
LO_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!"})


# ---- arguments -----------------------------------------------------------------------------------

def to_api(text: str) -> str | None:
    """An Excel formula (as stored in a file, without '=') in LibreOffice's API syntax
    (``Inputs!E10`` -> ``$Inputs.E10``, ``,`` -> ``;``), or None when it is not a plain expression
    that this can translate with certainty (array constants, external or whole-column references)."""
    pieces = code_and_strings(text)
    if pieces is None:
        return None
    out = []
    for k, piece in enumerate(pieces):
        if k % 2:
            out.append(piece)
            continue
        if any(ch in piece for ch in "{}[]") or "_xlfn." in piece.lower():
            return None
        piece = SHEET_CELLS.sub(lambda m: f"${m.group(1)}.{m.group(2)}", piece)
        if "!" in piece:
            return None
        out.append(piece.replace(",", ";"))
    return "=" + "".join(out)


def _set_scratch(w: Worker, plan: _Plan) -> int:
    """Scratch formulas: one range call per sheet where they translate, the parser for the rest;
    then the expressions of array formulas, each over a range of its own size. Without array
    expressions the requests are only sent: the number of answers owed (:meth:`Worker.collect`)."""
    blocks, singles = [], []
    for sheet, rows in plan.scratch.items():
        api = [to_api(text) for _row, text in rows]
        top = rows[-1][0]
        blocks.append([sheet, f"A{top}:A{rows[0][0]}", [[a or ""] for a in reversed(api)]])
        singles.extend([sheet, f"A{row}", text] for (row, text), a in zip(rows, api) if a is None)
    requests = ([("set_formulas", {"ranges": blocks})] if blocks else []) + \
               ([("formulas", {"cells": singles})] if singles else [])
    if plan.arrays:  # their sizes are asked next, and read at once
        for op, kw in requests:
            w.call(op, **kw)
        _set_arrays(w, plan)
        return 0
    for op, kw in requests:
        w.send(op, **kw)
    return len(requests)


def _set_arrays(w: Worker, plan: _Plan) -> None:
    """An expression argument of an array formula (TRANSPOSE(B1:C1), B2:B3*1) is evaluated as Excel
    evaluates it there, as an array: its size is found first (ROWS and COLUMNS of it in probe cells),
    then it goes in as one array formula over a scratch range of that size, above the single
    scratch cells, and the argument reads that range. An array larger than MAX_READ cells is cut to
    its first cell."""
    free = {sheet: SCRATCH_ROW - len(rows) for sheet, rows in plan.scratch.items()}
    texts, probes = [], []
    for _i, _j, sheet, text in plan.arrays:
        row = free.get(sheet, SCRATCH_ROW) - sum(1 for p in probes if p[0] == sheet)
        api = to_api(text)
        texts.append((api or text, api is not None))
        probes.append([sheet, f"A{row}:B{row}", *texts[-1]])
    sizes = w.call("array_sizes", items=probes)["sizes"]
    items = []
    for (i, j, sheet, expression), (text, api), (rows, cols) in zip(plan.arrays, texts, sizes):
        if rows * cols > MAX_READ:
            rows = cols = 1
        bottom = free.get(sheet, SCRATCH_ROW)
        free[sheet] = bottom - rows
        ref = f"A{bottom - rows + 1}:{column_letter(cols)}{bottom}" if rows * cols > 1 else f"A{bottom}"
        items.append([sheet, ref, text, api])
        plan.calls[i][2][j] = ("scratch", (sheet, ref))
        if rows * cols > 1:
            plan.writer.arrays.append((sheet, ref, references(expression, sheet, plan.names)))
    w.call("array_formulas", items=items)


# ---- results as LibreOffice takes them -------------------------------------------------------------

def _api_value(v: Any) -> str:
    """A value as a constant formula in LibreOffice's API syntax (locale-independent, typed)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "=TRUE()" if v else "=FALSE()"  # a logical, as dependents must see it
    if isinstance(v, (int, float)):
        x = float(v)
        return f"={x!r}" if math.isfinite(x) else "=NA()"
    text = str(v)
    if failed(text):
        text = FAILED
    if text == "#N/A":
        return "=NA()"
    if text in LO_ERRORS:
        return "=" + text  # LibreOffice reads an error literal as that error
    return '="' + text.replace('"', '""') + '"'


def _merge(writes: list[list[Any]]) -> list[list[Any]]:
    """Single-cell writes in consecutive rows of one column become one range write (a column of
    STP_CHECK cells is one UNO call, not 175)."""
    singles = sorted((w for w in writes if ":" not in w[1]), key=lambda w: (w[0], *reversed(bounds(w[1])[:2])))
    out = [w for w in writes if ":" in w[1]]
    run: list[list[Any]] = []

    def flush() -> None:
        if run:
            c, r = bounds(run[0][1])[:2]
            last = bounds(run[-1][1])[1]
            out.append([run[0][0], f"{column_letter(c)}{r}:{column_letter(c)}{last}", [w[2][0] for w in run],
                        any(w[3] for w in run)])
            run.clear()

    for w in singles:
        if run:
            c0, r0 = bounds(run[-1][1])[:2]
            c1, r1 = bounds(w[1])[:2]
            if not (w[0] == run[-1][0] and c1 == c0 and r1 == r0 + 1):
                flush()
        run.append(w)
    flush()
    return out


# ---- the order of the calls --------------------------------------------------------------------------

def _order(calls: list) -> tuple[list[int], dict[tuple[str, str], set[int]]]:
    """The calls in dependency order where one STP_* call reads another's cells directly (so one
    pass gets chains of STP_* calls right), and, for each argument range, the calls it reads."""
    deps = _readers(calls)
    order: list[int] = []
    state = [0] * len(calls)  # 0 new, 1 visiting, 2 done

    def after(i: int):
        return iter(sorted({d for k, key in calls[i][2] if k == "ref" for d in deps[key]} - {i}))

    def visit(i: int) -> None:
        stack = [(i, after(i))]
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
                stack.append((nxt, after(nxt)))

    for i in range(len(calls)):
        if state[i] == 0:
            visit(i)
    return order, deps


def _readers(calls: list) -> dict[tuple[str, str], set[int]]:
    """For each argument range, the calls whose results fill any of its cells."""
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
            c1, r1, c2, r2 = bounds(ref)
            if (c2 - c1 + 1) * (r2 - r1 + 1) <= len(targets):
                found = {targets[n] for n in expand(ref) if n in targets}
            else:
                found = {i for n, i in targets.items() if c1 <= bounds(n)[0] <= c2 and r1 <= bounds(n)[1] <= r2}
            deps[key] = found
    return deps


# ---- where the results are read ------------------------------------------------------------------

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def result_boxes(scan: WorkbookScan) -> dict[str, list]:
    """Where the formula-result cells are: one range per band of rows (split further where the
    cells are sparse), never one huge rectangle."""
    out: dict[str, list] = {}
    columns: dict[str, int] = {}
    for s in scan.sheets:
        cells = []
        for name in s.result_cells():  # A1-style names as the scan gives them: letters, then digits
            digits = name.lstrip(_LETTERS)
            letters = name[:len(name) - len(digits)]
            c = columns.get(letters)
            if c is None:
                c = columns[letters] = column_index(letters)
            cells.append((int(digits), c, name))
        cells.sort()
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


def _bands(cells: list[tuple[int, int, str]], rows: int = 500) -> list[list[tuple[int, int, str]]]:
    bands: list[list[tuple[int, int, str]]] = []
    for item in cells:
        if bands and item[0] - bands[-1][0][0] < rows:
            bands[-1].append(item)
        else:
            bands.append([item])
    return bands


# ---- the plan ------------------------------------------------------------------------------------

class _Plan:
    """Everything about a workbook's STP_* calls that needs no LibreOffice: scratch cells for
    expression arguments, the dependency order, how results are written and where results are read."""

    def __init__(self, scan: WorkbookScan, calls: list):
        self.calls = calls
        # An argument that is an expression (A10+Inputs!E10) is evaluated by LibreOffice in a
        # scratch cell at the foot of the calling cell's sheet (its in-memory copy only).
        # An array formula's expression is evaluated as an array (:func:`_set_arrays`): (call,
        # argument, sheet, text), placed once LibreOffice has said its size.
        self.scratch: dict[str, list[tuple[int, str]]] = {}
        self.arrays: list[tuple[int, int, str, str]] = []
        for i, (cell, _fn, parsed) in enumerate(calls):
            for j, (k, v) in enumerate(parsed):
                if k != "unsupported":
                    continue
                if cell.kind == "array":
                    self.arrays.append((i, j, cell.sheet, v))
                    continue
                rows = self.scratch.setdefault(cell.sheet, [])
                row = SCRATCH_ROW - len(rows)
                rows.append((row, v))
                parsed[j] = ("scratch", (cell.sheet, f"A{row}"))
        self.order, self.deps = _order(calls)
        self.writer = _WritePlan(scan, calls)
        self.names = scan.names
        self.result_boxes: dict[str, list] = {}  # where the results are read (:func:`result_boxes`), once LibreOffice has loaded
        self.overlaid = self._overlaid()
        #: formula cells the file stores a logical for, by sheet (LibreOffice may give them as numbers)
        self.logical = {s.name: {f.ref for f in s.formulas if f.cached_type == "b"} for s in scan.sheets}
        self.pre_args: dict[int, list[Any]] = {}
        self.pre_out: dict[int, Any] = {}
        #: the first pass after loading gives every call its final arguments (:func:`_one_pass`)
        self.one_pass = False

    def precompute(self, path: Path, scan: WorkbookScan) -> None:
        """Compute now, while LibreOffice is still loading the workbook, the STP_* calls whose
        arguments are all literals or input cells (no formula result in any of their ranges): input
        cells hold the same values before and after a recalculation, so they are read from the file
        itself (which also hands TRUE over as TRUE, as Excel does, where LibreOffice would give 1).
        A call whose ranges cannot all be read that way waits for LibreOffice as before."""
        sheets = {s.name: s for s in scan.sheets}
        candidates, wanted = self._on_inputs(sheets)
        if not candidates:
            return
        values = _input_values(scan.package or path, sheets, wanted)
        for i in candidates:
            self._compute_ahead(i, values)

    def _on_inputs(self, sheets: dict[str, SheetScan]) -> tuple[list[int], dict[str, set[str]]]:
        """The calls whose arguments are literals or input cells only, and those cells by sheet."""
        results: dict[str, set[str]] = {}
        candidates: list[int] = []
        wanted: dict[str, set[str]] = {}
        for i, (_cell, _fn, parsed) in enumerate(self.calls):
            need = _input_ranges(parsed, sheets, results)
            if need is None:
                continue
            candidates.append(i)
            for sheet_name, names in need:
                wanted.setdefault(sheet_name, set()).update(names)
        return candidates, wanted

    def _compute_ahead(self, i: int, values: dict[str, dict[str, Any]]) -> None:
        """Call ``i`` computed from the input values read, when all its ranges were read."""
        _cell, fn, parsed = self.calls[i]
        args = []
        for k, v in parsed:
            if k != "ref":
                args.append(v)
                continue
            got = values.get(v[0])
            if got is None:
                return
            c1, r1, c2, r2 = bounds(v[1])
            args.append(as_argument([[got[f"{column_letter(c)}{r}"] for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]))
        self.pre_args[i] = args
        self.pre_out[i] = evaluate(fn, args)

    def lo_refs(self) -> list[tuple[str, str]]:
        """The argument ranges LibreOffice must be asked for: those of the calls not computed ahead,
        but for a range whose every cell a pass fills with this pass's results before any call reads
        it (:meth:`_overlaid`)."""
        return sorted({val for i, (_, _, parsed) in enumerate(self.calls) if i not in self.pre_args
                       for k, val in parsed if k == "scratch" or (k == "ref" and val not in self.overlaid)})

    def _overlaid(self) -> set[tuple[str, str]]:
        """Argument ranges whose every cell an STP_* call fills, each such call before every call
        that reads the range in the order: a pass lays its results over what LibreOffice would give."""
        at = {i: k for k, i in enumerate(self.order)}
        readers: dict[tuple[str, str], list[int]] = {}
        for i, (_cell, _fn, parsed) in enumerate(self.calls):
            for k, val in parsed:
                if k == "ref":
                    readers.setdefault(val, []).append(i)
        filled: dict[str, set[str]] = {}
        for cell, _fn, _parsed in self.calls:
            filled.setdefault(cell.sheet, set()).update(expand(cell.array_ref or cell.ref))
        out = set()
        for key, producers in self.deps.items():
            if not producers or key not in readers:
                continue
            if max(at[d] for d in producers) < min(at[i] for i in readers[key]) \
                    and filled.get(key[0], set()).issuperset(expand(key[1])):
                out.add(key)
        return out


def _input_ranges(parsed: list, sheets: dict[str, SheetScan], results: dict[str, set[str]]) -> list[tuple[str, tuple[str, ...]]] | None:
    """The cells of each range argument as (sheet, cell names), or None unless every argument is
    a literal or a small range of input cells on a sheet the fast reader took. ``results`` caches
    each sheet's formula-result cells."""
    need = []
    for k, v in parsed:
        if k in ("value", "empty"):
            continue
        sheet = sheets.get(v[0]) if k == "ref" else None
        if sheet is None or not sheet.plain:
            return None
        c1, r1, c2, r2 = bounds(v[1])
        if (c2 - c1 + 1) * (r2 - r1 + 1) > PRE_MAX_CELLS:
            return None
        if sheet.name not in results:
            results[sheet.name] = sheet.result_cells()
        names = expand(v[1])
        if not results[sheet.name].isdisjoint(names):
            return None
        need.append((sheet.name, names))
    return need


def _input_values(source, sheets: dict[str, SheetScan], wanted: dict[str, set[str]]) -> dict[str, dict[str, Any]]:
    """The wanted input cells' values read from the file, by sheet (a sheet not read is left out)."""
    values: dict[str, dict[str, Any]] = {}
    for sheet_name, names in wanted.items():
        try:
            got = constants(source, sheets[sheet_name], names)
        except WorkbookError:
            got = None  # e.g. a limit raised for the scan: LibreOffice reads these cells instead
        if got is not None:
            values[sheet_name] = got
    return values


# ---- whether one pass settles the calls ---------------------------------------------------------

ONE_PASS_MAX_FORMULAS = 5_000  # native formulas looked at before assuming a call reads an STP_* result


def _one_pass(scan: WorkbookScan, plan: _Plan) -> bool:
    """True when no call LibreOffice gives arguments to reads a cell an STP_* call fills through a
    native formula or an expression — only directly, as a range argument filled by calls earlier in
    the order, which a pass lays over what LibreOffice read: then the arguments of the first pass
    after loading are final, and no second pass is needed to see that the results settled. False
    (a pass more, as always) where that is not certain: a formula that reads something not pinned
    down (a volatile function, an unknown name, a 3-D reference), an array expression, or an
    upstream of more than ONE_PASS_MAX_FORMULAS native formulas."""
    if plan.arrays:
        return False
    at = {i: k for k, i in enumerate(plan.order)}
    filled = {(cell.sheet, name) for cell, _fn, _p in plan.calls for name in expand(cell.array_ref or cell.ref)}
    scratch = {(sheet, f"A{row}"): text for sheet, rows in plan.scratch.items() for row, text in rows}
    upstream = _Upstream(scan)
    for i, (cell, _fn, parsed) in enumerate(plan.calls):
        if i in plan.pre_args:
            continue
        for k, v in parsed:
            if k == "ref":
                if any(at[d] >= at[i] for d in plan.deps.get(v, ())):
                    return False  # filled by a call later in the order (or by itself)
                if not upstream.clear(v[0], bounds(v[1]), filled, direct=True):
                    return False
            elif k == "scratch":
                if not upstream.clear_text(scratch[v], v[0], filled):
                    return False
    return True


class _Upstream:
    """The native formulas a range reads, walked back to the input cells."""

    def __init__(self, scan: WorkbookScan):
        self.parser = Parser(scan)
        self.sheets = {s.name: s for s in scan.sheets}
        self.index: dict[str, dict[str, FormulaCell]] = {}
        #: sheet -> shared formula cell -> (the text it is written in, its master) (:meth:`SheetScan.texts`)
        self.shared: dict[str, dict[str, tuple[str | None, FormulaCell]]] = {}
        self.coords: dict[str, list[tuple[int, int, str]]] = {}
        self.seen: set[tuple[str, str]] = set()

    def clear_text(self, text: str, sheet: str, filled: set) -> bool:
        reads = self.parser.reads(text, sheet)
        if reads.unknown or reads.volatile:
            return False
        return all(self.clear(ref.sheet, (ref.c1, ref.r1, ref.c2, ref.r2), filled) for ref in reads.refs)

    def clear(self, sheet: str, box: tuple[int, int, int, int], filled: set, direct: bool = False) -> bool:
        """No cell of ``box`` on ``sheet`` depends on a cell an STP_* call fills (``direct``: such a
        cell in the box itself is allowed)."""
        stack = [(sheet, box, direct)]
        while stack:
            sheet, (c1, r1, c2, r2), direct = stack.pop()
            cells = self._formulas(sheet)
            if (c2 - c1 + 1) * (r2 - r1 + 1) <= len(cells):
                letters = [column_letter(c) for c in range(c1, c2 + 1)]
                found = [n for r in range(r1, r2 + 1) for col in letters if (n := f"{col}{r}") in cells]
            else:
                found = [n for c, r, n in self._coords(sheet) if c1 <= c <= c2 and r1 <= r <= r2]
            for name in found:
                if (sheet, name) in filled:
                    if direct:
                        continue
                    return False
                f = cells[name]
                if (sheet, f.ref) in self.seen:  # an array formula's cells: its formula, once
                    continue
                self.seen.add((sheet, f.ref))
                text, master = self._shared(sheet).get(f.ref, (f.text, f)) if f.kind == "shared" else (f.text, f)
                if len(self.seen) > ONE_PASS_MAX_FORMULAS or text is None or f.kind == "dataTable":
                    return False
                reads = self.parser.reads(text, sheet)
                if reads.unknown or reads.volatile:
                    return False
                (c, r), (c0, r0) = bounds(f.ref)[:2], bounds(master.ref)[:2]  # shared: shifted from its master
                stack.extend((ref.sheet, ref.shifted(c - c0, r - r0)[1:], False) for ref in reads.refs)
        return True

    def _formulas(self, sheet: str) -> dict[str, FormulaCell]:
        """The formula cells of a sheet by name, a cell an array formula fills by its formula."""
        if sheet not in self.index:
            s = self.sheets.get(sheet)
            cells = {f.ref: f for f in s.formulas} if s else {}
            if s:
                cells.update((name, cells[ref]) for name, ref in s.array_members.items() if ref in cells)
            self.index[sheet] = cells
        return self.index[sheet]

    def _shared(self, sheet: str) -> dict[str, tuple[str | None, FormulaCell]]:
        if sheet not in self.shared:
            self.shared[sheet] = {f.ref: (text, master) for f, text, master in self.sheets[sheet].texts()
                                  if master is not None}
        return self.shared[sheet]

    def _coords(self, sheet: str) -> list[tuple[int, int, str]]:
        """(column, row, name) of each formula cell of a sheet, for a box larger than their number."""
        if sheet not in self.coords:
            self.coords[sheet] = [(*bounds(name)[:2], name) for name in self.index[sheet]]
        return self.coords[sheet]


class _WritePlan:
    """How STP_* results go into LibreOffice's copy with few calls: an array range as one range;
    a column of single-cell calls as one range when they are adjacent, or, when they are spread
    among other formulas (every fifth row of a column), as one formula-array call over the column
    that puts the other formulas back as they were."""

    def __init__(self, scan: WorkbookScan, calls: list):
        self.w: Worker | None = None
        self.calls = calls
        self.cleared: set[int] = set()
        self.box_of: dict[int, int] = {}
        self.boxes: list[dict] = []
        groups: dict[tuple[str, int], list[tuple[int, int]]] = {}
        for i, (cell, _fn, _parsed) in enumerate(calls):
            if not cell.array_ref:
                c, r = bounds(cell.ref)[:2]
                groups.setdefault((cell.sheet, c), []).append((r, i))
        formula_cells = {(s.name, f.ref) for s in scan.sheets for f in s.formulas if f.kind != "array"}
        array_cells = {(s.name, c) for s in scan.sheets for c in s.array_members}
        wanted = []
        for (sheet, col), members in groups.items():
            members.sort()
            r1, r2 = members[0][0], members[-1][0]
            if len(members) < 8 or r2 - r1 + 1 == len(members) or r2 - r1 + 1 > 50 * len(members):
                continue
            letter = column_letter(col)
            box = [f"{letter}{r}" for r in range(r1, r2 + 1)]
            if all((sheet, n) in formula_cells and (sheet, n) not in array_cells for n in box):
                b = {"sheet": sheet, "ref": f"{letter}{r1}:{letter}{r2}", "top": r1, "rows": {r: i for r, i in members}}
                for _r, i in members:
                    self.box_of[i] = len(self.boxes)
                self.boxes.append(b)
                wanted.append([sheet, b["ref"]])
        self.wanted = wanted
        self.arrays = _reading_arrays(scan, calls)

    def load(self, w: Worker) -> int:
        """Ask for the formulas of the columns it will rewrite (in LibreOffice's own syntax): one
        answer owed, for :meth:`loaded` (or none, with no such column)."""
        self.w = w
        if not self.wanted:
            return 0
        w.send("get_formulas", ranges=self.wanted)
        return 1

    def loaded(self, answer: dict) -> None:
        for b, formulas in zip(self.boxes, answer["formulas"]):
            b["formulas"] = [row[0] for row in formulas]

    def touch(self, written: list[tuple[str, str]], wait: bool = True) -> int:
        """Have LibreOffice recompute the array formulas that read cells just written. It does not
        tell a multi-cell array formula that a range write (a whole range's values at once) changed
        cells it reads, so the next recalculation would leave it as it was; entered again, it is
        recomputed, and what reads it after it."""
        boxes = [(sheet, bounds(ref)) for sheet, ref in written]
        touched = [[sheet, ref] for sheet, ref, reads in self.arrays
                   if reads is None or any(_overlap(bounds(r), b) for rs, r in reads for s, b in boxes if rs.lower() == s.lower())]
        if not touched:
            return 0
        return self._send(wait, "touch", ranges=touched)

    def _send(self, wait: bool, op: str, **kw) -> int:
        """A request: its answer read (0), or left to be collected (1: one answer owed)."""
        if wait:
            self.w.call(op, **kw)
            return 0
        self.w.send(op, **kw)
        return 1

    def pin(self, sheet: str, cell: str, formula: str) -> None:
        """A cell an override made a constant (``formula``, API syntax): a column rewritten later
        keeps it, not the formula it had."""
        c, r = bounds(cell)[:2]
        for b in self.boxes:
            c1, r1, c2, r2 = bounds(b["ref"])
            if b["sheet"] == sheet and c1 <= c <= c2 and r1 <= r <= r2 and "formulas" in b:
                b["formulas"][r - r1] = formula

    def write(self, changed: list[int], values: dict[int, Any], wait: bool = True) -> int:
        """Write the results of the calls ``changed``; with wait=False the requests are only sent,
        and the number of answers owed returned (:meth:`Worker.collect`)."""
        ranges, errors, boxes, owed = [], [], set(), 0
        for i in changed:
            if i in self.box_of:
                boxes.add(self.box_of[i])
                continue
            cell = self.calls[i][0]
            target = cell.array_ref or cell.ref
            block = _fit(as_excel(values[i]), target, keep_types=True)
            if any(isinstance(v, str) and is_error(v) for row in block for v in row):
                # a failed call (or a result with error cells): the cells must hold real errors, so
                # that what depends on them is an error too; values cannot be errors, formulas can
                errors.append([cell.sheet, target, [[_api_value(v) for v in row] for row in block], i not in self.cleared, True])
            else:
                ranges.append([cell.sheet, target, _fit(block, target), i not in self.cleared])
            self.cleared.add(i)
        if ranges or errors:
            owed += self._send(wait, "write", ranges=_merge(ranges) + errors)
        written = [(self.calls[i][0].sheet, self.calls[i][0].array_ref or self.calls[i][0].ref) for i in changed]
        if boxes:
            out = []
            for k in sorted(boxes):
                b = self.boxes[k]
                rows = [[_api_value(_fit(as_excel(values[b["rows"][b["top"] + j]]), "A1", keep_types=True)[0][0])
                         if b["rows"].get(b["top"] + j) in values else f]  # a call not computed yet keeps its formula
                        for j, f in enumerate(b["formulas"])]
                out.append([b["sheet"], b["ref"], rows])
            owed += self._send(wait, "set_formulas", ranges=out)
        if self.arrays:
            owed += self.touch(written, wait)
        return owed


def _reading_arrays(scan: WorkbookScan, calls: list) -> list[tuple[str, str, list[tuple[str, str]] | None]]:
    """(sheet, range, the ranges it reads or None when not known) of each multi-cell array formula
    that is not an STP_* call: those a write may leave stale (:meth:`_WritePlan.touch`)."""
    stp = {(cell.sheet, cell.ref) for cell, _fn, _parsed in calls}
    return [(s.name, f.array_ref, references(f.text, s.name, scan.names)) for s in scan.sheets for f in s.formulas
            if f.kind == "array" and f.array_ref and ":" in f.array_ref and (s.name, f.ref) not in stp]


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Two boxes (c1, r1, c2, r2) share a cell."""
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


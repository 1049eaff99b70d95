"""The formulas engine: the pure-Python ``formulas`` package; the embedded default and the cross-check.

STP_* functions are registered with it from the registry it is given; a failed call gives the
formulas package's #VALUE! error, so that every formula computed from it is an error too (its
message, and the cell each call belongs to, are kept for the report). ROUND/ROUNDUP/ROUNDDOWN
round like Excel (on the 15-significant-digit value: 2.385 -> 2.39); dates count in the workbook's
own date system (1900 or 1904); a 3-D reference (SUM(Jan:Mar!B6)) is spelt out sheet by sheet
where Excel takes one. What it cannot do (structured table references, sheet-scoped names,
iterative calculation, a 3-D reference elsewhere) is refused, not guessed.

Only the formula cells and the cells they read are loaded (the package's own loading compiles
every cell of every sheet), and a workbook without formulas is not loaded at all. What the package
and its dependencies print (tracebacks, warnings) never reaches the terminal: a cell it failed on,
or a formula it cannot read, is a one-line problem naming the cell.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import numbers
import os
import re
import tempfile
import threading
import warnings
import zipfile
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from pathlib import Path
from typing import Any, Callable

import numpy as np

from udfs.excel import canonical_name, decode_cached

from ..cells import expand, shape
from ..diagnose import Outcome, call_of, evaluate, failed
from ..formula import (ARG, CLOSE, FUNC, OPEN, RANGE, fill_omitted, function_names, parse_arg, rename_calls, split_call,
                       tokens, without_strings)
from ..package import Package, WorkbookError, opened
from ..scan import FormulaCell, SheetScan, WorkbookScan
from .base import Computed, Engine, EngineRefused, Registry, Unsupported


# ---- Excel values as xlwings hands them to a UDF ----------------------------------------------

def excel_round(x: float, digits: float, mode: str = ROUND_HALF_UP) -> float:
    """ROUND as Excel does it: on the value's 15-significant-digit decimal form, half away from
    zero (ROUND), towards zero (ROUNDDOWN) or away from zero (ROUNDUP)."""
    d = int(digits)
    q = Decimal(1).scaleb(-d)
    value = Decimal(f"{float(x):.15g}")
    return float(value.quantize(q, rounding=mode))


def unknown_functions(scan: WorkbookScan, known: Callable[[str], bool]) -> list[WorkbookError]:
    out = []
    for s in scan.sheets:
        for f in s.formulas:
            for name in function_names(f.text or ""):
                if not known(name):
                    out.append(WorkbookError(f"calls an unknown function {name}(); its cell cannot be computed", s.name, f.ref))
    return out


_TABLE_REF = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\[")
_KEY = re.compile(r"^'?\[[^\]]*\](.*?)'?!([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)$")  # '[book.xlsx]SHEET'!A1:B2, as formulas names cells


# ---- the engine -----------------------------------------------------------------------------------

class FormulasEngine(Engine):
    name = "formulas"
    #: Above this many formula cells the formulas engine needs gigabytes and minutes (24,000 cells:
    #: 1.6 GB, 107 s measured); it refuses rather than exhaust the machine.
    max_formulas = 100_000

    def __init__(self) -> None:
        os.environ.setdefault("TQDM_DISABLE", "1")  # formulas draws progress bars of its own
        import formulas  # noqa: F401 (imported here: a heavy import, only when this engine runs)

    def refusals(self, scan: WorkbookScan) -> list[WorkbookError]:
        if scan.formula_count > self.max_formulas:
            return [WorkbookError(f"has {scan.formula_count:,} formula cells, more than the formulas engine handles "
                                  f"({self.max_formulas:,}); use --engine libreoffice")]
        out = []
        if scan.iterative:
            out.append(WorkbookError("uses iterative calculation, which the formulas engine cannot do; use --engine libreoffice"))
        scoped = {(sheet, n.upper()) for sheet, n in scan.sheet_names}
        for s in scan.sheets:
            for f in s.formulas:
                text = without_strings(f.text or "")
                if scan.tables and _TABLE_REF.search(text):
                    out.append(WorkbookError("uses a structured table reference, which the formulas engine cannot compute; "
                                             "use --engine libreoffice", s.name, f.ref))
                for sheet, name in scoped:
                    if re.search(rf"(?<![A-Za-z0-9_.!]){re.escape(name)}(?![A-Za-z0-9_(])", text.upper()):
                        out.append(WorkbookError(f"uses the sheet-scoped name {name}, which the formulas engine cannot resolve; "
                                                 "use --engine libreoffice", s.name, f.ref))
        return out

    def compute(self, path: Path, registry: Registry, scan: WorkbookScan) -> Computed:
        if scan.formula_count == 0:  # nothing to compute: the workbook is never loaded
            return Computed()
        refused = self.refusals(scan)
        if refused:
            more = f" (and {len(refused) - 1} more cells like it)" if len(refused) > 1 else ""
            raise EngineRefused(f"not computed: {refused[0]}{more}", refused)
        _refuse_three_d(scan)
        result = Computed()
        funcs = _functions(registry, scan.spellings())
        known = lambda name: name.upper() in funcs or registry.resolve(name) is not None  # noqa: E731
        result.problems.extend(unknown_functions(scan, known))
        heard: list[WorkbookError] = []
        solution, unreadable, outcomes = _solve(path, registry, scan, heard)
        for (sheet, cell), text in sorted(unreadable.items()):
            shown = f" (={text})" if text else ""
            result.problems.append(WorkbookError(f"has a formula the formulas engine cannot read{shown}; the cell keeps "
                                                 "the value stored in the file, and cells that use it are computed from that "
                                                 "value", sheet, cell))
        result.values = _results(solution, scan, set(unreadable))
        result.problems.extend(heard)
        result.problems.extend(_not_computed(scan, result.values, set(unreadable), {(p.sheet, p.cell) for p in heard}))
        for sheet, cells in result.values.items():
            for cell, v in list(cells.items()):
                if v == "#CIRC!":
                    result.problems.append(WorkbookError("is part of a circular reference; left as it was", sheet, cell))
                    del cells[cell]
        result.calls = _calls(scan, registry, outcomes)
        return result


def _functions(registry: Registry, spellings: set[str]) -> dict[str, Any]:
    """The formulas package's functions, with Excel's rounding and every function of the registry
    (under its name and under each spelling the workbook uses)."""
    import formulas
    from formulas.functions import wrap_ufunc

    funcs = formulas.get_functions()
    funcs["ROUND"] = wrap_ufunc(lambda x, d: excel_round(x, d))
    funcs["ROUNDUP"] = wrap_ufunc(lambda x, d: excel_round(x, d, ROUND_UP))
    funcs["ROUNDDOWN"] = wrap_ufunc(lambda x, d: excel_round(x, d, ROUND_DOWN))
    for name, fn in registry.items():
        funcs[name] = _as_formulas_function(fn)
    for spelling in spellings:
        fn = registry.resolve(spelling)
        if fn is not None:
            funcs[spelling.upper()] = _as_formulas_function(fn)
    return funcs


def _as_formulas_function(fn) -> Any:
    """A registry function as the formulas package calls it: its arguments as xlwings hands them
    over (blanks as None, errors as text, numbers as floats, one cell as its value), its result as
    an array."""
    import schedula as sh
    from formulas.functions import wrap_ranges_func
    from formulas.tokens.operand import XlError, Error

    VALUE = Error.errors["#VALUE!"]

    def cell(v: Any) -> Any:
        if v is sh.EMPTY:
            return None
        if isinstance(v, XlError):
            return str(v)
        if isinstance(v, np.generic):
            v = v.item()
        if type(v) is int:
            return float(v)  # xlwings hands every number over as a float
        return v

    def arg(a: Any) -> Any:
        if isinstance(a, np.ndarray):
            if a.ndim == 0:
                return cell(a.item())
            rows = np.atleast_2d(a).tolist()
            rows = [[cell(v) for v in r] for r in rows]
            return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows
        return cell(a)

    def value(v: Any) -> Any:
        return VALUE if failed(v) else v

    def call(*args):
        outcome = evaluate(fn, [arg(a) for a in args])
        log = getattr(_log, "calls", None)
        if log is not None:
            log.setdefault(getattr(_log, "cell", None), []).append((fn, outcome))
        out = outcome.result
        if isinstance(out, list):
            return np.array([[value(v) for v in row] for row in out], dtype=object)
        return np.array([[value(out)]], dtype=object)  # a failed call: #VALUE!, which every dependent formula passes on
    call.__name__ = fn.name
    return wrap_ranges_func(call)


#: The STP_* calls made while a workbook is solved: by (SHEET, anchor cell) of the formula being
#: computed, each (function, outcome); the formula being computed is set by :func:`_watch`.
_log = threading.local()


def _solve(path: Path, registry: Registry, scan: WorkbookScan, heard: list[WorkbookError]) -> tuple[dict, dict, dict]:
    """The formulas package's solution for the workbook, the formulas it cannot read (by (sheet,
    cell): their text; each cell is given its stored value instead), and the STP_* calls each
    STP_* cell made. What the package and its dependencies say while they work goes to ``heard``
    as one-line problems, never to the terminal."""
    from formulas.errors import FormulaError

    try:
        with _with_omitted_filled(path, registry, scan) as source, _quiet(heard, [s.name for s in scan.sheets]), \
                _only_this_book(source):
            try:
                model, unreadable = _load(source, scan)
                _watch(model, scan)
                _log.calls = {}
                return model.calculate(inputs=_kept_inputs(model, scan)), unreadable, _log.calls
            finally:
                _log.calls = _log.cell = _log.name = None
                _dates.shift = 0
    except WorkbookError:
        raise
    except FormulaError as e:  # a formula outside the formula cells (a defined name's, say)
        raise WorkbookError(f"the formulas engine cannot read the formula {_formula_of(e)}, which this workbook uses; "
                            "use --engine libreoffice") from None
    except Exception as e:  # the engine's own failure, said in one line
        raise WorkbookError(f"the formulas engine could not compute this workbook ({_one_line(e)})") from None


def _formula_of(e: Exception) -> str:
    """The formula a FormulaError('Not a valid formula:\\n%s', '=…') is about."""
    text = e.args[1] if len(e.args) > 1 and isinstance(e.args[1], str) else "(not named)"
    return text if text.startswith("=") else "=" + text


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text[:200]}" if text else type(e).__name__


# ---- loading: the formula cells, and only the cells they refer to ------------------------------

def _load(source: Path, scan: WorkbookScan) -> tuple[Any, dict[tuple[str, str], str]]:
    """The formulas package's model of the workbook, and the formulas it cannot read (by (sheet,
    cell): their text). Only the formula cells are compiled here; ``finish`` then pulls in the
    cells they refer to. (The package's own ``loads`` compiles every constant cell of every sheet
    first: minutes for a few hundred thousand, for cells no formula reads.) The date system is
    the workbook's from here on (:func:`_date_shift`)."""
    import formulas
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    _install_date_systems()
    _install_cycle_search()
    model = formulas.ExcelModel()
    book, context = model.add_book(str(source))
    _dates.shift = DAYS_1904 if book.epoch == CALENDAR_MAC_1904 else 0
    by_name = {s.name.upper(): s for s in scan.sheets}
    order = _sheet_order(scan)
    unreadable: dict[tuple[str, str], str] = {}
    for ws in book.worksheets:
        sheet = by_name.get(ws.title.upper())
        if sheet is not None:
            for cell, text in _push_formulas(model, ws, context, sheet, order).items():
                unreadable[(sheet.name, cell)] = text
    return model.finish(circular=True), unreadable


def _push_formulas(model, ws, context: dict, sheet: SheetScan, order: list[tuple[str, bool]]) -> dict[str, str]:
    """Each formula cell of one worksheet compiled into the model (3-D references spelt out sheet
    by sheet); a formula the package cannot read is given the cell's stored value instead.
    Returns those formulas' text by cell."""
    import schedula as sh

    ws, ctx = model.add_sheet(ws, context)
    ctx = {"external_links": model.external_links(ctx), **ctx}
    references, anchors, ranges = model.references, model.formula_references(ctx), model.formula_ranges(ctx)
    unreadable, cells = {}, []
    for f in sheet.formulas:
        c = ws[f.ref]
        if c.data_type != "f":
            cells.append(model.compile_cell(c, ctx, references, anchors))
            continue
        text = c.value if isinstance(c.value, str) else getattr(c.value, "text", None)  # an ArrayFormula's text
        text = (text or "").lstrip("=")
        crd = anchors.get(f.ref, f.ref)
        try:
            cells.append(model._compile_cell(crd, "=" + _spelt_out(text, order, f), ctx, True, references))
        except Unsupported:
            raise
        except Exception:  # FormulaError, or the package tripping over what it cannot read
            unreadable[f.ref] = text or f.text or ""
            value, formula = _stored(f)
            try:
                cells.append(model._compile_cell(crd, value, ctx, formula, references))
            except Exception:  # an error value the package has no name for (#SPILL!, #CALC!)
                cells.append(model._compile_cell(crd, "=NA()", ctx, True, references))
    for cell in cells:
        model.add_cell(sh.await_result(cell), ctx, ranges)
    return unreadable


def _stored(f: FormulaCell) -> tuple[Any, bool]:
    """What a cell whose formula cannot be read holds instead: its stored value, and whether that
    is to be read as a formula (an error value, or NA() when nothing was stored)."""
    try:
        value = decode_cached(f.cached_type, f.cached)
    except ValueError:
        value = None
    if value is None:
        return "=NA()", True
    if f.cached_type == "e":
        return "=" + value, True
    return value, False


def _not_computed(scan: WorkbookScan, values: dict, unreadable: set, reported: set) -> list[WorkbookError]:
    """Formula cells the formulas package left without a value (a cell it failed on, or one that
    depends on it): each keeps its stored value, and says so."""
    _problems, kept = scan.reference_problems()
    out = []
    for s in scan.sheets:
        got = values.get(s.name, {})
        for f in s.formulas:
            where = (s.name, f.ref)
            if f.ref not in got and where not in unreadable and where not in reported and where not in kept:
                out.append(WorkbookError("was not computed by the formulas engine (it uses a cell the engine could not "
                                         "compute); it keeps the value stored in the file", s.name, f.ref))
    return out


# ---- the search for circular references, in linear time --------------------------------------------

def _install_cycle_search() -> None:
    """The formulas package looks for circular references (``finish(circular=True)``) with a copy
    of networkx's ``simple_cycles`` that, for every cell, searches the graph from it and then removes
    it from every other cell's successors: time that grows with the square of the cells (20,000
    constants summed by one formula: 65 s of 75). :func:`simple_cycles` finds the same cycles in
    the same order, searching only from cells that can be on a cycle."""
    import formulas.excel.cycle as cycle

    if cycle.simple_cycles is not simple_cycles:
        cycle.simple_cycles = simple_cycles


def simple_cycles(graph: dict, copy: bool = True, skip_nodes=()):
    """The formulas package's ``simple_cycles(graph, copy, skip_nodes)`` (every elementary cycle
    of a graph given as {node: successors}, each once, in the same order), except that a strongly
    connected component of one node without a loop to itself (which holds no cycle) is not
    searched, and a node is removed through an index of its predecessors."""
    from formulas.excel.cycle import _subgraph

    if copy or skip_nodes:
        skip_nodes = set(skip_nodes)
        graph = {v: set(nbrs) - skip_nodes for v, nbrs in graph.items() if v not in skip_nodes}
    predecessors: dict = {v: set() for v in graph}
    for v, nbrs in graph.items():
        for n in nbrs:
            predecessors.setdefault(n, set()).add(v)
    sccs = _components(graph)
    while sccs:
        scc = sccs.pop()
        start = scc.pop()
        if scc or start in graph[start]:
            yield from _cycles_through(graph, start)
        for v in predecessors.pop(start, ()):
            if v in graph:
                graph[v].discard(start)
        for n in graph.pop(start):
            predecessors.get(n, set()).discard(start)
        sccs.extend(_components(_subgraph(graph, set(scc))))


def _cycles_through(graph: dict, start):
    """The cycles through ``start``: the formulas package's (Johnson's) search, as it has it."""
    from collections import defaultdict

    from formulas.excel.cycle import _unblock

    path, blocked, closed = [start], {start}, set()
    no_circuit: dict = defaultdict(set)
    stack = [(start, list(graph[start]))]
    while stack:
        node, nbrs = stack[-1]
        if nbrs:
            nxt = nbrs.pop()
            if nxt == start:
                yield path[:]
                closed.update(path)
            elif nxt not in blocked:
                path.append(nxt)
                stack.append((nxt, list(graph[nxt])))
                closed.discard(nxt)
                blocked.add(nxt)
                continue
        if not nbrs:
            if node in closed:
                _unblock(node, blocked, no_circuit)
            else:
                for nbr in graph[node]:
                    no_circuit[nbr].add(node)
            stack.pop()
            path.pop()


def _components(graph: dict) -> list[list]:
    """Tarjan's strongly connected components in the order (and each in the order) the formulas
    package's recursive version gives them, without its recursion (a chain of formulas thousands
    of cells long would pass Python's limit) or its search of a list for what is on the stack."""
    counter, stack, on_stack, result, lowlink, index = 0, [], set(), [], {}, {}
    for root in graph:
        if root in index:
            continue
        index[root] = lowlink[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(graph[root]))]
        while work:
            node, successors = work[-1]
            for s in successors:
                if s not in index:
                    index[s] = lowlink[s] = counter
                    counter += 1
                    stack.append(s)
                    on_stack.add(s)
                    work.append((s, iter(graph[s])))
                    break
                if s in on_stack:
                    lowlink[node] = min(lowlink[node], index[s])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
                if lowlink[node] == index[node]:
                    component = []
                    while True:
                        s = stack.pop()
                        on_stack.discard(s)
                        component.append(s)
                        if s == node:
                            break
                    result.append(component)
    return result


# ---- 3-D references (Sheet1:Sheet3!A1) -------------------------------------------------------------

#: The functions Excel accepts a 3-D reference in, as an argument of its own: each takes any
#: number of references, so SUM(Jan:Mar!B6) is SUM(Jan!B6,Feb!B6,Mar!B6).
THREE_D_FUNCTIONS = frozenset({
    "SUM", "AVERAGE", "AVERAGEA", "COUNT", "COUNTA", "MAX", "MAXA", "MIN", "MINA", "PRODUCT", "STDEV", "STDEVA", "STDEVP",
    "STDEVPA", "VAR", "VARA", "VARP", "VARPA", "STDEV.S", "STDEV.P", "VAR.S", "VAR.P"})
#: A 3-D reference as one operand: 'Sheet 1:Sheet 3'!A1:B2 or Sheet1:Sheet3!A1 (groups: the first
#: and last sheet, quoted or not, and the cells).
_THREE_D = re.compile(r"^(?:'((?:[^'\[\]:]|'')+):((?:[^'\[\]:]|'')+)'|([^\W\d][\w.]*):([^\W\d][\w.]*))!(\$?[A-Za-z]{0,3}\$?\d*(?::\$?[A-Za-z]{0,3}\$?\d*)?)$")

_MAYBE_THREE_D = re.compile(r"(?:'[^'!]*:[^'!]*'|[^\W\d][\w.]*:[^\W\d][\w.]*)!")  # a cheap test first


def _sheet_order(scan: WorkbookScan) -> list[tuple[str, bool]]:
    """Every sheet in the workbook's order (a 3-D reference spans the sheets between its two),
    and whether it is a worksheet (a chart sheet has no cells)."""
    worksheets = [s.name for s in scan.sheets]
    return [(name, name in worksheets) for name in scan.all_sheet_names or worksheets]


def _three_d(text: str, order: list[tuple[str, bool]]) -> list[tuple[int, int, str, list[str] | None, bool]]:
    """The 3-D references in a formula: (start, end, the reference as written, the sheets it spans
    in the workbook's order or None when it names a sheet the workbook lacks, whether it is a whole
    argument of a function that takes one)."""
    if ":" not in text or "!" not in text or not _MAYBE_THREE_D.search(text):
        return []
    toks = tokens(text)
    if toks is None:
        return [(0, len(text), text, None, False)] if re.search(r"[\w']:[^!,()]*'?!", text) else []
    out, stack = [], []
    for k, (start, end, type_, subtype) in enumerate(toks):
        if subtype == OPEN:
            stack.append(text[start:end - 1].upper().removeprefix("_XLFN.") if type_ == FUNC else "")
        elif subtype == CLOSE and stack:
            stack.pop()
        m = _THREE_D.match(text[start:end]) if subtype == RANGE else None
        if m is None:
            continue
        first, last = (g.replace("''", "'") for g in (m.group(1, 2) if m.group(1) else m.group(3, 4)))
        upper = [n.upper() for n, _worksheet in order]
        whole = (k > 0 and toks[k - 1][3] in (OPEN, ARG) and k + 1 < len(toks) and toks[k + 1][3] in (CLOSE, ARG)
                 and bool(stack) and stack[-1] in THREE_D_FUNCTIONS)
        sheets = None
        if first.upper() in upper and last.upper() in upper:
            i, j = sorted((upper.index(first.upper()), upper.index(last.upper())))
            sheets = [n for n, worksheet in order[i:j + 1] if worksheet]
        out.append((start, end, text[start:end], sheets, whole))
    return out


def _spelt_out(text: str, order: list[tuple[str, bool]], f: FormulaCell) -> str:
    """The formula with each 3-D reference spelt out sheet by sheet, as the formulas package can
    compute it; Unsupported where Excel's meaning cannot be kept that way."""
    found = _three_d(text, order)
    if not found:
        return text
    out, pos = [], 0
    for start, end, ref, sheets, whole in found:
        if sheets is None or not whole:
            raise Unsupported(_three_d_refusal(f, ref, sheets), f)
        cells = ref[ref.index("!") + 1:]
        out += [text[pos:start], ",".join("'" + name.replace("'", "''") + "'!" + cells for name in sheets)]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _three_d_refusal(f: FormulaCell, ref: str, sheets: list[str] | None) -> str:
    if sheets is None:
        why = "which names a sheet this workbook does not have"
    else:
        why = ("outside the functions that take one (SUM, AVERAGE, COUNT, COUNTA, MAX, MIN, PRODUCT, STDEV, VAR and their "
               "variants), which the formulas engine cannot compute as Excel does")
    return f"{f.sheet}!{f.ref}: uses the 3-D reference {ref} {why}; use --engine libreoffice"


def _refuse_three_d(scan: WorkbookScan) -> None:
    """Unsupported, naming the first cell, when a formula or a defined name it uses has a 3-D
    reference that cannot be spelt out sheet by sheet (the rest are, as the workbook is loaded)."""
    order = _sheet_order(scan)
    names = {name.upper(): ref for name, text in scan.names.items()
             for _s, _e, ref, _sheets, _whole in _three_d(text.lstrip("="), order)[:1]}
    for s in scan.sheets:
        for f in s.formulas:
            text = f.text or ""
            for _start, _end, ref, sheets, whole in _three_d(text, order):
                if sheets is None or not whole:
                    raise Unsupported(_three_d_refusal(f, ref, sheets), f)
            for name, ref in names.items():
                if re.search(rf"(?<![A-Za-z0-9_.!]){re.escape(name)}(?![A-Za-z0-9_(])", without_strings(text).upper()):
                    raise Unsupported(f"{f.sheet}!{f.ref}: uses the name {name}, a 3-D reference ({ref}), which the formulas "
                                      "engine cannot compute as Excel does; use --engine libreoffice", f)


# ---- the 1904 date system ------------------------------------------------------------------------

#: A date's serial number in the 1904 date system (Excel for Mac's old default) is its serial in
#: the 1900 system less 1462: 1 Jan 2000 is 36526 in one and 35064 in the other.
DAYS_1904 = 1462
#: ``shift``: DAYS_1904 while a workbook in the 1904 date system is computed, else 0.
_dates = threading.local()
_dates_installed = False


def _date_shift() -> int:
    return getattr(_dates, "shift", 0)


def _install_date_systems() -> None:
    """The formulas package counts dates in the 1900 system. Its two conversions between a serial
    number and a date, which every date function, TEXT, VALUE, the coupon functions and text read
    as a date go through, are made to count in the workbook's system (:func:`_date_shift`); the
    functions that do arithmetic on the serial itself (DATE, WEEKDAY, WEEKNUM, ISOWEEKNUM) are
    given the 1900 serial. With a shift of 0 everything is exactly as the package has it."""
    global _dates_installed
    if _dates_installed:
        return
    import formulas
    import formulas.functions.date as date
    import formulas.functions.financial as financial
    from formulas.errors import FoundError
    from formulas.functions import Error, text2num, wrap_func, wrap_ufunc

    to_serial, to_date = date.xdate, date._int2date

    def xdate(year, month, day):
        serial = to_serial(year, month, day) - _date_shift()
        if serial < 0:
            raise FoundError(err=Error.errors["#NUM!"])  # before 1 Jan 1904
        return serial

    def int2date(serial):
        if _date_shift() and serial < 0:
            raise FoundError(err=Error.errors["#NUM!"])
        return to_date(serial + _date_shift())

    date.xdate, date._int2date = xdate, int2date
    financial.xdate, financial._int2date = xdate, int2date
    funcs = formulas.get_functions()
    funcs["DATE"] = wrap_ufunc(xdate, input_parser=lambda *a: map(lambda v: math.floor(float(v)), a))
    funcs["WEEKDAY"] = wrap_ufunc(_in_1900(date.xweekday), input_parser=lambda *a: text2num(a))
    funcs["ISOWEEKNUM"] = funcs["_XLFN.ISOWEEKNUM"] = wrap_ufunc(_in_1900(date.xisoweeknum), input_parser=lambda *a: text2num(a))
    funcs["WEEKNUM"] = wrap_func(_weeknum(date.xweeknum))
    _dates_installed = True


def _in_1900(fn: Callable) -> Callable:
    """``fn(serial, ...)`` of the formulas package, given the serial in the 1900 system."""
    def call(serial, *rest):
        shift = _date_shift()
        if not shift or isinstance(serial, bool) or not isinstance(serial, numbers.Number):
            return fn(serial, *rest)
        _dates.shift = 0
        try:
            return fn(serial + shift, *rest)
        finally:
            _dates.shift = shift
    return call


def _weeknum(xweeknum: Callable) -> Callable:
    """WEEKNUM, which reads its arguments itself: a date read as text or a number in the
    workbook's system, then counted in the 1900 system."""
    from formulas.functions import _get_single_args, raise_errors, replace_empty, text2num

    def weeknum(serial_number, n=1):
        raise_errors(serial_number, n)
        serial, kind = _get_single_args(*(replace_empty(v) for v in (serial_number, n)))
        return _in_1900(xweeknum)(int(text2num(serial)), kind)
    return weeknum


# ---- what the formulas package and its dependencies say -------------------------------------------

class _Heard(logging.Handler):
    """Log records of the formulas package and its dependencies, as one-line problems: a cell the
    package failed on (schedula's "Failed DISPATCHING", with a traceback), named when it is the
    cell being computed (:func:`_watch`); the rest (a missing reference, a feature openpyxl skips)
    is said elsewhere or changes no value, and is dropped."""

    def __init__(self, heard: list[WorkbookError], sheets: list[str]):
        super().__init__(logging.DEBUG)
        self.heard, self.sheets = heard, {s.upper(): s for s in sheets}

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.ERROR or not record.name.startswith("schedula"):
            return
        args = record.args if isinstance(record.args, tuple) else ()
        cause = args[1] if len(args) > 1 else None
        cause = getattr(cause, "ex", None) or cause  # a DispatcherError carries the exception underneath
        why = _one_line(cause) if isinstance(cause, BaseException) else " ".join(record.getMessage().split())[:200]
        if "BroadcastError" in why:
            why = "it combines ranges of different sizes, which the formulas engine cannot do"
        sheet, cell = None, None
        name = getattr(_log, "name", None)
        if args and name and name in str(args[0]):  # the failed node is the cell being computed
            sheet, cell = getattr(_log, "cell", None) or (None, None)
            sheet = self.sheets.get(sheet or "", sheet)
        if sheet and any((p.sheet, p.cell) == (sheet, cell) for p in self.heard):
            return
        what = "this cell" if cell else "a formula"
        self.heard.append(WorkbookError(f"the formulas engine failed on {what} ({why}); "
                                        + ("it keeps the value stored in the file" if cell else "its cells keep their stored values"),
                                        sheet, cell))


@contextlib.contextmanager
def _quiet(heard: list[WorkbookError], sheets: list[str]):
    """Keep what the formulas package and its dependencies (schedula, openpyxl) print — log records
    with their tracebacks, warnings, progress text on stdout and stderr — off the terminal; what
    matters comes back in ``heard`` (see :class:`_Heard`)."""
    handler = _Heard(heard, sheets)
    loggers = [logging.getLogger(name) for name in ("formulas", "schedula", "openpyxl")]
    saved = [(lg, lg.propagate, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate = False
        lg.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, propagate, level in saved:
            lg.removeHandler(handler)
            lg.propagate, lg.level = propagate, level


def _watch(model, scan: WorkbookScan) -> None:
    """Each formula cell of the model says which cell it is while it is computed (the formulas
    package computes one cell at a time), so that the STP_* calls it makes are logged under it
    and a failure is put down to it."""
    from formulas.cell import CellWrapper

    for key, cell in model.cells.items():
        m = _KEY.match(str(key))
        wrapper = getattr(cell, "func", None)
        if m and isinstance(wrapper, CellWrapper):
            wrapper.parse_args = _entering((m.group(1).upper(), m.group(2).split(":")[0]), wrapper)


def _entering(where: tuple[str, str], wrapper) -> Callable:
    parse_args, name = wrapper.parse_args, getattr(wrapper, "__name__", None)

    def parse(*args):
        _log.cell, _log.name = where, name
        return parse_args(*args)
    return parse


def _calls(scan: WorkbookScan, registry: Registry, logged: dict) -> list:
    """The STP_* cells whose call failed or warned, in the workbook's order: the first failed call
    of a cell is its cause (an inner call fails before the call that is passed its error)."""
    out = []
    for f in scan.stp_cells():
        entries = logged.get((f.sheet.upper(), f.ref))
        split = split_call(f.text or "")
        parsed = [parse_arg(a, f.sheet, scan.names) for a in split[1]] if split is not None else None
        if not entries:
            # a call of literals only is computed by the formulas package while it loads the
            # workbook, before any cell is watched: computed again here for its reasons
            fn = registry.resolve(split[0]) if split is not None else None
            if fn is None or any(k not in ("value", "empty") for k, _v in parsed):
                continue
            entries = [(fn, evaluate(fn, [v for _k, v in parsed]))]
        fn, outcome = next((e for e in entries if e[1].failed), entries[-1])
        warnings = tuple({str(w): w for _fn, o in entries for w in o.warnings}.values())
        if split is None or registry.resolve(split[0]) is not fn:
            parsed = None
        c = call_of(f.sheet, f.ref, f.array_ref or f.ref, fn, parsed, Outcome(outcome.result, outcome.error, warnings))
        if c is not None:
            out.append(c)
    return out


def _results(solution: dict, scan: WorkbookScan, unreadable: set[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """The solution's values of the workbook's formula-result cells, by sheet and cell (a range
    of the solution spread over its cells)."""
    sheets = {s.name.upper(): s.name for s in scan.sheets}
    wanted = {s.name: s.result_cells() for s in scan.sheets}
    found: dict[str, dict[str, Any]] = {s.name: {} for s in scan.sheets}
    for key, value in solution.items():
        m = _KEY.match(str(key))
        if not m:
            continue
        sheet = sheets.get(m.group(1).upper())
        if sheet is None:
            continue
        arr = getattr(value, "value", value)
        arr = np.atleast_2d(np.asarray(arr, dtype=object))
        ref = m.group(2)
        cells = expand(ref) if ":" in ref else [ref]
        rows, cols = shape(ref)
        flat = [arr[i % arr.shape[0], j % arr.shape[1]] if arr.size else None for i in range(rows) for j in range(cols)]
        for cell, v in zip(cells, flat):
            if cell in wanted[sheet] and (sheet, cell) not in unreadable:
                found[sheet][cell] = _plain(v)
    return found


_allowed = threading.local()
_guard_installed = False


@contextlib.contextmanager
def _only_this_book(path: Path):
    """The formulas package opens the workbooks an external link points at; a workbook must not
    make us read other files, so only the workbook being computed may be opened."""
    global _guard_installed
    import formulas.excel.xlreader as xlreader

    if not _guard_installed:
        original = xlreader.load_workbook

        def guarded(filename, *args, **kwargs):
            allowed = getattr(_allowed, "path", None)
            if allowed is None or os.path.realpath(filename) != allowed:
                raise WorkbookError("external workbooks are never opened")
            return original(filename, *args, **kwargs)

        xlreader.load_workbook = guarded
        _guard_installed = True
    _allowed.path = os.path.realpath(path)
    try:
        yield
    finally:
        _allowed.path = None


def _kept_inputs(model, scan: WorkbookScan) -> dict[str, Any]:
    """Cells that refer to other workbooks keep their stored values, and the formulas engine
    computes their dependents from those values (as Excel does with links not updated)."""
    _problems, keep = scan.reference_problems()
    if not keep:
        return {}
    stored = {}
    for s in scan.sheets:
        for f in s.formulas:
            if (s.name, f.ref) in keep and f.cached is not None and f.cached_type in (None, "n", "b", "str", "e"):
                try:
                    value = decode_cached(f.cached_type, f.cached)
                except ValueError:
                    continue
                if value is None:  # no value stored
                    continue
                stored[(s.name.upper(), f.ref)] = value
    inputs = {}
    for key in model.cells:
        m = re.match(r"^'?\[[^\]]*\](.*?)'?!([A-Z]+[0-9]+)$", str(key))
        if m and (m.group(1).upper(), m.group(2)) in stored:
            inputs[key] = stored[(m.group(1).upper(), m.group(2))]
    return inputs


@contextlib.contextmanager
def _with_omitted_filled(path: Path, registry: Registry, scan: WorkbookScan):
    """The workbook itself, or (when an STP_* call omits an argument, or the file stores its parts
    under Windows backslash paths, which openpyxl cannot read) a private temporary copy whose
    formulas mark the omitted arguments and whose parts have their real names, for the formulas
    engine to read. The user's file is never changed; the output is always patched from the original."""

    def plain(text: str) -> str:
        """Every spelling of one of our functions ([1]!STP_X, 'C:\\addin.xlam'!STP_X, _xll.STP_X…) as STP_X."""
        return rename_calls(text, lambda spelling: canonical_name(spelling) if registry.resolve(spelling) else None)

    if not _backslashed(path, scan) and not any(_needs_rewrite(f.text or "", f.kind, plain) for f in scan.stp_cells()):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="xl-stp-") as tmp:
        copy = Path(tmp) / path.name
        with opened(scan.package or path) as pkg:
            _rewrite_formulas(pkg, copy, {s.part for s in scan.sheets}, lambda m: _fixed_formula(m, plain))
        yield copy


def _backslashed(path: Path, scan: WorkbookScan) -> bool:
    """Whether the file stores its parts under backslash paths (xl\\workbook.xml)."""
    if scan.package is not None:
        return scan.package.backslashed
    with zipfile.ZipFile(path) as z:
        return any("\\" in name for name in z.namelist())


def _needs_rewrite(text: str, kind: str, plain: Callable[[str], str]) -> bool:
    """An STP_* formula the formulas package cannot read as it is: an omitted argument, a single
    cell showing an STP_* result (not an array formula), another spelling of one of our functions."""
    return fill_omitted(text) != text or (kind != "array" and split_call(text) is not None) or plain(text) != text


def _fixed_formula(m: re.Match, plain: Callable[[str], str]) -> bytes:
    """An <f> element (an F_ELEM match) as the formulas package can read it."""
    from xml.sax.saxutils import escape, unescape

    whole = m.group(0)
    head_end = whole.find(b">") + 1
    if head_end <= 0 or whole.endswith(b"/>") and head_end == len(whole):
        return whole
    tail = whole.rfind(b"</")
    text = unescape(whole[head_end:tail].decode("utf-8"), {"&quot;": '"', "&apos;": "'"})
    filled = plain(fill_omitted(text))
    if b't="array"' not in whole[:head_end] and split_call(text) is not None:
        # a single cell shows the top-left value of an STP_* result, as Excel does for a formula
        # that is not an array formula (the formulas package would give #VALUE!)
        filled = f"INDEX({filled},1,1)"
    return whole if filled == text else whole[:head_end] + escape(filled).encode("utf-8") + whole[tail:]


def _rewrite_formulas(pkg: Package, copy: Path, parts: set[str], fix: Callable[[re.Match], bytes]) -> None:
    """A copy of the package with each <f> element of the worksheet ``parts`` passed through ``fix``."""
    from ..patch import F_ELEM

    pkg.begin_pass()
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in pkg.zip.infolist():
            data = pkg.read(info.filename)
            if info.filename in parts:
                data = F_ELEM.sub(fix, data)
            zout.writestr(info.filename, data)


def _plain(v: Any) -> Any:
    import schedula as sh
    from formulas.tokens.operand import XlError

    if v is sh.EMPTY or v is None:
        return 0.0
    if isinstance(v, XlError):
        return "#CIRC!" if type(v).__name__ == "XlCircular" else str(v)
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return float(v)
    return v

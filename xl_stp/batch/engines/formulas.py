"""The formulas engine: the pure-Python ``formulas`` package; the embedded default and the cross-check.

STP_* functions are registered with it from the registry it is given; a failed call gives the
formulas package's #VALUE! error, so that every formula computed from it is an error too (its
message, and the cell each call belongs to, are kept for the report). ROUND/ROUNDUP/ROUNDDOWN
round like Excel (on the 15-significant-digit value: 2.385 -> 2.39); what it cannot do (structured
table references, sheet-scoped names, iterative calculation) is refused, not guessed.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import threading
import zipfile
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from pathlib import Path
from typing import Any, Callable

import numpy as np

from udfs.excel import canonical_name, decode_cached

from ..cells import expand, shape
from ..diagnose import Outcome, call_of, evaluate, failed
from ..formula import fill_omitted, function_names, parse_arg, rename_calls, split_call, without_strings
from ..package import Package, WorkbookError, opened
from ..scan import WorkbookScan
from .base import Computed, Engine, EngineRefused, Registry


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
        refused = self.refusals(scan)
        if refused:
            more = f" (and {len(refused) - 1} more cells like it)" if len(refused) > 1 else ""
            raise EngineRefused(f"not computed: {refused[0]}{more}", refused)
        result = Computed()
        funcs = _functions(registry, scan.spellings())
        known = lambda name: name.upper() in funcs or registry.resolve(name) is not None  # noqa: E731
        result.problems.extend(unknown_functions(scan, known))
        solution, broken, outcomes = _solve(path, registry, scan)
        unreadable = {(s.name, f.ref) for s in scan.sheets for f in s.formulas if f.text in broken}
        for sheet, cell in sorted(unreadable):
            result.problems.append(WorkbookError("has a formula the formulas engine cannot read; the cell keeps its stored value",
                                                 sheet, cell))
        result.values = _results(solution, scan, unreadable)
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


def _solve(path: Path, registry: Registry, scan: WorkbookScan) -> tuple[dict, set[str], dict]:
    """The formulas package's solution for the workbook, the formula texts it cannot parse (each
    given NA() in a private copy, and the workbook read again, up to 100 of them), and the STP_*
    calls each STP_* cell made."""
    import formulas
    from formulas.errors import FormulaError

    broken: set[str] = set()  # formula texts the formulas package cannot parse: NA() in its copy
    while True:
        try:
            with _with_omitted_filled(path, registry, scan, frozenset(broken)) as source, \
                    contextlib.redirect_stdout(io.StringIO()), _only_this_book(source):
                model = formulas.ExcelModel().loads(str(source)).finish(circular=True)  # it prints what it misses
                _watch(model, scan)
                _log.calls = {}
                try:
                    return model.calculate(inputs=_kept_inputs(model, scan)), broken, _log.calls
                finally:
                    _log.calls = _log.cell = None
        except WorkbookError:
            raise
        except FormulaError as e:
            text = e.args[1] if len(e.args) > 1 and isinstance(e.args[1], str) else None
            text = text[1:] if text and text.startswith("=") else text
            if not text or text in broken or len(broken) >= 100:
                raise WorkbookError(f"the formulas engine could not compute this workbook (FormulaError: {str(e)[:200]})") from None
            broken.add(text)
        except Exception as e:  # the engine's own failure, said in one line
            raise WorkbookError(f"the formulas engine could not compute this workbook ({type(e).__name__}: {str(e)[:200]})") from None


def _watch(model, scan: WorkbookScan) -> None:
    """Each STP_* cell of the model says which cell it is while it is computed (the formulas
    package computes one cell at a time), so that its calls are logged under it."""
    from formulas.cell import CellWrapper

    stp = {(f.sheet.upper(), f.ref) for f in scan.stp_cells()}
    for key, cell in model.cells.items():
        m = _KEY.match(str(key))
        wrapper = getattr(cell, "func", None)
        if not m or not isinstance(wrapper, CellWrapper):
            continue
        where = (m.group(1).upper(), m.group(2).split(":")[0])
        if where in stp:
            wrapper.parse_args = _entering(where, wrapper.parse_args)


def _entering(where: tuple[str, str], parse_args: Callable) -> Callable:
    def parse(*args):
        _log.cell = where
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
def _with_omitted_filled(path: Path, registry: Registry, scan: WorkbookScan, broken: frozenset[str] = frozenset()):
    """The workbook itself, or (when an STP_* call omits an argument, or a formula cannot be read
    by the formulas package) a private temporary copy whose formulas mark the omitted arguments
    and give NA() for the unreadable formulas, for the formulas engine to read. The user's file
    is never changed; the output is always patched from the original."""

    def plain(text: str) -> str:
        """Every spelling of one of our functions ([1]!STP_X, 'C:\\addin.xlam'!STP_X, _xll.STP_X…) as STP_X."""
        return rename_calls(text, lambda spelling: canonical_name(spelling) if registry.resolve(spelling) else None)

    if not broken and not any(_needs_rewrite(f.text or "", f.kind, plain) for f in scan.stp_cells()):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="xl-stp-") as tmp:
        copy = Path(tmp) / path.name
        with opened(scan.package or path) as pkg:
            _rewrite_formulas(pkg, copy, {s.part for s in scan.sheets}, lambda m: _fixed_formula(m, broken, plain))
        yield copy


def _needs_rewrite(text: str, kind: str, plain: Callable[[str], str]) -> bool:
    """An STP_* formula the formulas package cannot read as it is: an omitted argument, a single
    cell showing an STP_* result (not an array formula), another spelling of one of our functions."""
    return fill_omitted(text) != text or (kind != "array" and split_call(text) is not None) or plain(text) != text


def _fixed_formula(m: re.Match, broken: frozenset[str], plain: Callable[[str], str]) -> bytes:
    """An <f> element (an F_ELEM match) as the formulas package can read it."""
    from xml.sax.saxutils import escape, unescape

    whole = m.group(0)
    head_end = whole.find(b">") + 1
    if head_end <= 0 or whole.endswith(b"/>") and head_end == len(whole):
        return whole
    tail = whole.rfind(b"</")
    text = unescape(whole[head_end:tail].decode("utf-8"), {"&quot;": '"', "&apos;": "'"})
    filled = "NA()" if text in broken else plain(fill_omitted(text))
    if text not in broken and b't="array"' not in whole[:head_end] and split_call(text) is not None:
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

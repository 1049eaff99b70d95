"""Engines: compute every formula-result cell of a workbook, STP_* through the one registry.

One interface, :meth:`Engine.compute` ``(path, registry, scan) -> Computed`` (values by sheet and
cell, plus the problems found, each with its sheet and cell). Two engines:

- :class:`FormulasEngine` — the pure-Python ``formulas`` package; the embedded default and the
  cross-check. STP_* functions are registered with it; ROUND/ROUNDUP/ROUNDDOWN round like Excel
  (on the 15-significant-digit value: 2.385 -> 2.39); what it cannot do (structured table
  references, sheet-scoped names, iterative calculation) is refused, not guessed.
- :class:`LibreOfficeEngine` (``xl_stp.batch.engines.libreoffice``) — LibreOffice headless over UNO for
  native formulas, STP_* cells computed here and fed back until they stop changing.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from udfs.registry import Registry, canonical_name

from .base import Computed

from ..package import WorkbookError
from ..scan import CALL, STP_CALL, STRING, WorkbookScan, expand


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
            for name in CALL.findall(STRING.sub('""', f.text or "")):
                if not known(name):
                    out.append(WorkbookError(f"calls an unknown function {name}(); its cell cannot be computed", s.name, f.ref))
    return out


# ---- formulas -------------------------------------------------------------------------------------

def fill_omitted(text: str) -> str:
    """Mark the omitted arguments of STP_* calls with "" (which Excel and xlwings pass as a blank):
    the formulas package would pass an omitted argument as 0, which is not what Excel does.
    ``STP_FUNDING_SPLIT(A1:F1,A2:F4,,A5:F5)`` -> ``STP_FUNDING_SPLIT(A1:F1,A2:F4,"",A5:F5)``."""
    out, i = [], 0
    for m in STP_CALL.finditer(text):
        start = m.end()
        if start < i or start >= len(text) or text[start] != "(":
            continue
        out.append(text[i:start])
        depth, j, in_str, prev = 0, start, False, ""
        while j < len(text):
            ch = text[j]
            if ch == '"':
                in_str = not in_str
            elif not in_str:
                if ch == "(":
                    depth += 1
                elif ch == ")":
                    depth -= 1
                    if depth == 0:
                        if prev == "," :
                            out.append('""')
                        out.append(ch)
                        j += 1
                        break
                elif ch == "," and depth == 1 and prev in ("(", ","):
                    out.append('""')
            out.append(ch)
            if not ch.isspace():
                prev = ch if not in_str or ch == '"' else "x"
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)

_TABLE_REF = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\[")


class FormulasEngine:
    name = "formulas"

    def __init__(self) -> None:
        os.environ.setdefault("TQDM_DISABLE", "1")  # formulas draws progress bars of its own
        import formulas  # noqa: F401 (imported here: a heavy import, only when this engine runs)

    @staticmethod
    def _functions(registry: Registry, spellings: set[str]) -> dict[str, Any]:
        import formulas
        import schedula as sh
        from formulas.functions import wrap_ranges_func, wrap_ufunc
        from formulas.tokens.operand import XlError

        funcs = formulas.get_functions()
        funcs["ROUND"] = wrap_ufunc(lambda x, d: excel_round(x, d))
        funcs["ROUNDUP"] = wrap_ufunc(lambda x, d: excel_round(x, d, ROUND_UP))
        funcs["ROUNDDOWN"] = wrap_ufunc(lambda x, d: excel_round(x, d, ROUND_DOWN))

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

        def make(fn):
            def call(*args):
                out = fn(*(arg(a) for a in args))
                if isinstance(out, list):
                    return np.array(out, dtype=object)
                return np.array([[out]], dtype=object)
            call.__name__ = fn.name
            return wrap_ranges_func(call)

        for name, fn in registry.items():
            funcs[name] = make(fn)
        for spelling in spellings:
            fn = registry.resolve(spelling)
            if fn is not None:
                funcs[spelling.upper()] = make(fn)
        return funcs

    #: Above this many formula cells the formulas engine needs gigabytes and minutes (24,000 cells:
    #: 1.6 GB, 107 s measured); it refuses rather than exhaust the machine.
    MAX_FORMULAS = 100_000

    def refusals(self, scan: WorkbookScan) -> list[WorkbookError]:
        out = []
        if scan.formula_count > self.MAX_FORMULAS:
            out.append(WorkbookError(f"has {scan.formula_count:,} formula cells, more than the formulas engine handles "
                                     f"({self.MAX_FORMULAS:,}); use --engine libreoffice"))
            return out
        if scan.iterative:
            out.append(WorkbookError("uses iterative calculation, which the formulas engine cannot do; use --engine libreoffice"))
        scoped = {(sheet, n.upper()) for sheet, n in scan.sheet_names}
        for s in scan.sheets:
            for f in s.formulas:
                text = STRING.sub('""', f.text or "")
                if scan.tables and _TABLE_REF.search(text):
                    out.append(WorkbookError("uses a structured table reference, which the formulas engine cannot compute; "
                                             "use --engine libreoffice", s.name, f.ref))
                for sheet, name in scoped:
                    if re.search(rf"(?<![A-Za-z0-9_.!]){re.escape(name)}(?![A-Za-z0-9_(])", text.upper()):
                        out.append(WorkbookError(f"uses the sheet-scoped name {name}, which the formulas engine cannot resolve; "
                                                 "use --engine libreoffice", s.name, f.ref))
        return out

    def compute(self, path: Path, registry: Registry, scan: WorkbookScan) -> Computed:
        import formulas

        result = Computed()
        refused = self.refusals(scan)
        if refused:
            first = refused[0]
            more = f" (and {len(refused) - 1} more cells like it)" if len(refused) > 1 else ""
            err = WorkbookError(f"not computed: {first}{more}")
            err.problems = refused  # type: ignore[attr-defined]
            raise err
        funcs = self._functions(registry, scan.spellings())
        known = lambda name: name.upper() in funcs or registry.resolve(name) is not None  # noqa: E731
        result.problems.extend(unknown_functions(scan, known))
        from formulas.errors import FormulaError

        broken: set[str] = set()  # formula texts the formulas package cannot parse: NA() in its copy
        while True:
            try:
                with _with_omitted_filled(path, scan, frozenset(broken)) as source, \
                        contextlib.redirect_stdout(io.StringIO()), _only_this_book(source):
                    model = formulas.ExcelModel().loads(str(source)).finish(circular=True)  # it prints what it misses
                    solution = model.calculate(inputs=_kept_inputs(model, scan))
                break
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
        unreadable = {(s.name, f.ref) for s in scan.sheets for f in s.formulas if f.text in broken}
        for sheet, cell in sorted(unreadable):
            result.problems.append(WorkbookError("has a formula the formulas engine cannot read; the cell keeps its stored value",
                                                 sheet, cell))
        sheets = {s.name.upper(): s.name for s in scan.sheets}
        wanted = {s.name: s.result_cells() for s in scan.sheets}
        found: dict[str, dict[str, Any]] = {s.name: {} for s in scan.sheets}
        for key, value in solution.items():
            m = re.match(r"^'?\[[^\]]*\](.*?)'?!([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)$", str(key))
            if not m:
                continue
            sheet = sheets.get(m.group(1).upper())
            if sheet is None:
                continue
            arr = getattr(value, "value", value)
            arr = np.atleast_2d(np.asarray(arr, dtype=object))
            cells = expand(m.group(2)) if ":" in m.group(2) else [m.group(2)]
            flat = [arr[i % arr.shape[0], j % arr.shape[1]] if arr.size else None
                    for i in range(_rows(m.group(2))) for j in range(_cols(m.group(2)))]
            for cell, v in zip(cells, flat):
                if cell in wanted[sheet] and (sheet, cell) not in unreadable:
                    found[sheet][cell] = _plain(v)
        for sheet, cells in found.items():
            for cell, v in list(cells.items()):
                if v == "#CIRC!":
                    result.problems.append(WorkbookError("is part of a circular reference; left as it was", sheet, cell))
                    del cells[cell]
        result.values = found
        return result


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
            if (s.name, f.ref) in keep and f.cached is not None:
                if f.cached_type in (None, "n"):
                    stored[(s.name.upper(), f.ref)] = float(f.cached)
                elif f.cached_type == "b":
                    stored[(s.name.upper(), f.ref)] = f.cached == "1"
                elif f.cached_type in ("str", "e"):
                    stored[(s.name.upper(), f.ref)] = f.cached
    inputs = {}
    for key in model.cells:
        m = re.match(r"^'?\[[^\]]*\](.*?)'?!([A-Z]+[0-9]+)$", str(key))
        if m and (m.group(1).upper(), m.group(2)) in stored:
            inputs[key] = stored[(m.group(1).upper(), m.group(2))]
    return inputs


@contextlib.contextmanager
def _with_omitted_filled(path: Path, scan: WorkbookScan, broken: frozenset[str] = frozenset()):
    """The workbook itself, or (when an STP_* call omits an argument, or a formula cannot be read
    by the formulas package) a private temporary copy whose formulas mark the omitted arguments
    and give NA() for the unreadable formulas, for the formulas engine to read. The user's file
    is never changed; the output is always patched from the original."""
    from .libreoffice.engine import split_call

    def single(text: str) -> bool:
        return split_call(text) is not None

    from udfs.registry import REGISTRY

    def plain(text: str) -> str:
        """Every spelling of one of our functions ([1]!STP_X, 'C:\\addin.xlam'!STP_X, _xll.STP_X…) as STP_X."""
        return STP_CALL.sub(lambda m: canonical_name(m.group(0)) if REGISTRY.resolve(m.group(0)) else m.group(0), text)

    if not broken and not any(fill_omitted(f.text or "") != (f.text or "") or (f.kind != "array" and single(f.text or ""))
                              or plain(f.text or "") != (f.text or "") for f in scan.stp_cells()):
        yield path
        return
    from ..patch import F_ELEM
    from xml.sax.saxutils import escape, unescape

    def fix(m: re.Match) -> bytes:
        whole = m.group(0)
        head_end = whole.find(b">") + 1
        if head_end <= 0 or whole.endswith(b"/>") and head_end == len(whole):
            return whole
        tail = whole.rfind(b"</")
        text = unescape(whole[head_end:tail].decode("utf-8"), {"&quot;": '"', "&apos;": "'"})
        filled = "NA()" if text in broken else plain(fill_omitted(text))
        if text not in broken and b't="array"' not in whole[:head_end] and single(text):
            # a single cell shows the top-left value of an STP_* result, as Excel does for a formula
            # that is not an array formula (the formulas package would give #VALUE!)
            filled = f"INDEX({filled},1,1)"
        return whole if filled == text else whole[:head_end] + escape(filled).encode("utf-8") + whole[tail:]

    parts = {s.part for s in scan.sheets}
    with tempfile.TemporaryDirectory(prefix="xl-stp-") as tmp:
        copy = Path(tmp) / path.name
        with zipfile.ZipFile(path) as zin, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info)
                if info.filename in parts:
                    data = F_ELEM.sub(fix, data)
                zout.writestr(info.filename, data)
        yield copy


def _rows(ref: str) -> int:
    from openpyxl.utils.cell import range_boundaries
    c1, r1, c2, r2 = range_boundaries(ref)
    return r2 - r1 + 1


def _cols(ref: str) -> int:
    from openpyxl.utils.cell import range_boundaries
    c1, r1, c2, r2 = range_boundaries(ref)
    return c2 - c1 + 1


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

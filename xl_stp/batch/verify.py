"""How far an engine's answers agree with the values Excel stored: ``xl-stp verify``.

A workbook last saved by Excel carries Excel's own result of every formula cell. Verifying
recomputes every formula cell (as ``regen --full`` would), writes nothing, and compares each result
with the stored value: numbers to nine significant figures (Excel stores seventeen; engines differ
in the last bits), text and booleans exactly, errors by kind. Volatile cells (NOW, RAND, OFFSET…)
and cells with no stored value are left out of the comparison; STP_* cells are compared (their
stored values are the add-in's answers in Excel). The same comparison gives ``regen`` its
agreement figure.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from udfs.excel import decode_cached

from .engines import Loading, Registry, get_engine
from .package import Limits, Package, WorkbookError
from .parallel import execute, failures_recorded
from .recalc import VOLATILE_CELL, Graph, agree
from .scan import WorkbookScan, constants
from .scan import scan as scan_workbook

@dataclass
class Disagreement:
    cell: str  # Sheet!A1
    formula: str
    excel: Any
    ours: Any
    engine: str

    def line(self) -> str:
        return f"{self.cell}: Excel stored {self.excel!r}, {self.engine} gives {self.ours!r} (={self.formula})"


@dataclass
class Agreement:
    """Cells compared and cells that agree; the cells that do not, in sheet order."""

    compared: int = 0
    agreed: int = 0
    left_out: int = 0  # volatile cells, and cells with no stored value
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        return self.agreed / self.compared if self.compared else None


def compare(scan: WorkbookScan, values: Mapping[str, Mapping[str, Any]], engine: str,
            graph: Graph | None = None, engines: Mapping[tuple[str, str], str] | None = None) -> Agreement:
    """Compare every formula-result cell's computed value with the value the file stores.
    ``engines``: the engine that computed each cell, where it was not ``engine`` (a fused run)."""
    graph = graph or Graph(scan)
    seeds = graph.seeds()
    out = Agreement()
    for s in scan.sheets:
        got = values.get(s.name, {})
        stored = _stored_values(scan, s)
        for f in s.formulas:
            node = graph.nodes[(s.name, f.ref)]
            for cell in node.cells:
                excel = stored.get(cell)
                if seeds.get((s.name, f.ref)) == VOLATILE_CELL or excel is None or cell not in got:
                    out.left_out += 1
                    continue
                out.compared += 1
                if agree(got[cell], excel):
                    out.agreed += 1
                else:
                    who = (engines or {}).get((s.name, cell), engine)
                    out.disagreements.append(Disagreement(f"{s.name}!{cell}", f.text or _shared_text(s, f), excel, got[cell], who))
    return out


def _stored_values(scan: WorkbookScan, sheet) -> dict[str, Any]:
    """The value the file stores in each formula-result cell of a sheet (array members included,
    where the sheet can be read cell by cell)."""
    out: dict[str, Any] = {}
    for f in sheet.formulas:
        if f.cached is not None:
            try:
                out[f.ref] = decode_cached(f.cached_type, f.cached)
            except (ValueError, IndexError):
                pass
    if sheet.array_members:
        source = scan.package if scan.package is not None else scan.path
        got = constants(source, sheet, set(sheet.array_members), partial=True) or {}
        out.update({k: v for k, v in got.items() if v is not None})
    return out


def _shared_text(sheet, f) -> str:
    """The formula of a cell that shares its anchor's: the anchor's moved to the cell, as Excel shows it."""
    from openpyxl.formula.translate import Translator, TranslatorError

    anchor = next((g for g in sheet.formulas if g.si == f.si and g.text), None)
    if anchor is None:
        return "(a shared formula whose first cell is missing)"
    try:
        return Translator("=" + anchor.text, origin=anchor.ref).translate_formula(f.ref)[1:]
    except (TranslatorError, ValueError):
        return f"{anchor.text} (shared from {anchor.ref})"


@dataclass
class VerifyResult:
    path: str
    engine: str = ""
    formula_cells: int = 0
    compared: int = 0
    agreed: int = 0
    left_out: int = 0
    disagreements: list[dict] = field(default_factory=list)  # cell, formula, excel, ours, engine
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.compared if self.compared else None

    def as_dict(self) -> dict:
        return {**asdict(self), "agreement": self.agreement}


def verify_file(path: str | Path, registry: Registry, engine: str = "auto", limits: Limits = Limits(),
                debug: bool = False) -> VerifyResult:
    """Recompute every formula cell of a workbook as it is, write nothing, and compare with the
    values Excel stored; never raises (``error`` says why a file could not be verified)."""
    start = time.perf_counter()
    result = VerifyResult(path=str(path))
    with failures_recorded(result, debug):
        if not Path(path).exists():
            raise WorkbookError("does not exist")
        eng = get_engine(engine)
        result.engine = eng.name
        with Package(Path(path), limits) as pkg:
            pkg.check_prologs()
            loading = Loading(eng, pkg)
            try:
                if pkg.has_formulas():  # the engine loads the workbook while Python scans it
                    loading()
                sc = scan_workbook(pkg)
                result.formula_cells = sc.formula_count
                computed = eng.compute(loading(), registry, sc) if sc.formula_count else None
            finally:
                eng.release()
            if computed is not None:
                found = compare(sc, computed.values, eng.name, engines=computed.engines)
                result.compared, result.agreed, result.left_out = found.compared, found.agreed, found.left_out
                result.disagreements = [asdict(d) for d in found.disagreements]
                result.problems = [str(p) for p in computed.problems]
    result.seconds = time.perf_counter() - start
    return result


def verify_batch(paths: list[Path], registry: Registry, *, engine: str = "auto", jobs: int = 0,
                 scheduler: str | None = None, limits: Limits = Limits(), debug: bool = False,
                 on_done: Callable[[VerifyResult], None] | None = None) -> list[VerifyResult]:
    """Verify every workbook (in parallel as ``regen`` runs them); results in the order given."""
    results: dict[int, VerifyResult] = {}
    kwargs = dict(engine=engine, limits=limits, debug=debug)
    with contextlib.closing(execute(verify_file, paths, registry, kwargs, jobs, scheduler)) as done:
        for i, r in done:  # closed on Ctrl-C too: the workbooks not started yet are not started
            results[i] = r
            if on_done:
                on_done(r)
    return [results[i] for i in range(len(paths))]

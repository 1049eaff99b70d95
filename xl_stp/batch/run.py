"""Regenerate one workbook, or many in parallel (local processes, or a Dask cluster).

One bad workbook is reported and the batch goes on. The source file is only ever read, unless
``in_place`` is asked for; then the new file replaces it atomically once it is completely written,
under a lock so that two runs on the same file take turns.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from .diagnose import diagnose
from .diagnose import failed as call_failed
from .engines import Engine, Loading, Registry, get_engine, other_engine
from .package import Limits, Package, TooManyFormulas, WorkbookError
from .parallel import execute, failures_recorded
from .patch import Ahead, PatchReport, patch, remove_stale_temps
from .recalc import guard_meaning, select
from .verify import compare
from .scan import WorkbookScan, scan
from .settled import described, settled

SUFFIXES = (".xlsx", ".xlsm")


#: A file's status: regenerated with nothing to fix (warnings may be listed) ...
OK = "ok"
#: ... regenerated, but an STP_* call refused an input: its cells hold #VALUE! (and so does every
#: figure computed from them) until the input cells the report names are corrected ...
INPUTS = "inputs need fixing"
#: ... or not regenerated at all (no output written): ``error`` says why.
FAILED = "failed"


@dataclass
class FileResult:
    path: str
    output: str | None = None
    status: str = FAILED  # ok | inputs need fixing | failed
    engine: str = ""
    formula_cells: int = 0
    stp_cells: int = 0
    values_changed: int = 0
    problems: list[str] = field(default_factory=list)  # one line each; the input cells' lines first
    error: str | None = None
    seconds: float = 0.0
    #: Formula cells recomputed (the others keep the values Excel stored), and why, in words.
    recomputed: int = 0
    recalc: str = ""
    #: With ``full``: the share of the formula cells compared where the engine reproduces the value
    #: Excel stored, and how many it does not (as ``xl-stp verify`` reports them); None otherwise
    #: (default mode keeps Excel's values where nothing changed) and for a file that stores no
    #: values of its own (it asks for a full recalculation on load).
    agreement: float | None = None
    disagreements: int = 0
    #: Chart parts whose copy of the plotted data was brought up to date (a plotted cell changed).
    charts: list[str] = field(default_factory=list)
    #: The input cells the STP_* calls refused (severity error) or doubt (warning), each as a dict:
    #: cell, labels, problem, function, argument, formula_cell, dependents, line.
    inputs: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    @property
    def inputs_need_fixing(self) -> bool:
        return self.status == INPUTS

    def as_dict(self) -> dict:
        return asdict(self)


def expand_paths(paths: Iterable[str]) -> list[Path]:
    """Files, folders (their .xlsx/.xlsm files) and glob patterns, in a stable order; names
    that match nothing are kept so that they are reported."""
    out: list[Path] = []
    for p in paths:
        matches = sorted(glob.glob(p)) if any(ch in p for ch in "*?[") else [p]
        if not matches:
            out.append(Path(p))
        for m in matches:
            path = Path(m)
            if path.is_dir():
                out.extend(sorted(q for q in path.iterdir() if q.suffix.lower() in SUFFIXES and not q.name.startswith("~$")))
            else:
                out.append(path)
    seen, unique = set(), []
    for p in out:
        key = os.path.abspath(p)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


class _Lock:
    """An exclusive lock on the file being replaced; waits up to ``timeout`` seconds, and follows
    the file if another run replaced it while we waited."""

    def __init__(self, path: Path, timeout: float):
        self.path, self.timeout, self.fd = path, timeout, None

    def __enter__(self) -> "_Lock":
        deadline = time.monotonic() + self.timeout
        while True:
            fd = os.open(self.path, os.O_RDONLY)
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        os.close(fd)
                        raise WorkbookError(f"is being regenerated in place by another run; gave up after {self.timeout:g} s") from None
                    time.sleep(0.05)
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                return self
            os.close(fd)  # replaced while we waited: lock the new file

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)


def regen_file(path: str | Path, registry: Registry, out_dir: str | Path | None = None, in_place: bool = False,
               engine: str = "auto", cross_check: bool = False, limits: Limits = Limits(), debug: bool = False,
               lock_timeout: float = 600.0, full: bool = False) -> FileResult:
    """Recalculate one workbook and write its cached values; never raises. ``registry``: the
    functions STP_* cells call (``udfs.discover()``). The status is ok, inputs need fixing (written,
    but an STP_* call refused an input: ``inputs`` and the first ``problems`` name the cells), or
    failed (nothing written: ``error``). Excel's semantics (:mod:`.recalc`): only STP_*, volatile,
    unstored and downstream cells are recomputed, unless ``full``."""
    start = time.perf_counter()
    path = Path(path)
    result = FileResult(path=str(path))
    with failures_recorded(result, debug):
        dst = _destination(path, out_dir, in_place)
        eng = get_engine(engine)
        result.engine = eng.name
        with (_Lock(path, lock_timeout) if in_place else contextlib.nullcontext()), Package(path, limits) as pkg, \
                _released(eng):
            report = _regenerate(pkg, dst, registry, eng, result, cross_check, full)
        result.values_changed = report.values_changed
        result.charts = list(report.charts)
        result.output = str(dst)
        result.status = INPUTS if any(p["severity"] == "error" for p in result.inputs) else OK
    result.seconds = time.perf_counter() - start
    return result


def _destination(path: Path, out_dir: str | Path | None, in_place: bool) -> Path:
    """Where the new file goes: the workbook itself (in place) or a file of the same name in ``out_dir``."""
    if in_place == (out_dir is not None):
        raise WorkbookError("say where to write: --out DIR for new files, or --in-place to replace the originals")
    if not path.exists():
        raise WorkbookError("does not exist")
    dst = path if in_place else Path(out_dir) / path.name
    if not in_place and dst.exists() and os.path.samefile(dst, path):
        raise WorkbookError("--out is the workbook's own folder: use --in-place to replace it, or another folder")
    return dst


def _regenerate(pkg: Package, dst: Path, registry: Registry, eng: Engine, result: FileResult, cross_check: bool,
                full: bool = False) -> PatchReport:
    """Scan, compute and patch an open package; the counts and problems go into ``result``."""
    pkg.check_prologs()  # before anything else reads the file: LibreOffice loads it while Python scans it
    loading = Loading(eng, pkg)
    if (full or pkg.asks_full_calc()) and pkg.has_formulas():  # all recomputed: the engine loads it while Python scans
        eng.trust_stored_values(False)
        loading()
    sc = _scan(pkg, eng)
    result.formula_cells = sc.formula_count
    result.stp_cells = len(sc.stp_cells())
    if not sc.formula_count:  # nothing to compute: no engine is started, the file is copied as it is
        result.recalc = "no formula cells: nothing to recompute"
        return patch(pkg, dst, {}, fast_sheets=sc.fast_sheets())
    everything = full or sc.full_calc_on_load  # every formula cell is recomputed: no graph needed
    quiet = None if everything else settled(sc, registry, pkg)
    if quiet is not None:  # nothing changed: the file as it is, no engine
        result.recomputed, result.recalc = quiet.recomputed, described(quiet)
        result.problems.extend(str(p) for p in sc.reference_problems()[0])
        if cross_check:
            result.problems.append("cross-check skipped: nothing needed recomputing, so no engine computed anything")
        return patch(pkg, dst, {}, fast_sheets=sc.fast_sheets())  # every value as stored: the file as it is
    if loading.path is None:  # Excel's semantics: the engine keeps the values the file stores
        eng.trust_stored_values(not everything)
    readable = loading()
    ref_problems, keep = sc.reference_problems()
    ahead = Ahead(pkg, [s.name for s in sc.sheets if s.formulas and s.name in sc.fast_sheets()])
    eng.meanwhile(ahead)  # the write-back's reading, done while LibreOffice computes
    computed = eng.compute(readable, registry, sc)
    if computed.engine:
        result.engine = computed.engine
    for sheet, cell in keep:  # external links are never followed: keep what the file says
        computed.values.get(sheet, {}).pop(cell, None)
    if full and not sc.full_calc_on_load:  # every cell recomputed, against values Excel stored: how far they agree
        found = compare(sc, computed.values, eng.name, engines=computed.engines)
        result.agreement, result.disagreements = found.share, len(found.disagreements)
    chosen = select(sc, computed.values, full=full)
    failed = [(c.sheet, c.cell) for c in computed.calls if call_failed(c.outcome.result)]
    meaning = guard_meaning(sc, chosen, None, failed, reported={(p.sheet, p.cell) for p in ref_problems}, kept=keep)
    result.recomputed, result.recalc = chosen.recomputed, chosen.describe()
    inputs = diagnose(sc, computed.calls, computed.values, pkg)  # first: the cells the user typed in
    result.inputs = [p.as_dict() for p in inputs]
    result.problems.extend(p.line() for p in inputs)
    result.problems.extend(str(p) for p in ref_problems)
    result.problems.extend(str(p) for p in _still_meant(computed, chosen.values, keep))
    result.problems.extend(_meaning_lines(meaning, sc))
    if cross_check:
        result.problems.extend(_cross_check(readable, registry, sc, eng.name, chosen.values))
    return patch(pkg, dst, chosen.values, fast_sheets=sc.fast_sheets(), ahead=ahead)


def _still_meant(computed, written: dict, keep: set) -> list[WorkbookError]:
    """The engine's problems, less those about cells that keep their stored value (not recomputed,
    or kept as links or as unknown functions): a problem of a value not written is not one."""
    out = []
    for p in computed.problems:
        key = (p.sheet, p.cell)
        if p.cell is not None and (key in keep or (p.cell in computed.values.get(p.sheet, {})
                                                    and p.cell not in written.get(p.sheet, {}))):
            continue
        out.append(p)
    return out


def _meaning_lines(meaning, sc: WorkbookScan) -> list[str]:
    """One line per cell whose stored value was not an error: kept, or now an error."""
    out = [str(WorkbookError(why, sheet, cell)) for (sheet, cell), why in meaning.kept.items()]
    if not meaning.errors:
        return out
    texts = {(s.name, f.ref): f.text or "" for s in sc.sheets for f in s.formulas}
    for (sheet, cell), v in meaning.errors.items():
        out.append(str(WorkbookError(f"was a value in the file and is now {v} (={texts.get((sheet, cell), '')})", sheet, cell)))
    return out


def _scan(pkg: Package, eng: Engine) -> WorkbookScan:
    """The scan, stopped as soon as the engine's own limit of formula cells is passed."""
    engine_max = eng.max_formulas
    if engine_max is None or engine_max >= pkg.limits.formula_cells:
        return scan(pkg)
    try:
        return scan(pkg, replace(pkg.limits, formula_cells=engine_max))
    except TooManyFormulas as e:
        raise WorkbookError(f"has more than {engine_max:,} formula cells, more than the {eng.name} engine handles; "
                            "use --engine libreoffice", e.sheet) from None


class _released:
    """Drop whatever the engine was preparing if the workbook fails before it is computed."""

    def __init__(self, eng: Engine):
        self.eng = eng

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.eng.release()
        return None


def _cross_check(path: Path, registry: Registry, sc: WorkbookScan, used: str, values: dict) -> list[str]:
    other = other_engine(used)
    if other is None:
        return ["cross-check skipped: LibreOffice is not installed, so there is no second engine"]
    second = get_engine(other).compute(path, registry, sc)
    out = []
    for sheet, got in values.items():
        for cell, v in got.items():
            w = second.values.get(sheet, {}).get(cell)
            if w is None:
                continue
            if isinstance(v, (int, float)) and isinstance(w, (int, float)) and not isinstance(v, bool):
                if abs(v - w) <= 1e-9 * max(1.0, abs(v), abs(w)):
                    continue
            elif v == w:
                continue
            out.append(f"{sheet}!{cell}: cross-check: {used} gives {v!r}, {other} gives {w!r}")
    return out


def run_batch(paths: list[Path], registry: Registry, *, out_dir: str | None, in_place: bool, engine: str = "auto",
              jobs: int = 0, scheduler: str | None = None, cross_check: bool = False, limits: Limits = Limits(),
              debug: bool = False, on_done: Callable[[FileResult], None] | None = None, full: bool = False) -> list[FileResult]:
    """Regenerate every workbook; results in the order given. ``registry`` goes to each process or
    Dask worker by pickle (the registry of ``udfs`` pickles its functions by name)."""
    kwargs = dict(out_dir=out_dir, in_place=in_place, engine=engine, cross_check=cross_check, limits=limits, debug=debug,
                  full=full)
    for folder in {Path(out_dir)} if out_dir else {Path(p).parent for p in paths}:
        remove_stale_temps(folder)  # left by a run that was killed
    results: dict[int, FileResult] = {}
    with contextlib.closing(execute(regen_file, paths, registry, kwargs, jobs, scheduler)) as done:
        for i, r in done:  # closed on Ctrl-C too: the workbooks not started yet are not started
            results[i] = r
            if on_done:
                on_done(r)
    return [results[i] for i in range(len(paths))]

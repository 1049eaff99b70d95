"""Running the base case and every scenario, and collecting the chosen outputs.

Two ways, the same answers:

- **one loaded workbook** (LibreOffice): the workbook is read, scanned and loaded once; each
  scenario writes its input values into LibreOffice's copy (:meth:`LibreOfficeEngine.override`),
  which recalculates only what depends on them (the STP_* calls the outputs depend on re-run, the
  others wait), and only the outputs are read back; the next scenario puts the previous one's
  cells back as they were. The file never changes.
- **regenerated copies** (any engine, local processes or a Dask cluster, as ``xl-stp regen``): a
  copy of the workbook with the scenario's input values written surgically (:func:`write_inputs`)
  is regenerated with a full recalculation, and the outputs are read from it. This is also how
  the optional per-scenario workbooks are made.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..batch.engines import Registry
from ..batch.package import Package, WorkbookError
from ..batch.parallel import execute
from ..batch.patch import patch
from ..batch.run import regen_file
from ..batch.scan import scan
from .book import Book, Cells
from .changes import Applied, apply
from .definitions import Scenario

BASE = "Base"


@dataclass
class Output:
    """A group of output cells (a reference), with a label for each cell."""

    ref: str
    cells: Cells
    labels: list[str]


@dataclass
class Result:
    name: str
    values: list[Any] = field(default_factory=list)  # aligned with the outputs' cells, in order
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


@dataclass
class Comparison:
    outputs: list[Output]
    results: list[Result]  # the base case first
    engine: str = ""
    seconds: float = 0.0

    @property
    def base(self) -> Result:
        return self.results[0]

    def cells(self) -> list[tuple[str, str]]:
        return [(o.cells.sheet, c) for o in self.outputs for c in o.cells.cells]

    def labels(self) -> list[str]:
        return [label for o in self.outputs for label in o.labels]


def outputs(book: Book, refs: list[str]) -> list[Output]:
    """The output groups of ``refs`` (references as in :mod:`.book`), labelled by row and heading."""
    out = []
    for ref in refs:
        cells = book.resolve(ref)
        labels = []
        for r, row in enumerate(cells.grid):
            row_label = cells.row_labels[r] if r < len(cells.row_labels) else ""
            for j, cell in enumerate(row):
                heading = cells.headings[j] if j < len(cells.headings) else ""
                labels.append(" ".join(x for x in (_short(row_label), heading) if x) or f"{cells.sheet}!{cell}")
        out.append(Output(ref, cells, labels))
    return out


def _short(label: str) -> str:
    """A row label without its parenthesised remark: 'DH funding requirement (residual; ...)' -> 'DH funding requirement'."""
    return label.split(" (")[0].strip()


def _pick(book: Book, values: dict[str, dict[str, Any]], overrides: dict[str, dict[str, Any]],
          cells: list[tuple[str, str]]) -> list[Any]:
    """The outputs' values: computed for formula cells, else the scenario's or the file's input value."""
    out = []
    for sheet, cell in cells:
        if cell in values.get(sheet, {}):
            out.append(values[sheet][cell])
        elif cell in overrides.get(sheet, {}):
            out.append(overrides[sheet][cell])
        else:
            out.append(book.value(sheet, cell))
    return out


class Session:
    """A workbook loaded once in LibreOffice; :meth:`run` sets one scenario's input values (and
    only those: the previous scenario's cells go back to the file's values) and returns every
    formula cell's value, or with ``only`` ((sheet, cell) pairs) those cells' values: then only the
    STP_* calls they depend on are computed, and only they are read back."""

    def __init__(self, book: Book, registry: Registry, only: list[tuple[str, str]] | None = None):
        from ..batch.engines.libreoffice.engine import LibreOfficeEngine  # LibreOffice only when asked for

        self.book = book
        self.only = only
        self.engine = LibreOfficeEngine(keep_open=True)
        self.current: dict[tuple[str, str], Any] = {}
        self._last: dict[str, dict[str, Any]] = {}
        with Package(book.path) as pkg:
            sc = scan(pkg)
            self.engine.prepare(book.path)
            self.base = self.engine.compute(book.path, registry, sc).values

    def run(self, values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        wanted = {(s, c): v for s, cells in values.items() for c, v in cells.items()}
        writes: dict[str, dict[str, Any]] = {}
        for (s, c) in self.current:
            if (s, c) not in wanted:
                writes.setdefault(s, {})[c] = self.book.value(s, c)  # back to the file's value
        for (s, c), v in wanted.items():
            if self.current.get((s, c), object()) != v:
                writes.setdefault(s, {})[c] = v
        self.current = wanted
        if not writes:
            return self.base if not wanted else self._last
        self._last = self.engine.override(writes, self.only)
        return self._last

    def close(self) -> None:
        self.engine.close()


def run_loaded(book: Book, scenarios: list[Scenario], registry: Registry, output_groups: list[Output],
               on_done: Callable[[Result], None] | None = None) -> Comparison:
    """Base and scenarios on one loaded workbook (LibreOffice overrides)."""
    start = time.perf_counter()
    cmp = Comparison(output_groups, [], engine="libreoffice (one loaded workbook)")
    cells = cmp.cells()
    session = Session(book, registry, cells)
    try:
        cmp.results.append(Result(BASE, _pick(book, session.base, {}, cells), seconds=time.perf_counter() - start))
        for sc in scenarios:
            t = time.perf_counter()
            applied = apply(book, sc)
            values = session.run(applied.values)
            r = Result(sc.name, _pick(book, values, applied.values, cells), applied.notes, time.perf_counter() - t)
            cmp.results.append(r)
            if on_done:
                on_done(r)
    finally:
        session.close()
    cmp.seconds = time.perf_counter() - start
    return cmp


def write_inputs(book: Book, values: dict[str, dict[str, Any]], dst: Path) -> None:
    """A copy of the workbook with these input cells' stored values replaced, nothing else changed
    (the write-back of :mod:`xl_stp.batch.patch`, on the input cells). Each cell must exist in the
    file (the LLR workbooks style every input cell); a blank (None) is written as 0."""
    values = {s: {c: (0.0 if v is None else v) for c, v in cells.items()} for s, cells in values.items()}
    report = patch(book.path, dst, values, fast_sheets=())
    written = {(s, c) for s, c, _old, _new in report.changed}
    for s, cells in values.items():
        for c, v in cells.items():
            if (s, c) not in written and book.value(s, c) != v:
                dst.unlink(missing_ok=True)
                raise WorkbookError("has no cell in the file to write the scenario's value into (an unstyled blank "
                                    "cell); type a 0 there in Excel first", s, c)


def slug(name: str) -> str:
    keep = "".join(ch if ch.isalnum() else "-" for ch in name.lower())
    return "-".join(p for p in keep.split("-") if p)[:60] or "scenario"


def run_copies(book: Book, scenarios: list[Scenario], registry: Registry, output_groups: list[Output], *, engine: str = "auto",
               jobs: int = 1, scheduler: str | None = None, out_dir: Path | None = None,
               on_done: Callable[[Result], None] | None = None) -> Comparison:
    """Base and scenarios as regenerated copies (any engine; in parallel like ``regen``). With
    ``out_dir`` the regenerated scenario workbooks are kept there as ``<workbook>-<scenario>.xlsx``."""
    start = time.perf_counter()
    cmp = Comparison(output_groups, [], engine=engine)
    with tempfile.TemporaryDirectory(prefix="xl-stp-scenarios-") as tmp:
        edited, regen_dir = Path(tmp) / "edited", Path(out_dir) if out_dir else Path(tmp) / "out"
        edited.mkdir()
        regen_dir.mkdir(parents=True, exist_ok=True)
        applied = [Applied()] + [apply(book, sc) for sc in scenarios]
        names = [BASE] + [sc.name for sc in scenarios]
        paths = []
        for name, a in zip(names, applied):
            p = edited / f"{book.path.stem}-{slug(name)}{book.path.suffix}"
            write_inputs(book, a.values, p)
            paths.append(p)
        kwargs = dict(out_dir=str(regen_dir), engine=engine, full=True)
        results: dict[int, Result] = {}
        with contextlib.closing(execute(regen_file, paths, registry, kwargs, jobs, scheduler)) as done:
            for i, fr in done:  # closed on Ctrl-C too
                r = Result(names[i], notes=applied[i].notes, seconds=fr.seconds, error=fr.error)
                if not fr.failed:
                    cmp.engine = fr.engine
                    r.values = _pick(book, _stored(Path(fr.output)), applied[i].values, cmp.cells())
                results[i] = r
                if on_done and i:
                    on_done(r)
        cmp.results = [results[i] for i in range(len(paths))]
        if out_dir:
            (regen_dir / paths[0].name).unlink(missing_ok=True)  # the base case is the original: not kept
    cmp.seconds = time.perf_counter() - start
    return cmp


def _stored(path: Path) -> dict[str, dict[str, Any]]:
    """Every value a regenerated workbook stores (formula cells, the cells array formulas fill, inputs)."""
    return {name: sheet.values for name, sheet in Book(path).sheets.items()}


class Evaluator:
    """The outputs for any set of input values: on one loaded workbook when LibreOffice serves
    (``engine`` auto or libreoffice), else by regenerating a copy each time."""

    def __init__(self, book: Book, registry: Registry, output_groups: list[Output], engine: str = "auto"):
        from ..batch.engines.select import libreoffice_available

        self.book, self.registry, self.engine = book, registry, engine
        self.cells = Comparison(output_groups, []).cells()
        self.output_groups = output_groups
        loaded = engine in ("auto", "libreoffice") and libreoffice_available()
        self.session = Session(book, registry, self.cells) if loaded else None

    def __call__(self, values: dict[str, dict[str, Any]]) -> list[Any]:
        if self.session is not None:
            return _pick(self.book, self.session.run(values), values, self.cells)
        with tempfile.TemporaryDirectory(prefix="xl-stp-scenarios-") as tmp:
            copy = Path(tmp) / self.book.path.name
            write_inputs(self.book, values, copy)
            fr = regen_file(copy, self.registry, out_dir=Path(tmp) / "out", engine=self.engine, full=True)
            if fr.failed:
                raise WorkbookError(fr.error or "could not be regenerated")
            return _pick(self.book, _stored(Path(fr.output)), values, self.cells)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()

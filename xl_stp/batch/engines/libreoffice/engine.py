"""The LibreOffice engine: native formulas in LibreOffice headless, STP_* cells in Python.

A warm worker (:mod:`.client`) keeps one soffice per process. For a workbook: open it (macros
never run, links never updated; its sheets found by their position in the workbook, whatever
LibreOffice named them), then repeat until the STP_* results stop changing: read each STP_* call's
arguments from LibreOffice's cells in bulk, compute the call through the registry, write the
results into LibreOffice's in-memory copy (where the unknown STP_* formula is replaced by its
values; a failed call's cells by the error #VALUE!, so that LibreOffice computes every dependent
formula from an error, as Excel does), and recalculate (no pass more where no argument can read a
result but directly: :func:`.plan._one_pass`). Finally every formula-result cell is read
back in one range call per sheet. What is planned before LibreOffice is asked anything is in
:mod:`.plan`. Values come back as Excel holds them (:mod:`.worker`): a logical result as
True/False, an error as Excel's own literal for it.

STP_* calls must be the whole formula of their cell — as in the workbooks xl-stp generates; their
arguments may be references, names, literals or expressions (LibreOffice evaluates an expression
in a scratch cell of its in-memory copy; in an array formula, as an array over a scratch range of
its size). A workbook that nests STP_* inside a larger formula is refused with
:class:`Unsupported`, and the choice of engine hands it to the formulas engine.

**Overrides** (for an engine that fuses this one with another): ``LibreOfficeEngine(keep_open=True)``
leaves the workbook open in LibreOffice after :meth:`~LibreOfficeEngine.compute`;
``engine.override({sheet: {cell: value}})`` then writes those values into those cells as constants
(replacing their formulas in LibreOffice's copy; every cell of an array formula's range goes if
one does, the others keeping their values), recalculates what that made dirty — STP_* calls
included, until their results settle again — and returns the values of every formula-result cell,
as ``compute(...).values`` holds them (overridden cells with the values given).
``engine.override(values, only=[(sheet, cell), ...])`` returns those cells' values only (what
``xl-stp scenarios`` reads): the dependency graph of the formulas (:class:`~xl_stp.batch.recalc.Graph`)
tells which STP_* calls they depend on and which of those each write can have changed, so each pass
computes and reads only those (an argument range no write can have changed since it was read is not
read again); the other calls catch up at the next override without ``only``. Overrides add up;
``engine.close()`` closes the workbook (as does the next ``prepare``/``compute``). An STP_* cell
cannot be overridden. By default (``keep_open=False``) the workbook is closed after compute.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from udfs.excel import as_argument, is_error

from ...cells import CELL_NAME, area, bounds, column_letter, expand
from ...diagnose import Outcome, as_excel, call_of, evaluate
from ...formula import parse_arg, split_call, stp_spellings
from ...package import WorkbookError
from ...recalc import VOLATILE_CELL, Graph, Key, Parser
from ...scan import WorkbookScan
from ..base import Computed, Engine, Registry, Unsupported
from .client import Worker, adopt_early, worker
from .plan import PRE_MAX_CELLS, _api_value, _fit, _one_pass, _overlap, _Plan, _set_scratch, result_boxes


class LibreOfficeEngine(Engine):
    name = "libreoffice"

    def __init__(self, keep_open: bool = False) -> None:
        self._pending: str | None = None  # a workbook LibreOffice is opening while Python scans it
        self.keep_open = keep_open  # leave the workbook open after compute, for override()
        self._session: _Session | None = None
        #: Open workbooks keeping the values they store (Excel's semantics): LibreOffice then
        #: computes only what is dirty — cells with no stored value, volatile cells, and what the
        #: STP_* results written make dirty — instead of every formula on load.
        self.keep_stored = False
        self._meanwhile: Callable[[], None] | None = None

    def trust_stored_values(self, yes: bool) -> None:
        self.keep_stored = yes

    def meanwhile(self, work: Callable[[], None]) -> None:
        """``work`` runs during the next compute, while LibreOffice computes the values read last."""
        self._meanwhile = work

    def prepare(self, path: Path) -> None:
        """Start LibreOffice loading the workbook (call only once the package has passed the safety
        checks: sizes and no DTDs); :meth:`compute` collects it, :meth:`release` drops it."""
        self.release()
        self._session = None  # opening the next workbook closes one kept open
        self._pending = str(Path(path).resolve())
        if not adopt_early(self._pending, not self.keep_stored):  # the command line may have started it
            worker().send("open", path=self._pending, recalc=not self.keep_stored)

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

    def _open(self, path: Path, scan: WorkbookScan) -> list[str]:
        """Open the workbook (or collect the one :meth:`prepare` started) and have its sheets found
        by position; the sheet names, the file's own."""
        w = worker()
        self._session = None
        if self._pending == str(Path(path).resolve()):
            self._pending = None
            w.receive()
        else:
            self.release()
            w.call("open", path=str(Path(path).resolve()), recalc=not self.keep_stored)
        return w.call("sheets", names=scan.all_sheet_names or [s.name for s in scan.sheets])["sheets"]

    def compute(self, path: Path, registry: Registry, scan: WorkbookScan) -> Computed:
        calls = self._calls(registry, scan)
        plan = _Plan(scan, calls)  # pure Python, done while LibreOffice is still loading the workbook
        plan.precompute(path, scan)
        plan.one_pass = _one_pass(scan, plan)
        w = worker()
        sheets = self._open(path, scan)
        kept = False
        try:
            session = _Session(w, scan, plan, sheets)
            session.meanwhile, self._meanwhile = self._meanwhile, None
            values = session.converge(loaded=not self.keep_stored)
            kept = self.keep_open
        finally:
            if not kept:
                try:
                    w.defer("close")  # LibreOffice closes the document while Python writes the output
                except (WorkbookError, OSError):
                    pass
        self._session = session if kept else None
        result = _computed(values, _spill_problems(plan.calls, session.passes.outputs))
        for i, (cell, fn, parsed) in enumerate(plan.calls):
            c = call_of(cell.sheet, cell.ref, cell.array_ref or cell.ref, fn, parsed, session.passes.known[i])
            if c is not None:
                result.calls.append(c)
        return result

    def override(self, values: Mapping[str, Mapping[str, Any]],
                 only: Iterable[tuple[str, str]] | None = None) -> dict[str, dict[str, Any]]:
        """Write ``values`` ({sheet: {cell: value}}) into the workbook kept open as constants,
        recalculate, and return every formula-result cell's value (see the module). With ``only``
        ((sheet, cell) pairs), just those cells' values (as every cell's would hold them), and only
        the STP_* calls they depend on are computed: the others wait for an override without ``only``."""
        if self._session is None or not self._session.current():
            raise WorkbookError("no workbook is open in LibreOffice to override: compute it with "
                                "LibreOfficeEngine(keep_open=True) first")
        return self._session.override(values, only)

    def close(self) -> None:
        """Close the workbook kept open by compute (nothing when none is)."""
        session, self._session = self._session, None
        if session is not None and session.current():
            try:
                session.w.call("close")
            except WorkbookError:
                pass

    def _calls(self, registry: Registry, scan: WorkbookScan) -> list:
        """(cell, function, parsed arguments) of each STP_* call of the registry's; Unsupported
        (with the workbook LibreOffice was loading dropped) at the first call that is not the whole
        formula of its cell, or that has an STP_* call inside an argument."""
        calls = []
        for cell in scan.stp_cells():
            if not any(registry.resolve(sp) for sp in cell.stp_spellings):
                continue  # not one of ours (STP_SOMETHING_ELSE): LibreOffice shows #NAME?, which is reported
            split = split_call(cell.text or "")
            fn = registry.resolve(split[0]) if split else None
            parsed = [parse_arg(a, cell.sheet, scan.names) for a in split[1]] if fn is not None else []
            if fn is None or any(k == "unsupported" and stp_spellings(v) for k, v in parsed):
                self.release()
                raise Unsupported("the libreoffice engine needs each STP_* call to be the whole formula of its cell with "
                                  f"references or literals as arguments ({cell.sheet}!{cell.ref} is not)", cell)
            calls.append((cell, fn, parsed))
        return calls


class _Session:
    """A workbook open in LibreOffice: the STP_* fixed point on it, the values read back, and the
    overrides written into it while it is kept open."""

    def __init__(self, w: Worker, scan: WorkbookScan, plan: _Plan, sheets: list[str]):
        self.w, self.scan, self.plan, self.sheets = w, scan, plan, sheets
        self.generation = w.opened
        _missing_sheets(plan.calls, sheets)
        owed = _set_scratch(w, plan)
        load = plan.writer.load(w)
        plan.result_boxes = result_boxes(scan)  # worked out while LibreOffice sets up (not while it loads)
        answers = w.collect(owed + load)
        if load:
            plan.writer.loaded(answers[-1])
        self.refs = plan.lo_refs()
        self.passes = _Passes(plan)
        self.overridden: dict[str, dict[str, Any]] = {}
        self.reach: _Reach | None = None  # the dependency graph, built by the first override asking for some cells
        self.stale: set[int] = set()  # calls such an override may have changed and left: no cell asked for needed them
        #: argument ranges such an override read, while no write can have changed them since
        self.ranges: dict[tuple[str, str], list[list[Any]]] = {}
        #: work that needs nothing computed here, run while LibreOffice computes the values read last
        self.meanwhile: Callable[[], None] | None = None

    def current(self) -> bool:
        """The workbook is still the one open in the worker."""
        return self.w.alive() and self.w.opened == self.generation

    def converge(self, loaded: bool = True) -> dict[str, dict[str, Any]]:
        """Compute the STP_* calls, feed their results to LibreOffice, recalculate, and repeat until
        no STP_* argument changes; then every formula-result cell's value. ``loaded``: straight
        after loading, when every formula has just been computed."""
        plan, w = self.plan, self.w
        fresh = not self.passes.outputs  # no call computed yet: every call's result changes in the first pass
        for n_pass in range(len(plan.calls) + 2):
            if n_pass or not loaded or plan.scratch or plan.arrays:  # the worker's profile recalculates every formula
                w.call("calc", all=False)  # on load; then only what writes made dirty
            # The first pass of a workbook just opened reads errors without their kind (a call per
            # error cell: slow where everything downstream of an STP_* cell, or every cell the file
            # stores no value for, is still #NAME?): its results all change, so a second pass
            # follows, which reads them exactly.
            first = fresh and n_pass == 0
            asked = _ask(w, self.refs, exact=not first)
            owed = self._write_ahead() if first and loaded and plan.one_pass else 0  # while LibreOffice reads
            try:
                changed = self.passes.run(_answer(w, asked), defer_errors=first)
            except BaseException:
                w.forget(owed)  # the pipe stays in step for the next workbook
                raise
            if (changed or owed) and plan.one_pass and not self.passes.deferred:
                # No argument can have changed, so no pass more to see that; the last requests go
                # without a wait between them: LibreOffice writes, recalculates and is read in one go.
                if changed:
                    owed += plan.writer.write(changed, self.passes.outputs, wait=False)
                w.send("calc", all=False)
                return self.values(owed + 1)
            w.collect(owed)
            if not changed and not self.passes.deferred:
                break
            if changed:
                plan.writer.write(changed, self.passes.outputs)
        return self.values()

    def _write_ahead(self) -> int:
        """The results of the calls computed from the file's input cells, written into LibreOffice's
        copy before the other calls are computed (the first pass then finds them unchanged); the
        number of answers owed (:meth:`Worker.collect`)."""
        ahead = [i for i in self.plan.order if i in self.plan.pre_args]
        for i in ahead:
            self.passes.outputs[i] = self.passes.known[i].result
        return self.plan.writer.write(ahead, self.passes.outputs, wait=False) if ahead else 0

    def values(self, owed: int = 0) -> dict[str, dict[str, Any]]:
        """Every formula-result cell's value; ``owed``: answers to requests sent before, still to be
        read (they come first). The work handed to :meth:`LibreOfficeEngine.meanwhile` runs while
        LibreOffice answers."""
        work, self.meanwhile = self.meanwhile, None
        values = _read_results(self.w, self.scan, self.plan.result_boxes, self.plan.logical, owed, work)
        for i, (cell, _fn, _parsed) in enumerate(self.plan.calls):  # STP_* cells: our own values, with their types
            target = cell.array_ref or cell.ref
            block = _fit(as_excel(self.passes.outputs[i]), target, keep_types=True)
            for name, v in zip(expand(target), [v for row in block for v in row]):
                values[cell.sheet][name] = v
        for sheet, cells in self.overridden.items():
            got = values.get(sheet, {})
            got.update((name, v) for name, v in cells.items() if name in got)
        return values

    def override(self, values: Mapping[str, Mapping[str, Any]],
                 only: Iterable[tuple[str, str]] | None = None) -> dict[str, dict[str, Any]]:
        given = self._checked(values)
        plain, formulas = self._writes(given)
        if plain or formulas:
            self.w.call("write", ranges=_boxed(plain) + formulas)
            self.plan.writer.touch(list(given))
        for (sheet, name), v in given.items():
            self.overridden.setdefault(sheet, {})[name] = v
            self.plan.writer.pin(sheet, name, _api_value(v))
        if self.plan.pre_args and self._touches_inputs(given):
            self.plan.pre_args.clear()  # calls computed from the file's input cells now read LibreOffice's
            self.refs = self.plan.lo_refs()
        if only is not None:
            return self._settle(given, frozenset((sheet, str(name).replace("$", "").upper()) for sheet, name in only))
        self.stale.clear()  # every call whose arguments changed is computed again
        self.ranges.clear()
        return _computed(self.converge(loaded=False), []).values

    def _settle(self, given: dict[tuple[str, str], Any],
                wanted: frozenset[tuple[str, str]]) -> dict[str, dict[str, Any]]:
        """The STP_* fixed point for the cells ``wanted`` only: each pass computes the calls those
        cells depend on whose arguments the last writes can have changed (found in the dependency
        graph; the first pass, also those left stale by earlier overrides), reads only their
        arguments, and writes the results that changed; then those cells' values. Calls no wanted
        cell depends on are left stale until an override that asks for every cell."""
        if self.reach is None:
            self.reach = _Reach(self.scan, self.plan)
        feeding = self.reach.feeding(wanted)
        written = self.reach.written(given, _array_ranges(self.scan))
        todo = self.stale & feeding
        for _n_pass in range(len(self.plan.calls) + 2):
            self.w.call("calc", all=False)
            hit = self.reach.reached(written)
            self.ranges = {k: v for k, v in self.ranges.items() if not self.reach.touches(written, k)}
            self.stale |= hit - feeding
            todo |= hit & feeding
            if not todo:
                break
            changed = _run_some(self.passes, self._args_of(todo), todo, self.reach.feeders)
            self.stale -= todo
            todo = set()
            if not changed:
                break
            self.plan.writer.write(changed, self.passes.outputs)
            written = self.reach.results(changed, self.plan.writer)
        return _computed(self._values_of(wanted), []).values

    def _refs_of(self, calls: set[int]) -> list[tuple[str, str]]:
        """The argument ranges of these calls that LibreOffice must be asked for (not those of calls
        computed ahead from the file's input cells)."""
        return sorted({val for i in calls if i not in self.plan.pre_args
                       for k, val in self.plan.calls[i][2] if k in ("ref", "scratch")})

    def _args_of(self, calls: set[int]) -> dict[tuple[str, str], list[list[Any]]]:
        """The argument ranges of these calls: those read before that no write can have changed since,
        the others read now (a scratch cell always: which of a call's arguments changed is not known)."""
        refs = self._refs_of(calls)
        got = _read_refs(self.w, [r for r in refs if r not in self.ranges])
        self.ranges.update((k, v) for k, v in got.items() if k in self.reach.keep)
        return {r: got[r] if r in got else self.ranges[r] for r in refs}

    def _values_of(self, cells: frozenset[tuple[str, str]]) -> dict[str, dict[str, Any]]:
        """What :meth:`values` gives, for ``cells`` only: formula results read back (an empty one
        as 0, a logical the file stores as one as True/False), STP_* cells our own values with
        their types, overridden cells the values given."""
        reach, out = self.reach, {s.name: {} for s in self.scan.sheets}
        read = [c for c in cells if c[1] in reach.result_cells.get(c[0], ()) and c not in reach.own]
        for (sheet, name), v in _read_cells(self.w, read).items():
            v = 0.0 if v is None else v
            if reach.cached_types.get((sheet, name)) == "b" and v in (0.0, 1.0):
                v = bool(v)
            out[sheet][name] = v
        for sheet, name in cells:
            if (sheet, name) in reach.own:
                i, k = reach.own[(sheet, name)]
                target = self.plan.calls[i][0].array_ref or self.plan.calls[i][0].ref
                block = _fit(as_excel(self.passes.outputs[i]), target, keep_types=True)
                out[sheet][name] = [v for row in block for v in row][k]
            if name in out.get(sheet, {}) and name in self.overridden.get(sheet, {}):
                out[sheet][name] = self.overridden[sheet][name]
        return out

    def _checked(self, values: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, str], Any]:
        """The overrides by (sheet, cell); WorkbookError naming the cell for one that cannot be."""
        stp = {(cell.sheet, name) for cell, _fn, _p in self.plan.calls for name in expand(cell.array_ref or cell.ref)}
        out: dict[tuple[str, str], Any] = {}
        for sheet, cells in values.items():
            if sheet not in self.sheets:
                raise WorkbookError("no such sheet in the workbook", sheet)
            for name, v in cells.items():
                name = str(name).replace("$", "").upper()
                if not CELL_NAME.fullmatch(name):
                    raise WorkbookError("is not a cell name", sheet, name)
                if (sheet, name) in stp:
                    raise WorkbookError("is filled by an STP_* call: its value comes from the function, not an override",
                                        sheet, name)
                out[(sheet, name)] = _plain(v)
        return out

    def _writes(self, given: dict[tuple[str, str], Any]) -> tuple[list, list]:
        """The writes: plain values (numbers, text) by cell, merged later; logicals, errors and
        blanks as constant formulas; an array formula's whole range as formulas, with the values
        given and, for its other cells, the values they have now."""
        arrays = _array_ranges(self.scan)
        plain, formulas, whole = [], [], set()
        for (sheet, name), v in given.items():
            if (sheet, name) in arrays:
                whole.add((sheet, arrays[(sheet, name)]))
            elif isinstance(v, (float, str)) and not is_error(v):
                plain.append([sheet, name, [[v]], True])
            else:
                formulas.append([sheet, name, [[_api_value(v)]], True, True])
        whole_ranges = sorted(whole)
        now = _read_refs(self.w, whole_ranges) if whole_ranges else {}
        for sheet, ref in whole_ranges:
            c1, r1, _c2, _r2 = bounds(ref)
            rows = [[_api_value(given.get((sheet, f"{column_letter(c1 + j)}{r1 + i}"), v)) for j, v in enumerate(row)]
                    for i, row in enumerate(now[(sheet, ref)])]
            formulas.append([sheet, ref, rows, True, True])
        return plain, formulas

    def _touches_inputs(self, given: dict[tuple[str, str], Any]) -> bool:
        """Some override is of a cell that is not a formula's result (an input cell)."""
        results = {s.name: s.result_cells() for s in self.scan.sheets}
        return any(name not in results.get(sheet, ()) for sheet, name in given)


def _size(box: tuple[int, int, int, int]) -> int:
    return (box[2] - box[0] + 1) * (box[3] - box[1] + 1)


def _rectangles(cells: Iterable[tuple[str, str]]) -> list[tuple[str, tuple[int, int, int, int]]]:
    """Cells as few boxes (sheet, (c1, r1, c2, r2)) holding those cells and no other: runs of
    adjacent cells of a row, then runs of adjacent rows with the same run."""
    by_row: dict[tuple[str, int], list[int]] = {}
    for sheet, name in cells:
        c, r = bounds(name)[:2]
        by_row.setdefault((sheet, r), []).append(c)
    rows_of: dict[tuple[str, int, int], list[int]] = {}
    for (sheet, r), cols in by_row.items():
        for c1, c2 in _runs(cols):
            rows_of.setdefault((sheet, c1, c2), []).append(r)
    return sorted((sheet, (c1, r1, c2, r2)) for (sheet, c1, c2), rows in rows_of.items() for r1, r2 in _runs(rows))


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """[3, 1, 2, 7] -> [(1, 3), (7, 7)]: runs of consecutive numbers."""
    out: list[tuple[int, int]] = []
    for n in sorted(set(numbers)):
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def _boxed(plain: list[list[Any]]) -> list[list[Any]]:
    """Single-cell value writes [sheet, cell, [[v]], clear] as few range writes, each a box of
    cells all written (a block of input cells is one UNO call, not one a cell)."""
    value = {(w[0], w[1]): w[2][0][0] for w in plain}
    return [[sheet, area(*box), [[value[(sheet, f"{column_letter(c)}{r}")] for c in range(box[0], box[2] + 1)]
                                 for r in range(box[1], box[3] + 1)], False]
            for sheet, box in _rectangles(value)]


def _read_cells(w: Worker, cells: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The values of these cells, read in one call, a box of adjacent cells at a time."""
    boxes = _rectangles(cells)
    if not boxes:
        return {}
    blocks = w.call("read", ranges=[[sheet, area(*box)] for sheet, box in boxes])["values"]
    return {(sheet, f"{column_letter(box[0] + j)}{box[1] + i}"): v
            for (sheet, box), block in zip(boxes, blocks) for i, row in enumerate(block) for j, v in enumerate(row)}


def _plain(v: Any) -> Any:
    """A value as the engine holds it: numpy scalars as Python's, whole numbers as float."""
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    return float(v) if isinstance(v, int) and not isinstance(v, bool) else v


def _array_ranges(scan: WorkbookScan) -> dict[tuple[str, str], str]:
    """(sheet, cell) -> the range of the array formula that fills it, for every such cell."""
    out = {}
    for s in scan.sheets:
        for f in s.formulas:
            if f.kind == "array" and f.array_ref:
                for name in expand(f.array_ref):
                    out[(s.name, name)] = f.array_ref
    return out


class _Passes:
    """The STP_* results pass by pass: a call whose arguments did not change keeps its result (the
    functions are pure), and calls computed ahead keep theirs."""

    def __init__(self, plan: _Plan):
        self.plan = plan
        self.outputs: dict[int, Any] = {}
        self.last_args: dict[int, list[Any]] = dict(plan.pre_args)  # computed from the file's input cells while LibreOffice loaded
        self.known: dict[int, Outcome] = dict(plan.pre_out)
        self.deferred = False  # the last pass left some call for the next (see run)

    def run(self, got: dict[tuple[str, str], list[list[Any]]], defer_errors: bool = False) -> list[int]:
        """One pass over the calls in order, from the ranges LibreOffice gave; the calls whose
        result changed. ``defer_errors`` (the first pass of a workbook just opened, whose errors are
        read without their kind and may only say that an STP_* cell upstream is not computed yet):
        a call with an error among its arguments is left for the next pass (``deferred``), rather
        than computed, failed and written as an error formula, to be written again."""
        plan = self.plan
        fresh: dict[tuple[str, str], Any] = {}  # STP_* results of this pass, fed to later calls
        changed = []
        self.deferred = False
        for i in plan.order:
            cell, fn, parsed = plan.calls[i]
            args = plan.pre_args[i] if i in plan.pre_args else _args(parsed, got, plan.deps, fresh)
            if defer_errors and i not in plan.pre_args and _holds_error(args):
                self.deferred = True
                continue
            if i in self.last_args and (i in plan.pre_args or self.last_args[i] == args):
                out = self.known[i].result  # same arguments, same result: the functions are pure
            else:
                self.known[i] = evaluate(fn, args)
                out = self.known[i].result
                self.last_args[i] = args
            target = cell.array_ref or cell.ref
            block = _fit(as_excel(out), target, keep_types=True)  # what the cells show: a failed call is #VALUE!
            for name, v in zip(expand(target), [v for row in block for v in row]):
                fresh[(cell.sheet, name)] = v
            if i not in self.outputs or self.outputs[i] != out:
                changed.append(i)
            self.outputs[i] = out
        return changed


def _holds_error(args: list[Any]) -> bool:
    """An error value anywhere among a call's arguments (a range's rows included)."""
    for a in args:
        if isinstance(a, list):
            if any(isinstance(v, str) and is_error(v) for row in a for v in (row if isinstance(row, list) else [row])):
                return True
        elif isinstance(a, str) and is_error(a):
            return True
    return False


def _run_some(passes: _Passes, got: dict[tuple[str, str], list[list[Any]]], todo: set[int],
              feeders: set[int]) -> list[int]:
    """One pass over the calls ``todo``, in the plan's order, from the ranges LibreOffice gave, as
    :meth:`_Passes.run` makes it over every call; the calls whose result changed. A call left out
    that fills cells another reads gives its last result (its arguments have not changed), as it
    would in a pass over every call."""
    plan = passes.plan
    fresh: dict[tuple[str, str], Any] = {}  # STP_* results of this pass, fed to later calls
    changed = []
    for i in plan.order:
        cell, fn, parsed = plan.calls[i]
        if i in todo:
            args = plan.pre_args[i] if i in plan.pre_args else _args(parsed, got, plan.deps, fresh)
            if not (i in passes.last_args and (i in plan.pre_args or passes.last_args[i] == args)):
                passes.known[i] = evaluate(fn, args)
                passes.last_args[i] = args
            out = passes.known[i].result
            if i not in passes.outputs or passes.outputs[i] != out:
                changed.append(i)
            passes.outputs[i] = out
        elif i not in feeders or i not in passes.outputs:
            continue
        if i in feeders:
            target = cell.array_ref or cell.ref
            block = _fit(as_excel(passes.outputs[i]), target, keep_types=True)
            fresh.update(((cell.sheet, name), v) for name, v in zip(expand(target), [v for row in block for v in row]))
    return changed


class _Graph(Graph):
    """The workbook's dependency graph, asked also for the formulas that read any box (an input
    cell, which has no node of its own)."""

    def readers(self, sheet: str, box: tuple[int, int, int, int]) -> set[Key]:
        """The nodes that read a cell of ``box`` (c1, r1, c2, r2) on ``sheet``."""
        c1, r1, c2, r2 = box
        out: set[Key] = set()
        if (c2 - c1 + 1) * (r2 - r1 + 1) <= 1024:
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    out.update(self._small.get((sheet, c, r), ()))
        else:
            out.update(k for (s, c, r), keys in self._small.items() if s == sheet and c1 <= c <= c2 and r1 <= r <= r2
                       for k in keys)
        if sheet in self._large:
            boxes, keys = self._large[sheet]
            hit = (boxes[:, 0] <= c2) & (boxes[:, 2] >= c1) & (boxes[:, 1] <= r2) & (boxes[:, 3] >= r1)
            out.update(keys[i] for i in np.flatnonzero(hit))
        return out


class _Reach:
    """The dependency graph (:class:`~xl_stp.batch.recalc.Graph`, from the formulas' text) as an
    override asking for some cells uses it: the STP_* calls a write can change, through the native
    formulas LibreOffice recomputes, and the calls the cells asked for depend on. A formula that
    reads something not pinned down (a 3-D or structured reference, an unknown name, or a volatile
    function such as OFFSET or INDIRECT) counts as changed by every write and as depending on every call."""

    def __init__(self, scan: WorkbookScan, plan: _Plan):
        self.graph = _Graph(scan)
        self.plan = plan
        self.call_of = {(cell.sheet, cell.ref): i for i, (cell, _fn, _parsed) in enumerate(plan.calls)}
        self.node_of = {(key[0], name): key for key, node in self.graph.nodes.items() for name in node.cells}
        parser = Parser(scan)
        self.always = set(self.graph.everything) | {k for k, n in self.graph.nodes.items() if n.reason == VOLATILE_CELL}
        self.always |= {(cell.sheet, cell.ref) for cell, _fn, _p in plan.calls
                        if parser.reads(cell.text or "", cell.sheet).volatile}  # an STP_* call's reason is STP
        self.feeders: set[int] = set().union(*plan.deps.values()) if plan.deps else set()
        self.own = {(cell.sheet, name): (i, k) for i, (cell, _fn, _p) in enumerate(plan.calls)
                    for k, name in enumerate(expand(cell.array_ref or cell.ref))}
        self.result_cells = {s.name: s.result_cells() for s in scan.sheets}
        self.cached_types = {(s.name, f.ref): f.cached_type for s in scan.sheets for f in s.formulas}
        #: the argument ranges worth keeping between reads: references, not too large, not scratch cells
        self.keep = {v for _cell, _fn, parsed in plan.calls for k, v in parsed
                     if k == "ref" and _size(bounds(v[1])) <= PRE_MAX_CELLS}
        self._moved: dict[frozenset, set[tuple[str, str]]] = {}
        self._down: dict[Key, set[Key]] = {}
        self._up: dict[Key, set[Key]] | None = None
        self._reached: dict[frozenset, set[int]] = {}
        self._feeding: dict[frozenset, set[int]] = {}

    def written(self, given: dict[tuple[str, str], Any], arrays: dict[tuple[str, str], str]) -> frozenset:
        """The boxes an override wrote: its cells, an array formula's whole range for one of its cells."""
        return frozenset((sheet, bounds(arrays.get((sheet, name), name))) for sheet, name in given)

    def results(self, changed: list[int], writer: Any) -> frozenset:
        """The boxes a pass's writes changed: the calls' cells, and a column rewritten as a whole."""
        out = set()
        for i in changed:
            cell = self.plan.calls[i][0]
            out.add((cell.sheet, bounds(cell.array_ref or cell.ref)))
            if i in writer.box_of:
                out.add((cell.sheet, bounds(writer.boxes[writer.box_of[i]]["ref"])))
        return frozenset(out)

    def reached(self, written: frozenset) -> set[int]:
        """The calls whose arguments can read a cell of the boxes ``written``, directly or through
        native formulas: the walk stops at STP_* cells, whose results are the next pass's writes."""
        if written not in self._reached:
            seen, calls = set(), set()
            queue = deque(self.always.union(*(self.graph.readers(sheet, box) for sheet, box in written)))
            while queue:
                key = queue.popleft()
                if key in seen:
                    continue
                seen.add(key)
                if key in self.call_of:
                    calls.add(self.call_of[key])
                else:
                    queue.extend(self._dependents(key))
            self._reached[written] = calls
            self._moved[written] = {(k[0], name) for k in seen if k not in self.call_of
                                    for name in self.graph.nodes[k].cells}
        return self._reached[written]

    def touches(self, written: frozenset, key: tuple[str, str]) -> bool:
        """A write of the boxes ``written``, or a native formula LibreOffice recomputes after it, may
        have changed a cell of the range ``key`` (one of :attr:`keep`)."""
        sheet, ref = key
        box = bounds(ref)
        if any(s == sheet and _overlap(b, box) for s, b in written):
            return True
        self.reached(written)
        moved = self._moved[written]
        return any((sheet, name) in moved for name in expand(ref))

    def feeding(self, cells: frozenset[tuple[str, str]]) -> set[int]:
        """The calls the values of ``cells`` depend on, through native formulas and other calls;
        every call when a formula on the way reads something not pinned down."""
        if cells not in self._feeding:
            up = self._precedents()
            seen: set[Key] = set()
            queue = deque(self.node_of[c] for c in cells if c in self.node_of)
            while queue:
                key = queue.popleft()
                if key not in seen:
                    seen.add(key)
                    queue.extend(up.get(key, ()))
            everything = not seen.isdisjoint(self.always)
            self._feeding[cells] = set(range(len(self.plan.calls))) if everything else \
                {self.call_of[k] for k in seen if k in self.call_of}
        return self._feeding[cells]

    def _dependents(self, key: Key) -> set[Key]:
        if key not in self._down:
            self._down[key] = self.graph.dependents(key)
        return self._down[key]

    def _precedents(self) -> dict[Key, set[Key]]:
        """What each node reads, as nodes (the dependents turned round), built once."""
        if self._up is None:
            self._up = {}
            for key in self.graph.nodes:
                for d in self._dependents(key):
                    self._up.setdefault(d, set()).add(key)
        return self._up


def _missing_sheets(calls: list, sheets: list[str]) -> None:
    """A reference to a sheet that does not exist: Excel passes #REF!."""
    for _cell, _fn, parsed in calls:
        for j, (k, v) in enumerate(parsed):
            if k == "ref" and v[0] not in sheets:
                parsed[j] = ("value", "#REF!")


def _args(parsed: list, got: dict, deps: dict, fresh: dict) -> list[Any]:
    """A call's arguments as Excel would pass them: from what LibreOffice read, with the STP_*
    results of this pass laid over the cells they fill."""
    args = []
    for k, val in parsed:
        if k in ("ref", "scratch"):
            data = got[val] if val in got else _blank(val)  # a range not read: this pass's results cover it
            if fresh and deps.get(val):
                data = _overlay(data, val, fresh)
            args.append(as_argument(data))
        else:
            args.append(val)
    return args


def _blank(key: tuple[str, str]) -> list[list[Any]]:
    c1, r1, c2, r2 = bounds(key[1])
    return [[None] * (c2 - c1 + 1) for _ in range(r2 - r1 + 1)]


def _overlay(data: list[list[Any]], key: tuple[str, str], fresh: dict[tuple[str, str], Any]) -> list[list[Any]]:
    sheet, ref = key
    c1, r1, _c2, _r2 = bounds(ref)
    out = [list(row) for row in data]
    for i, row in enumerate(out):
        for j in range(len(row)):
            name = f"{column_letter(c1 + j)}{r1 + i}"
            if (sheet, name) in fresh:
                row[j] = fresh[(sheet, name)]
    return out


def _read_refs(w: Worker, refs: list[tuple[str, str]], exact: bool = True) -> dict[tuple[str, str], list[list[Any]]]:
    """Every referenced range, read in one call: nearby ranges of a sheet share a box, as long as
    the box is not mostly cells nobody asked for."""
    return _answer(w, _ask(w, refs, exact))


def _ask(w: Worker, refs: list[tuple[str, str]], exact: bool = True) -> list:
    """:func:`_read_refs`'s request, sent; what :func:`_answer` needs to take its answer (the next)."""
    boxes = _ref_boxes(refs)
    if boxes:
        w.send("read", ranges=[[sheet, area(*b)] for sheet, b, _ in boxes], exact=exact)
    return boxes


def _answer(w: Worker, boxes: list) -> dict[tuple[str, str], list[list[Any]]]:
    if not boxes:
        return {}
    blocks = w.receive()["values"]
    out = {}
    for (sheet, box, members), data in zip(boxes, blocks):
        for key in members:
            c1, r1, c2, r2 = bounds(key[1])
            out[key] = [row[c1 - box[0]:c2 - box[0] + 1] for row in data[r1 - box[1]:r2 - box[1] + 1]]
    return out


def _ref_boxes(refs: list[tuple[str, str]]) -> list[tuple[str, list[int], list[tuple[str, str]]]]:
    """(sheet, [c1, r1, c2, r2], the ranges inside) for the ranges to read, nearby ones together."""
    boxes: list[tuple[str, list[int], list[tuple[str, str]]]] = []
    by_sheet: dict[str, list[tuple[list[int], tuple[str, str]]]] = {}
    for key in refs:
        by_sheet.setdefault(key[0], []).append((list(bounds(key[1])), key))
    for sheet, items in by_sheet.items():
        items.sort(key=lambda x: (x[0][1], x[0][0]))
        cur, members, size = None, [], 0
        for b, key in items:
            a = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
            if cur is not None:
                u = [min(cur[0], b[0]), min(cur[1], b[1]), max(cur[2], b[2]), max(cur[3], b[3])]
                if (u[2] - u[0] + 1) * (u[3] - u[1] + 1) <= 2 * (size + a) + 1000:
                    cur, size = u, size + a
                    members.append(key)
                    continue
                boxes.append((sheet, cur, members))
            cur, members, size = b, [key], a
        if cur is not None:
            boxes.append((sheet, cur, members))
    return boxes


def _read_results(w: Worker, scan: WorkbookScan, all_boxes: dict[str, list], logical: dict[str, set[str]],
                  owed: int = 0, meanwhile: Callable[[], None] | None = None) -> dict[str, dict[str, Any]]:
    """Every formula-result cell, read in bulk (an empty result as 0, as Excel shows it; a cell the
    file stores a logical for, ``logical``, as True/False when LibreOffice gives 0 or 1). The reads
    are sent at once, after ``owed`` requests whose answers are still to come; ``meanwhile`` runs
    while LibreOffice answers them all."""
    reads = [(s.name, boxes[i:i + 200]) for s in scan.sheets for boxes in (all_boxes.get(s.name, []),)
             for i in range(0, len(boxes), 200)]
    for sheet, chunk in reads:
        w.send("read", ranges=[[sheet, area(c1, r1, c2, r2)] for r1, r2, c1, c2, _ in chunk],
               empty=False)  # formula cells only: never empty
    try:
        if meanwhile is not None:
            meanwhile()
    finally:
        answers = w.collect(owed + len(reads))[owed:]
    out: dict[str, dict[str, Any]] = {s.name: {} for s in scan.sheets}
    for (sheet, chunk), answer in zip(reads, answers):
        got = out[sheet]
        for (r1, _r2, c1, _c2, members), block in zip(chunk, answer["values"]):
            for r, c, name in members:
                v = block[r - r1][c - c1]
                got[name] = 0.0 if v is None else v
    for sheet, names in logical.items():
        got = out.get(sheet, {})
        for name in names:
            if got.get(name) in (0.0, 1.0) and not isinstance(got[name], bool):
                got[name] = bool(got[name])  # a logical LibreOffice did not mark (an array formula's cells): Excel's type
    return out


def _spill_problems(calls: list, outputs: dict[int, Any]) -> list[WorkbookError]:
    """An array formula whose STP_* result no longer has the size of its range: the file's range is
    kept (changing it is a structural edit), so say what was cut off or filled with #N/A."""
    out = []
    for i, (cell, _fn, _parsed) in enumerate(calls):
        result = outputs.get(i)
        if not cell.array_ref or not isinstance(result, list) or not result:
            continue
        c1, r1, c2, r2 = bounds(cell.array_ref)
        rows, cols = len(result), max(len(r) for r in result)
        if (rows, cols) != (r2 - r1 + 1, c2 - c1 + 1):
            out.append(WorkbookError(
                f"the result is now {rows} x {cols} but its array range {cell.array_ref} is {r2 - r1 + 1} x {c2 - c1 + 1}; "
                "the range is kept as it is (cells beyond the result show #N/A, results beyond the range are not shown); "
                "re-enter the formula in Excel to resize it", cell.sheet, cell.ref))
    return out


def _computed(values: dict[str, dict[str, Any]], spill_problems: list[WorkbookError]) -> Computed:
    """The values read, with the problems: spills, circular references (left as they were) and #NAME?."""
    result = Computed(values=values)
    result.problems.extend(spill_problems)
    for sheet, cells in values.items():
        for name, v in [(name, v) for name, v in cells.items() if type(v) is str]:
            if v == "#CIRC!":
                result.problems.append(WorkbookError("is part of a circular reference; left as it was", sheet, name))
                del cells[name]
            elif v == "#NAME?":
                result.problems.append(WorkbookError("evaluates to #NAME? (an unknown function or name)", sheet, name))
    return result

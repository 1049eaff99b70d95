"""What the STP_* calls say about a workbook's inputs, in the words of the sheet.

Each engine computes an STP_* call through :func:`evaluate`: the registry's ``explain`` when the
function has one (the result, the error with the argument and the cell within it, and the
warnings), else the plain call. A call that fails (its result is ``#STP! <message>`` text) shows
``#VALUE!`` in every cell of its result (:func:`as_excel`) — a real error, as a UDF error is in
Excel, so that every figure computed from it is an error too and never a part-total — and its
message goes into the report.

:func:`diagnose` turns the calls that failed or warned into report lines at the cell the user
typed in: the argument's range (read from the call's formula) and the error's position within it
give the input cell, and the sheet gives its labels, the row's name to its left and the column's
heading above::

    Inputs!D8 (Reprovision of clinical services, 2018/19): '12,000' is text; type it as a number
    (costs of STP_CAPITAL_NET in Calculations!B5); and 22 cells that depend on it

A call that failed only because a cell it reads holds the error of a call that failed before it (a
check of a total over a failed block) is not a line of its own: it is counted under the first
cause, found by following the formulas' references back from the cell it complained about.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from udfs.excel import is_error

from .cells import CELL_NAME, area, bounds, column_index, column_letter, expand
from .formula import references
from .recalc import Parser
from .scan import constants

#: The prefix of a failed call's message (the registry's calling contract).
STP_ERROR = "#STP!"
#: What the cells of a failed call hold: the error Excel shows for a UDF that reports a problem.
FAILED = "#VALUE!"

LEFT_COLUMNS = 20  # how far left a row's label is looked for
UP_ROWS = 300  # how far up a column's heading is looked for
HEADING_ROWS = 100  # how far up the heading row is read across, to find where the table starts
LABELLED_CELLS = 500  # the cells of a workbook given labels (the rest are named without)
TRACE_BUDGET = 200_000  # formula cells visited to find the calls a failed call follows from
LABEL_CHARS = 60


# ---- one call ------------------------------------------------------------------------------------

@dataclass(slots=True)
class Outcome:
    """What one STP_* call gave: its result as calling gives it, and (when the function explains
    itself) the error behind a ``#STP!`` result and the warnings: each with ``argument``,
    ``problem`` and optionally ``at`` (row, column; 0-based within the argument's range) and
    ``label`` (the row's name)."""

    result: Any
    error: Any = None
    warnings: tuple = ()

    @property
    def failed(self) -> bool:
        return failed(self.result)


def failed(result: Any) -> bool:
    """A failed call's result: ``#STP! <message>`` text."""
    return isinstance(result, str) and result.startswith(STP_ERROR)


def evaluate(fn: Any, args: list[Any]) -> Outcome:
    """Call ``fn`` with the arguments as Excel passes them, through its ``explain`` when it has one."""
    explain = getattr(fn, "explain", None)
    if explain is not None:
        try:
            ex = explain(*args)
        except Exception:  # the calling contract says it never raises; if it does, call it plainly
            pass
        else:
            return Outcome(ex.result, getattr(ex, "error", None), tuple(getattr(ex, "warnings", None) or ()))
    return Outcome(fn(*args))


def as_excel(result: Any) -> Any:
    """A result as its cells show it: a failed call (or a failed cell of a result) as ``#VALUE!``."""
    if failed(result):
        return FAILED
    if isinstance(result, list) and any(failed(v) for row in result for v in (row if isinstance(row, list) else [row])):
        return [[FAILED if failed(v) else v for v in row] if isinstance(row, list) else (FAILED if failed(row) else row)
                for row in result]
    return result


def fit_result(out: Any, target: str, keep_types: bool = False) -> list[list[Any]]:
    """A result shaped to the range it fills, as Excel fills an array formula's range: one value
    (a failed call's #VALUE! too) in every cell, one row repeated down, one column repeated across;
    cells beyond a larger result #N/A."""
    if not isinstance(out, list) and ":" not in target:  # one value in one cell: the common case, quickly
        return [[out if keep_types else (float(out) if isinstance(out, bool) else ("" if out is None else out))]]
    c1, r1, c2, r2 = bounds(target)
    rows, cols = r2 - r1 + 1, c2 - c1 + 1
    block = out if isinstance(out, list) else [[out]]
    if block and all(isinstance(r, list) for r in block):
        if len(block) == 1 and rows > 1:
            block = block * rows
        if block and all(len(r) == 1 for r in block) and cols > 1:
            block = [r * cols for r in block]
    fitted = [[(block[i][j] if i < len(block) and j < len(block[i]) else "#N/A") for j in range(cols)] for i in range(rows)]
    if keep_types:
        return fitted
    return [[(float(v) if isinstance(v, bool) else ("" if v is None else v)) for v in row] for row in fitted]


@dataclass
class Call:
    """A call that failed or warned, with where it is: the STP_* cell (``cell``, the anchor of
    ``target``, the range its result fills), its function and argument names, and its arguments as
    written (:func:`xl_stp.batch.formula.parse_arg`; None when the call is not the whole formula)."""

    sheet: str
    cell: str
    target: str
    function: str
    arg_names: tuple[str, ...]
    parsed: list[tuple[str, Any]] | None
    outcome: Outcome

    @property
    def where(self) -> str:
        return f"{self.sheet}!{self.cell}"

    @property
    def message(self) -> str:
        r = self.outcome.result
        return r if failed(r) else f"{STP_ERROR} {self.outcome.error}" if self.outcome.error is not None else ""


def call_of(sheet: str, cell: str, target: str, fn: Any, parsed: list | None, outcome: Outcome) -> Call | None:
    """The :class:`Call` to report for an outcome, or None when it neither failed nor warned."""
    if not outcome.failed and not outcome.warnings:
        return None
    names = tuple(getattr(a, "name", str(a)) for a in getattr(fn, "args", ()) or ())
    return Call(sheet, cell, target, getattr(fn, "name", "STP_?"), names, parsed, outcome)


# ---- the report ----------------------------------------------------------------------------------

@dataclass
class InputProblem:
    """One line of the report: a cell whose value a function refused (``error``) or doubts
    (``warning``), with its labels, the problem in the function's words, the call that read it and
    the other failed calls that follow from it."""

    severity: str  # error | warning
    cell: str  # Inputs!D8; the STP_* cell when the input cell is not known
    labels: list[str]
    problem: str
    function: str
    argument: str | None
    formula_cell: str
    dependents: list[str] = field(default_factory=list)
    located: bool = True  # False: ``cell`` is the STP_* cell and ``problem`` its whole #STP! message

    def line(self) -> str:
        if not self.located:
            text = f"{self.cell}: {self.problem}"
        else:
            labels = f" ({', '.join(self.labels)})" if self.labels else ""
            kind = "warning: " if self.severity == "warning" else ""
            read_by = f"{self.argument} of {self.function}" if self.argument else self.function
            text = f"{self.cell}{labels}: {kind}{self.problem} ({read_by} in {self.formula_cell})"
        n = len(self.dependents)
        if n:
            text += f"; and {n:,} cell{'s' if n != 1 else ''} that depend{'s' if n == 1 else ''} on it"
        return text

    def as_dict(self) -> dict:
        out = asdict(self)
        out["line"] = self.line()
        return out


def diagnose(scan: Any, calls: list[Call], values: dict[str, dict[str, Any]], source: Any) -> list[InputProblem]:
    """The report's lines for the calls that failed or warned: errors first (one line per input
    cell, with the failed calls that follow from it counted), then warnings. ``values``: the
    engine's results (formula cells hold their errors); ``source``: the open package (or the file)
    whose input cells give the labels."""
    if not calls:
        return []
    failures = [c for c in calls if c.outcome.failed]
    results = _ResultCells(scan)
    places = [_known(_locate(c, c.outcome.error), results) for c in failures]
    parent = _follows(scan, failures, places, values, results)
    root_of = [_root(i, parent) for i in range(len(failures))]  # (a cycle of follow-ons is cut: its last call is a cause)
    labels = _Labels(scan, values, source, results)

    groups: dict[Any, InputProblem] = {}
    key_of: dict[int, Any] = {}
    for i, c in enumerate(failures):
        if parent[i] is not None:
            continue
        argument, place = places[i]
        cell = _single(place)
        key = key_of[i] = cell if cell is not None else ("call", c.sheet, c.cell)
        if key in groups:  # another call reading the same input cell
            groups[key].dependents.append(c.where)
        elif cell is None:
            groups[key] = InputProblem("error", c.where, [], c.message, c.function, argument, c.where, located=False)
        else:
            labels.want(cell, place, c.outcome.error)
            groups[key] = InputProblem("error", _name(cell), [], _problem(c, c.outcome.error, argument, pinned=True),
                                       c.function, argument, c.where)
    for i, c in enumerate(failures):
        if parent[i] is not None:
            groups[key_of[root_of[i]]].dependents.append(c.where)

    warnings: list[InputProblem] = []
    seen = set()
    for c in calls:
        for w in c.outcome.warnings:
            argument, place = _known(_locate(c, w), results)
            cell = _single(place)
            problem = _problem(c, w, argument, pinned=cell is not None)
            key = (cell or c.where, problem)
            if key in seen:
                continue
            seen.add(key)
            if cell is not None:
                labels.want(cell, place, w)
                warnings.append(InputProblem("warning", _name(cell), [], problem, c.function, argument, c.where))
            else:
                warnings.append(InputProblem("warning", c.where, [], problem, c.function, argument, c.where))

    labels.read()
    out = list(groups.values())
    for p in out + warnings:
        if p.located and "!" in p.cell:
            p.labels = labels.of(p.cell)
    located = sorted((p for p in out if p.located), key=lambda p: labels.sort_key(p.cell))
    return located + [p for p in out if not p.located] + warnings


def _root(i: int, parent: list[int | None]) -> int:
    """The first cause a failed call follows from; a cycle (circular references) is cut where it
    closes, and that call becomes a cause."""
    seen = {i}
    while parent[i] is not None:
        if parent[i] in seen:
            parent[i] = None
            break
        i = parent[i]
        seen.add(i)
    return i


def _name(cell: tuple[str, str]) -> str:
    sheet, ref = cell
    return f"{_quoted(sheet)}!{ref}"


def _quoted(sheet: str) -> str:
    return sheet if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", sheet) else "'" + sheet.replace("'", "''") + "'"


def _single(place: tuple[str, str] | None) -> tuple[str, str] | None:
    if place is None or ":" in place[1]:
        return None
    return place


_LEADING_ARGUMENT = re.compile(r"^#STP!\s+([A-Za-z_][A-Za-z0-9_]*)")


def _locate(c: Call, err: Any) -> tuple[str | None, tuple[str, str] | None]:
    """(the argument's name, the cell — or the range, when the position is not known — it names);
    the place is None when the argument is not a reference."""
    argument = getattr(err, "argument", None) if err is not None else None
    if argument is None:
        m = _LEADING_ARGUMENT.match(c.message)
        argument = m.group(1) if m else None
    if argument is not None and argument not in c.arg_names:
        first = re.split(r"[\s:]", str(argument), maxsplit=1)[0]  # "sources row 2"
        argument = first if first in c.arg_names else argument
    if argument is None or argument not in c.arg_names or c.parsed is None:
        return argument, None
    k = c.arg_names.index(argument)
    if k >= len(c.parsed) or c.parsed[k][0] != "ref":
        return argument, None
    sheet, ref = c.parsed[k][1]
    c1, r1, c2, r2 = bounds(ref)
    at = getattr(err, "at", None) if err is not None else None
    if at is not None:
        try:
            row, col = int(at[0]), int(at[1])
        except (TypeError, ValueError, IndexError):
            row = col = -1
        if 0 <= row <= r2 - r1 and 0 <= col <= c2 - c1:
            return argument, (sheet, f"{column_letter(c1 + col)}{r1 + row}")
    if (c1, r1) == (c2, r2):
        return argument, (sheet, f"{column_letter(c1)}{r1}")
    return argument, (sheet, f"{column_letter(c1)}{r1}:{column_letter(c2)}{r2}")


#: Where a cell is within its range, in a message's words (" in cell 2 of the row", " at row 1,
#: column 2", " in column 4"): said once the line names the cell itself.
_POSITION = re.compile(r" (?:in cell \d+ of the (?:row|column)|at row \d+, column \d+(?: of the range)?|in column \d+)(?= |;|,|:|\.|$)")


def _known(located: tuple[str | None, tuple[str, str] | None], results: "_ResultCells") -> tuple[str | None, tuple[str, str] | None]:
    """The place with its sheet spelled as the workbook spells it; a place on a sheet the workbook
    does not have is no place (the argument was #REF!)."""
    argument, place = located
    if place is None:
        return argument, None
    sheet = results.sheet_names.get(place[0].upper())
    return argument, (sheet, place[1]) if sheet is not None else None


def _problem(c: Call, err: Any, argument: str | None, pinned: bool = False) -> str:
    """The problem in the function's words, without the #STP! prefix and the argument's name (and,
    once the line names the cell, without its position within the range)."""
    problem = getattr(err, "problem", None) if err is not None else None
    if problem:
        text = str(problem)
    else:
        text = c.message[len(STP_ERROR):].strip() if c.message.startswith(STP_ERROR) else str(err or c.message)
        if argument and text.startswith(f"{argument}: "):
            text = text[len(argument) + 2:]
    return _POSITION.sub("", text, count=1) if pinned else text


# ---- which failed calls follow from others -------------------------------------------------------

class _ResultCells:
    """The cells whose values are formula results, by sheet (upper case): cell -> the formula's
    anchor (itself, or the top-left cell of an array formula)."""

    def __init__(self, scan: Any):
        self.by_sheet: dict[str, dict[str, str]] = {}
        self.formulas: dict[tuple[str, str], Any] = {}
        self.sheet_names: dict[str, str] = {}
        for s in scan.sheets:
            key = s.name.upper()
            self.sheet_names[key] = s.name
            cells = {f.ref: f.ref for f in s.formulas}
            cells.update(s.array_members)
            self.by_sheet[key] = cells
            for f in s.formulas:
                self.formulas[(key, f.ref)] = f

    def anchor(self, sheet: str, cell: str) -> str | None:
        return self.by_sheet.get(sheet.upper(), {}).get(cell)

    def inside(self, sheet: str, ref: str) -> Iterable[tuple[str, str]]:
        """(cell, anchor) of the result cells in a range."""
        cells = self.by_sheet.get(sheet.upper(), {})
        if ":" not in ref:
            a = cells.get(ref)
            return [(ref, a)] if a is not None else []
        c1, r1, c2, r2 = bounds(ref)
        if (c2 - c1 + 1) * (r2 - r1 + 1) <= 4 * max(len(cells), 1):
            return [(n, cells[n]) for n in expand(ref) if n in cells]
        out = []
        for n, a in cells.items():
            m = CELL_NAME.fullmatch(n)
            if m and c1 <= column_index(m.group(1)) <= c2 and r1 <= int(m.group(2)) <= r2:
                out.append((n, a))
        return out


def _follows(scan: Any, failures: list[Call], places: list, values: dict, results: _ResultCells) -> list[int | None]:
    """For each failed call, the earlier-caused failed call it follows from (None: a first cause).
    A call follows from another when the cell it complained about is a formula result holding an
    error, and that formula reads (at any depth) the cells of a failed call."""
    anchors = {(f.sheet.upper(), f.cell): i for i, f in enumerate(failures)}
    tracer = None
    parent: list[int | None] = [None] * len(failures)
    for i, (c, (_argument, place)) in enumerate(zip(failures, places)):
        if tracer is None:
            tracer = _Tracer(scan, results, anchors)
        found: set[int] = set()
        if place is None:  # an expression argument holding an error: what the call's own formula reads
            if not _FOUND_ERROR.search(c.message or ""):
                continue
            direct, children = tracer._children((c.sheet.upper(), c.cell))
            found |= direct
            for key, a in children:
                found |= tracer.upstream(key, a)
        else:
            sheet, ref = place
            errors = [(n, a) for n, a in results.inside(sheet, ref) if is_error(values.get(_actual(results, sheet), {}).get(n))]
            for _n, a in errors:
                found |= tracer.upstream(sheet, a)
        found.discard(i)
        if found:
            parent[i] = min(found)
    return parent


_FOUND_ERROR = re.compile(r"found the error #")


def _actual(results: _ResultCells, sheet: str) -> str:
    return results.sheet_names.get(sheet.upper(), sheet)


class _Tracer:
    """The failed calls a formula cell reads, following references back through other formulas
    (stopping at each failed call's cells)."""

    def __init__(self, scan: Any, results: _ResultCells, anchors: dict[tuple[str, str], int]):
        self.names = scan.names
        self.parser = Parser(scan)
        self.results = results
        self.anchors = anchors
        self.memo: dict[tuple[str, str], frozenset[int]] = {}
        self.budget = TRACE_BUDGET

    def upstream(self, sheet: str, anchor: str) -> set[int]:
        start = (sheet.upper(), anchor)
        if start in self.anchors:
            return {self.anchors[start]}
        memo, stack, open_ = self.memo, [start], set()
        while stack and self.budget > 0:
            node = stack[-1]
            if node in memo:
                stack.pop()
                continue
            direct, children = self._children(node)
            pending = [ch for ch in children if ch not in memo and ch not in open_]
            if pending and node not in open_:
                open_.add(node)
                stack.extend(pending)
                self.budget -= len(pending)
                continue
            found = set(direct)
            for ch in children:
                found |= memo.get(ch, frozenset())
            memo[node] = frozenset(found)
            open_.discard(node)
            stack.pop()
        return set(memo.get(start, frozenset()))

    def _children(self, node: tuple[str, str]) -> tuple[set[int], list[tuple[str, str]]]:
        f = self.results.formulas.get(node)
        refs = references(f.text, _actual(self.results, node[0]), self.names) if f is not None else None
        if refs is None and f is not None and f.text:  # names that are formulas (err_… = ROWS*COLUMNS-COUNT), as the graph reads them
            reads = self.parser.reads(f.text, _actual(self.results, node[0]))
            refs = [(r.sheet, area(r.c1, r.r1, r.c2, r.r2)) for r in reads.refs]
        direct: set[int] = set()
        children: list[tuple[str, str]] = []
        for sheet, ref in refs or ():
            key = sheet.upper()
            for _cell, a in self.results.inside(sheet, ref):
                if (key, a) in self.anchors:
                    direct.add(self.anchors[(key, a)])
                elif (key, a) != node:
                    children.append((key, a))
        return direct, list(dict.fromkeys(children))


# ---- labels --------------------------------------------------------------------------------------

_UNITS = re.compile(r"^(?:[£$€]\s*(?:'?000s?|k|m|bn)?|%|units?|years?|beds?|wte|fte|no\.?|£000s?)$", re.IGNORECASE)
_NUMERIC = re.compile(r"^[\s£$€(+-]*\d[\d,\s]*\.?\d*\s*%?\)?\s*$")


def _label_like(v: Any) -> bool:
    """Text that names a row or a column: not a number typed as text, not an error, not a unit."""
    if not isinstance(v, str):
        return False
    t = v.strip()
    return bool(t) and not is_error(t) and not t.startswith(STP_ERROR) and not _NUMERIC.match(t) and not _UNITS.match(t)


def _short(text: str) -> str:
    t = " ".join(text.split())
    return t if len(t) <= LABEL_CHARS else t[:LABEL_CHARS - 1].rstrip() + "…"


class _Labels:
    """The labels of input cells, read in one pass per sheet from the file (formula results from
    the engine's values): the column's heading — the nearest text above — and the row's name: the
    first column of the argument's range when it holds names, else the name the function gave
    (``label``), else the first text of the row from where the table starts (where the heading's
    row begins, so that a region or a unit beside the name is passed over), else the nearest text
    to the left. Units (£000, %) and numbers typed as text are never labels."""

    def __init__(self, scan: Any, values: dict, source: Any, results: _ResultCells):
        self.scan, self.values, self.source, self.results = scan, values, source, results
        self.wanted: dict[str, set[str]] = {}
        self.asked: dict[str, tuple[tuple[str, str], tuple[str, str] | None, Any]] = {}
        self.read_values: dict[str, dict[str, Any]] = {}
        self.order = {s.name.upper(): k for k, s in enumerate(scan.sheets)}

    def want(self, cell: tuple[str, str], place: tuple[str, str] | None, err: Any) -> None:
        if _name(cell) in self.asked or len(self.asked) >= LABELLED_CELLS:
            return
        sheet, ref = cell
        c, r = bounds(ref)[:2]
        names = self.wanted.setdefault(sheet.upper(), set())
        names.update(f"{column_letter(c)}{i}" for i in range(max(1, r - UP_ROWS), r))
        for i in range(max(1, r - HEADING_ROWS), r + 1):  # the row, and the rows a heading row may be
            names.update(f"{column_letter(j)}{i}" for j in range(max(1, c - LEFT_COLUMNS), c))
        if place is not None and ":" in place[1]:
            c1, r1, _c2, r2 = bounds(place[1])
            names.update(f"{column_letter(c1)}{i}" for i in range(r1, min(r2, r1 + 500) + 1))
        self.asked[_name(cell)] = (cell, place, err)

    def read(self) -> None:
        for key, names in self.wanted.items():
            sheet = next((s for s in self.scan.sheets if s.name.upper() == key), None)
            got: dict[str, Any] = {}
            if sheet is not None:
                results = self.results.by_sheet.get(key, {})
                inputs = {n for n in names if n not in results}
                try:
                    got = constants(self.source, sheet, inputs, partial=True) or {}
                except Exception:  # labels are a courtesy: a sheet they cannot be read from has none
                    got = {}
                computed = self.values.get(sheet.name, {})
                got.update({n: computed.get(n) for n in names if n in results})
            self.read_values[key] = got

    def of(self, name: str) -> list[str]:
        asked = self.asked.get(name)
        if asked is None:
            return []
        (sheet, ref), place, err = asked
        got = self.read_values.get(sheet.upper(), {})
        c, r = bounds(ref)[:2]
        row = None
        if place is not None and ":" in place[1]:
            c1, r1, _c2, r2 = bounds(place[1])
            column = [got.get(f"{column_letter(c1)}{i}") for i in range(r1, min(r2, r1 + 500) + 1)]
            if c > c1 and column and all(_label_like(v) for v in column):
                row = got.get(f"{column_letter(c1)}{r}")
        if row is None and getattr(err, "label", None):
            row = str(err.label)
        top = next((i for i in range(r - 1, max(0, r - UP_ROWS - 1), -1) if _label_like(got.get(f"{column_letter(c)}{i}"))), None)
        heading = got.get(f"{column_letter(c)}{top}") if top is not None else None
        first = max(1, c - LEFT_COLUMNS)
        if row is None and top is not None and r - top <= HEADING_ROWS:
            start = c  # the table starts where its heading row does
            while start - 1 >= first and got.get(f"{column_letter(start - 1)}{top}") is not None:
                start -= 1
            row = next((v for j in range(start, c) for v in [got.get(f"{column_letter(j)}{r}")] if _label_like(v)), None)
        if row is None:
            row = next((v for j in range(c - 1, first - 1, -1) for v in [got.get(f"{column_letter(j)}{r}")] if _label_like(v)), None)
        return [_short(str(x)) for x in (row, heading) if x]

    def sort_key(self, name: str) -> tuple:
        asked = self.asked.get(name)
        if asked is None:
            return (len(self.order), 0, 0)
        sheet, ref = asked[0]
        c, r = bounds(ref)[:2]
        return (self.order.get(sheet.upper(), len(self.order)), r, c)


__all__ = ["Call", "FAILED", "InputProblem", "Outcome", "STP_ERROR", "as_excel", "call_of", "diagnose", "evaluate", "fit_result",
           "failed"]

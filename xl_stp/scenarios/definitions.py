"""Scenario definitions: a CSV file beside the workbook or a ``Scenarios`` sheet inside it, laid
out FAST-style: one column a scenario, one row a change.

    cell,                                        no PF2, acute slips a year, savings deliver 70%
    Inputs!{Funding waterfall 1 > PF2},          off,
    Inputs!{Capital programme 1},                ,       shift 1
    Inputs!{Savings line},                       ,       ,                   x70%

The first row names the scenarios (a column headed *description* or *note* is ignored); every
other row names input cells (``Sheet!B5``, a range, a defined name or a label reference, see
:mod:`.book`) in its first column and, under each scenario, how that scenario changes them:

- a value: ``0``, ``-27.2``, ``(27.2)`` (brackets are negative), ``=12.5``: every cell becomes it;
- a percentage change: ``+10%``, ``-30%``; a scale: ``x70%`` or ``*0.7`` (savings deliver 70%);
- a shift in whole years: ``shift 1`` (slips a year), ``shift -1`` (a year early): each row moves
  along its year columns keeping its total; what moves past the last year is reported, not lost;
- ``off``: a source switched off (its figures become 0).

Lines starting ``#`` are comments. Every line is checked before anything is computed; each
problem is one line naming its file and line (:class:`ScenarioError`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from .book import Book, Cells, ReferenceError_

OFF = "off"
VALUE, PERCENT, SCALE, SHIFT = "value", "percent", "scale", "shift"
IGNORED_COLUMNS = ("description", "note", "notes", "label")
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_SHIFT = re.compile(rf"^(?:shift|slip|slips)\s*(?P<n>{_NUMBER})?\s*(?:years?)?$", re.IGNORECASE)
_PERCENT = re.compile(rf"^(?P<n>[+-]{_NUMBER})\s*%$")
_SCALE = re.compile(rf"^[x×*]\s*(?P<n>{_NUMBER})\s*(?P<pc>%?)$", re.IGNORECASE)
_VALUE = re.compile(rf"^=?\s*(?P<n>{_NUMBER})$")
_BRACKETS = re.compile(rf"^\(\s*(?P<n>{_NUMBER})\s*\)$")


class ScenarioError(Exception):
    """Scenario lines that cannot be run: every problem, one line each, file and line first."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Change:
    """One row's change under one scenario: ``kind`` (value, percent, scale, shift or off) and
    ``amount`` (the value; the change as a fraction, -0.3 for -30%; the factor; the years)."""

    where: str  # file and line, for messages: "llr_scenarios.csv line 4"
    ref: str
    cells: Cells
    kind: str
    amount: float
    text: str


@dataclass
class Scenario:
    name: str
    changes: list[Change] = field(default_factory=list)


def parse_change(text: str) -> tuple[str, float]:
    """(kind, amount) of a change as written; ValueError with the reason for anything else."""
    t = text.strip()
    if t.lower() in ("off", "switched off", "none"):
        return OFF, 0.0
    if m := _SHIFT.match(t):
        n = float(m["n"]) if m["n"] is not None else 1.0
        if not n.is_integer():
            raise ValueError(f"a shift must be a whole number of years, not {m['n']}")
        return SHIFT, n
    if m := _PERCENT.match(t):
        return PERCENT, float(m["n"]) / 100
    if m := _SCALE.match(t):
        return SCALE, float(m["n"]) / (100 if m["pc"] else 1)
    if m := _BRACKETS.match(t):
        return VALUE, -abs(float(m["n"]))
    if m := _VALUE.match(t):
        return VALUE, float(m["n"])
    raise ValueError(f"{text.strip()!r} is not a change: write a value (0, -27.2, (27.2)), a change (+10%, -30%), "
                     "a scale (x70%), a shift in years (shift 1) or off")


def read_csv(path: str | Path, book: Book) -> list[Scenario]:
    """The scenarios of a CSV file, every line checked against ``book``; ScenarioError otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise ScenarioError([f"{path}: cannot read the scenario file ({e.strerror or e})"]) from None
    except UnicodeDecodeError:
        raise ScenarioError([f"{path}: not a text (CSV) file"]) from None
    rows = [(i, row) for i, row in enumerate(csv.reader(io.StringIO(text)), start=1)]
    return parse_rows(rows, book, path.name, "line")


def read_sheet(book: Book, sheet: str = "Scenarios") -> list[Scenario]:
    """The scenarios of the workbook's own Scenarios sheet (rows are its lines)."""
    s = book.sheet(sheet)
    width = max((max(cols) for cols in s.rows.values() if cols), default=0)
    rows = [(r, [_cell_text(s.rows[r].get(c)) for c in range(1, width + 1)]) for r in sorted(s.rows)]
    return parse_rows(rows, book, s.name, "row")


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def parse_rows(rows: list[tuple[int, list[str]]], book: Book, source: str, unit: str) -> list[Scenario]:
    """Scenarios from (line, cells) rows: a header row of scenario names, then one row a change."""
    rows = [(i, [c.strip() for c in row]) for i, row in rows if any(c.strip() for c in row) and not row[0].lstrip().startswith("#")]
    if not rows:
        raise ScenarioError([f"{source}: no scenarios: the first row names them, the rows below change input cells"])
    head_line, header = rows[0]
    problems: list[str] = []
    columns = _scenario_columns(header, f"{source} {unit} {head_line}", problems)
    scenarios = {j: Scenario(name) for j, name in columns.items()}
    for line, row in rows[1:]:
        where = f"{source} {unit} {line}"
        _parse_row(row, columns, scenarios, book, where, problems)
    for sc in scenarios.values():
        _check_overlaps(sc, problems)
        if not sc.changes and not problems:
            problems.append(f"{source}: scenario {sc.name!r} changes nothing")
    if problems:
        raise ScenarioError(problems)
    return list(scenarios.values())


def _scenario_columns(header: list[str], where: str, problems: list[str]) -> dict[int, str]:
    columns: dict[int, str] = {}
    seen: dict[str, int] = {}
    for j, name in enumerate(header[1:], start=1):
        if not name or name.casefold() in IGNORED_COLUMNS:
            continue
        if name.casefold() in seen:
            problems.append(f"{where}: two scenarios are named {name!r}")
            continue
        seen[name.casefold()] = j
        columns[j] = name
    if not columns:
        problems.append(f"{where}: the first row must name the scenarios, one a column after the cell column")
    return columns


def _parse_row(row: list[str], columns: dict[int, str], scenarios: dict[int, Scenario], book: Book, where: str,
               problems: list[str]) -> None:
    ref = row[0]
    wanted = {j: row[j] for j in columns if j < len(row) and row[j]}
    if not ref:
        problems.append(f"{where}: no cell named in the first column")
        return
    try:
        cells = book.resolve(ref)
    except ReferenceError_ as e:
        problems.append(f"{where}: {ref}: {e}")
        return
    bad = not_inputs(book, cells)
    if bad:
        problems.append(f"{where}: {ref}: {bad}")
        return
    for j, text in wanted.items():
        try:
            kind, amount = parse_change(text)
            check_change(book, cells, kind, ref)
        except ValueError as e:
            problems.append(f"{where}: {ref} ({columns[j]}): {e}")
            continue
        scenarios[j].changes.append(Change(where, ref, cells, kind, amount, text))


def not_inputs(book: Book, cells: Cells) -> str | None:
    """Why these cells cannot be changed by a scenario, or None."""
    sheet = book.sheets[cells.sheet]
    for cell in cells.cells:
        if cell in sheet.formulas:
            text = sheet.formulas[cell]
            what = f"={text}" if text else "filled by an array formula"
            return f"{cells.sheet}!{cell} is a formula cell ({what}), not an input: a scenario changes input cells only"
    return None


def check_change(book: Book, cells: Cells, kind: str, ref: str) -> None:
    """ValueError for a change these cells cannot take: text where a figure is needed, a shift
    without years to move along."""
    for cell in cells.cells:
        v = book.value(cells.sheet, cell)
        if isinstance(v, str) or isinstance(v, bool):
            raise ValueError(f"{cells.sheet}!{cell} holds {v!r}, not a figure: only figures can be changed")
    if kind == SHIFT and len(cells.grid[0]) < 2:
        raise ValueError("a shift moves figures along the years: name a row of years (Inputs!{Block > Row}), not one column")


def _check_overlaps(sc: Scenario, problems: list[str]) -> None:
    """The same cell changed twice by one scenario: which change wins would be a guess."""
    first: dict[tuple[str, str], Change] = {}
    for ch in sc.changes:
        for cell in ch.cells.cells:
            key = (ch.cells.sheet, cell)
            if key in first and first[key] is not ch:
                other = first[key]
                problems.append(f"{ch.where}: {ch.ref} ({sc.name}): {key[0]}!{cell} is also changed by {other.where.split()[-2]} "
                                f"{other.where.split()[-1]}; change each cell once per scenario")
                break
            first[key] = ch

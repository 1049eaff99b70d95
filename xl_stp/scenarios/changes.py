"""What a scenario writes: the new value of each input cell it changes, and what it moved past the
plan's last year (a shift keeps each row's total: the part that no longer falls within the years
shown is reported, never silently dropped)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .book import Book
from .definitions import OFF, PERCENT, SCALE, SHIFT, VALUE, Change, Scenario


@dataclass
class Applied:
    """A scenario's input values {sheet: {cell: value}} (None: blank) and its notes, one line each."""

    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    beyond: float = 0.0  # amount moved past the last year, in the units of the cells moved


def apply(book: Book, scenario: Scenario) -> Applied:
    """The cells ``scenario`` changes, with their new values (from the values stored in ``book``)."""
    out = Applied()
    for ch in scenario.changes:
        sheet = out.values.setdefault(ch.cells.sheet, {})
        moved, lines = 0.0, 0
        for row in ch.cells.grid:
            old = [book.value(ch.cells.sheet, c) for c in row]
            new, beyond = _changed(old, ch)
            sheet.update((cell, now) for cell, was, now in zip(row, old, new) if not _same(was, now))
            moved, lines = moved + beyond, lines + bool(beyond)
        if lines:
            out.beyond += moved
            last = ch.cells.headings[-1] if ch.cells.headings else ch.cells.grid[0][-1]
            out.notes.append(f"{scenario.name}: {ch.ref}: {moved:,.6g} moved past {last} ({lines} line{'s' * (lines > 1)}); "
                             "outside the years shown, so not in the figures by year")
    out.values = {s: v for s, v in out.values.items() if v}
    return out


def _changed(old: list[Any], ch: Change) -> tuple[list[Any], float]:
    """A row's new values, and the amount a shift moved past its last cell (0 for the others)."""
    if ch.kind == SHIFT:
        return _shift(old, int(ch.amount))
    if ch.kind == VALUE:
        return [ch.amount for _ in old], 0.0
    if ch.kind == OFF:
        return [0.0 if v is not None else None for v in old], 0.0
    factor = 1 + ch.amount if ch.kind == PERCENT else ch.amount
    assert ch.kind in (PERCENT, SCALE)
    return [None if v is None else float(v) * factor for v in old], 0.0


def _shift(old: list[Any], n: int) -> tuple[list[Any], float]:
    """Move a row n places right (left when negative); a vacated cell that held a figure becomes 0.
    What moves past either end is returned as the amount beyond."""
    size = len(old)
    new: list[Any] = [None] * size
    beyond = 0.0
    for i, v in enumerate(old):
        j = i + n
        if v is None:
            continue
        if 0 <= j < size:
            new[j] = float(v)
        else:
            beyond += float(v)
    new = [0.0 if v is None and was is not None else v for v, was in zip(new, old)]
    return new, beyond


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return float(a) == float(b)

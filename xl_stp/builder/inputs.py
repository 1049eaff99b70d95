"""The Inputs sheet: every figure as published, blue, one block per published table, with its source."""

from __future__ import annotations

from typing import Any

from ..llr.figures import (ACUTE_FUNDING_COLUMNS, CAPITAL_COLUMNS, CAPITAL_TABLES, COMMUNITY_FUNDING_COLUMNS, STF_COLUMNS,
                           YEARS, Figures, has_disposals)
from .book import Book, Sheet

TABLE_TITLES = {
    "acute_reconfiguration": "Acute hospitals reconfiguration: individual project cost and profile (£000)",
    "acute_reconfiguration_summary": "Acute hospitals reconfiguration: summary",
    "community_hospitals": "Community hospital inpatient services and planned care reconfiguration (£000)",
    "community_hospitals_summary": "Community hospital reconfiguration: summary",
    "hinckley": "Hinckley and District ambulatory care and diagnostics (£000)",
    "hinckley_summary": "Hinckley and District: summary",
    "oakham_lutterworth": "Oakham and Lutterworth ambulatory care and diagnostics (£000)",
    "oakham_lutterworth_summary": "Oakham and Lutterworth: summary",
    "epr": "Electronic patient records, UHL (£000)",
    "epr_summary": "Electronic patient records: summary",
    "other_schemes": "Other capital schemes (£000)",
    "acute_funding": "Summary of overall capital requirement: acute configuration (£m)",
    "community_funding": "Summary of overall capital requirement: community configuration (£m)",
    "total_requirement": "Summary of total requirement (£m)",
    "stf_investment": "Investment requirements for transformation (STF) (£000)",
    "strand_savings": "Closing the gap: savings by strand (£m)",
    "narrative": "Plan on a page and finance narrative",
    "org_growth": "Organisational impacts of growth (%)",
    "beds": "Key bed changes",
}
#: Column of the Inputs sheet holding each figure's source.
SOURCE_COLUMN = 14

Cells = dict[tuple[str, str, str], str]


def columns(figures: Figures, table: str) -> list[str]:
    """The columns of a published table, in the order the Inputs sheet lays them out."""
    if table == "stf_investment":
        return [*STF_COLUMNS[0::2], *STF_COLUMNS[1::2], *(f"{y} Total" for y in YEARS)]
    if table in CAPITAL_TABLES:
        return list(CAPITAL_COLUMNS) if has_disposals(table) else [*YEARS, "Total"]
    if table == "acute_funding":
        return [*ACUTE_FUNDING_COLUMNS, "Total"]
    if table == "community_funding":
        return [*COMMUNITY_FUNDING_COLUMNS, "Total"]
    frame = figures.frame[figures.frame["table"] == table]
    return list(dict.fromkeys(frame["column"]))


def figure(value: Any) -> float | str:
    """A figure as the Inputs sheet holds it: a number; or text, as a user may type it ('12,000'),
    for a workbook built with a mistake in it on purpose."""
    return value if isinstance(value, str) else float(value)


def write_inputs(book: Book, figures: Figures, empty: bool) -> Cells:
    """Every figure as published, blue, one block per published table. Returns the cell of each
    (table, row, column) of the blocks, blank ones included."""
    s = book.sheet("Inputs")
    ws = s.ws
    ws.set_column(0, 0, 58)
    ws.set_column(1, 1, 7)
    ws.set_column(2, 13, 11)
    ws.set_column(SOURCE_COLUMN, SOURCE_COLUMN, 70)
    s.label(0, 0, "Inputs: the LLR STP (November 2016) as published", "title")
    s.label(1, 0, "Blue: figures as published (brackets are negative). A blank cell was blank in the table; '-' was printed as nil. "
                  "Totals the document states are inputs too: the Checks sheet compares them with the line items.", "note")
    cells: Cells = {}
    row = 3
    for table in figures.tables():
        part = figures.frame[figures.frame["table"] == table]
        s.label(row, 0, TABLE_TITLES.get(table, table), "heading")
        row += 1
        write_block = _narrative_block if table == "narrative" else _table_block
        row = write_block(s, figures, table, part, row, empty, cells) + 1
    ws.freeze_panes(3, 1)
    return cells


def _narrative_block(s: Sheet, figures: Figures, table: str, part: Any, row: int, empty: bool, cells: Cells) -> int:
    """The figures the text states, one a row (figure, units, value, source). Returns the next row."""
    s.label(row, 0, "Figure", "rowhead")
    s.label(row, 1, "Units", "colhead")
    s.label(row, 2, "Value", "colhead")
    s.label(row, SOURCE_COLUMN, "Source", "rowhead")
    row += 1
    for rec in part.itertuples():
        s.label(row, 0, f"{rec.row}: {rec.column}")
        s.label(row, 1, rec.units, "source")
        s.value(row, 2, None if empty else figure(rec.value), rec.units)
        s.label(row, SOURCE_COLUMN, rec.source + (f" ({rec.note})" if rec.note else ""), "source")
        cells[(table, rec.row, rec.column)] = s.ref(row, 2)
        row += 1
    return row


def _table_block(s: Sheet, figures: Figures, table: str, part: Any, row: int, empty: bool, cells: Cells) -> int:
    """A published table as printed: its rows and columns, a blank where it was blank. Returns the
    next row."""
    cols = columns(figures, table)
    s.label(row, 0, "£000" if set(part["units"]) == {"£000"} else "", "rowhead")
    s.label(row, 1, "Units", "colhead")
    for j, c in enumerate(cols):
        s.label(row, 2 + j, c, "colhead")
    s.label(row, SOURCE_COLUMN, "Source", "rowhead")
    row += 1
    for r in figures.rows(table):
        recs = part[part["row"] == r]
        units = recs["units"].iloc[0]
        s.label(row, 0, r, "label")
        s.label(row, 1, units, "source")
        for j, c in enumerate(cols):
            hit = recs[recs["column"] == c]
            if len(hit):
                s.value(row, 2 + j, None if empty else figure(hit["value"].iloc[0]), units)
            else:
                s.values[(row, 2 + j)] = None  # blank as published
            cells[(table, r, c)] = s.ref(row, 2 + j)
        notes = "; ".join(n for n in dict.fromkeys(recs["note"]) if n)
        s.label(row, SOURCE_COLUMN, f"{TABLE_TITLES.get(table, table)} / {r}" + (f" ({notes})" if notes else ""), "source")
        row += 1
    return row

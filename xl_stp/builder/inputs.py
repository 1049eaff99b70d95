"""The Inputs sheet of the template: every figure a footprint types, blue on a pale fill, in blocks
with room for a realistic plan (see :mod:`~xl_stp.builder.footprint` for the capacities).

Blocks, top to bottom: the plan (footprint name, title, first plan year, the units tables are
rounded to); each capital programme (name, the funding waterfall it goes through, its schemes by
plan year with disposals and the totals as stated); each funding waterfall (£m: spend before the
plan, approved to date, internally funded, disposal proceeds and each funding source by year, the
requirements as stated); the names of the funding sources; the summary of total requirement as
stated; STF investment lines; closing the gap (the 'do nothing' gap by sector, strands with their
capital charges, savings lines, investment, STF funding); totals the plan states. A footprint
changes only these cells: every title and label on the other sheets is a formula over them.

:func:`write_inputs` returns the cell of every input key (and of the year headings,
``key("year", ...)``), blank ones included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from .arithmetic import Named, Ref, year_label, year_label_formula
from .book import Book, Sheet
from .footprint import (
    FUNDING_COLUMNS,
    PLAN_YEARS,
    PROGRAMMES,
    SAVINGS_LINES,
    SCHEMES,
    SECTORS,
    SOURCES,
    STF_LINES,
    STRANDS,
    WATERFALLS,
    Footprint,
    Key,
    key,
)

#: Column of the Inputs sheet holding each row's source.
SOURCE_COLUMN = 14
#: Columns (0-based) of the plan years in capital, STF, savings and gap blocks, and in funding blocks.
PLAN_COL, FUNDING_COL = 2, 2
#: Where the funding waterfall's columns start: prior years, base year, then the plan years.
FUNDING_OFFSET = {c: FUNDING_COL + i for i, c in enumerate(FUNDING_COLUMNS)}

Cells = dict[Key, str]


@dataclass
class InputsWriter:
    book: Book
    sheet: Sheet
    fp: Footprint
    cells: Cells = field(default_factory=dict)
    row: int = 3
    sources_top: int = 0  # the row of the funding sources' heading (the waterfalls' rows show their names)

    def put(self, k: Key, col: int, units: str, row: int | None = None) -> str:
        """The input ``k`` at (row, col): its value as typed (blank if none), blue."""
        row = self.row if row is None else row
        entry = self.fp.entries.get(k)
        value = None if entry is None else entry.value
        self.sheet.value(row, col, value if isinstance(value, str) or value is None else float(value), units)
        self.cells[k] = self.sheet.ref(row, col)
        return self.cells[k]

    def source(self, keys: Sequence[Key], note: str = "") -> None:
        """The source column of the current row: where its figures come from, or a note."""
        found = [e.source for k in keys if (e := self.fp.entries.get(k)) is not None and e.source]
        text = "; ".join(dict.fromkeys(found)) or note
        if text:
            self.sheet.label(self.row, SOURCE_COLUMN, text, "source")

    def heading(self, text: str, note: str = "") -> None:
        self.sheet.label(self.row, 0, text, "heading")
        if note:
            self.sheet.label(self.row, SOURCE_COLUMN, note, "note")
        self.row += 1

    def year(self, which: Any) -> Ref:
        return Ref(self.cells[key("year", which)])

    def column_heads(self, first: str, heads: Sequence[Any], start: int = PLAN_COL) -> None:
        """A row of column headings: text, or a year (``("year", y)``) as a link to the year row."""
        s = self.sheet
        s.label(self.row, 0, first, "rowhead")
        s.label(self.row, 1, "Units", "colhead")
        for j, h in enumerate(heads):
            if isinstance(h, tuple):
                s.text(self.row, start + j, [self.year(h[1])], "colhead")
            else:
                s.label(self.row, start + j, h, "colhead")
        s.label(self.row, SOURCE_COLUMN, "Source / note", "rowhead")
        self.row += 1


def write_inputs(book: Book, fp: Footprint) -> InputsWriter:
    """The Inputs sheet's template blocks (a footprint's own extras may follow, from ``.row``)."""
    s = book.sheet("Inputs")
    ws = s.ws
    ws.set_column(0, 0, 52)
    ws.set_column(1, 1, 6)
    ws.set_column(2, 13, 11)
    ws.set_column(SOURCE_COLUMN, SOURCE_COLUMN, 70)
    w = InputsWriter(book, s, fp)
    plan_block(w)
    s.text(0, 0, ["Inputs: ", Ref(book.names["plan_title"])], "title")
    s.label(1, 0, "Blue on a pale fill: figures as the plan states them (brackets are negative; type disposals and "
                  "funding sources in brackets). Totals the plan states are inputs too: the Checks sheet compares them "
                  "with the line items. Leave rows you do not need blank.", "note")
    for p in range(1, PROGRAMMES + 1):
        programme_block(w, p)
    w.sources_top = w.row
    sources_block(w)
    for k in range(1, WATERFALLS + 1):
        waterfall_block(w, k)
    requirement_block(w)
    stf_block(w)
    gap_block(w)
    savings_block(w)
    stated_block(w)
    ws.freeze_panes(3, 1)
    return w


def plan_block(w: InputsWriter) -> None:
    """The footprint's names, the first plan year (the year row every heading links to) and the
    units the tables are rounded to; defined names for the ones other sheets use."""
    s, book = w.sheet, w.book
    w.heading("The plan")
    rows = [("Footprint (short name, used in titles: 'Total <footprint> DH capital requirement')", "footprint", "text"),
            ("Plan (title of the workbook)", "title", "text"),
            ("Description (on the Cover)", "description", "text"),
            ("First plan year (2017/18; the base year is the year before)", "first year", "text"),
            ("Tables in £000: figures rounded to", "unit £000", "£000"),
            ("Tables in £m: figures rounded to", "unit £m", "£m")]
    for label, name, units in rows:
        s.label(w.row, 0, label)
        w.put(key("plan", name), PLAN_COL, "£000" if name == "unit £000" else "£m" if name == "unit £m" else "text")
        w.source([key("plan", name)])
        w.row += 1
    footprint, title = w.cells[key("plan", "footprint")], w.cells[key("plan", "title")]
    s.label(w.row, 0, "Shown in titles as (footprint; plan)", "note")
    s.text(w.row, PLAN_COL, [Named(footprint, "STP")])
    s.text(w.row, PLAN_COL + 1, [Named(title, "STP plan")])
    book.define("footprint", s.ref(w.row, PLAN_COL))
    book.define("plan_title", s.ref(w.row, PLAN_COL + 1))
    book.define("unit_thousands", w.cells[key("plan", "unit £000")])
    book.define("unit_millions", w.cells[key("plan", "unit £m")])
    w.row += 1
    year_row(w)
    w.row += 1


def year_row(w: InputsWriter) -> None:
    """The years: prior years, the base year and each plan year, worked out from the first plan year."""
    s = w.sheet
    first = w.cells[key("plan", "first year")]
    s.label(w.row, 0, "Years (worked out from the first plan year)", "note")
    s.label(w.row, FUNDING_OFFSET["prior"], "Prior years", "colhead")
    w.cells[key("year", "prior")] = s.ref(w.row, FUNDING_OFFSET["prior"])
    for which, offset in (("base", -1), *((y, y) for y in range(PLAN_YEARS))):
        col = FUNDING_OFFSET[which]
        s.formula(w.row, col, year_label_formula(first, offset), year_label(w.book.excel_value(first), offset), "colhead")
        w.cells[key("year", which)] = s.ref(w.row, col)
    w.row += 1


def programme_block(w: InputsWriter, p: int) -> None:
    """A capital programme (£000): its name and waterfall, its schemes, the totals as stated."""
    s = w.sheet
    w.heading(f"Capital programme {p} (£000)", "Schemes by plan year; disposal proceeds in brackets; Total as stated")
    for label, field_ in (("Programme name", "name"), ("Funded through (the name of a funding waterfall below)", "waterfall")):
        s.label(w.row, 0, label)
        w.put(key("programme", p, field_), PLAN_COL, "text")
        w.source([key("programme", p, field_)])
        w.row += 1
    w.column_heads("Scheme", [*(("year", y) for y in range(PLAN_YEARS)), "Disposals", "Total (as stated)"])
    columns = [*range(PLAN_YEARS), "disposals", "total"]
    for sc in range(1, SCHEMES + 1):
        w.put(key("scheme", p, sc, "name"), 0, "text")
        s.label(w.row, 1, "£000", "source")
        keys = [key("scheme", p, sc, c) for c in columns]
        for j, k in enumerate(keys):
            w.put(k, PLAN_COL + j, "£000")
        w.source(keys)
        w.row += 1
    s.label(w.row, 0, "Total, as stated", "status")
    keys = [key("programme", p, "stated", c) for c in columns]
    for j, k in enumerate(keys):
        w.put(k, PLAN_COL + j, "£000")
    w.source(keys)
    w.row += 1
    for label, field_ in (("Summary: total capital cost, as stated", "cost"),
                          ("Summary: disposal proceeds, as stated", "summary disposals"),
                          ("Summary: net capital requirement, as stated", "net")):
        s.label(w.row, 0, label)
        w.put(key("programme", p, "stated", field_), PLAN_COL, "£000")
        w.source([key("programme", p, "stated", field_)])
        w.row += 1
    w.row += 1


#: The rows of a funding waterfall on Inputs, with their labels (sources are labelled by name).
WATERFALL_LABELS = {"programme": "Capital programme", "approved": "Approved to date", "internal": "Internally funded",
                    "external": "External funding requirement, as stated", "disposals": "Disposal proceeds",
                    "dh": "DH funding requirement, as stated"}
WATERFALL_NOTES = {"programme": "Prior years and the base year: spend before the plan (used); plan years and Total: "
                                "as stated (the plan years come from the capital programmes)",
                   "external": "checked against the waterfall", "dh": "checked against the waterfall"}


def waterfall_block(w: InputsWriter, k: int) -> None:
    """A funding waterfall (£m): its name, then a row a step, by prior years, base year and plan year."""
    s = w.sheet
    w.heading(f"Funding waterfall {k} (£m)", "Programmes name it in 'Funded through'; deductions and sources in brackets")
    s.label(w.row, 0, "Waterfall name")
    w.put(key("waterfall", k, "name"), PLAN_COL, "text")
    w.source([key("waterfall", k, "name")])
    w.row += 1
    w.column_heads("£m", [("year", c) if c != "prior" else "Prior years" for c in FUNDING_COLUMNS] + ["Total (as stated)"],
                   FUNDING_COL)
    for r in ("programme", "approved", "internal", "external", "disposals", *range(1, SOURCES + 1), "dh"):
        if isinstance(r, int):
            s.text(w.row, 0, [Ref(s.ref(w.sources_top + r, PLAN_COL))])
        else:
            s.label(w.row, 0, WATERFALL_LABELS[r], "status" if r in ("external", "dh") else "label")
        s.label(w.row, 1, "£m", "source")
        keys = [key("waterfall", k, r, c) for c in (*FUNDING_COLUMNS, "total")]
        for j, kk in enumerate(keys):
            w.put(kk, FUNDING_COL + j, "£m")
        w.source(keys, WATERFALL_NOTES.get(r, ""))
        w.row += 1
    w.row += 1


def sources_block(w: InputsWriter) -> None:
    """The names of the funding sources, besides approved, internal and disposals (every waterfall
    has a row for each)."""
    s = w.sheet
    w.heading("Funding sources (names; each waterfall has a row for each)")
    for k in range(1, SOURCES + 1):
        s.label(w.row, 0, f"Funding source {k}")
        w.put(key("source", k), PLAN_COL, "text")
        w.source([key("source", k)])
        w.row += 1
    w.row += 1


def requirement_block(w: InputsWriter) -> None:
    """The summary of total requirement as the plan states it (£m): each waterfall's external
    requirement, alternative funding and DH requirement, and the total DH capital requirement."""
    s = w.sheet
    w.heading("Summary of total requirement, as stated (£m)")
    w.column_heads("£m", ["Total"])
    names = {"external": "external funding requirement", "alternative": "alternative funding (in brackets)",
             "dh": "DH funding requirement"}
    for k in range(1, WATERFALLS + 1):
        name = Named(w.cells[key("waterfall", k, "name")], f"Waterfall {k}")
        for field_, words in names.items():
            s.text(w.row, 0, [name, f": {words}"])
            s.label(w.row, 1, "£m", "source")
            w.put(key("requirement", k, field_), PLAN_COL, "£m")
            w.source([key("requirement", k, field_)])
            w.row += 1
    s.text(w.row, 0, ["Total ", Ref(w.book.names["footprint"]), " DH capital requirement"], "status")
    s.label(w.row, 1, "£m", "source")
    w.put(key("requirement", "total"), PLAN_COL, "£m")
    w.source([key("requirement", "total")])
    w.row += 2


def stf_block(w: InputsWriter) -> None:
    """STF investment (£000): each line by plan year, non-recurrent then recurrent, and the totals
    as stated."""
    s = w.sheet
    w.heading("STF investment (£000)", "Non-recurrent and recurrent investment by plan year; totals as stated")
    years = [("year", y) for y in range(PLAN_YEARS)]
    s.label(w.row, PLAN_COL, "Non-recurrent", "status")
    s.label(w.row, PLAN_COL + PLAN_YEARS, "Recurrent", "status")
    s.label(w.row, PLAN_COL + 2 * PLAN_YEARS, "Total (as stated)", "status")
    w.row += 1
    w.column_heads("Line of investment", years * 3)
    for line in range(1, STF_LINES + 1):
        w.put(key("stf", line, "name"), 0, "text")
        s.label(w.row, 1, "£000", "source")
        keys = [key("stf", line, kind, y) for kind in ("nr", "r") for y in range(PLAN_YEARS)]
        for j, k in enumerate(keys):
            w.put(k, PLAN_COL + j, "£000")
        w.source(keys)
        w.row += 1
    s.label(w.row, 0, "Total, as stated", "status")
    keys = [key("stf stated", kind, y) for kind in ("nr", "r") for y in range(PLAN_YEARS)]
    for j, k in enumerate(keys):
        w.put(k, PLAN_COL + j, "£000")
    w.source(keys)
    w.row += 1
    s.label(w.row, 0, "Total non-recurrent and recurrent, as stated", "status")
    keys = [key("stf stated", "total", y) for y in range(PLAN_YEARS)]
    for j, k in enumerate(keys):
        w.put(k, PLAN_COL + 2 * PLAN_YEARS + j, "£000")
    w.source(keys)
    w.row += 2


def _year_rows(w: InputsWriter, rows: Sequence[tuple[Any, Key]], name_key=None, status: bool = False) -> None:
    """Rows of figures by plan year (£m): a label (or a name typed in column A) and a figure a year."""
    s = w.sheet
    for label, prefix in rows:
        if name_key is not None:
            w.put(name_key(label), 0, "text")
        else:
            s.label(w.row, 0, label, "status" if status else "label")
        s.label(w.row, 1, "£m", "source")
        keys = [(*prefix, y) for y in range(PLAN_YEARS)]
        for j, k in enumerate(keys):
            w.put(k, PLAN_COL + j, "£m")
        w.source(keys)
        w.row += 1


def gap_block(w: InputsWriter) -> None:
    """Closing the gap (£m), every plan year: the 'do nothing' gap by sector, investment (the plan's
    extra running cost), STF funding, and the 'do nothing' and residual gaps as stated."""
    years = [("year", y) for y in range(PLAN_YEARS)]
    w.heading("Closing the gap (£m)", "Recurrent figures of each plan year; savings by strand below")
    w.column_heads("'Do nothing' gap by sector (name)", years)
    _year_rows(w, [(sc, key("sector", sc)) for sc in range(1, SECTORS + 1)], lambda sc: key("sector", sc, "name"))
    _year_rows(w, [("'Do nothing' gap, as stated", key("gap", "do nothing stated"))], status=True)
    _year_rows(w, [("Investment (extra running cost of the plan)", key("gap", "investment")),
                   ("STF funding", key("gap", "stf"))])
    _year_rows(w, [("Residual gap, as stated", key("gap", "residual stated"))], status=True)
    w.row += 1


def savings_block(w: InputsWriter) -> None:
    """Savings (£m): the strands (name, capital charges by plan year, net savings of the final plan
    year as stated) and the savings lines (gross savings by plan year, the strand they belong to)."""
    s = w.sheet
    years = [("year", y) for y in range(PLAN_YEARS)]
    final = w.year(PLAN_YEARS - 1)
    w.heading("Savings by strand (£m)", "Capital charges reduce a strand's gross savings; the net savings of the "
                                         "final plan year as the plan heads the strand")
    w.column_heads("Strand (name): capital charges", years)
    s.text(w.row - 1, PLAN_COL + PLAN_YEARS, ["Net savings ", final, ", as stated"], "colhead")
    for k in range(1, STRANDS + 1):
        w.put(key("strand", k, "name"), 0, "text")
        s.label(w.row, 1, "£m", "source")
        keys = [key("strand", k, "charges", y) for y in range(PLAN_YEARS)] + [key("strand", k, "stated")]
        for j, kk in enumerate(keys):
            w.put(kk, PLAN_COL + j, "£m")
        w.source(keys)
        w.row += 1
    w.row += 1
    w.column_heads("Savings line (name): gross savings", [*years, "Strand (its name)"])
    for line in range(1, SAVINGS_LINES + 1):
        w.put(key("line", line, "name"), 0, "text")
        s.label(w.row, 1, "£m", "source")
        keys = [key("line", line, y) for y in range(PLAN_YEARS)]
        for j, k in enumerate(keys):
            w.put(k, PLAN_COL + j, "£m")
        w.put(key("line", line, "strand"), PLAN_COL + PLAN_YEARS, "text")
        w.source([*keys, key("line", line, "name")])
        w.row += 1
    w.row += 1


#: Single figures the plan states, checked against the tables: (key, label parts).
STATED = (("capital", ["Total capital of the programmes, as stated"]),
          ("savings", ["Total net savings ", "final", ", as stated"]),
          ("stf requested", ["STF investment requested over the plan, as stated"]))


def stated_block(w: InputsWriter) -> None:
    """Totals the plan states (£m), each with the unit it is rounded to (blank: worked out from the
    figure as typed: 350 is rounded to 1, 98.4 to 0.1)."""
    s = w.sheet
    w.heading("Totals the plan states (£m)")
    w.column_heads("Figure", ["Value", "Rounded to"])
    final = w.year(PLAN_YEARS - 1)
    for name, parts in STATED:
        s.text(w.row, 0, [final if p == "final" else p for p in parts])
        s.label(w.row, 1, "£m", "source")
        w.put(key("stated", name), PLAN_COL, "£m")
        w.put(key("stated", name, "unit"), PLAN_COL + 1, "£m")
        w.source([key("stated", name)])
        w.row += 1
    w.row += 1

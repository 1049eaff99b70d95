"""The Outputs sheet: the published tables rebuilt, each figure a link to its calculation, negatives
in brackets; and the data of the three charts (:mod:`xl_stp.builder.charts`).

A figure that reads a cell of an STP_* block is guarded by the block's error check
(``=IF(err_acute_funding>0,NA(),Calculations!$B$58)``): ``#N/A`` while the block reports a problem,
never the part-figure or the 0 a failed block would otherwise give.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..llr.figures import (ACUTE_FUNDING_COLUMNS, ACUTE_SOURCES, CAPITAL_COLUMNS, CAPITAL_TABLES, COMMUNITY_FUNDING_COLUMNS,
                           COMMUNITY_SOURCES, YEARS, Figures, item_rows)
from .book import Book, Sheet, excel_arithmetic, excel_link, is_number
from .calculations import BRIDGE_STEPS

TITLE = "LLR STP 2016: capital, funding and savings"
#: The first and the last step of the gap bridge: bars from zero, not floating.
BRIDGE_ENDS = ("Do nothing gap", "Residual gap")
ACUTE_DH, COMMUNITY_DH = "funding|acute|DH funding requirement", "funding|community|DH funding requirement"
#: Each funding source of the whole LLR programme and the waterfall rows it brings together.
FUNDING_SOURCES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Internally funded", (("acute", "Internally funded"),)),
    ("Disposals", (("acute", "Site disposal"), ("community", "Disposals"))),
    ("PF2", (("acute", "PF2"),)), ("Welcome Centre", (("acute", "Welcome Centre"),)),
    ("Commercially funded", (("community", "Commercially funded"),)),
    ("Local authority funded", (("community", "Local Authority funded"),)),
)

Row = tuple[str, Sequence[str | None], bool]  # label, a quantity key per column (None: blank), a total row?


@dataclass(frozen=True)
class Layout:
    """Where the charts' data are on the Outputs sheet (0-based rows, first and last)."""

    capital: tuple[int, int]
    funding: tuple[int, int]
    funding_columns: int
    bridge: tuple[int, int]


@dataclass
class Outputs:
    book: Book
    sheet: Sheet
    calc: dict[str, str]
    row: int = 4

    def heading(self, title: str, cols: Sequence[str] = ()) -> None:
        """A table's title and, on the next row, its column headings."""
        self.sheet.label(self.row, 0, title, "heading")
        self.row += 1
        if cols:
            for j, col in enumerate(cols):
                self.sheet.label(self.row, 1 + j, col, "colhead")
            self.row += 1

    def link(self, r: int, col: int, key: str, fmt: str) -> None:
        cell = self.calc[key]
        self.sheet.guarded(r, col, cell, [cell], excel_link(self.book.excel_value(cell)), fmt)

    def table(self, title: str, cols: Sequence[str], rows: Sequence[Row], fmt: str) -> int:
        """A table of links to calculated cells; returns its first data row."""
        self.heading(title, cols)
        start = self.row
        for label, keys, total in rows:
            self.sheet.label(self.row, 0, label, "status" if total else "label")
            for j, key in enumerate(keys):
                if key:
                    self.link(self.row, 1 + j, key, f"total:{fmt}" if total else fmt)
            self.row += 1
        self.row += 1
        return start

    def sum_of(self, r: int, col: int, cells: Sequence[str], fmt: str, negate: bool = False) -> None:
        """``=a+b+...`` of calculated cells (``=-(a+b+...)`` when negated, a deduction shown as a magnitude)."""
        text = "+".join(cells)
        value = excel_arithmetic([(self.book.excel_value(x), -1.0 if negate else 1.0) for x in cells])
        self.sheet.guarded(r, col, f"-({text})" if negate else text, cells, value, fmt)


def write_outputs(book: Book, s: Sheet, figures: Figures, calc: dict[str, str], master: str) -> Layout:
    """The Outputs sheet (created earlier, for the tab order). Returns where the charts' data are."""
    ws = s.ws
    ws.set_column(0, 0, 50)
    ws.set_column(1, 8, 11)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.hide_gridlines(2)
    s.label(0, 0, TITLE, "title")
    s.label(1, 0, "£000 unless stated; negatives in brackets. Rebuilt from the line items (Calculations).", "note")
    s.label(2, 0, "Master check (Checks sheet)", "status")
    s.formula(2, 1, f"={master}", book.excel_value(master), "status")
    o = Outputs(book, s, calc)
    capital = capital_tables(o, figures)
    funding_tables(o)
    total_requirement(o)
    funding = funding_by_source(o)
    stf_table(o)
    bridge = gap_bridge(o)
    return Layout(capital, funding, len(COMMUNITY_FUNDING_COLUMNS), bridge)


def capital_tables(o: Outputs, figures: Figures) -> tuple[int, int]:
    """Each capital programme table (£000), then capital cost by programme and year for the chart
    (returns its rows)."""
    for t, (_total, _summary, title) in CAPITAL_TABLES.items():
        rows: list[Row] = [(r, [f"capital|{t}|{r}|{c}" for c in CAPITAL_COLUMNS], False) for r in item_rows(figures, t)]
        rows.append(("Total", [f"capital|{t}|TOTAL|{c}" for c in CAPITAL_COLUMNS], True))
        o.table(f"{title} (£000)", CAPITAL_COLUMNS, rows, "£000")
    start = o.table("Capital cost by programme and year (£000)", [*YEARS, "Total"],
                    [(CAPITAL_TABLES[t][2], [*(f"capital|{t}|TOTAL|{y}" for y in YEARS), f"capital|{t}|cost"], False)
                     for t in CAPITAL_TABLES], "£000")
    return start, start + len(CAPITAL_TABLES) - 1


def funding_tables(o: Outputs) -> None:
    """The acute and community funding waterfalls (£m), requirements as totals."""
    requirements = ("External funding requirement", "DH funding requirement")
    acute = ["Programme", "Approved to date", "Internally funded", "External funding requirement", *ACUTE_SOURCES,
             "DH funding requirement"]
    cols = [*ACUTE_FUNDING_COLUMNS, "Total"]
    o.table("Acute configuration funding (£m)", cols,
            [(lab, [f"funding|acute|{lab}|{c}" for c in cols], lab in requirements) for lab in acute], "£m")
    community = ["External funding requirement", *COMMUNITY_SOURCES, "DH funding requirement"]
    cols = [*COMMUNITY_FUNDING_COLUMNS, "Total"]
    o.table("Community configuration funding (£m)", cols,
            [(lab, [f"funding|community|{lab}|{c}" for c in cols], lab in requirements) for lab in community], "£m")


def total_requirement(o: Outputs) -> None:
    """Summary of total requirement (£m), from the line items."""
    calc = o.calc
    o.heading("Summary of total requirement (£m)")
    entries = [
        ("UHL reconfiguration", [calc["funding|acute|External funding requirement|Total"]], False),
        ("Less: alternative funding", [calc[f"funding|acute|{x}|Total"] for x in ACUTE_SOURCES], False),
        ("Total UHL DH requirement", [calc[f"{ACUTE_DH}|Total"]], True),
        ("Community hospital & CAMHS reconfiguration", [calc["funding|community|External funding requirement|Total"]], False),
        ("Less: alternative funding", [calc[f"funding|community|{x}|Total"] for x in COMMUNITY_SOURCES], False),
        ("Total community DH requirement", [calc[f"{COMMUNITY_DH}|Total"]], True),
        ("Total LLR DH capital requirement", [calc[f"{ACUTE_DH}|Total"], calc[f"{COMMUNITY_DH}|Total"]], True),
    ]
    for label, cells, total in entries:
        o.sheet.label(o.row, 0, label, "status" if total else "label")
        o.sum_of(o.row, 1, cells, "total:£m" if total else "£m")
        o.row += 1
    o.row += 1


def funding_by_source(o: Outputs) -> tuple[int, int]:
    """Funding of the whole LLR programme by source (£m), for the chart: magnitudes, the DH residual
    signed. Returns its rows."""
    s, cols = o.sheet, COMMUNITY_FUNDING_COLUMNS
    o.heading("LLR capital funding by source, 2016/17 to 2020/21 (£m)", cols)
    start = o.row
    for label, parts in FUNDING_SOURCES:
        s.label(o.row, 0, label)
        for j, c in enumerate(cols):
            o.sum_of(o.row, 1 + j, [o.calc[f"funding|{p}|{lab}|{c}"] for p, lab in parts], "£m", negate=True)
        o.row += 1
    s.label(o.row, 0, "DH funding requirement (residual; negative = over-funded)", "status")
    for j, c in enumerate(cols):
        o.sum_of(o.row, 1 + j, [o.calc[f"{ACUTE_DH}|{c}"], o.calc[f"{COMMUNITY_DH}|{c}"]], "total:£m")
    end = o.row
    o.row += 2
    return start, end


def stf_table(o: Outputs) -> None:
    o.table("STF investment (£000)", [*YEARS, "Total"],
            [(lab, [f"stf|{k}|{y}" for y in (*YEARS, "Total")], k == "Total") for k, lab in
             (("Non Rec", "Non-recurrent"), ("Rec", "Recurrent"), ("Total", "Total"))], "£000")


def gap_bridge(o: Outputs) -> tuple[int, int]:
    """Gap bridge to 2020/21 (£m): each step, and the floating bar that draws it (an invisible base,
    then the part above and the part below zero). Returns its rows."""
    s = o.sheet
    o.heading("Gap bridge to 2020/21 (£m)", ["£m", "base", "up", "down"])
    start = o.row
    running = 0.0
    earlier = None  # the error value of a step so far, if any (the bars after it give it too)
    for lab in BRIDGE_STEPS:
        cell = o.calc[f"bridge|{lab}"]
        s.label(o.row, 0, lab.replace(" - ", ": "), "status" if lab in BRIDGE_ENDS else "label")
        v = s.guarded(o.row, 1, cell, [cell], excel_link(o.book.excel_value(cell)), "total:£m" if lab == "Residual gap" else "£m")
        own = None if is_number(v) else excel_arithmetic([(v, 1.0)])
        error = own if lab in BRIDGE_ENDS else (earlier or own)  # an end's bar reads its own step only
        earlier = earlier or own
        v = 0.0 if own else v
        before, after = (0.0, v) if lab in BRIDGE_ENDS else (running, running + v)
        running = after if lab != "Residual gap" else running
        r = o.row + 1  # the Excel row number
        if lab in BRIDGE_ENDS:
            lo_f, hi_f = f"MIN(0,B{r})", f"MAX(0,B{r})"
        else:
            prev = f"SUM(B${start + 1}:B{r - 1})"
            lo_f, hi_f = f"MIN({prev},{prev}+B{r})", f"MAX({prev},{prev}+B{r})"
        for j, (formula, value) in enumerate(zip(bar_formulas(lo_f, hi_f), floating_bar(before, after)), start=2):
            s.formula(o.row, j, formula, error or value, "£m")
        o.row += 1
    end = o.row - 1
    o.row += 1
    return start, end


def floating_bar(before: float, after: float) -> tuple[float, float, float]:
    """A bar from ``before`` to ``after`` as a stacked column: (invisible base, part above zero,
    part below zero)."""
    lo, hi = min(before, after), max(before, after)
    base = lo if lo >= 0 else (hi if hi <= 0 else 0.0)
    up = hi - lo if lo >= 0 else (0.0 if hi <= 0 else hi)
    down = 0.0 if lo >= 0 else (lo - hi if hi <= 0 else lo)
    return base, up, down


def bar_formulas(lo_f: str, hi_f: str) -> tuple[str, str, str]:
    """:func:`floating_bar` as Excel formulas over the bar's low and high ends."""
    return (f"=IF({lo_f}>=0,{lo_f},IF({hi_f}<=0,{hi_f},0))",
            f"=IF({lo_f}>=0,{hi_f}-{lo_f},IF({hi_f}<=0,0,{hi_f}))",
            f"=IF({lo_f}>=0,0,IF({hi_f}<=0,{lo_f}-{hi_f},{lo_f}))")

"""The Outputs sheet: the board-paper tables, each figure a link to its calculation, negatives in
brackets; the data of the three charts (:mod:`xl_stp.builder.charts`); and the checks summary.

Every title and label is a formula over the Inputs, and a row whose programme, waterfall or strand
is not used stays blank. A figure that reads a cell of an STP_* block is guarded by the block's
error check (``=IF(err_funding_1>0,NA(),Calculations!$B$58)``): ``#N/A`` while the block reports a
problem, never the part-figure or the 0 a failed block would otherwise give.

Pages (landscape, one page wide): capital, total requirement and funding by source; the funding
waterfalls; STF, savings and the gap bridge; the charts; the checks summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from xlsxwriter.utility import xl_col_to_name

from .arithmetic import Named, Ref, any_blank, blank_test
from .book import Book, Sheet, excel_arithmetic, excel_link, excel_sum, is_number
from .calculations import SPLIT_LABELS
from .footprint import (
    BRIDGE_STEPS,
    FUNDING_COLUMNS,
    PLAN_YEARS,
    PROGRAMMES,
    SOURCES,
    SPLIT_ROWS,
    STRANDS,
    WATERFALLS,
    key,
    step_key,
)
from .inputs import Cells

#: The first and the last step of the gap bridge: bars from zero, not floating.
BRIDGE_ENDS = ("do nothing", "residual")
#: Columns the tables use (A: labels; the chart helpers sit beyond, outside the print area).
LAST_COLUMN, HELPER = 8, 10


@dataclass
class Outputs:
    book: Book
    sheet: Sheet
    inputs: Cells
    calc: dict[str, str]
    row: int = 4
    breaks: list[int] = field(default_factory=list)
    capital: tuple[int, int] = (0, 0)  # the rows of the charts' data
    funding: tuple[int, int] = (0, 0)
    bridge: tuple[int, int] = (0, 0)
    white: Any = None  # the format that whitens an unused table

    def inp(self, *k: Any) -> str:
        return self.inputs[key(*k)]

    def heading(self, title: Sequence[str] | str, cols: Sequence[Any] = ()) -> None:
        """A table's title and, on the next row, its column headings (text, or ``("year", y)``)."""
        s = self.sheet
        if isinstance(title, str):
            s.label(self.row, 0, title, "heading")
        else:
            s.text(self.row, 0, title, "heading")
        self.row += 1
        if cols:
            for j, col in enumerate(cols):
                if isinstance(col, tuple):
                    s.text(self.row, 1 + j, [Ref(self.inp("year", col[1]))], "colhead")
                else:
                    s.label(self.row, 1 + j, col, "colhead")
            self.row += 1

    def page_break(self) -> None:
        self.breaks.append(self.row)

    def whiten(self, first: int, last: int, name: str) -> None:
        """While the name cell is blank (an unused waterfall), rows first..last show no rules or
        fills either (conditional formatting), so that an unused table leaves white space only."""
        if self.white is None:
            self.white = self.book.wb.add_format({"bg_color": "#FFFFFF", "top": 1, "top_color": "#FFFFFF",
                                                  "bottom": 1, "bottom_color": "#FFFFFF"})
        self.sheet.ws.conditional_format(first, 0, last, LAST_COLUMN, {"type": "formula", "criteria": f'={name}=""',
                                                                      "format": self.white})

    def sum_of(self, r: int, col: int, cells: Sequence[str], fmt: str, negate: bool = False) -> Any:
        """``=a+b+...`` of calculated cells (``=-(a+b+...)`` when negated, a deduction shown as a magnitude)."""
        text = "+".join(cells)
        value = excel_arithmetic([(excel_link(self.book.excel_value(x)), -1.0 if negate else 1.0) for x in cells])
        return self.sheet.guarded(r, col, f"-({text})" if negate else text, cells, value, fmt)


YEARS = [("year", y) for y in range(PLAN_YEARS)]
FUNDING_HEADS = ["Prior years", ("year", "base"), *YEARS, "Total"]


def write_outputs(book: Book, s: Sheet, inputs: Cells, calc: dict[str, str], master: str) -> Outputs:
    """The Outputs sheet's tables (created earlier, for the tab order). Returns its writer; the
    checks summary follows (:func:`checks_summary`) once the checks exist."""
    ws = s.ws
    ws.set_column(0, 0, 62)
    ws.set_column(1, LAST_COLUMN, 10)
    ws.set_column(HELPER, HELPER + 6, 12)
    ws.hide_gridlines(2)
    s.text(0, 0, [Ref(book.names["plan_title"]), ": capital, funding and savings"], "title")
    s.label(1, 0, "£000 unless stated; negatives in brackets; '-' nil. Rebuilt from the line items (Calculations).", "note")
    s.label(2, 0, "Master check (Checks sheet)", "status")
    s.formula(2, 1, f"={master}", book.excel_value(master), "status")
    o = Outputs(book, s, inputs, calc)
    o.capital = capital_table(o)
    total_requirement(o)
    o.funding = funding_by_source(o)
    o.page_break()
    for w in range(1, WATERFALLS + 1):
        waterfall_table(o, w)
    o.page_break()
    stf_table(o)
    savings_table(o)
    o.bridge = gap_bridge(o)
    return o


def capital_table(o: Outputs) -> tuple[int, int]:
    """Capital cost by programme and plan year (£000), with disposals and the net requirement."""
    s = o.sheet
    o.heading("Capital cost by programme and year (£000)", [*YEARS, "Total", "Disposals", "Net"])
    start = o.row
    columns = [*range(PLAN_YEARS), "cost", "disposals", "total"]
    for p in range(1, PROGRAMMES + 1):
        name = o.inp("programme", p, "name")
        s.text(o.row, 0, [Named(name, " ")])  # a chart's series name: blank, not LibreOffice's "Row 13"
        for j, col in enumerate(columns):
            cell = o.calc[f"capital|{p}|cost"] if col == "cost" else o.calc[f"capital|{p}|TOTAL|{col}"]
            s.link(o.row, 1 + j, cell, "£000", unless=name)
        o.row += 1
    s.label(o.row, 0, "Total capital", "status")
    for j in range(len(columns)):
        cells = [o.calc[f"capital|{p}|cost"] if columns[j] == "cost" else o.calc[f"capital|{p}|TOTAL|{columns[j]}"]
                 for p in range(1, PROGRAMMES + 1)]
        o.sum_of(o.row, 1 + j, cells, "total:£000")
    o.row += 2
    return start, start + PROGRAMMES - 1


def waterfall_name(o: Outputs, w: int) -> str:
    return o.inp("waterfall", w, "name")


def total_requirement(o: Outputs) -> None:
    """Summary of total requirement (£m): each waterfall's external requirement, alternative funding
    and DH requirement; the footprint's total DH capital requirement."""
    s = o.sheet
    o.heading("Summary of total requirement (£m)", ["£m"])
    for w in range(1, WATERFALLS + 1):
        name = waterfall_name(o, w)
        o.whiten(o.row, o.row + 2, name)
        sources = [o.calc[f"funding|{w}|{r}|total"] for r in ("disposals", *range(1, SOURCES + 1))]
        for parts, cells, total in (([Ref(name), " external funding requirement"], [o.calc[f"funding|{w}|external|total"]], False),
                                    (["Less: alternative funding"], sources, False),
                                    (["Total ", Ref(name), " DH requirement"], [o.calc[f"funding|{w}|dh|total"]], True)):
            s.text(o.row, 0, parts, "status" if total else "label", unless=name)
            _blank_unless(o, o.row, 1, cells, "total:£m" if total else "£m", name)
            o.row += 1
    s.text(o.row, 0, ["Total ", Ref(o.book.names["footprint"]), " DH capital requirement"], "status")
    o.sum_of(o.row, 1, [o.calc[f"funding|{w}|dh|total"] for w in range(1, WATERFALLS + 1)], "total:£m")
    o.row += 2


def _blank_unless(o: Outputs, r: int, col: int, cells: Sequence[str], fmt: str, name: str, negate: bool = False) -> None:
    """``a+b+...`` of calculated cells, blank while the name cell is blank."""
    text = "+".join(cells)
    value = excel_arithmetic([(excel_link(o.book.excel_value(x)), -1.0 if negate else 1.0) for x in cells])
    if any_blank(name, o.book.excel_value):
        value = ""
    expression = f"-({text})" if negate else text
    o.sheet.guarded(r, col, f'IF({blank_test(name)},"",{expression})', cells, value, fmt)


def funding_by_source(o: Outputs) -> tuple[int, int]:
    """Capital funding by source, all waterfalls (£m): what funds the capital programme (magnitudes)
    and the DH requirement (the residual, signed), adding up to the programme."""
    s = o.sheet
    o.heading("Capital funding by source, all waterfalls (£m)", FUNDING_HEADS)
    start = o.row
    rows = [("approved", ["Approved to date"]), ("internal", ["Internally funded"]), ("disposals", ["Disposal proceeds"]),
            *((k, [Named(o.inp("source", k), " ")]) for k in range(1, SOURCES + 1))]  # a series name: blank if unused
    for r, label in rows:
        s.text(o.row, 0, label)
        for j, col in enumerate((*FUNDING_COLUMNS, "total")):
            cells = [o.calc[f"funding|{w}|{r}|{col}"] for w in range(1, WATERFALLS + 1)]
            if isinstance(r, int):  # a funding source: blank while it has no name
                _blank_unless(o, o.row, 1 + j, cells, "£m", o.inp("source", r), negate=True)
            else:
                o.sum_of(o.row, 1 + j, cells, "£m", negate=True)
        o.row += 1
    s.label(o.row, 0, "DH funding requirement (residual; negative: over-funded)", "status")
    for j, col in enumerate((*FUNDING_COLUMNS, "total")):
        o.sum_of(o.row, 1 + j, [o.calc[f"funding|{w}|dh|{col}"] for w in range(1, WATERFALLS + 1)], "£m")
    end = o.row
    o.row += 1
    s.label(o.row, 0, "Capital programme of the waterfalls", "status")
    for j, col in enumerate((*FUNDING_COLUMNS, "total")):
        cells = s.rng(start, 1 + j, end, 1 + j)
        s.formula(o.row, 1 + j, f"=SUM({cells.split('!')[1]})",
                  excel_sum([s.values.get((r, 1 + j)) for r in range(start, end + 1)]), "total:£m")
    o.row += 1
    outside_waterfalls(o)
    o.row += 1
    return start, end


def outside_waterfalls(o: Outputs) -> None:
    """The capital of programmes funded through no waterfall (£m, plan years): all programmes'
    cost less the waterfalls' linked programme, so that the table reconciles to capital by programme."""
    s = o.sheet
    s.label(o.row, 0, "Capital of programmes in no funding waterfall (plan years)", "note")
    totals = []
    for j, col in enumerate((*FUNDING_COLUMNS, "total")):
        if col in ("prior", "base"):
            continue
        if col == "total":
            s.row_sum(o.row, 1, len(FUNDING_COLUMNS), "£m")
            continue
        costs = [o.calc[f"capital|{p}|TOTAL|{col}"] for p in range(1, PROGRAMMES + 1)]
        linked = [o.calc[f"programme|{w}|{col}"] for w in range(1, WATERFALLS + 1)]
        terms = [(excel_link(o.book.excel_value(c)), 0.001) for c in costs] + \
                [(excel_link(o.book.excel_value(c)), -1.0) for c in linked]
        value = excel_arithmetic(terms)
        value = round(value, 6) + 0.0 if is_number(value) else value  # no (0.0) from float noise
        totals.append(s.guarded(o.row, 1 + j, f"ROUND(({'+'.join(costs)})/1000-({'+'.join(linked)}),6)", costs + linked,
                                value, "£m", also=[f"err_capital_{p}" for p in range(1, PROGRAMMES + 1)]))
    o.row += 1


def waterfall_table(o: Outputs, w: int) -> None:
    """A funding waterfall (£m) as the plan prints it: programme, deductions, requirements, sources."""
    s = o.sheet
    name = waterfall_name(o, w)
    o.whiten(o.row, o.row + 1 + len(SPLIT_ROWS), name)
    s.text(o.row, 0, [Ref(name), " funding (£m)"], "heading", unless=name)
    o.row += 1
    for j, col in enumerate(FUNDING_HEADS):
        if isinstance(col, tuple):
            s.text(o.row, 1 + j, [Ref(o.inp("year", col[1]))], "colhead", unless=name)
        else:
            s.text(o.row, 1 + j, [col], "colhead", unless=name)
    o.row += 1
    for r in SPLIT_ROWS:
        label = [Ref(o.inp("source", r))] if isinstance(r, int) else [SPLIT_LABELS[r]]
        total = r in ("external", "dh")
        unless = (name, o.inp("source", r)) if isinstance(r, int) else name
        s.text(o.row, 0, label, "status" if total else "label", unless=unless)
        for j, col in enumerate((*FUNDING_COLUMNS, "total")):
            s.link(o.row, 1 + j, o.calc[f"funding|{w}|{r}|{col}"], "total:£m" if total else "£m", unless=unless)
        o.row += 1
    o.row += 1


def stf_table(o: Outputs) -> None:
    s = o.sheet
    o.heading("STF investment (£000)", [*YEARS, "Total"])
    for kind, label in (("nr", "Non-recurrent"), ("r", "Recurrent"), ("total", "Total")):
        s.label(o.row, 0, label, "status" if kind == "total" else "label")
        for j, col in enumerate((*range(PLAN_YEARS), "total")):
            s.link(o.row, 1 + j, o.calc[f"stf|{kind}|{col}"], "total:£000" if kind == "total" else "£000")
        o.row += 1
    o.row += 1


def savings_table(o: Outputs) -> None:
    """Net savings by strand and plan year (£m), and all strands."""
    s = o.sheet
    o.heading("Net savings by strand (£m)", [*YEARS, "Total"])
    for k in range(1, STRANDS + 1):
        name = o.inp("strand", k, "name")
        s.text(o.row, 0, [Ref(name)])
        for j, col in enumerate((*range(PLAN_YEARS), "total")):
            s.link(o.row, 1 + j, o.calc[f"savings|{k}|{col}"], "£m", unless=name)
        o.row += 1
    s.label(o.row, 0, "All strands", "status")
    for y in range(PLAN_YEARS):
        s.link(o.row, 1 + y, o.calc[f"savings|all|{y}"], "total:£m")
    s.row_sum(o.row, 1, PLAN_YEARS, "total:£m")
    o.row += 2


def gap_bridge(o: Outputs) -> tuple[int, int]:
    """The gap bridge of every plan year (£m); beside it, outside the print area, the floating bars
    that draw the final year's bridge (an invisible base, the part above and the part below zero).
    Returns its rows."""
    s = o.sheet
    o.heading("Gap bridge by plan year (£m)", YEARS)
    final = PLAN_YEARS - 1
    s.text(o.row - 1, HELPER, ["Chart: ", Ref(o.inp("year", final))], "status")  # outside the print area
    for j, h in enumerate(("base", "up", "down")):
        s.label(o.row - 1, HELPER + 1 + j, h, "status")
    start = o.row
    labels = {"do nothing": "'Do nothing' gap", "investment": "Investment", "stf": "STF funding", "residual": "Residual gap"}
    running, earlier = 0.0, None
    for step in BRIDGE_STEPS:
        name = o.inp("strand", step[1], "name") if isinstance(step, tuple) else None
        if name:
            s.text(o.row, 0, [Ref(name)])
        else:
            s.label(o.row, 0, labels[step], "status" if step in BRIDGE_ENDS else "label")
        for y in range(PLAN_YEARS):
            cell = o.calc[f"bridge|{step_key(step)}|{y}"]
            v = s.link(o.row, 1 + y, cell, "total:£m" if step == "residual" else "£m", unless=name)
        s.text(o.row, HELPER, [Ref(s.ref(o.row, 0))])
        running, earlier = bridge_bar(o, step, v, start, running, earlier)
        o.row += 1
    end = o.row - 1
    compact_bars(o, start, end)
    o.row += 1
    return start, end


#: Where the chart's bars are, without the unused strands: each step's kind and its order among
#: the steps in use, then the steps in that order: label, base, and the part above and below zero
#: of each kind of bar (the 'do nothing' and residual gaps, what closes the gap, what widens it).
KIND, ORDER, COMPACT = HELPER + 4, HELPER + 5, HELPER + 7
KINDS = ("gap", "closes", "widens")
SERIES = ("base", *(f"{part} {kind}" for part in ("up", "down") for kind in KINDS))


def compact_bars(o: Outputs, start: int, end: int) -> None:
    """The final year's bars without the rows of unused strands (their label is blank), in order, so
    that the chart shows no empty places between steps: each row's kind (a gap, or a step that
    closes or widens it, by its sign) and its number among the used rows (``MAX`` of those above,
    plus one); then the n-th used row by ``INDEX``/``MATCH``, its bar split by kind, one series a
    kind and side of zero, so that each keeps its colour whatever the plan."""
    s = o.sheet
    final, label_col = xl_col_to_name(PLAN_YEARS), xl_col_to_name(HELPER)
    for j, h in enumerate(("kind", "order", "", "step", *SERIES)):
        if h:
            s.label(start - 1, KIND + j, h, "status")
    used = []
    for i, r in enumerate(range(start, end + 1)):
        if BRIDGE_STEPS[i] in BRIDGE_ENDS:
            s.label(r, KIND, "gap")
        else:
            v = s.values.get((r, PLAN_YEARS))
            s.formula(r, KIND, f'=IF(N({final}{r + 1})<0,"closes","widens")',
                      "closes" if is_number(v) and v < 0 else "widens", "label")
        label = s.values.get((r, HELPER))
        if label not in (None, ""):
            used.append(r)
        order = xl_col_to_name(ORDER)
        s.formula(r, ORDER, f'=IF({label_col}{r + 1}="","",MAX({order}${start}:{order}{r})+1)',
                  float(len(used)) if label not in (None, "") else "", "count")
    for k, r in enumerate(range(start, end + 1), start=1):
        _compact_row(o, k, r, start, end, used[k - 1] if k <= len(used) else None)


def _compact_row(o: Outputs, k: int, r: int, start: int, end: int, source: int | None) -> None:
    """The k-th used step of the bridge: its label, base, and its bar in the series of its kind."""
    s = o.sheet
    rng = lambda col: f"${xl_col_to_name(col)}${start + 1}:${xl_col_to_name(col)}${end + 1}"  # noqa: E731
    at = f"MATCH({k},{rng(ORDER)},0)"
    value = lambda col: s.values.get((source, col)) if source is not None else ""  # noqa: E731
    s.formula(r, COMPACT, f'=IFERROR(INDEX({rng(HELPER)},{at}),"")', value(HELPER), "label")
    s.formula(r, COMPACT + 1, f'=IFERROR(INDEX({rng(HELPER + 1)},{at}),"")', value(HELPER + 1), "£m")
    kind = value(KIND)
    for j, name in enumerate(SERIES[1:], start=2):
        part, which = name.split(" ")
        bar = value(HELPER + (2 if part == "up" else 3))
        v = "" if source is None else (bar if kind == which else 0.0)
        s.formula(r, COMPACT + j, f'=IFERROR(IF(INDEX({rng(KIND)},{at})="{which}",INDEX({rng(HELPER + (2 if part == "up" else 3))},'
                                  f'{at}),0),"")', v, "£m")


def bridge_bar(o: Outputs, step: Any, v: Any, start: int, running: float, earlier: Any) -> tuple[float, Any]:
    """The final year's floating bar of one step of the bridge (three cells beside the table)."""
    s = o.sheet
    own = None if is_number(v) or v == "" else excel_arithmetic([(v, 1.0)])
    error = own if step in BRIDGE_ENDS else (earlier or own)  # an end's bar reads its own step only
    earlier = earlier or own
    v = 0.0 if own or v == "" else v
    before, after = (0.0, v) if step in BRIDGE_ENDS else (running, running + v)
    running = after if step != "residual" else running
    r, col = o.row + 1, xl_col_to_name(PLAN_YEARS)  # the final plan year's column
    if step in BRIDGE_ENDS:
        lo_f, hi_f = f"MIN(0,N({col}{r}))", f"MAX(0,N({col}{r}))"
    else:
        prev = f"SUM({col}${start + 1}:{col}{r - 1})"
        lo_f, hi_f = f"MIN({prev},{prev}+N({col}{r}))", f"MAX({prev},{prev}+N({col}{r}))"
    for j, (formula, value) in enumerate(zip(bar_formulas(lo_f, hi_f), floating_bar(before, after)), start=HELPER + 1):
        s.formula(o.row, j, formula, error or value, "£m")
    return running, earlier


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

"""The Calculations sheet: the plan rebuilt from the Inputs with STP_* functions, SUMs and SUMIFs.

Every label is a formula over the Inputs (a scheme's row shows the scheme's name), so that the
template serves any footprint. Each calculated cell is recorded under its quantity key (the keys of
:func:`xl_stp.builder.footprint.quantities`), which the Outputs and Checks sheets link to.

Top to bottom: each capital programme (``=STP_CAPITAL_NET``), capital by programme and the count of
figures behind it, each waterfall's capital programme in £m (spend before the plan, then a SUMIF of
the programmes funded through it / 1000), each funding waterfall (``=STP_FUNDING_SPLIT``), STF
(``=STP_STF``), gross savings by strand (SUMIF of the savings lines), net savings
(``=STP_SAVINGS``), the gap bridge for every plan year (``=STP_GAP(..., TRUE)``), a footprint's
own calculations, then an error check per STP_* block (see :mod:`~xl_stp.builder.book`): totals
over a block are ``=IF(err_...>0,NA(),SUM(...))``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from .arithmetic import Named, Ref, excel_count, excel_sumif
from .book import Book, Sheet, excel_sum
from .footprint import (
    BRIDGE_STEPS,
    CAPITAL_COLUMNS,
    FUNDING_COLUMNS,
    PLAN_YEARS,
    PROGRAMMES,
    SAVINGS_LINES,
    SCHEMES,
    SECTORS,
    SOURCES,
    SPLIT_ROWS,
    STF_LINES,
    STRANDS,
    WATERFALLS,
    key,
    step_key,
)
from .inputs import Cells

#: The name of the cell counting the STP_* blocks that report a problem.
ERR_FUNCTIONS = "err_functions"
#: The status of a block's error check.
BLOCK_OK, BLOCK_PROBLEM = "ok", "reports a problem"
#: Labels of the rows STP_FUNDING_SPLIT spills (sources are labelled by their names).
SPLIT_LABELS = {"programme": "Programme", "approved": "Approved to date", "internal": "Internally funded",
                "external": "External funding requirement", "disposals": "Disposal proceeds",
                "dh": "DH funding requirement"}
CAPITAL_HEADS = {"disposals": "Disposals", "total": "Total"}


@dataclass(frozen=True)
class ErrorChecks:
    """Where the error checks are: the row (0-based) of each block's check, by its name, and the
    cell of the count of functions reporting a problem."""

    rows: dict[str, int]
    count: str


@dataclass
class Calc:
    book: Book
    sheet: Sheet
    inputs: Cells
    cells: dict[str, str] = field(default_factory=dict)  # quantity key -> cell
    row: int = 3
    row_of_programmes: int = 0  # the first row of capital by programme
    row_of_counts: int = 0  # the first row of the counts of figures behind each programme

    def inp(self, *k: Any) -> str:
        return self.inputs[key(*k)]

    def in_range(self, first: tuple, last: tuple) -> str:
        """The Inputs range from one input's cell to another's."""
        return f"{self.inputs[first]}:{self.inputs[last].split('!')[1]}"

    def heading(self, title: Sequence[str] | str, cols: Sequence[Any]) -> None:
        """A block's title (text, or parts of a text formula) and its column headings (text, or
        ``("year", y)``: a link to the year row of Inputs)."""
        s = self.sheet
        if isinstance(title, str):
            s.label(self.row, 0, title, "heading")
        else:
            s.text(self.row, 0, title, "heading")
        for j, col in enumerate(cols):
            if isinstance(col, tuple):
                s.text(self.row, 1 + j, [Ref(self.inp("year", col[1]))], "colhead")
            else:
                s.label(self.row, 1 + j, col, "colhead")
        self.row += 1

    def name_label(self, row: int, parts: Sequence[str], fmt: str = "label") -> None:
        self.sheet.text(row, 0, parts, fmt)


YEARS = [("year", y) for y in range(PLAN_YEARS)]
FUNDING_HEADS = ["Prior years", ("year", "base"), *YEARS, "Total"]


def write_calculations(book: Book, inputs: Cells, extra=None) -> tuple[Calc, ErrorChecks]:
    """The Calculations sheet (``extra(calc)`` adds a footprint's own calculations before the
    error checks). Returns it and where the error checks are."""
    s = book.sheet("Calculations")
    s.ws.set_column(0, 0, 52)
    s.ws.set_column(1, 10, 12)
    s.text(0, 0, ["Calculations: ", Ref(book.names["plan_title"]), ", rebuilt from the line items"], "title")
    s.label(1, 0, "Black: formulas. STP_* cells spill their whole result from the first cell; totals are ordinary "
                  "SUMs; labels come from the Inputs.", "note")
    c = Calc(book, s, inputs)
    for p in range(1, PROGRAMMES + 1):
        capital_programme(c, p)
    capital_by_programme(c)
    waterfall_programmes(c)
    for w in range(1, WATERFALLS + 1):
        funding_waterfall(c, w)
    stf_investment(c)
    strand_savings(c)
    gap_bridge(c)
    if extra is not None:
        extra(c)
    errors = error_checks(c)
    s.ws.freeze_panes(3, 1)
    return c, errors


def programme_name(c: Calc, p: int) -> Named:
    return Named(c.inp("programme", p, "name"), f"Capital programme {p}")


def capital_programme(c: Calc, p: int) -> None:
    """STP_CAPITAL_NET(costs, disposals) spills each plan year, Disposals and Total for each scheme
    and a total row; then the cost before disposals."""
    s = c.sheet
    c.heading([programme_name(c, p), " (£000): =STP_CAPITAL_NET"], [*YEARS, "Disposals", "Total"])
    costs = c.in_range(key("scheme", p, 1, 0), key("scheme", p, SCHEMES, PLAN_YEARS - 1))
    disposals = c.in_range(key("scheme", p, 1, "disposals"), key("scheme", p, SCHEMES, "disposals"))
    top = c.row
    s.udf(top, 1, "STP_CAPITAL_NET", [costs, disposals], "£000",
          check=(f"err_capital_{p}", [programme_name(c, p), ": STP_CAPITAL_NET"], (SCHEMES + 1, len(CAPITAL_COLUMNS))))
    for i, sc in enumerate([*range(1, SCHEMES + 1), "TOTAL"]):
        if sc == "TOTAL":
            s.label(top + i, 0, "Total", "status")
        else:
            c.name_label(top + i, [Ref(c.inp("scheme", p, sc, "name"))])
        for j, col in enumerate(CAPITAL_COLUMNS):
            c.cells[f"capital|{p}|{sc}|{col}"] = s.ref(top + i, 1 + j)
    total = top + SCHEMES
    c.row = total + 1
    s.label(c.row, 0, "Total capital cost (before disposals)")
    by_year = s.rng(total, 1, total, PLAN_YEARS)
    s.guarded(c.row, 1, f"SUM({by_year.split('!')[1]})", [by_year],
              excel_sum([s.values.get((total, 1 + j)) for j in range(PLAN_YEARS)]), "total:£000")
    c.cells[f"capital|{p}|cost"] = s.ref(c.row, 1)
    c.row += 2


#: Columns of the capital-by-programme table: each plan year, cost, disposals, net, the waterfall.
BY_PROGRAMME = [*range(PLAN_YEARS), "cost", "disposals", "total"]


def capital_by_programme(c: Calc) -> None:
    """Capital by programme (£000), with the waterfall each goes through; then how many figures
    were typed behind each (for the checks' rounding tolerances)."""
    s = c.sheet
    c.heading("Capital by programme (£000)", [*YEARS, "Cost", "Disposals", "Net", "Funded through"])
    c.row_of_programmes = c.row
    for p in range(1, PROGRAMMES + 1):
        c.name_label(c.row, [Ref(c.inp("programme", p, "name"))])
        for j, col in enumerate(BY_PROGRAMME):
            source = c.cells[f"capital|{p}|cost"] if col == "cost" else c.cells[f"capital|{p}|TOTAL|{col}"]
            s.link(c.row, 1 + j, source, "£000")
            c.cells[f"programme total|{p}|{col}"] = s.ref(c.row, 1 + j)
        s.text(c.row, 1 + len(BY_PROGRAMME), [Ref(c.inp("programme", p, "waterfall"))])
        c.cells[f"programme total|{p}|waterfall"] = s.ref(c.row, 1 + len(BY_PROGRAMME))
        c.row += 1
    c.row += 1
    c.heading("Figures typed behind each programme (count, for the rounding tolerances)", [*YEARS, "Disposals"])
    c.row_of_counts = c.row
    for p in range(1, PROGRAMMES + 1):
        c.name_label(c.row, [Ref(c.inp("programme", p, "name"))])
        for j, col in enumerate([*range(PLAN_YEARS), "disposals"]):
            cells = c.in_range(key("scheme", p, 1, col), key("scheme", p, SCHEMES, col))
            s.formula(c.row, 1 + j, f"=COUNT({cells})", excel_count(_column(c.book, cells)), "count")
            c.cells[f"entered|{p}|{col}"] = s.ref(c.row, 1 + j)
        c.row += 1
    c.row += 1


def _column(book: Book, cells: str) -> list[Any]:
    """A range's values in order (a blank as None)."""
    v = book.excel_value(cells)
    return [x for line in v for x in line] if isinstance(v, list) else [v]


def _sumif(c: Calc, name_cell: str, names: str, amounts: str, divide: float, row: int, col: int, fmt: str,
           also: Sequence[str] = ()) -> None:
    """``=IF(name="",0,SUMIF(names,name,amounts)/divide)`` (guarded by ``also``)."""
    s, book = c.sheet, c.book
    name = book.excel_value(name_cell)
    value = 0.0 if name in (None, "") else excel_sumif(_column(book, names), name, _column(book, amounts))
    if isinstance(value, float):
        value /= divide
    tail = "" if divide == 1 else f"/{divide:g}"
    s.guarded(row, col, f'IF({name_cell}="",0,SUMIF({names},{name_cell},{amounts}){tail})', [], value, fmt, also)


def waterfall_programmes(c: Calc) -> None:
    """Each waterfall's capital programme (£m): spend before the plan as typed, then the cost by plan
    year of the programmes funded through it (a SUMIF of capital by programme / 1000), with the
    programmes' disposals; then the count of figures behind each column. A programme whose table
    reports a problem shows #N/A in capital by programme, and SUMIF passes it on to the waterfalls
    it goes through (Excel, LibreOffice and the formulas package all do), never a part-figure."""
    s = c.sheet
    c.heading("Capital programme of each funding waterfall (£m): before the plan, then the programmes funded through it",
              [*FUNDING_HEADS, "Disposals"])
    first, last = c.row_of_programmes, c.row_of_programmes + PROGRAMMES - 1
    wf_col = 1 + len(BY_PROGRAMME)
    names = s.rng(first, wf_col, last, wf_col)
    for w in range(1, WATERFALLS + 1):
        name = c.inp("waterfall", w, "name")
        c.name_label(c.row, [Named(name, f"Waterfall {w}")])
        for j, col in enumerate(FUNDING_COLUMNS):
            if col in ("prior", "base"):
                s.link(c.row, 1 + j, c.inp("waterfall", w, "programme", col), "£m")
            else:
                _sumif(c, name, names, s.rng(first, 1 + col, last, 1 + col), 1000, c.row, 1 + j, "£m")
            c.cells[f"programme|{w}|{col}"] = s.ref(c.row, 1 + j)
        s.row_sum(c.row, 1, len(FUNDING_COLUMNS), "total:£m")
        c.cells[f"programme|{w}|total"] = s.ref(c.row, 1 + len(FUNDING_COLUMNS))
        disposals = s.rng(first, 1 + BY_PROGRAMME.index("disposals"), last, 1 + BY_PROGRAMME.index("disposals"))
        _sumif(c, name, names, disposals, 1000, c.row, 2 + len(FUNDING_COLUMNS), "£m")
        c.cells[f"programme|{w}|disposals"] = s.ref(c.row, 2 + len(FUNDING_COLUMNS))
        c.row += 1
    c.row += 1
    waterfall_counts(c, names)


def waterfall_counts(c: Calc, names: str) -> None:
    """The count of figures typed behind each waterfall's programme, by column (for the tolerances)."""
    s = c.sheet
    c.heading("Figures typed behind each waterfall's programme (count)", [*FUNDING_HEADS, "Disposals"])
    first, last = c.row_of_counts, c.row_of_counts + PROGRAMMES - 1
    for w in range(1, WATERFALLS + 1):
        name = c.inp("waterfall", w, "name")
        c.name_label(c.row, [Named(name, f"Waterfall {w}")])
        for j, col in enumerate([*FUNDING_COLUMNS, "total", "disposals"]):
            if col in ("prior", "base"):
                cell = c.inp("waterfall", w, "programme", col)
                s.formula(c.row, 1 + j, f"=COUNT({cell})", excel_count(_column(c.book, cell)), "count")
            elif col == "total":
                s.row_sum(c.row, 1, len(FUNDING_COLUMNS), "total:count")
            else:
                at = PLAN_YEARS if col == "disposals" else col
                _sumif(c, name, names, s.rng(first, 1 + at, last, 1 + at), 1, c.row, 1 + j, "count")
            c.cells[f"programme entered|{w}|{col}"] = s.ref(c.row, 1 + j)
        c.row += 1
    c.row += 1


def funding_waterfall(c: Calc, w: int) -> None:
    """STP_FUNDING_SPLIT(programme, sources, , approved, internal) (£m): programme, approved,
    internal, external requirement, disposal proceeds, each source, DH requirement; each row's total."""
    s = c.sheet
    name = Named(c.inp("waterfall", w, "name"), f"Waterfall {w}")
    c.heading([name, " funding (£m): =STP_FUNDING_SPLIT"], FUNDING_HEADS)
    row = lambda r: c.in_range(key("waterfall", w, r, "prior"), key("waterfall", w, r, PLAN_YEARS - 1))  # noqa: E731
    programme = f"{c.cells[f'programme|{w}|prior']}:{c.cells[f'programme|{w}|{PLAN_YEARS - 1}'].split('!')[1]}"
    sources = c.in_range(key("waterfall", w, "disposals", "prior"), key("waterfall", w, SOURCES, PLAN_YEARS - 1))
    top = c.row
    s.udf(top, 1, "STP_FUNDING_SPLIT", [programme, sources, None, row("approved"), row("internal")], "£m",
          check=(f"err_funding_{w}", [name, " funding: STP_FUNDING_SPLIT"], (len(SPLIT_ROWS), len(FUNDING_COLUMNS))))
    for i, r in enumerate(SPLIT_ROWS):
        label = [Ref(c.inp("source", r))] if isinstance(r, int) else None
        if label:
            c.name_label(top + i, label)
        else:
            s.label(top + i, 0, SPLIT_LABELS[r], "status" if r in ("external", "dh") else "label")
        for j, col in enumerate(FUNDING_COLUMNS):
            c.cells[f"funding|{w}|{r}|{col}"] = s.ref(top + i, 1 + j)
        s.row_sum(top + i, 1, len(FUNDING_COLUMNS), "total:£m")
        c.cells[f"funding|{w}|{r}|total"] = s.ref(top + i, 1 + len(FUNDING_COLUMNS))
    c.row = top + len(SPLIT_ROWS) + 1


def stf_investment(c: Calc) -> None:
    """STF investment (£000): =STP_STF(non-recurrent, recurrent) and each row's total."""
    s = c.sheet
    c.heading("STF investment (£000): =STP_STF", [*YEARS, "Total"])
    nr = c.in_range(key("stf", 1, "nr", 0), key("stf", STF_LINES, "nr", PLAN_YEARS - 1))
    r = c.in_range(key("stf", 1, "r", 0), key("stf", STF_LINES, "r", PLAN_YEARS - 1))
    top = c.row
    s.udf(top, 1, "STP_STF", [nr, r], "£000", check=("err_stf", "STF investment: STP_STF", (3, PLAN_YEARS)))
    for i, (kind, label) in enumerate((("nr", "Non-recurrent"), ("r", "Recurrent"), ("total", "Total"))):
        s.label(top + i, 0, label, "status" if kind == "total" else "label")
        for y in range(PLAN_YEARS):
            c.cells[f"stf|{kind}|{y}"] = s.ref(top + i, 1 + y)
        s.row_sum(top + i, 1, PLAN_YEARS, "total:£000")
        c.cells[f"stf|{kind}|total"] = s.ref(top + i, 1 + PLAN_YEARS)
    c.row = top + 4


def strand_name(c: Calc, k: int) -> Named:
    return Named(c.inp("strand", k, "name"), f"Strand {k}")


def strand_savings(c: Calc) -> None:
    """Gross savings by strand (a SUMIF of the savings lines), then =STP_SAVINGS(gross, , capital
    charges): net savings by strand and plan year, each strand's total and all strands by year."""
    s = c.sheet
    c.heading("Gross savings by strand (£m): the savings lines of each strand", YEARS)
    names = c.in_range(key("line", 1, "strand"), key("line", SAVINGS_LINES, "strand"))
    top = c.row
    for k in range(1, STRANDS + 1):
        c.name_label(c.row, [Ref(c.inp("strand", k, "name"))])
        for y in range(PLAN_YEARS):
            _sumif(c, c.inp("strand", k, "name"), names, c.in_range(key("line", 1, y), key("line", SAVINGS_LINES, y)), 1,
                   c.row, 1 + y, "£m")
            c.cells[f"gross|{k}|{y}"] = s.ref(c.row, 1 + y)
        c.row += 1
    lines_total(c, top)
    c.heading("Net savings by strand (£m): =STP_SAVINGS(gross, , capital charges)", [*YEARS, "Total"])
    gross = s.rng(top, 1, top + STRANDS - 1, PLAN_YEARS)
    charges = c.in_range(key("strand", 1, "charges", 0), key("strand", STRANDS, "charges", PLAN_YEARS - 1))
    top = c.row
    s.udf(top, 1, "STP_SAVINGS", [gross, None, charges], "£m",
          check=("err_savings", "Net savings by strand: STP_SAVINGS", (STRANDS, PLAN_YEARS)))
    for k in range(1, STRANDS + 1):
        c.name_label(top + k - 1, [Ref(c.inp("strand", k, "name"))])
        for y in range(PLAN_YEARS):
            c.cells[f"savings|{k}|{y}"] = s.ref(top + k - 1, 1 + y)
        s.row_sum(top + k - 1, 1, PLAN_YEARS, "total:£m")
        c.cells[f"savings|{k}|total"] = s.ref(top + k - 1, 1 + PLAN_YEARS)
    c.row = top + STRANDS
    s.label(c.row, 0, "All strands", "status")
    for y in range(PLAN_YEARS):
        cells = s.rng(top, 1 + y, top + STRANDS - 1, 1 + y)
        s.guarded(c.row, 1 + y, f"SUM({cells.split('!')[1]})", [cells],
                  excel_sum([s.values.get((top + i, 1 + y)) for i in range(STRANDS)]), "total:£m")
        c.cells[f"savings|all|{y}"] = s.ref(c.row, 1 + y)
    c.row += 2


def lines_total(c: Calc, top: int) -> None:
    """The savings lines in total and as allocated to the strands, by plan year (a line whose strand
    is not one of the strands is in the first but not the second: a check compares them)."""
    s = c.sheet
    for label, what in (("All savings lines", "lines"), ("Allocated to the strands", "allocated")):
        s.label(c.row, 0, label, "status")
        for y in range(PLAN_YEARS):
            if what == "lines":
                cells = c.in_range(key("line", 1, y), key("line", SAVINGS_LINES, y))
            else:
                cells = s.rng(top, 1 + y, top + STRANDS - 1, 1 + y)
            s.formula(c.row, 1 + y, f"=SUM({cells})", excel_sum(_column(c.book, cells)), "total:£m")
            c.cells[f"{what}|{y}"] = s.ref(c.row, 1 + y)
        c.row += 1
    c.row += 1


def gap_bridge(c: Calc) -> None:
    """=STP_GAP(do nothing by sector, net savings by strand, investment, STF, TRUE) (£m): the bridge
    for every plan year, from the 'do nothing' gap through each strand, investment and STF funding
    to the residual gap."""
    s = c.sheet
    c.heading("Gap bridge by plan year (£m): =STP_GAP(..., TRUE)", YEARS)
    do_nothing = c.in_range(key("sector", 1, 0), key("sector", SECTORS, PLAN_YEARS - 1))
    nets = f"{c.cells['savings|1|0']}:{c.cells[f'savings|{STRANDS}|{PLAN_YEARS - 1}'].split('!')[1]}"
    investment = c.in_range(key("gap", "investment", 0), key("gap", "investment", PLAN_YEARS - 1))
    stf = c.in_range(key("gap", "stf", 0), key("gap", "stf", PLAN_YEARS - 1))
    top = c.row
    s.udf(top, 1, "STP_GAP", [do_nothing, nets, investment, stf, "TRUE"], "£m",
          check=("err_gap_bridge", "Gap bridge by plan year: STP_GAP", (len(BRIDGE_STEPS), PLAN_YEARS)))
    labels = {"do nothing": "'Do nothing' gap", "investment": "Investment", "stf": "STF funding", "residual": "Residual gap"}
    for i, step in enumerate(BRIDGE_STEPS):
        if isinstance(step, tuple):
            c.name_label(top + i, [strand_name(c, step[1])])
        else:
            s.label(top + i, 0, labels[step], "status" if step in ("do nothing", "residual") else "label")
        for y in range(PLAN_YEARS):
            c.cells[f"bridge|{step_key(step)}|{y}"] = s.ref(top + i, 1 + y)
    c.row = top + len(BRIDGE_STEPS) + 1


def error_checks(c: Calc) -> ErrorChecks:
    """FAST-style error checks, a row for each STP_* block: the cells of its spilled table that do
    not hold a number (an error, an #STP! message, a blank where it did not spill), named
    ``err_...`` for the totals that guard on it; a status; the block's cell. Then the count of
    functions reporting a problem (``err_functions``)."""
    s, book = c.sheet, c.book
    c.heading("Error checks: each STP_* block holds only numbers", ["Not a number", "Status", "Cell"])
    s.label(c.row, 0, "Not a number: the cells of the spilled table holding an error, an #STP! message or a blank. "
                      "Totals over a block reporting a problem show #N/A.", "note")
    c.row += 1
    first, rows = c.row, {}
    for block in book.blocks.values():
        rows[block.name] = c.row
        if block.parts:
            s.text(c.row, 0, block.parts)
        else:
            s.label(c.row, 0, block.label)
        s.formula(c.row, 1, f"=ROWS({block.cells})*COLUMNS({block.cells})-COUNT({block.cells})", block.problems, "count")
        book.wb.define_name(block.name, f"={s.ref(c.row, 1)}")
        flag = s.ref(c.row, 1, absolute=False, sheet=False)
        s.formula(c.row, 2, f'=IF({flag}>0,"{BLOCK_PROBLEM}","{BLOCK_OK}")', BLOCK_PROBLEM if block.problems else BLOCK_OK,
                  "status")
        s.label(c.row, 3, block.anchor)
        c.row += 1
    last = c.row - 1
    s.label(c.row, 0, "Functions reporting a problem", "status")
    flags = s.rng(first, 1, last, 1).split("!")[1]
    s.formula(c.row, 1, f'=COUNTIF({flags},">0")', sum(1 for b in book.blocks.values() if b.problems), "total:count")
    book.wb.define_name(ERR_FUNCTIONS, f"={s.ref(c.row, 1)}")
    count = s.ref(c.row, 1)
    c.row += 2
    return ErrorChecks(rows, count)

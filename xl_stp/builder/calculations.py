"""The Calculations sheet: the plan rebuilt from its line items with STP_* functions and SUMs.

Each calculated cell is recorded under its quantity key (the keys of
:attr:`xl_stp.llr.plan.LLRPlan.quantities`), which the Outputs and Checks sheets link to.

Each STP_* call is a block (:class:`~xl_stp.builder.book.Block`) with an error check: the sheet
ends with them, a row each — the cells of the block that do not hold a number, a status and the
block's cell — and the count of functions reporting a problem (``err_functions``). Totals over a
block are ``=IF(err_...>0,NA(),SUM(...))``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..llr.figures import (ACUTE_FUNDING_COLUMNS, ACUTE_SOURCES, CAPITAL_COLUMNS, CAPITAL_TABLES, COMMUNITY_FUNDING_COLUMNS,
                           COMMUNITY_SCHEMES, COMMUNITY_SOURCES, STF_COLUMNS, STRAND_2, STRANDS, YEARS, Figures,
                           has_disposals, item_rows, stf_lines)
from .book import Book, Sheet, excel_arithmetic, excel_sum
from .inputs import Cells

#: The steps of the gap bridge as STP_GAP spills them (one row each).
BRIDGE_STEPS: tuple[str, ...] = ("Do nothing gap", *STRANDS, "Investment", "STF funding", "Residual gap")
#: The name of the cell counting the STP_* blocks that report a problem.
ERR_FUNCTIONS = "err_functions"
#: The status of a block's error check.
BLOCK_OK, BLOCK_PROBLEM = "ok", "reports a problem"
#: Capital programme table -> the suffix of its block's error-check name and the block's short name.
CAPITAL_BLOCK = {"acute_reconfiguration": ("acute", "Acute reconfiguration"),
                 "community_hospitals": ("community_hospitals", "Community hospitals"),
                 "hinckley": ("hinckley", "Hinckley"), "oakham_lutterworth": ("oakham_lutterworth", "Oakham and Lutterworth"),
                 "epr": ("epr", "EPR"), "other_schemes": ("other_schemes", "Other schemes")}


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

    def in_range(self, table: str, rows: Sequence[str], columns: Sequence[str]) -> str:
        """The Inputs range covering these rows x columns (they are laid out contiguously)."""
        first, last = self.inputs[(table, rows[0], columns[0])], self.inputs[(table, rows[-1], columns[-1])]
        return f"{first}:{last.split('!')[1]}"

    def heading(self, text: str, cols: Sequence[str]) -> None:
        self.sheet.label(self.row, 0, text, "heading")
        for j, col in enumerate(cols):
            self.sheet.label(self.row, 1 + j, col, "colhead")
        self.row += 1

    def label_and_total(self, top: int, labels: Sequence[str], cols: Sequence[str], prefix: str, units: str) -> None:
        """Name the rows of a spilled block, record each cell as ``prefix|label|column`` and total
        each row with a SUM in the next column (``prefix|label|Total``)."""
        s, n = self.sheet, len(cols)
        for i, lab in enumerate(labels):
            s.label(top + i, 0, lab)
            for j, col in enumerate(cols):
                self.cells[f"{prefix}|{lab}|{col}"] = s.ref(top + i, 1 + j)
            s.row_sum(top + i, 1, n, f"total:{units}")
            self.cells[f"{prefix}|{lab}|Total"] = s.ref(top + i, 1 + n)
        self.row = top + len(labels) + 1


def write_calculations(book: Book, figures: Figures, inputs: Cells) -> tuple[dict[str, str], ErrorChecks]:
    """The Calculations sheet. Returns the cell of each quantity key and where the error checks are."""
    s = book.sheet("Calculations")
    s.ws.set_column(0, 0, 52)
    s.ws.set_column(1, 9, 12)
    s.label(0, 0, "Calculations: the plan rebuilt from its line items", "title")
    s.label(1, 0, "Black: formulas. STP_* cells spill their whole result from the first cell; totals are ordinary SUMs.", "note")
    c = Calc(book, s, inputs)
    for table in CAPITAL_TABLES:
        capital_programme(c, figures, table)
    acute_funding(c)
    community_funding(c)
    stf_investment(c, figures)
    savings(c)
    gap_bridge(c)
    acute_appraisal(c)
    errors = error_checks(c)
    s.ws.freeze_panes(3, 1)
    return c.cells, errors


def capital_programme(c: Calc, figures: Figures, table: str) -> None:
    """STP_CAPITAL_NET(costs, disposals) spills years, Disposals, Total; then the cost before disposals."""
    s, title = c.sheet, CAPITAL_TABLES[table][2]
    rows = item_rows(figures, table)
    c.heading(f"{title} (£000): =STP_CAPITAL_NET", CAPITAL_COLUMNS)
    costs = c.in_range(table, rows, YEARS)
    disp = c.in_range(table, rows, ["Disposals"]) if has_disposals(table) else "0"
    top = c.row
    s.udf(top, 1, "STP_CAPITAL_NET", [costs, disp], "£000",
          check=(f"err_capital_{CAPITAL_BLOCK[table][0]}", f"{CAPITAL_BLOCK[table][1]} capital: STP_CAPITAL_NET",
                 (len(rows) + 1, len(CAPITAL_COLUMNS))))
    for i, r in enumerate([*rows, "TOTAL"]):
        s.label(top + i, 0, r if r != "TOTAL" else "Total", "label")
        for j, col in enumerate(CAPITAL_COLUMNS):
            c.cells[f"capital|{table}|{r}|{col}"] = s.ref(top + i, 1 + j)
    total = top + len(rows)
    c.row = total + 1
    s.label(c.row, 0, "Total capital cost (before disposals)")
    by_year = s.rng(total, 1, total, len(YEARS))
    s.guarded(c.row, 1, f"SUM({by_year.split('!')[1]})", [by_year],
              excel_sum([s.values.get((total, 1 + j)) for j in range(len(YEARS))]), "total:£000")
    c.cells[f"capital|{table}|cost"] = s.ref(c.row, 1)
    c.row += 2


def acute_funding(c: Calc) -> None:
    """Acute funding waterfall (£m): programme, approved, internal, sources -> DH requirement."""
    a, cols = "acute_funding", list(ACUTE_FUNDING_COLUMNS)
    labels = ["Programme", "Approved to date", "Internally funded", "External funding requirement", *ACUTE_SOURCES,
              "DH funding requirement"]
    c.heading("Acute configuration funding (£m): =STP_FUNDING_SPLIT", [*ACUTE_FUNDING_COLUMNS, "Total"])
    top = c.row
    c.sheet.udf(top, 1, "STP_FUNDING_SPLIT", [c.in_range(a, ["Reconfiguration programme"], cols),
                                              c.in_range(a, list(ACUTE_SOURCES), cols), None,
                                              c.in_range(a, ["Approved to date"], cols),
                                              c.in_range(a, ["Internally funded"], cols)], "£m",
                check=("err_acute_funding", "Acute configuration funding: STP_FUNDING_SPLIT", (len(labels), len(cols))))
    c.label_and_total(top, labels, cols, "funding|acute", "£m")


def community_funding(c: Calc) -> None:
    """Community funding waterfall (£m): scheme rows and source rows."""
    cm, cols = "community_funding", list(COMMUNITY_FUNDING_COLUMNS)
    labels = ["External funding requirement", *COMMUNITY_SOURCES, "DH funding requirement"]
    c.heading("Community configuration funding (£m): =STP_FUNDING_SPLIT", [*COMMUNITY_FUNDING_COLUMNS, "Total"])
    top = c.row
    c.sheet.udf(top, 1, "STP_FUNDING_SPLIT", [c.in_range(cm, list(COMMUNITY_SCHEMES), cols),
                                              c.in_range(cm, list(COMMUNITY_SOURCES), cols)], "£m",
                check=("err_community_funding", "Community configuration funding: STP_FUNDING_SPLIT",
                       (len(labels), len(cols))))
    c.label_and_total(top, labels, cols, "funding|community", "£m")


def stf_investment(c: Calc, figures: Figures) -> None:
    """STF investment (£000): =STP_STF(non-recurrent, recurrent) and each row's total."""
    s, st = c.sheet, "stf_investment"
    lines = stf_lines(figures)
    c.heading("STF investment (£000): =STP_STF", [*YEARS, "Total"])
    top = c.row
    stf_labels = {"Non Rec": "Non-recurrent", "Rec": "Recurrent", "Total": "Total"}
    s.udf(top, 1, "STP_STF", [c.in_range(st, lines, STF_COLUMNS[0::2]), c.in_range(st, lines, STF_COLUMNS[1::2])], "£000",
          check=("err_stf", "STF investment: STP_STF", (len(stf_labels), len(YEARS))))
    for i, k in enumerate(stf_labels):
        s.label(top + i, 0, stf_labels[k])
        for j, y in enumerate(YEARS):
            c.cells[f"stf|{k}|{y}"] = s.ref(top + i, 1 + j)
        s.row_sum(top + i, 1, len(YEARS), "total:£000")
        c.cells[f"stf|{k}|Total"] = s.ref(top + i, 1 + len(YEARS))
    c.row = top + 4


def savings(c: Calc) -> None:
    """Savings (£m): strand 2 from its parts with STP_SAVINGS; the five strands as headed."""
    s, book, inputs, sv = c.sheet, c.book, c.inputs, "strand_savings"
    c.heading("Savings and gap (£m)", ["£m"])
    s.label(c.row, 0, "Strand 2 gross savings: acute reconfiguration + community")
    g1, g2 = inputs[(sv, STRAND_2, "Gross: acute reconfiguration")], inputs[(sv, STRAND_2, "Gross: community inpatients and planned care")]
    s.formula(c.row, 1, f"={g1}+{g2}", excel_arithmetic([(book.excel_value(g1), 1.0), (book.excel_value(g2), 1.0)]), "£m")
    gross_cell = s.ref(c.row, 1)
    c.row += 1
    s.label(c.row, 0, "Strand 2 net savings: =STP_SAVINGS(gross, , capital charges)")
    s.udf(c.row, 1, "STP_SAVINGS", [gross_cell, None, inputs[(sv, STRAND_2, "Capital charges 2017/18 to 2020/21")]], "£m",
          check=("err_strand2_savings", "Strand 2 net savings: STP_SAVINGS", (1, 1)))
    c.cells["savings|strand2|net"] = s.ref(c.row, 1)
    c.row += 1
    s.label(c.row, 0, "Net savings, five strands (as headed)")
    s.formula(c.row, 1, f"=SUM({c.in_range(sv, list(STRANDS), ['Net'])})",
              excel_sum([book.excel_value(inputs[(sv, x, "Net")]) for x in STRANDS]), "total:£m")
    c.cells["savings|strands|total"] = s.ref(c.row, 1)
    c.row += 2


def gap_bridge(c: Calc) -> None:
    """Gap bridge 2020/21 (£m): =STP_GAP(do nothing, strand nets, investment, STF, TRUE)."""
    s, nar = c.sheet, "narrative"
    c.heading("Gap bridge 2020/21 (£m): =STP_GAP(..., TRUE)", ["2020/21"])
    health, social = (c.inputs[(nar, "Do nothing gap by 2020/21", k)] for k in ("Health", "Social care"))
    do_nothing = f"{health}:{social.split('!')[1]}"  # adjacent cells: health above social care
    nets = c.in_range("strand_savings", list(STRANDS), ["Net"])
    stf66 = c.inputs[(nar, "STF net investment 2020/21", "2020/21")]
    top = c.row
    s.udf(top, 1, "STP_GAP", [do_nothing, nets, stf66, stf66, "TRUE"], "£m",
          check=("err_gap_bridge", "Gap bridge 2020/21: STP_GAP", (len(BRIDGE_STEPS), 1)))
    for i, lab in enumerate(BRIDGE_STEPS):
        s.label(top + i, 0, lab)
        c.cells[f"bridge|{lab}"] = s.ref(top + i, 1)
    c.row = top + len(STRANDS) + 5


def acute_appraisal(c: Calc) -> None:
    """Acute reconfiguration appraisal: =STP_ROI on the net capital requirement."""
    s = c.sheet
    c.heading("Acute reconfiguration appraisal", ["value"])
    s.label(c.row, 0, "Annual gross saving (£000)")
    saving = c.inputs[("narrative", "Acute reconfiguration gross saving", "a year")]
    s.formula(c.row, 1, f"={saving}*1000", excel_arithmetic([(c.book.excel_value(saving), 1000.0)]), "£000")
    saving_cell = s.ref(c.row, 1)
    c.row += 1
    s.label(c.row, 0, "ROI on the net capital requirement: =STP_ROI(saving, cost, disposals, \"net\")")
    s.udf(c.row, 1, "STP_ROI", [saving_cell, c.cells["capital|acute_reconfiguration|cost"],
                                 c.cells["capital|acute_reconfiguration|TOTAL|Disposals"], '"net"'], "ratio",
          check=("err_acute_roi", "Acute reconfiguration ROI: STP_ROI", (1, 1)))
    c.cells["appraisal|acute|roi"] = s.ref(c.row, 1)
    c.row += 2


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

"""Build the LLR STP 2016 reference workbook (and an empty template of the same layout).

    xl-stp build                 # writes workbooks/llr_stp_2016.xlsx and stp_template.xlsx
    xl-stp build --out DIR       # somewhere else

Sheets, FAST / ICAEW style: Cover, Inputs (every transcribed figure, blue, with its source),
Calculations (STP_* functions and ordinary SUMs, black), Outputs (the published tables, negatives
in brackets, three native charts) and Checks (every stated total against its computed value with
STP_CHECK, and one master check).

Every formula is stored with its value, so the file shows the right numbers without Excel. The
values of STP_* cells come from calling the functions of the one registry (udfs.registry) with the
cells as Excel passes them; ordinary formulas get the value the same arithmetic gives. The tests
compare every one of them with the core's own computation (xl_stp.llr.reference).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from datetime import datetime
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from udfs import discover
from udfs.registry import REGISTRY

from ..llr.reference import (ACUTE_FUNDING_COLUMNS, ACUTE_SOURCES, CAPITAL_TABLES, COMMUNITY_FUNDING_COLUMNS,  # noqa: E402
                              COMMUNITY_SCHEMES, COMMUNITY_SOURCES, STF_COLUMNS, STRANDS, YEARS, Figures, LLRPlan,
                              check_results, checks, item_rows)

OUT_DIR = Path("workbooks")
WORKBOOK = "llr_stp_2016.xlsx"
TEMPLATE = "stp_template.xlsx"

BLUE, BLACK, GREY, HEAD_FILL = "#0000FF", "#000000", "#595959", "#DCE6F1"
FMT = {
    "£000": '#,##0;(#,##0);"-"',
    "£m": '#,##0.0;(#,##0.0);"-"',
    "%": '0.00"%";(0.00"%");"-"',
    "years": '0.00',
    "beds": '#,##0',
    "ratio": '0.00%;(0.00%);"-"',
}
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


# ---- a writer that keeps every cell's value ------------------------------------------------------

def _stored(v: Any) -> Any:
    """A value as the file stores it: floats to 15 significant digits, Excel's precision (so that
    -10.399999999999991 is -10.4 wherever it appears)."""
    return float(f"{v:.15g}") if isinstance(v, float) else v


@dataclass
class Sheet:
    book: "Book"
    name: str
    ws: Any
    values: dict[tuple[int, int], Any] = field(default_factory=dict)

    def ref(self, row: int, col: int, absolute: bool = True, sheet: bool = True) -> str:
        cell = xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)
        return f"{self.name}!{cell}" if sheet else cell

    def rng(self, r1: int, c1: int, r2: int, c2: int) -> str:
        a = xl_rowcol_to_cell(r1, c1, row_abs=True, col_abs=True)
        b = xl_rowcol_to_cell(r2, c2, row_abs=True, col_abs=True)
        return f"{self.name}!{a}:{b}"

    def label(self, row: int, col: int, text: str, fmt: str = "label") -> None:
        self.ws.write_string(row, col, text, self.book.fmt(fmt))

    def value(self, row: int, col: int, value: Any, fmt: str, blue: bool = True) -> None:
        """A constant (an input: blue)."""
        f = self.book.fmt(fmt, colour=BLUE if blue else BLACK)
        value = _stored(value)
        if value is None:
            self.ws.write_blank(row, col, None, f)
        elif isinstance(value, str):
            self.ws.write_string(row, col, value, f)
        else:
            self.ws.write_number(row, col, value, f)
        self.values[(row, col)] = value

    def formula(self, row: int, col: int, formula: str, value: Any, fmt: str) -> Any:
        """An ordinary formula with its value."""
        value = _stored(value)
        self.ws.write_formula(row, col, formula, self.book.fmt(fmt), value)
        self.values[(row, col)] = value
        return value

    def udf(self, row: int, col: int, name: str, args: Sequence[str | None], fmt: str) -> list[list[Any]]:
        """``=STP_X(args)`` as the whole formula of its cell, spilling; the value computed by the
        registry's function from the argument cells as Excel passes them."""
        fn = REGISTRY[name]
        excel_args = [None if a is None else self.book.excel_value(a) for a in args]
        result = fn(*excel_args)
        text = f"={name}({','.join('' if a is None else a for a in args)})"
        block = [[_stored(v) for v in line] for line in result] if isinstance(result, list) else [[_stored(result)]]
        if self.book.strict and isinstance(result, str) and result.startswith("#STP!"):
            raise RuntimeError(f"{self.name}!{xl_rowcol_to_cell(row, col)}: {text} gave {result}")
        f = self.book.fmt(fmt)
        if len(block) == 1 and len(block[0]) == 1:
            self.ws.write_formula(row, col, text, f, block[0][0])
        else:
            last_r, last_c = row + len(block) - 1, col + len(block[0]) - 1
            self.ws.write_dynamic_array_formula(row, col, last_r, last_c, text, f, block[0][0])
            for i, line in enumerate(block):
                for j, v in enumerate(line):
                    if i or j:
                        (self.ws.write_string if isinstance(v, str) else self.ws.write_number)(row + i, col + j, v, f)
        for i, line in enumerate(block):
            for j, v in enumerate(line):
                self.values[(row + i, col + j)] = v
        return block


class Book:
    def __init__(self, path: Path, strict: bool = True):
        self.strict = strict  # a #STP! result is a bug in the reference workbook (not in the empty template)
        self.wb = xlsxwriter.Workbook(str(path))
        self.wb.calc_on_load = False  # the cached values are right; do not ask readers to recalculate
        self.wb.set_properties({"title": "LLR STP 2016 finance and capital", "author": "xl-stp",
                                "created": datetime(2016, 11, 21),  # the plan's date: rebuilds give the same bytes
                                "comments": "Built by xl-stp build (xl_stp/builder) from xl_stp/llr/data/llr_stp_2016.csv"})
        self.sheets: dict[str, Sheet] = {}
        self._formats: dict[tuple, Any] = {}

    def sheet(self, name: str) -> Sheet:
        s = Sheet(self, name, self.wb.add_worksheet(name))
        self.sheets[name] = s
        return s

    def fmt(self, kind: str, colour: str = BLACK) -> Any:
        key = (kind, colour)
        if key not in self._formats:
            props: dict[str, Any] = {"font_name": "Arial", "font_size": 10, "font_color": colour}
            if kind in FMT:
                props["num_format"] = FMT[kind]
            elif kind == "title":
                props.update(bold=True, font_size=14)
            elif kind == "heading":
                props.update(bold=True, font_size=11, bottom=1)
            elif kind == "colhead":
                props.update(bold=True, bg_color=HEAD_FILL, align="right", text_wrap=True)
            elif kind == "rowhead":
                props.update(bold=True, bg_color=HEAD_FILL)
            elif kind == "note":
                props.update(italic=True, font_color=GREY)
            elif kind == "source":
                props.update(font_color=GREY, font_size=8)
            elif kind == "status":
                props.update(bold=True)
            elif kind.startswith("total"):
                base = kind.split(":")[1]
                props.update(bold=True, top=1, num_format=FMT[base])
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def excel_value(self, reference: str) -> Any:
        """A cell or range as xlwings hands it to a UDF with ndim=2: a list of rows, None for blanks;
        a single cell as a scalar."""
        if "!" not in reference:  # a literal argument
            if reference.startswith('"'):
                return reference.strip('"')
            if reference.upper() in ("TRUE", "FALSE"):
                return reference.upper() == "TRUE"
            return float(reference)
        name, cells = reference.split("!")
        sheet = self.sheets[name]
        parts = cells.replace("$", "").split(":")
        from xlsxwriter.utility import xl_cell_to_rowcol
        r1, c1 = xl_cell_to_rowcol(parts[0])
        r2, c2 = xl_cell_to_rowcol(parts[-1])
        if (r1, c1) == (r2, c2):
            return sheet.values.get((r1, c1))
        return [[sheet.values.get((r, c)) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]

    def num(self, reference: str) -> float:
        """A single cell's value as Excel's arithmetic sees it: a blank is 0."""
        v = self.excel_value(reference)
        return 0.0 if v is None else v

    def close(self) -> None:
        self.wb.close()


# ---- Inputs -------------------------------------------------------------------------------------

def _columns(figures: Figures, table: str) -> list[str]:
    if table == "stf_investment":
        return [*STF_COLUMNS[0::2], *STF_COLUMNS[1::2], *(f"{y} Total" for y in YEARS)]
    if table in CAPITAL_TABLES:
        return [*YEARS, "Disposals", "Total"] if table not in ("epr", "other_schemes") else [*YEARS, "Total"]
    if table == "acute_funding":
        return [*ACUTE_FUNDING_COLUMNS, "Total"]
    if table == "community_funding":
        return [*COMMUNITY_FUNDING_COLUMNS, "Total"]
    frame = figures.frame[figures.frame["table"] == table]
    return list(dict.fromkeys(frame["column"]))


def write_inputs(book: Book, figures: Figures, empty: bool) -> dict[tuple[str, str, str], str]:
    """Every figure as published, blue, one block per published table. Returns the cell of each
    (table, row, column) of the blocks, blank ones included."""
    s = book.sheet("Inputs")
    ws = s.ws
    ws.set_column(0, 0, 58)
    ws.set_column(1, 1, 7)
    ws.set_column(2, 13, 11)
    ws.set_column(14, 14, 70)
    s.label(0, 0, "Inputs: the LLR STP (November 2016) as published", "title")
    s.label(1, 0, "Blue: figures as published (brackets are negative). A blank cell was blank in the table; '-' was printed as nil. "
                  "Totals the document states are inputs too: the Checks sheet compares them with the line items.", "note")
    cells: dict[tuple[str, str, str], str] = {}
    row = 3
    frame = figures.frame
    for table in figures.tables():
        rows = figures.rows(table)
        part = frame[frame["table"] == table]
        s.label(row, 0, TABLE_TITLES.get(table, table), "heading")
        row += 1
        if table == "narrative":
            s.label(row, 0, "Figure", "rowhead")
            s.label(row, 1, "Units", "colhead")
            s.label(row, 2, "Value", "colhead")
            s.label(row, 14, "Source", "rowhead")
            row += 1
            for rec in part.itertuples():
                s.label(row, 0, f"{rec.row}: {rec.column}")
                s.label(row, 1, rec.units, "source")
                s.value(row, 2, None if empty else rec.value, rec.units)
                s.label(row, 14, rec.source + (f" ({rec.note})" if rec.note else ""), "source")
                cells[(table, rec.row, rec.column)] = s.ref(row, 2)
                row += 1
            row += 1
            continue
        cols = _columns(figures, table)
        s.label(row, 0, "£000" if set(part["units"]) == {"£000"} else "", "rowhead")
        s.label(row, 1, "Units", "colhead")
        for j, c in enumerate(cols):
            s.label(row, 2 + j, c, "colhead")
        s.label(row, 14, "Source", "rowhead")
        row += 1
        for r in rows:
            recs = part[part["row"] == r]
            units = recs["units"].iloc[0]
            s.label(row, 0, r, "label")
            s.label(row, 1, units, "source")
            for j, c in enumerate(cols):
                hit = recs[recs["column"] == c]
                if len(hit):
                    s.value(row, 2 + j, None if empty else float(hit["value"].iloc[0]), units)
                else:
                    s.values[(row, 2 + j)] = None  # blank as published
                cells[(table, r, c)] = s.ref(row, 2 + j)
            notes = "; ".join(n for n in dict.fromkeys(recs["note"]) if n)
            s.label(row, 14, f"{TABLE_TITLES.get(table, table)} / {r}" + (f" ({notes})" if notes else ""), "source")
            row += 1
        row += 1
    ws.freeze_panes(3, 1)
    return cells


# ---- Calculations -------------------------------------------------------------------------------

@dataclass
class Calc:
    sheet: Sheet
    inputs: dict[tuple[str, str, str], str]
    cells: dict[str, str] = field(default_factory=dict)  # quantity key -> cell
    row: int = 3

    def in_range(self, table: str, rows: Sequence[str], columns: Sequence[str]) -> str:
        """The Inputs range covering these rows x columns (they are laid out contiguously)."""
        first, last = self.inputs[(table, rows[0], columns[0])], self.inputs[(table, rows[-1], columns[-1])]
        return f"{first}:{last.split('!')[1]}"


def write_calculations(book: Book, figures: Figures, inputs: dict) -> dict[str, str]:
    s = book.sheet("Calculations")
    ws = s.ws
    ws.set_column(0, 0, 52)
    ws.set_column(1, 9, 12)
    s.label(0, 0, "Calculations: the plan rebuilt from its line items", "title")
    s.label(1, 0, "Black: formulas. STP_* cells spill their whole result from the first cell; totals are ordinary SUMs.", "note")
    c = Calc(s, inputs)

    def heading(text: str, cols: Sequence[str]) -> None:
        s.label(c.row, 0, text, "heading")
        for j, col in enumerate(cols):
            s.label(c.row, 1 + j, col, "colhead")
        c.row += 1

    # Capital programme tables: STP_CAPITAL_NET(costs, disposals) spills years, Disposals, Total.
    for table, (total_row, _summary, title) in CAPITAL_TABLES.items():
        rows = item_rows(figures, table)
        heading(f"{title} (£000): =STP_CAPITAL_NET", [*YEARS, "Disposals", "Total"])
        costs = c.in_range(table, rows, YEARS)
        disp = c.in_range(table, rows, ["Disposals"]) if table not in ("epr", "other_schemes") else "0"
        top = c.row
        s.udf(top, 1, "STP_CAPITAL_NET", [costs, disp], "£000")
        for i, r in enumerate([*rows, "TOTAL"]):
            s.label(top + i, 0, r if r != "TOTAL" else "Total", "label")
            for j, col in enumerate([*YEARS, "Disposals", "Total"]):
                c.cells[f"capital|{table}|{r}|{col}"] = s.ref(top + i, 1 + j)
        c.row = top + len(rows) + 1
        s.label(c.row, 0, "Total capital cost (before disposals)")
        by_year = [s.values[(top + len(rows), 1 + j)] for j in range(len(YEARS))]
        s.formula(c.row, 1, f"=SUM({s.rng(top + len(rows), 1, top + len(rows), len(YEARS)).split('!')[1]})", sum(by_year), "total:£000")
        c.cells[f"capital|{table}|cost"] = s.ref(c.row, 1)
        c.row += 2

    # Acute funding waterfall (£m): programme, approved, internal, sources -> DH requirement.
    a = "acute_funding"
    labels = ["Programme", "Approved to date", "Internally funded", "External funding requirement", *ACUTE_SOURCES,
              "DH funding requirement"]
    heading("Acute configuration funding (£m): =STP_FUNDING_SPLIT", [*ACUTE_FUNDING_COLUMNS, "Total"])
    cols = list(ACUTE_FUNDING_COLUMNS)
    top = c.row
    s.udf(top, 1, "STP_FUNDING_SPLIT", [c.in_range(a, ["Reconfiguration programme"], cols), c.in_range(a, list(ACUTE_SOURCES), cols),
                                        None, c.in_range(a, ["Approved to date"], cols), c.in_range(a, ["Internally funded"], cols)], "£m")
    _label_and_total(s, c, top, labels, cols, "funding|acute", "£m")

    # Community funding waterfall (£m): scheme rows and source rows.
    cm = "community_funding"
    labels = ["External funding requirement", *COMMUNITY_SOURCES, "DH funding requirement"]
    heading("Community configuration funding (£m): =STP_FUNDING_SPLIT", [*COMMUNITY_FUNDING_COLUMNS, "Total"])
    cols = list(COMMUNITY_FUNDING_COLUMNS)
    top = c.row
    s.udf(top, 1, "STP_FUNDING_SPLIT", [c.in_range(cm, list(COMMUNITY_SCHEMES), cols), c.in_range(cm, list(COMMUNITY_SOURCES), cols)], "£m")
    _label_and_total(s, c, top, labels, cols, "funding|community", "£m")

    # STF investment (£000).
    st = "stf_investment"
    lines = [r for r in figures.rows(st) if r not in ("Total", "Total Non Recurrent and Recurrent")]
    heading("STF investment (£000): =STP_STF", [*YEARS, "Total"])
    top = c.row
    s.udf(top, 1, "STP_STF", [c.in_range(st, lines, STF_COLUMNS[0::2]), c.in_range(st, lines, STF_COLUMNS[1::2])], "£000")
    stf_labels = {"Non Rec": "Non-recurrent", "Rec": "Recurrent", "Total": "Total"}
    for i, k in enumerate(stf_labels):
        s.label(top + i, 0, stf_labels[k])
        for j, y in enumerate(YEARS):
            c.cells[f"stf|{k}|{y}"] = s.ref(top + i, 1 + j)
        vals = [s.values[(top + i, 1 + j)] for j in range(len(YEARS))]
        s.formula(top + i, 1 + len(YEARS), f"=SUM({s.rng(top + i, 1, top + i, len(YEARS)).split('!')[1]})", sum(vals), "total:£000")
        c.cells[f"stf|{k}|Total"] = s.ref(top + i, 1 + len(YEARS))
    c.row = top + 4

    # Savings (£m): strand 2 from its parts; the five strands; the gap bridge; the acute ROI.
    sv, s2 = "strand_savings", "Strand 2 - Service Configuration"
    heading("Savings and gap (£m)", ["£m"])
    s.label(c.row, 0, "Strand 2 gross savings: acute reconfiguration + community")
    g1, g2 = inputs[(sv, s2, "Gross: acute reconfiguration")], inputs[(sv, s2, "Gross: community inpatients and planned care")]
    gross = s.formula(c.row, 1, f"={g1}+{g2}", book.num(g1) + book.num(g2), "£m")
    gross_cell = s.ref(c.row, 1)
    c.row += 1
    s.label(c.row, 0, "Strand 2 net savings: =STP_SAVINGS(gross, , capital charges)")
    s.udf(c.row, 1, "STP_SAVINGS", [gross_cell, None, inputs[(sv, s2, "Capital charges 2017/18 to 2020/21")]], "£m")
    c.cells["savings|strand2|net"] = s.ref(c.row, 1)
    c.row += 1
    nets = c.in_range(sv, list(STRANDS), ["Net"])
    s.label(c.row, 0, "Net savings, five strands (as headed)")
    s.formula(c.row, 1, f"=SUM({nets})", sum(book.num(inputs[(sv, x, "Net")]) for x in STRANDS), "total:£m")
    c.cells["savings|strands|total"] = s.ref(c.row, 1)
    c.row += 2
    heading("Gap bridge 2020/21 (£m): =STP_GAP(..., TRUE)", ["2020/21"])
    nar = "narrative"
    health, social = (inputs[(nar, "Do nothing gap by 2020/21", k)] for k in ("Health", "Social care"))
    do_nothing = f"{health}:{social.split('!')[1]}"  # adjacent cells: health above social care
    stf66 = inputs[(nar, "STF net investment 2020/21", "2020/21")]
    top = c.row
    s.udf(top, 1, "STP_GAP", [do_nothing, nets, stf66, stf66, "TRUE"], "£m")
    for i, lab in enumerate(["Do nothing gap", *STRANDS, "Investment", "STF funding", "Residual gap"]):
        s.label(top + i, 0, lab)
        c.cells[f"bridge|{lab}"] = s.ref(top + i, 1)
    c.row = top + len(STRANDS) + 5
    heading("Acute reconfiguration appraisal", ["value"])
    s.label(c.row, 0, "Annual gross saving (£000)")
    saving = inputs[(nar, "Acute reconfiguration gross saving", "a year")]
    s.formula(c.row, 1, f"={saving}*1000", book.num(saving) * 1000, "£000")
    saving_cell = s.ref(c.row, 1)
    c.row += 1
    s.label(c.row, 0, "ROI on the net capital requirement: =STP_ROI(saving, cost, disposals, \"net\")")
    s.udf(c.row, 1, "STP_ROI", [saving_cell, c.cells["capital|acute_reconfiguration|cost"],
                                 c.cells["capital|acute_reconfiguration|TOTAL|Disposals"], '"net"'], "ratio")
    c.cells["appraisal|acute|roi"] = s.ref(c.row, 1)
    c.row += 1
    ws.freeze_panes(3, 1)
    return c.cells


def _label_and_total(s: Sheet, c: Calc, top: int, labels: list[str], cols: list[str], prefix: str, units: str) -> None:
    n = len(cols)
    for i, lab in enumerate(labels):
        s.label(top + i, 0, lab)
        for j, col in enumerate(cols):
            c.cells[f"{prefix}|{lab}|{col}"] = s.ref(top + i, 1 + j)
        vals = [s.values[(top + i, 1 + j)] for j in range(n)]
        s.formula(top + i, 1 + n, f"=SUM({s.rng(top + i, 1, top + i, n).split('!')[1]})", sum(vals), f"total:{units}")
        c.cells[f"{prefix}|{lab}|Total"] = s.ref(top + i, 1 + n)
    c.row = top + len(labels) + 1


# ---- Checks -------------------------------------------------------------------------------------

def write_checks(book: Book, figures: Figures, inputs: dict, calc: dict, empty: bool) -> str:
    """Every check: stated, computed, =STP_CHECK(stated, computed), tolerance, status. Returns the
    master check cell."""
    s = book.sheet("Checks")
    ws = s.ws
    ws.set_column(0, 0, 5)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 2, 80)
    ws.set_column(3, 6, 11)
    ws.set_column(7, 7, 16)
    s.label(0, 1, "Checks: every stated total against its computed value", "title")
    s.label(1, 1, "Difference = STP_CHECK(stated, computed): OK, or stated less computed. Tolerance: what rounding of the "
                  "printed figures allows (half a unit per figure). Status: agrees / within rounding / exceeds rounding.", "note")
    head = 5
    for j, h in enumerate(["#", "Section", "Check", "Stated", "Computed", "Difference", "Tolerance", "Status"]):
        s.label(head, j, h, "colhead")
    row = head + 1
    first = row
    for k, chk in enumerate(checks(figures), start=1):
        units = figures.record(*chk.stated)["units"]
        fmt = units if units in FMT else "£m"
        stated_cell = inputs[chk.stated]
        s.value(row, 0, k, "beds", blue=False)
        s.label(row, 1, chk.section)
        s.label(row, 2, chk.description)
        stated = book.num(stated_cell)
        s.formula(row, 3, f"={stated_cell}", stated, fmt)
        parts, computed = [], 0.0
        for term, factor in chk.computed:
            if term.startswith("figure|"):
                cell = inputs[tuple(term.split("|")[1:])]
            else:
                cell = calc[term]
            v = book.excel_value(cell)
            if isinstance(v, str) or computed == "#VALUE!":
                computed = "#VALUE!"  # text (an #STP! message) in arithmetic: Excel's #VALUE!
            else:
                computed += factor * (v or 0.0)
            sign = "-" if factor < 0 else "+"
            mag = abs(factor)
            parts.append(f"{sign}{cell}" + ("" if mag == 1 else f"/{round(1 / mag):d}" if mag < 1 else f"*{mag:g}"))
        text = "=" + "".join(parts).lstrip("+")
        computed = computed if isinstance(computed, str) else computed + 0.0
        s.formula(row, 4, text, computed, fmt)
        diff = s.udf(row, 5, "STP_CHECK", [s.ref(row, 3), s.ref(row, 4)], fmt)[0][0]
        s.value(row, 6, chk.tolerance, fmt)
        if diff == "OK":
            status = "agrees"
        elif isinstance(diff, str):
            status = "not computed"
        elif abs(diff) <= chk.tolerance + 1e-9:
            status = "within rounding"
        else:
            status = "exceeds rounding"
        f, t = s.ref(row, 5, sheet=False), s.ref(row, 6, sheet=False)
        s.formula(row, 7, f'=IFERROR(IF({f}="OK","agrees",IF(ABS({f})<={t}+1E-9,"within rounding","exceeds rounding")),"not computed")',
                  status, "status")
        row += 1
    last = row - 1
    status_rng = f"$H${first + 1}:$H${last + 1}"
    n_beyond = sum(1 for r in range(first, last + 1) if s.values[(r, 7)] == "exceeds rounding")
    n_within = sum(1 for r in range(first, last + 1) if s.values[(r, 7)] == "within rounding")
    s.label(3, 1, "Checks beyond rounding", "status")
    s.formula(3, 3, f'=COUNTIF({status_rng},"exceeds rounding")', n_beyond, "beds")
    s.label(3, 4, "within rounding")
    s.formula(3, 5, f'=COUNTIF({status_rng},"within rounding")', n_within, "beds")
    s.label(2, 1, "MASTER CHECK", "status")
    master = "OK" if n_beyond == 0 else f"{n_beyond} checks exceed rounding"
    s.formula(2, 3, f'=IF(D4=0,"OK",D4&" checks exceed rounding")', master, "status")
    ws.conditional_format(first, 7, last, 7, {"type": "cell", "criteria": "==", "value": '"exceeds rounding"',
                                              "format": book.wb.add_format({"bg_color": "#F4CCCC", "font_color": "#9C0006"})})
    ws.conditional_format(first, 7, last, 7, {"type": "cell", "criteria": "==", "value": '"within rounding"',
                                              "format": book.wb.add_format({"bg_color": "#FFF2CC"})})
    ws.autofilter(head, 0, last, 7)
    ws.freeze_panes(head + 1, 3)
    return s.ref(2, 3)


# ---- Outputs ------------------------------------------------------------------------------------

def write_outputs(book: Book, s: Sheet, figures: Figures, calc: dict, master: str) -> None:
    ws = s.ws
    ws.set_column(0, 0, 50)
    ws.set_column(1, 8, 11)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.hide_gridlines(2)
    s.label(0, 0, "LLR STP 2016: capital, funding and savings", "title")
    s.label(1, 0, "£000 unless stated; negatives in brackets. Rebuilt from the line items (Calculations).", "note")
    s.label(2, 0, "Master check (Checks sheet)", "status")
    s.formula(2, 1, f"={master}", book.excel_value(master), "status")
    row = 4

    def link(r: int, col: int, key: str, fmt: str) -> None:
        cell = calc[key]
        s.formula(r, col, f"={cell}", book.excel_value(cell), fmt)

    def table(title: str, cols: Sequence[str], rows: Sequence[tuple[str, Sequence[str | None], bool]], fmt: str) -> int:
        nonlocal row
        s.label(row, 0, title, "heading")
        row += 1
        for j, col in enumerate(cols):
            s.label(row, 1 + j, col, "colhead")
        row += 1
        start = row
        for label, keys, total in rows:
            s.label(row, 0, label, "status" if total else "label")
            for j, key in enumerate(keys):
                if key:
                    link(row, 1 + j, key, f"total:{fmt}" if total else fmt)
            row += 1
        row += 1
        return start

    for t, (_total, _summary, title) in CAPITAL_TABLES.items():
        rows = item_rows(figures, t)
        cols = [*YEARS, "Disposals", "Total"]
        table(f"{title} (£000)", cols,
              [(r, [f"capital|{t}|{r}|{c}" for c in cols], False) for r in rows] + [("Total", [f"capital|{t}|TOTAL|{c}" for c in cols], True)],
              "£000")
    # capital by programme and year, for the chart
    cap_start = table("Capital cost by programme and year (£000)", [*YEARS, "Total"],
                      [(CAPITAL_TABLES[t][2], [*(f"capital|{t}|TOTAL|{y}" for y in YEARS), f"capital|{t}|cost"], False)
                       for t in CAPITAL_TABLES], "£000")
    acute_labels = ["Programme", "Approved to date", "Internally funded", "External funding requirement", *ACUTE_SOURCES, "DH funding requirement"]
    cols = [*ACUTE_FUNDING_COLUMNS, "Total"]
    table("Acute configuration funding (£m)", cols,
          [(lab, [f"funding|acute|{lab}|{c}" for c in cols], lab in ("External funding requirement", "DH funding requirement"))
           for lab in acute_labels], "£m")
    com_labels = ["External funding requirement", *COMMUNITY_SOURCES, "DH funding requirement"]
    cols = [*COMMUNITY_FUNDING_COLUMNS, "Total"]
    table("Community configuration funding (£m)", cols,
          [(lab, [f"funding|community|{lab}|{c}" for c in cols], lab in ("External funding requirement", "DH funding requirement"))
           for lab in com_labels], "£m")

    # Total requirement (£m), from line items
    s.label(row, 0, "Summary of total requirement (£m)", "heading")
    row += 1
    acute_alt = [calc[f"funding|acute|{x}|Total"] for x in ACUTE_SOURCES]
    com_alt = [calc[f"funding|community|{x}|Total"] for x in COMMUNITY_SOURCES]
    entries = [
        ("UHL reconfiguration", [calc["funding|acute|External funding requirement|Total"]], False),
        ("Less: alternative funding", acute_alt, False),
        ("Total UHL DH requirement", [calc["funding|acute|DH funding requirement|Total"]], True),
        ("Community hospital & CAMHS reconfiguration", [calc["funding|community|External funding requirement|Total"]], False),
        ("Less: alternative funding", com_alt, False),
        ("Total community DH requirement", [calc["funding|community|DH funding requirement|Total"]], True),
        ("Total LLR DH capital requirement", [calc["funding|acute|DH funding requirement|Total"], calc["funding|community|DH funding requirement|Total"]], True),
    ]
    for label, cells, total in entries:
        s.label(row, 0, label, "status" if total else "label")
        s.formula(row, 1, "=" + "+".join(cells), sum(book.num(x) for x in cells), "total:£m" if total else "£m")
        row += 1
    row += 1

    # Funding of the whole LLR programme by source (£m), for the chart: magnitudes, DH residual signed
    s.label(row, 0, "LLR capital funding by source, 2016/17 to 2020/21 (£m)", "heading")
    row += 1
    fcols = list(COMMUNITY_FUNDING_COLUMNS)
    for j, c in enumerate(fcols):
        s.label(row, 1 + j, c, "colhead")
    row += 1
    fund_start = row
    sources = [("Internally funded", [("acute", "Internally funded")]),
               ("Disposals", [("acute", "Site disposal"), ("community", "Disposals")]),
               ("PF2", [("acute", "PF2")]), ("Welcome Centre", [("acute", "Welcome Centre")]),
               ("Commercially funded", [("community", "Commercially funded")]),
               ("Local authority funded", [("community", "Local Authority funded")])]
    for label, parts in sources:
        s.label(row, 0, label)
        for j, c in enumerate(fcols):
            cells = [calc[f"funding|{p}|{lab}|{c}"] for p, lab in parts]
            s.formula(row, 1 + j, "=-(" + "+".join(cells) + ")", -sum(book.num(x) for x in cells) + 0.0, "£m")
        row += 1
    s.label(row, 0, "DH funding requirement (residual; negative = over-funded)", "status")
    for j, c in enumerate(fcols):
        cells = [calc[f"funding|acute|DH funding requirement|{c}"], calc[f"funding|community|DH funding requirement|{c}"]]
        s.formula(row, 1 + j, "=" + "+".join(cells), sum(book.num(x) for x in cells), "total:£m")
    fund_end = row
    row += 2

    # STF and savings
    table("STF investment (£000)", [*YEARS, "Total"],
          [(lab, [f"stf|{k}|{y}" for y in (*YEARS, "Total")], k == "Total") for k, lab in
           (("Non Rec", "Non-recurrent"), ("Rec", "Recurrent"), ("Total", "Total"))], "£000")
    s.label(row, 0, "Gap bridge to 2020/21 (£m)", "heading")
    row += 1
    for j, h in enumerate(["£m", "base", "up", "down"]):
        s.label(row, 1 + j, h, "colhead")
    row += 1
    bridge_start = row
    running = 0.0
    steps = ["Do nothing gap", *STRANDS, "Investment", "STF funding", "Residual gap"]
    for lab in steps:
        cell = calc[f"bridge|{lab}"]
        v = book.num(cell)
        s.label(row, 0, lab.replace(" - ", ": "), "status" if lab in ("Do nothing gap", "Residual gap") else "label")
        s.formula(row, 1, f"={cell}", v, "total:£m" if lab == "Residual gap" else "£m")
        # a floating bar from lo to hi: invisible base, then the part above and below zero
        if lab in ("Do nothing gap", "Residual gap"):
            before, after = 0.0, v
        else:
            before, after = running, running + v
        running = after if lab != "Residual gap" else running
        lo, hi = min(before, after), max(before, after)
        base = lo if lo >= 0 else (hi if hi <= 0 else 0.0)
        up = hi - lo if lo >= 0 else (0.0 if hi <= 0 else hi)
        down = 0.0 if lo >= 0 else (lo - hi if hi <= 0 else lo)
        r = row + 1
        if lab in ("Do nothing gap", "Residual gap"):
            lo_f, hi_f = f"MIN(0,B{r})", f"MAX(0,B{r})"
        else:
            prev = f"SUM(B${bridge_start + 1}:B{r - 1})"
            lo_f, hi_f = f"MIN({prev},{prev}+B{r})", f"MAX({prev},{prev}+B{r})"
        s.formula(row, 2, f"=IF({lo_f}>=0,{lo_f},IF({hi_f}<=0,{hi_f},0))", base, "£m")
        s.formula(row, 3, f"=IF({lo_f}>=0,{hi_f}-{lo_f},IF({hi_f}<=0,0,{hi_f}))", up, "£m")
        s.formula(row, 4, f"=IF({lo_f}>=0,0,IF({hi_f}<=0,{lo_f}-{hi_f},{lo_f}))", down, "£m")
        row += 1
    bridge_end = row - 1
    row += 1

    # ---- charts (native Excel charts) ----
    wb = book.wb
    chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    palette = ["#1F4E79", "#2E75B6", "#9DC3E6", "#548235", "#A9D18E", "#BF9000"]
    for i, t in enumerate(CAPITAL_TABLES):
        r = cap_start + i
        chart.add_series({"name": ["Outputs", r, 0], "categories": ["Outputs", cap_start - 1, 1, cap_start - 1, len(YEARS)],
                          "values": ["Outputs", r, 1, r, len(YEARS)], "fill": {"color": palette[i % len(palette)]}})
    chart.set_title({"name": "Capital cost by year and programme (£000)"})
    chart.set_y_axis({"num_format": "#,##0", "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 400})
    ws.insert_chart(4, 9, chart)

    chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    colours = ["#7F7F7F", "#2E75B6", "#1F4E79", "#9DC3E6", "#BF9000", "#A9D18E", "#C00000"]
    for i, r in enumerate(range(fund_start, fund_end + 1)):
        chart.add_series({"name": ["Outputs", r, 0], "categories": ["Outputs", fund_start - 1, 1, fund_start - 1, len(fcols)],
                          "values": ["Outputs", r, 1, r, len(fcols)], "fill": {"color": colours[i]}})
    chart.set_title({"name": "Capital funding by source and the DH requirement (£m)"})
    chart.set_y_axis({"num_format": '#,##0;(#,##0)'})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 420})
    ws.insert_chart(26, 9, chart)

    chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    cats = ["Outputs", bridge_start, 0, bridge_end, 0]
    chart.add_series({"name": "base", "categories": cats, "values": ["Outputs", bridge_start, 2, bridge_end, 2],
                      "fill": {"none": True}, "border": {"none": True}})
    point_colours = []
    for lab in steps:
        point_colours.append({"fill": {"color": "#1F4E79" if lab in ("Do nothing gap", "Residual gap") else
                                       "#548235" if lab.startswith("Strand") or lab == "STF funding" else "#C00000"}})
    chart.add_series({"name": "change", "categories": cats, "values": ["Outputs", bridge_start, 3, bridge_end, 3],
                      "points": point_colours, "gap": 40})
    chart.add_series({"name": "change (below zero)", "categories": cats, "values": ["Outputs", bridge_start, 4, bridge_end, 4],
                      "points": point_colours})
    chart.set_title({"name": "From the 'do nothing' gap to the residual gap, 2020/21 (£m)"})
    chart.set_legend({"none": True})
    chart.set_y_axis({"num_format": '#,##0;(#,##0)'})
    chart.set_x_axis({"num_font": {"rotation": -30}})
    chart.set_size({"width": 720, "height": 420})
    ws.insert_chart(50, 9, chart)


def write_cover(book: Book, s: Sheet, master: str, empty: bool) -> None:
    ws = s.ws
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 90)
    s.label(0, 0, "LLR STP 2016: finance and capital" if not empty else "STP finance and capital: template", "title")
    lines = [
        ("Purpose", "The finance and capital sections of the Leicester, Leicestershire & Rutland Sustainability and "
                    "Transformation Plan (November 2016), rebuilt from their line items." if not empty else
                    "The same layout with empty inputs: enter another footprint's figures on the Inputs sheet."),
        ("Units", "£000 unless a table says £m; financial years 2017/18 ...; negatives in brackets."),
        ("Sheets", "Inputs (blue: published figures, with sources) > Calculations (STP_* functions and SUMs) > "
                   "Outputs (tables and charts) > Checks (stated against computed)."),
        ("Functions", "STP_* are xl-stp's Excel functions (xlwings add-in, UDF module udfs.functions). Without the "
                      "add-in the stored values stand; `xl-stp regen` recalculates them on a server."),
        ("Built by", "xl-stp build (xl_stp/builder) from xl_stp/llr/data/llr_stp_2016.csv"),
    ]
    for i, (k, v) in enumerate(lines, start=2):
        s.label(i, 0, k, "status")
        s.label(i, 1, v)
    s.label(8, 0, "Master check", "status")
    s.formula(8, 1, f"={master}", book.excel_value(master), "status")
    key = [("Input", BLUE), ("Formula", BLACK)]
    for i, (k, colour) in enumerate(key, start=10):
        ws.write_string(i, 0, k, book.wb.add_format({"font_color": colour, "font_name": "Arial", "font_size": 10}))


@dataclass(frozen=True)
class Built:
    """Where the builder put things: the file, each Inputs figure's cell, each computed
    quantity's cell (keys of xl_stp.llr.reference.LLRPlan.quantities) and the master check."""

    path: Path
    inputs: dict
    calculations: dict
    master: str


def build(path: Path, figures: Figures | None = None, empty: bool = False) -> Built:
    """Write the workbook to ``path`` (atomically: a temporary file in the same folder, then
    renamed). The same inputs give the same bytes."""
    discover()
    figures = figures or Figures.load()
    path = Path(path)
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        book = Book(Path(tmp), strict=not empty)
        cover = book.sheet("Cover")  # the first tab; filled in last, when the master check exists
        inputs = write_inputs(book, figures, empty)
        calc = write_calculations(book, figures, inputs)
        outputs = book.sheet("Outputs")  # before Checks in the tab order; filled in once the checks exist
        master = write_checks(book, figures, inputs, calc, empty)
        write_outputs(book, outputs, figures, calc, master)
        write_cover(book, cover, master, empty)
        cover.ws.activate()
        book.close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a workbook is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Built(path, inputs, calc, master)


def summary(figures: Figures | None = None) -> str:
    """The capital and funding summary the main job prints."""
    from rich.console import Console
    from rich.table import Table

    figures = figures or Figures.load()
    plan = LLRPlan(figures)
    t = Table(title="LLR STP 2016: capital net of disposals (£000)")
    for h in ("Programme", *YEARS, "Disposals", "Net"):
        t.add_column(h, justify="right" if h != "Programme" else "left")
    money = lambda v: f"({-v:,.0f})" if v < -0.5 else ("-" if abs(v) < 0.5 else f"{v:,.0f}")  # noqa: E731
    for key, req in plan.capital.items():
        t.add_row(CAPITAL_TABLES[key][2], *(money(v) for v in req.cost_by_year), money(req.total_disposals), money(req.total_net))
    f = Table(title="Funding: external requirement and DH requirement (£m)")
    for h in ("", *COMMUNITY_FUNDING_COLUMNS, "Total"):
        f.add_column(h, justify="right" if h else "left")
    m = lambda v: f"({-v:,.1f})" if v < -0.05 else ("-" if abs(v) < 0.05 else f"{v:,.1f}")  # noqa: E731
    for name, w in (("Acute", plan.acute_funding), ("Community", plan.community_funding)):
        ext, dh = w.external_requirement, w.dh_requirement
        if len(ext) == 6:  # acute has a prior-years column
            ext, dh = ext[1:], dh[1:]
        f.add_row(f"{name} external requirement", *(m(v) for v in ext), m(ext.sum()))
        f.add_row(f"{name} DH requirement", *(m(v) for v in dh), m(dh.sum()))
    results = check_results(figures)
    beyond = [r for r in results if r.status == "exceeds rounding"]
    within = [r for r in results if r.status == "within rounding"]
    console = Console(record=True, width=140)
    console.print(t)
    console.print(f)
    console.print(f"Checks: {len(results)}; agree {len(results) - len(beyond) - len(within)}, within rounding {len(within)}, "
                  f"beyond rounding {len(beyond)}:")
    for r in beyond:
        console.print(f"  {r.check.section}: {r.check.description}: stated {r.stated:,.1f}, computed {r.computed:,.1f}")
    return console.export_text()


NO_RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>1</value></prop></item>
</oor:items>
"""


def render(workbook: Path, out_dir: Path, sheet_title: str = "LLR STP 2016: capital, funding and savings",
           dpi: int = 100) -> tuple[Path, list[Path]]:
    """LibreOffice headless, recalculation on load off (it shows the stored values): the workbook
    as a PDF, and the pages of the Outputs sheet as PNGs. Needs soffice and pdftoppm."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdftoppm"):
        raise RuntimeError("rendering needs LibreOffice (soffice) and poppler-utils (pdftoppm): run scripts/setup as root")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        (Path(profile) / "user").mkdir()
        (Path(profile) / "user" / "registrymodifications.xcu").write_text(NO_RECALC_PROFILE)
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(out_dir), str(workbook)], check=True, capture_output=True, timeout=180)
    pdf = out_dir / (workbook.stem + ".pdf")
    pages = int(next(line.split()[-1] for line in subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                                                                 check=True).stdout.splitlines() if line.startswith("Pages:")))
    wanted = [p for p in range(1, pages + 1)
              if sheet_title in subprocess.run(["pdftotext", "-f", str(p), "-l", str(p), str(pdf), "-"], capture_output=True,
                                               text=True, check=True).stdout]
    pngs = []
    for p in wanted[:1]:
        stem = out_dir / f"{workbook.stem}-outputs"
        subprocess.run(["pdftoppm", "-f", str(p), "-l", str(p), "-r", str(dpi), "-png", "-singlefile", str(pdf), str(stem)],
                       check=True, capture_output=True, timeout=120)
        pngs.append(stem.with_suffix(".png"))
    return pdf, pngs


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="folder for the two workbooks (default: workbooks/)")
    ap.add_argument("--quiet", action="store_true", help="do not print the summary")
    ap.add_argument("--render", type=Path, metavar="DIR",
                    help="also render the workbook with LibreOffice: a PDF and a PNG of the Outputs sheet in DIR")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    built = build(a.out / WORKBOOK).path
    template = build(a.out / TEMPLATE, empty=True).path
    if not a.quiet:
        summary()
    print(f"wrote {built} and {template}")
    if a.render:
        pdf, pngs = render(built, a.render)
        print(f"rendered {pdf} and {', '.join(map(str, pngs))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

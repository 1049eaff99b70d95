"""The Checks sheet: every check of :func:`xl_stp.llr.checks.checks` as formulas — stated, computed,
``=STP_CHECK(stated, computed)``, tolerance and status — and one master check.

The status words are the core's (:data:`xl_stp.core.reconcile.NIL`, ``ROUNDING``, ``MISMATCH``);
the Status formula is Excel's own version of :attr:`xl_stp.llr.checks.CheckResult.status`.
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.utility import xl_col_to_name

from ..core.reconcile import MISMATCH, NIL, OK, ROUNDING
from ..llr.checks import Check, checks
from ..llr.figures import Figures
from .book import FMT, Book, Sheet
from .inputs import Cells

#: The status of a check whose difference is not a number (an #STP! message upstream).
NOT_COMPUTED = "not computed"
#: The master check when some checks exceed rounding: "9 checks exceed rounding".
EXCEED = " checks exceed rounding"
HEAD = 5  # the row of the column headings
COLUMNS = ["#", "Section", "Check", "Stated", "Computed", "Difference", "Tolerance", "Status"]
STATUS_COLUMN = 7
BEYOND, WITHIN, MASTER = (3, 3), (3, 5), (2, 3)  # the cells of the counts and of the master check


def write_checks(book: Book, figures: Figures, inputs: Cells, calc: dict[str, str]) -> str:
    """Every check, a row each, and the master check. Returns the master check cell."""
    s = book.sheet("Checks")
    ws = s.ws
    ws.set_column(0, 0, 5)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 2, 80)
    ws.set_column(3, 6, 11)
    ws.set_column(7, 7, 16)
    s.label(0, 1, "Checks: every stated total against its computed value", "title")
    s.label(1, 1, "Difference = STP_CHECK(stated, computed): OK, or stated less computed. Tolerance: what rounding of the "
                  f"printed figures allows (half a unit per figure). Status: {NIL} / {ROUNDING} / {MISMATCH}.", "note")
    for j, h in enumerate(COLUMNS):
        s.label(HEAD, j, h, "colhead")
    first = row = HEAD + 1
    for k, chk in enumerate(checks(figures), start=1):
        write_check(book, s, row, k, chk, figures, inputs, calc)
        row += 1
    last = row - 1
    master = write_master(s, first, last)
    highlight_statuses(book, s, first, last)
    ws.autofilter(HEAD, 0, last, STATUS_COLUMN)
    ws.freeze_panes(HEAD + 1, 3)
    return master


def write_check(book: Book, s: Sheet, row: int, k: int, chk: Check, figures: Figures, inputs: Cells,
                calc: dict[str, str]) -> None:
    """One check's row: number, section, description, stated, computed, difference, tolerance, status."""
    units = figures.record(*chk.stated)["units"]
    fmt = units if units in FMT else "£m"
    stated_cell = inputs[chk.stated]
    s.value(row, 0, k, "beds", blue=False)
    s.label(row, 1, chk.section)
    s.label(row, 2, chk.description)
    s.formula(row, 3, f"={stated_cell}", book.num(stated_cell), fmt)
    s.formula(row, 4, *computed(book, chk, inputs, calc), fmt)
    diff = s.udf(row, 5, "STP_CHECK", [s.ref(row, 3), s.ref(row, 4)], fmt)[0][0]
    s.value(row, 6, chk.tolerance, fmt)
    s.formula(row, 7, status_formula(s.ref(row, 5, sheet=False), s.ref(row, 6, sheet=False)),
              status(diff, chk.tolerance), "status")


def computed(book: Book, chk: Check, inputs: Cells, calc: dict[str, str]) -> tuple[str, Any]:
    """The computed side as a formula over the cells of its terms (``=a+b/1000-c*100``) and its
    value as Excel works it out (text in the arithmetic gives #VALUE!)."""
    parts, value = [], 0.0
    for term, factor in chk.computed:
        cell = inputs[tuple(term.split("|")[1:])] if term.startswith("figure|") else calc[term]
        v = book.excel_value(cell)
        if isinstance(v, str) or value == "#VALUE!":
            value = "#VALUE!"  # text (an #STP! message) in arithmetic: Excel's #VALUE!
        else:
            value += factor * (v or 0.0)
        sign = "-" if factor < 0 else "+"
        mag = abs(factor)
        parts.append(f"{sign}{cell}" + ("" if mag == 1 else f"/{round(1 / mag):d}" if mag < 1 else f"*{mag:g}"))
    return "=" + "".join(parts).lstrip("+"), value if isinstance(value, str) else value + 0.0


def status(difference: Any, tolerance: float) -> str:
    """The status of a check from its STP_CHECK difference, as :func:`status_formula` gives it."""
    if difference == OK:
        return NIL
    if isinstance(difference, str):
        return NOT_COMPUTED
    return ROUNDING if abs(difference) <= tolerance + 1e-9 else MISMATCH


def status_formula(difference: str, tolerance: str) -> str:
    """The Status cell's formula over the Difference and Tolerance cells."""
    return (f'=IFERROR(IF({difference}="{OK}","{NIL}",IF(ABS({difference})<={tolerance}+1E-9,"{ROUNDING}","{MISMATCH}")),'
            f'"{NOT_COMPUTED}")')


def write_master(s: Sheet, first: int, last: int) -> str:
    """The counts of checks beyond and within rounding, and the master check. Returns its cell."""
    col = xl_col_to_name(STATUS_COLUMN, col_abs=True)  # $H
    statuses = f"{col}${first + 1}:{col}${last + 1}"
    n_beyond = sum(1 for r in range(first, last + 1) if s.values[(r, STATUS_COLUMN)] == MISMATCH)
    n_within = sum(1 for r in range(first, last + 1) if s.values[(r, STATUS_COLUMN)] == ROUNDING)
    s.label(BEYOND[0], 1, "Checks beyond rounding", "status")
    s.formula(*BEYOND, f'=COUNTIF({statuses},"{MISMATCH}")', n_beyond, "beds")
    s.label(WITHIN[0], WITHIN[1] - 1, ROUNDING)
    s.formula(*WITHIN, f'=COUNTIF({statuses},"{ROUNDING}")', n_within, "beds")
    s.label(MASTER[0], 1, "MASTER CHECK", "status")
    beyond = s.ref(*BEYOND, absolute=False, sheet=False)
    s.formula(*MASTER, f'=IF({beyond}=0,"{OK}",{beyond}&"{EXCEED}")', OK if n_beyond == 0 else f"{n_beyond}{EXCEED}",
              "status")
    return s.ref(*MASTER)


def highlight_statuses(book: Book, s: Sheet, first: int, last: int) -> None:
    """Checks beyond rounding in red, within rounding in yellow."""
    s.ws.conditional_format(first, STATUS_COLUMN, last, STATUS_COLUMN,
                            {"type": "cell", "criteria": "==", "value": f'"{MISMATCH}"',
                             "format": book.wb.add_format({"bg_color": "#F4CCCC", "font_color": "#9C0006"})})
    s.ws.conditional_format(first, STATUS_COLUMN, last, STATUS_COLUMN,
                            {"type": "cell", "criteria": "==", "value": f'"{ROUNDING}"',
                             "format": book.wb.add_format({"bg_color": "#FFF2CC"})})

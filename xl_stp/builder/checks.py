"""The Checks sheet: every check of :func:`xl_stp.llr.checks.checks` as formulas — stated, computed,
``=STP_CHECK(stated, computed)``, tolerance and status — and one master check.

The status words are the core's (:data:`xl_stp.core.reconcile.NIL`, ``ROUNDING``, ``MISMATCH``);
the Status formula is Excel's own version of :attr:`xl_stp.llr.checks.CheckResult.status`.

A computed value that reads an STP_* block is guarded by the block's error check (``#N/A`` while
it reports a problem); its check is then *not computed*. The master check says, first of all, how
many functions report a problem (``err_functions`` on Calculations), then how many checks are not
computed, then how many exceed rounding; ``OK`` only when none.
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.utility import xl_col_to_name

from ..core.reconcile import MISMATCH, NIL, OK, ROUNDING
from ..llr.checks import Check, checks
from ..llr.figures import Figures
from .book import FMT, Book, Sheet, excel_arithmetic, excel_link
from .calculations import ERR_FUNCTIONS
from .inputs import Cells

#: The status of a check whose difference is not a number (an #STP! message upstream).
NOT_COMPUTED = "not computed"
#: The master check when some checks exceed rounding: "9 checks exceed rounding".
EXCEED = " checks exceed rounding"
HEAD = 5  # the row of the column headings
COLUMNS = ["#", "Section", "Check", "Stated", "Computed", "Difference", "Tolerance", "Status"]
STATUS_COLUMN = 7
#: The cells of the counts (beyond rounding, within rounding, not computed, functions reporting a
#: problem) and of the master check.
BEYOND, WITHIN, UNCOMPUTED, FUNCTIONS, MASTER = (3, 3), (3, 5), (3, 7), (4, 3), (2, 3)


def write_checks(book: Book, figures: Figures, inputs: Cells, calc: dict[str, str]) -> str:
    """Every check, a row each, and the master check. Returns the master check cell. (The
    Calculations sheet, its error checks included, is written before.)"""
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
    master = write_master(book, s, first, last)
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
    s.formula(row, 3, f"={stated_cell}", excel_link(book.excel_value(stated_cell)), fmt)
    expression, cells, value = computed(book, chk, inputs, calc)
    s.guarded(row, 4, expression, cells, value, fmt)
    diff = s.udf(row, 5, "STP_CHECK", [s.ref(row, 3), s.ref(row, 4)], fmt)[0][0]
    s.value(row, 6, chk.tolerance, fmt)
    s.formula(row, 7, status_formula(s.ref(row, 5, sheet=False), s.ref(row, 6, sheet=False)),
              status(diff, chk.tolerance), "status")


def computed(book: Book, chk: Check, inputs: Cells, calc: dict[str, str]) -> tuple[str, list[str], Any]:
    """The computed side as an expression over the cells of its terms (``a+b/1000-c*100``), those
    cells, and its value as Excel works it out (text in the arithmetic gives #VALUE!, an error value
    passes on)."""
    parts, cells, terms = [], [], []
    for term, factor in chk.computed:
        cell = inputs[tuple(term.split("|")[1:])] if term.startswith("figure|") else calc[term]
        cells.append(cell)
        terms.append((book.excel_value(cell), factor))
        sign = "-" if factor < 0 else "+"
        mag = abs(factor)
        parts.append(f"{sign}{cell}" + ("" if mag == 1 else f"/{round(1 / mag):d}" if mag < 1 else f"*{mag:g}"))
    return "".join(parts).lstrip("+"), cells, excel_arithmetic(terms)


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


def write_master(book: Book, s: Sheet, first: int, last: int) -> str:
    """The counts of checks beyond rounding, within rounding and not computed, the count of
    functions reporting a problem, and the master check. Returns its cell."""
    col = xl_col_to_name(STATUS_COLUMN, col_abs=True)  # $H
    statuses = f"{col}${first + 1}:{col}${last + 1}"
    counts = {word: sum(1 for r in range(first, last + 1) if s.values[(r, STATUS_COLUMN)] == word)
              for word in (MISMATCH, ROUNDING, NOT_COMPUTED)}
    s.label(BEYOND[0], 1, "Checks beyond rounding", "status")
    s.formula(*BEYOND, f'=COUNTIF({statuses},"{MISMATCH}")', counts[MISMATCH], "count")
    s.label(WITHIN[0], WITHIN[1] - 1, ROUNDING)
    s.formula(*WITHIN, f'=COUNTIF({statuses},"{ROUNDING}")', counts[ROUNDING], "count")
    s.label(UNCOMPUTED[0], UNCOMPUTED[1] - 1, NOT_COMPUTED)
    s.formula(*UNCOMPUTED, f'=COUNTIF({statuses},"{NOT_COMPUTED}")', counts[NOT_COMPUTED], "count")
    s.label(FUNCTIONS[0], 1, "Functions reporting a problem", "status")
    s.label(FUNCTIONS[0], FUNCTIONS[1] + 1, "(error checks at the end of Calculations)", "note")
    n_functions = sum(1 for b in book.blocks.values() if b.problems)
    s.formula(*FUNCTIONS, f"={ERR_FUNCTIONS}", n_functions, "count")
    s.label(MASTER[0], 1, "MASTER CHECK", "status")
    functions, uncomputed, beyond = (s.ref(*cell, absolute=False, sheet=False) for cell in (FUNCTIONS, UNCOMPUTED, BEYOND))
    s.formula(*MASTER, f'=IF({functions}>0,{functions}&IF({functions}=1," function reports"," functions report")&" a problem",'
                       f'IF({uncomputed}>0,{uncomputed}&IF({uncomputed}=1," check"," checks")&" not computed",'
                       f'IF({beyond}=0,"{OK}",{beyond}&"{EXCEED}")))',
              master(n_functions, counts[NOT_COMPUTED], counts[MISMATCH]), "status")
    return s.ref(*MASTER)


def master(functions: int, uncomputed: int, beyond: int) -> str:
    """The master check as its formula gives it: functions reporting a problem first, then checks
    not computed, then checks beyond rounding; OK when there are none."""
    if functions:
        return f"{functions} function{' reports' if functions == 1 else 's report'} a problem"
    if uncomputed:
        return f"{uncomputed} check{'' if uncomputed == 1 else 's'} not computed"
    return OK if beyond == 0 else f"{beyond}{EXCEED}"


def highlight_statuses(book: Book, s: Sheet, first: int, last: int) -> None:
    """Checks beyond rounding in red, within rounding in yellow."""
    s.ws.conditional_format(first, STATUS_COLUMN, last, STATUS_COLUMN,
                            {"type": "cell", "criteria": "==", "value": f'"{MISMATCH}"',
                             "format": book.wb.add_format({"bg_color": "#F4CCCC", "font_color": "#9C0006"})})
    s.ws.conditional_format(first, STATUS_COLUMN, last, STATUS_COLUMN,
                            {"type": "cell", "criteria": "==", "value": f'"{ROUNDING}"',
                             "format": book.wb.add_format({"bg_color": "#FFF2CC"})})

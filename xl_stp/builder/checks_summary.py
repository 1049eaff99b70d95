"""The checks summary at the end of the Outputs sheet (its own page of the print pack): the master
check, the checks of each group by status, and the checks beyond rounding, listed by formula from
the Checks sheet (``INDEX``/``MATCH`` on their numbers), so that it follows Excel's recalculation.
"""

from __future__ import annotations

from typing import Sequence

from xlsxwriter.utility import xl_col_to_name

from ..core.reconcile import MISMATCH, NIL, ROUNDING
from .book import excel_link
from .checks import (
    DIFFERENCE,
    EXCEPTION,
    NOT_COMPUTED,
    NOT_STATED,
    STATED,
    STATUS,
    CheckRow,
)
from .outputs import HELPER, Outputs

#: Rows of the list of checks beyond rounding.
LISTED = 20
#: The status columns of the summary by group.
WORDS = (NIL, ROUNDING, MISMATCH, NOT_COMPUTED)


def _checks_range(column: int, first: int, last: int) -> str:
    c = xl_col_to_name(column)
    return f"Checks!${c}${first + 1}:${c}${last + 1}"


def checks_summary(o: Outputs, master: str, rows: Sequence[CheckRow], groups: Sequence[tuple[str, int, int]]) -> None:
    """The summary's page: the master check, each group's checks by status, the list of checks
    beyond rounding."""
    s = o.sheet
    o.page_break()
    o.heading("Checks summary: every total the plan states against its line items (Checks sheet)")
    s.label(o.row, 0, "Master check", "status")
    s.formula(o.row, 1, f"={master}", o.book.excel_value(master), "status")
    o.row += 2
    by_group(o, rows, groups)
    beyond_rounding(o, rows, groups[0][1], groups[-1][2])


def by_group(o: Outputs, rows: Sequence[CheckRow], groups: Sequence[tuple[str, int, int]]) -> None:
    """A row a group of checks: how many, how many stated, and how many of each status."""
    s = o.sheet
    heads = ["Checks", "Stated", *WORDS]
    for j, h in enumerate(["Checks", "Stated", "Agree", "Within rounding", "Beyond rounding", "Not computed"]):
        s.label(o.row, 1 + j, h, "colhead2")
    s.label(o.row, 0, "Group", "rowhead")
    s.ws.set_row(o.row, 27)
    o.row += 1
    first_row = o.row
    status_of = {r.row: r.status for r in rows}
    for name, first, last in groups:
        s.label(o.row, 0, name)
        statuses = _checks_range(STATUS, first, last)
        n = last - first + 1
        s.formula(o.row, 1, f"=ROWS({statuses})", float(n), "count")
        unstated = sum(1 for r in range(first, last + 1) if status_of[r] == NOT_STATED)
        s.formula(o.row, 2, f'=ROWS({statuses})-COUNTIF({statuses},"{NOT_STATED}")', float(n - unstated), "count")
        for j, word in enumerate(WORDS, start=3):
            count = sum(1 for r in range(first, last + 1) if status_of[r] == word)
            s.formula(o.row, j, f'=COUNTIF({statuses},"{word}")', float(count), "count")
        o.row += 1
    s.label(o.row, 0, "All checks", "status")
    for j in range(1, len(heads) + 1):
        cells = s.rng(first_row, j, o.row - 1, j).split("!")[1]
        s.formula(o.row, j, f"=SUM({cells})", sum(s.values[(r, j)] for r in range(first_row, o.row)), "total:count")
    o.row += 2


def beyond_rounding(o: Outputs, rows: Sequence[CheckRow], first: int, last: int) -> None:
    """The checks beyond rounding, the first :data:`LISTED` of them: section and check, stated,
    computed, difference (``INDEX`` of the Checks sheet at the ``MATCH`` of their number)."""
    s = o.sheet
    s.label(o.row, 0, "Checks beyond rounding", "heading")
    for j, h in enumerate(("Stated", "Computed", "Difference", "Tolerance")):
        s.label(o.row, 1 + j, h, "colhead")
    s.label(o.row, HELPER, "Checks row", "colhead")
    o.row += 1
    beyond = [r for r in rows if r.status == MISMATCH]
    numbers = _checks_range(EXCEPTION, first, last)
    for k in range(1, LISTED + 1):
        hit = beyond[k - 1] if k <= len(beyond) else None
        at = s.ref(o.row, HELPER, sheet=False)
        s.formula(o.row, HELPER, f'=IFERROR(MATCH({k},{numbers},0),"")', float(hit.row - first + 1) if hit else "", "count")
        words = f"{hit.section}: {hit.description}" if hit else ""
        s.formula(o.row, 0, f'=IF({at}="","",INDEX({_checks_range(1, first, last)},{at})&": "&'
                            f'INDEX({_checks_range(2, first, last)},{at}))', words, "wrap")
        for j, (col, value) in enumerate(((STATED, hit and hit.stated), (4, hit and hit.computed),
                                          (DIFFERENCE, hit and hit.difference), (7, hit and hit.tolerance)), start=1):
            s.formula(o.row, j, f'=IF({at}="","",INDEX({_checks_range(col, first, last)},{at}))',
                      excel_link(value) if hit else "", "£m")
        if hit:
            s.ws.set_row(o.row, 13.5 * (1 + len(words) // 80))
        o.row += 1
    more = max(0, len(beyond) - LISTED)
    count = f'COUNTIF({_checks_range(STATUS, first, last)},"{MISMATCH}")'
    s.formula(o.row, 0, f'=IF({count}>{LISTED},{count}-{LISTED}&" more beyond rounding: see the Checks sheet","")',
              f"{more} more beyond rounding: see the Checks sheet" if more else "", "label")
    o.row += 1

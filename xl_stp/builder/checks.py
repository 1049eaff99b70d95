"""The Checks sheet: every total the plan states against its value worked out from the line items,
for any footprint, and one master check.

A row a check: number, section, check (both worked out from the Inputs' names), stated (blank: not
stated), computed, ``=STP_CHECK(stated, computed)``, the unit the stated figure is rounded to,
the tolerance, the status and, for a check beyond rounding, its number among them (the Outputs'
summary lists them). The tolerance is what rounding of the figures as typed allows: half a unit of
the stated figure plus half a unit for each figure typed behind the computed value (a ``COUNT`` of
the cells it rests on), in the stated figure's units. The unit of a figure is the setting of its
table on Inputs (``unit_thousands``, ``unit_millions``), or its own, or else worked out from the
figure itself (350 is rounded to 1, 98.4 to 0.1): nothing is fitted to one plan.

The checks of :mod:`~xl_stp.builder.template_checks` hold for every plan; a footprint adds its own
(the LLR workbook: figures its text repeats, its strand headings). A correct plan gives none beyond
rounding. The status words are the core's (:data:`xl_stp.core.reconcile.NIL`, ``ROUNDING``,
``MISMATCH``) and ``not stated``; a computed value that reads an STP_* block reporting a problem is
``#N/A`` and its check *not computed*. The master check says, first, how many functions report a
problem (``err_functions``), then how many checks are not computed, then how many exceed rounding;
``OK`` only when none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from xlsxwriter.utility import xl_col_to_name

from udfs.excel import is_error

from ..core.reconcile import MISMATCH, NIL, OK, ROUNDING
from .arithmetic import Ref, rounding_unit, rounding_unit_formula
from .book import Book, Sheet, excel_arithmetic, excel_link, is_number
from .calculations import ERR_FUNCTIONS

#: The status of a check whose difference is not a number (an #STP! message upstream), and of one
#: whose figure the plan does not state.
NOT_COMPUTED, NOT_STATED = "not computed", "not stated"
#: The master check when some checks exceed rounding: "9 checks exceed rounding".
EXCEED = " checks exceed rounding"
HEAD = 6  # the row of the column headings
COLUMNS = ["#", "Section", "Check", "Stated", "Computed", "Difference", "Rounded to", "Tolerance", "Status", "Beyond #"]
STATED, COMPUTED, DIFFERENCE, UNIT, TOLERANCE, STATUS, EXCEPTION = 3, 4, 5, 6, 7, 8, 9
#: The cells (row, column) of the counts — beyond rounding, within rounding, not computed, not
#: stated, functions reporting a problem — and of the master check.
BEYOND, WITHIN, UNCOMPUTED, UNSTATED, FUNCTIONS, MASTER = (3, 3), (3, 5), (3, 7), (4, 5), (4, 3), (2, 3)
#: The setting of each table's rounding unit (a defined name on Inputs), by the units of its figures.
UNIT_SETTING = {"£000": "unit_thousands", "£m": "unit_millions"}


@dataclass(frozen=True)
class Items:
    """Figures typed behind a computed value, for its tolerance: their count (a formula, such as
    ``COUNT(Inputs!$C$9:$G$23)``, or a cell holding one), its value, and their units: ``£000``,
    ``£m``, ``£000 in £m`` (£000 figures behind a £m total), or ``own`` (the stated figure's own unit)."""

    count: str
    value: float
    units: str


@dataclass(frozen=True)
class CheckSpec:
    """A stated figure (an Inputs cell) against a computed value (a sum of cells x factors)."""

    section: Sequence[str]
    description: Sequence[str]
    stated: str
    computed: tuple[tuple[str, float], ...]
    units: str  # £000, £m, %: the stated figure's table setting; own: its rounding from the figure; exact: 0
    items: tuple[Items, ...] = ()
    own_unit: str | None = None  # the cell of the stated figure's own 'rounded to' input, if any


@dataclass(frozen=True)
class CheckRow:
    """A check as written: its row (0-based), its words and its values as stored."""

    row: int
    section: str
    description: str
    stated: Any
    computed: Any
    difference: Any
    tolerance: Any
    status: str


def write_checks(book: Book, specs: Sequence[CheckSpec], groups: Sequence[tuple[str, int]]) -> tuple[str, list[CheckRow], list]:
    """Every check, a row each, and the master check. ``groups``: (name, number of checks) of each
    group of ``specs``, in order (the Outputs' summary counts by group). Returns the master check's
    cell, the rows as written and each group's (name, first row, last row)."""
    s = book.sheet("Checks")
    _layout(s)
    s.text(0, 1, ["Checks: ", Ref(book.names["plan_title"]), ": every stated total against its computed value"], "title")
    s.label(1, 1, "Difference = STP_CHECK(stated, computed): OK, or stated less computed. Tolerance: what rounding allows "
                  "(half a unit of the stated figure and of each figure typed behind the computed value). "
                  f"Status: {NIL} / {ROUNDING} / {MISMATCH} / {NOT_STATED} / {NOT_COMPUTED}.", "note")
    for j, h in enumerate(COLUMNS):
        s.label(HEAD, j, h, "colhead")
    rows = [write_check(book, s, HEAD + 1 + k, k + 1, spec) for k, spec in enumerate(specs)]
    first, last = HEAD + 1, HEAD + len(specs)
    master = write_master(book, s, first, last)
    highlight_statuses(book, s, first, last)
    s.ws.autofilter(HEAD, 0, last, EXCEPTION)
    s.ws.freeze_panes(HEAD + 1, 3)
    s.ws.repeat_rows(HEAD)
    bounds, at = [], first
    for name, n in groups:
        bounds.append((name, at, at + n - 1))
        at += n
    return master, rows, bounds


def _layout(s: Sheet) -> None:
    ws = s.ws
    for col, width in enumerate([5, 30, 62, 11, 11, 11, 9, 9, 15, 8]):
        ws.set_column(col, col, width)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.set_footer("&L&8&A&R&8Page &P of &N")


def write_check(book: Book, s: Sheet, row: int, k: int, spec: CheckSpec) -> CheckRow:
    """One check's row: number, section, check, stated, computed, difference, unit, tolerance,
    status and its number among those beyond rounding."""
    fmt = spec.units if spec.units in ("£000", "£m", "%") else "£m"
    ref = lambda col: s.ref(row, col, sheet=False)  # noqa: E731
    s.value(row, 0, k, "count", blue=False)
    section = _words(s, row, 1, spec.section)
    description = _words(s, row, 2, spec.description)
    stated_in = book.excel_value(spec.stated)
    stated = s.guarded(row, STATED, f'IF(ISBLANK({spec.stated}),"",{spec.stated})', [spec.stated],
                       "" if stated_in is None else stated_in, fmt)  # guarded when it reads a block (the tables' arithmetic)
    expression, cells, value = computed(book, spec.computed)
    computed_value = s.guarded(row, COMPUTED, expression, cells, value, fmt)
    compared = computed_value if stated == "" else stated
    diff = s.udf(row, DIFFERENCE, "STP_CHECK", [f'IF({ref(STATED)}="",{ref(COMPUTED)},{ref(STATED)})', ref(COMPUTED)],
                 fmt, given={0: compared, 1: computed_value})[0][0]
    unit = write_unit(book, s, row, spec, stated, fmt)
    tolerance = write_tolerance(book, s, row, spec, stated, unit, fmt)
    status = status_of(stated, diff, tolerance)
    s.formula(row, STATUS, status_formula(ref(STATED), ref(DIFFERENCE), ref(TOLERANCE)), status, "status")
    above = f"{xl_col_to_name(STATUS)}${HEAD + 2}:{ref(STATUS)}"
    n = sum(1 for r in range(HEAD + 1, row + 1) if s.values.get((r, STATUS)) == MISMATCH)
    s.formula(row, EXCEPTION, f'=IF({ref(STATUS)}="{MISMATCH}",COUNTIF({above},"{MISMATCH}"),"")',
              n if status == MISMATCH else "", "count")
    return CheckRow(row, section, description, stated, computed_value, diff, tolerance, status)


def _words(s: Sheet, row: int, col: int, parts: Sequence[str]) -> str:
    if isinstance(parts, str):
        s.label(row, col, parts)
        return parts
    return s.text(row, col, parts)


def computed(book: Book, terms: Sequence[tuple[str, float]]) -> tuple[str, list[str], Any]:
    """The computed side as an expression over its cells (``a+b/1000-c*100``), those cells, and its
    value as Excel works it out (text in the arithmetic gives #VALUE!, an error value passes on)."""
    parts, cells, values = [], [], []
    for cell, factor in terms:
        cells.append(cell)
        values.append((excel_link(book.excel_value(cell)), factor))
        sign = "-" if factor < 0 else "+"
        mag = abs(factor)
        parts.append(f"{sign}{cell}" + ("" if mag == 1 else f"/{round(1 / mag):d}" if mag < 1 else f"*{mag:g}"))
    return "".join(parts).lstrip("+"), cells, excel_arithmetic(values)


def write_unit(book: Book, s: Sheet, row: int, spec: CheckSpec, stated: Any, fmt: str) -> Any:
    """The unit the stated figure is rounded to: its own 'rounded to' input or its table's setting,
    else worked out from the figure as typed; 0 for the tables' own arithmetic."""
    d = s.ref(row, STATED, sheet=False)
    given = spec.own_unit or UNIT_SETTING.get(spec.units)
    setting = book.excel_value(given) if given else None
    if spec.units == "exact":  # an identity of the tables themselves: no rounding
        inner, value = "0", 0.0
    else:
        fallback = rounding_unit_formula(d)
        inner = f"IF(ISNUMBER({given}),{given},{fallback})" if given else fallback
        value = float(setting) if is_number(setting) else rounding_unit(stated) if is_number(stated) else "#VALUE!"
    if stated == "" or is_error(stated):  # not stated; or a stated side reading a failed block: its error
        value = stated
    s.formula(row, UNIT, f'=IF({d}="","",{inner})', value, "unit")
    return value


def _item_unit(units: str, unit_cell: str) -> str:
    """An item's unit as a formula: a table's setting, the stated figure's own unit (its cell
    ``G``), the cell of a 'rounded to' figure, or (``derived:cell``) worked out from a figure."""
    known = {"£000": "unit_thousands", "£m": "unit_millions", "£000 in £m": "unit_thousands/1000", "own": unit_cell}
    if units in known:
        return known[units]
    return rounding_unit_formula(units[len("derived:"):]) if units.startswith("derived:") else units


def _item_unit_value(book: Book, units: str, own: Any) -> Any:
    if units == "own":
        return own
    if units in ("£000", "£m", "£000 in £m"):
        return _setting(book, units)
    if units.startswith("derived:"):
        v = book.excel_value(units[len("derived:"):])
        return rounding_unit(v) if is_number(v) else "#VALUE!"
    v = book.excel_value(units)
    return float(v) if is_number(v) else v


def write_tolerance(book: Book, s: Sheet, row: int, spec: CheckSpec, stated: Any, unit: Any, fmt: str) -> Any:
    """Half the stated figure's unit plus half a unit for each figure typed behind the computed value."""
    g = s.ref(row, UNIT, sheet=False)
    terms, value = [f"{g}/2"], None
    if is_number(unit):
        value = unit / 2
    for item in spec.items:
        u = _item_unit(item.units, g)
        terms.append(f"{item.count}*{u}/2")
        if value is not None:
            u_value = _item_unit_value(book, item.units, unit)
            value = excel_arithmetic([(value, 1.0), (item.value * u_value / 2, 1.0)]) if is_number(u_value) else u_value
    if stated == "" or is_error(stated):
        value = stated
    elif value is None:
        value = unit
    d = s.ref(row, STATED, sheet=False)
    s.formula(row, TOLERANCE, f'=IF({d}="","",{"+".join(terms)})', value, fmt)
    return value


def _setting(book: Book, units: str) -> float:
    name = "unit_thousands" if units.startswith("£000") else "unit_millions"
    v = book.excel_value(name)
    v = float(v) if is_number(v) else 0.0
    return v / 1000 if units == "£000 in £m" else v


def status_of(stated: Any, difference: Any, tolerance: Any) -> str:
    """The status of a check, as :func:`status_formula` gives it."""
    if stated == "":
        return NOT_STATED
    if difference == OK:
        return NIL
    if isinstance(difference, str) or not is_number(tolerance):
        return NOT_COMPUTED
    return ROUNDING if abs(difference) <= tolerance + 1e-9 else MISMATCH


def status_formula(stated: str, difference: str, tolerance: str) -> str:
    """The Status cell's formula over the Stated, Difference and Tolerance cells."""
    return (f'=IFERROR(IF({stated}="","{NOT_STATED}",IF({difference}="{OK}","{NIL}",'
            f'IF(ABS({difference})<={tolerance}+1E-9,"{ROUNDING}","{MISMATCH}"))),"{NOT_COMPUTED}")')


def write_master(book: Book, s: Sheet, first: int, last: int) -> str:
    """The counts of checks by status, the count of functions reporting a problem, and the master
    check. Returns its cell."""
    col = xl_col_to_name(STATUS, col_abs=True)
    statuses = f"{col}${first + 1}:{col}${last + 1}"
    counts = {word: sum(1 for r in range(first, last + 1) if s.values[(r, STATUS)] == word)
              for word in (MISMATCH, ROUNDING, NOT_COMPUTED, NOT_STATED)}
    for (r, c), label, word in ((BEYOND, "Checks beyond rounding", MISMATCH), (WITHIN, ROUNDING, ROUNDING),
                                (UNCOMPUTED, NOT_COMPUTED, NOT_COMPUTED), (UNSTATED, NOT_STATED, NOT_STATED)):
        s.label(r, c - 1 if c > 3 else 1, label, "status" if c == 3 else "label")
        s.formula(r, c, f'=COUNTIF({statuses},"{word}")', counts[word], "count")
    s.label(FUNCTIONS[0], 1, "Functions reporting a problem", "status")
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
    """Checks beyond rounding in red, within rounding in yellow, not stated in grey."""
    for word, props in ((MISMATCH, {"bg_color": "#F4CCCC", "font_color": "#9C0006"}), (ROUNDING, {"bg_color": "#FFF2CC"}),
                        (NOT_STATED, {"font_color": "#A6A6A6"})):
        s.ws.conditional_format(first, STATUS, last, STATUS, {"type": "cell", "criteria": "==", "value": f'"{word}"',
                                                             "format": book.wb.add_format(props)})

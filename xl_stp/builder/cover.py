"""The Cover sheet: what the workbook is (from the Inputs' names), how it is laid out, the master
check, which functions report a problem and the colour key; one printed page.

The functions line is a formula over the error checks at the end of Calculations, so that it
follows Excel's recalculation: ``none of the 14 functions reports a problem``, or ``2 functions
report a problem: Calculations!B58 (Acute configuration funding: STP_FUNDING_SPLIT), ...``. It is
built with IF, ``&`` and MID only, which Excel, LibreOffice and the ``formulas`` package all compute.
"""

from __future__ import annotations

from .arithmetic import Named, Ref
from .book import BLACK, BLUE, BUILT_BY, INPUT_FILL, Book, Sheet
from .calculations import ERR_FUNCTIONS, ErrorChecks
from .footprint import key
from .inputs import Cells

LINES = [
    ("Units", "£000 unless a table says £m; financial years 2017/18 ...; negatives in brackets; '-' is nil."),
    ("Sheets", "Inputs (blue on a pale fill: the plan's figures, with sources) > Calculations (STP_* functions and "
               "SUMs, then an error check for each function) > Outputs (tables, charts and the checks summary) > "
               "Checks (every stated total against its line items)."),
    ("Adopting it", "Type another footprint's names and figures on the Inputs sheet only: every title, label and "
                    "check follows them. Leave rows you do not need blank."),
    ("Print pack", "This Cover and the Outputs: capital and the total requirement; the funding waterfalls; STF, savings and "
                   "the gap bridge; charts; the checks summary (xl-stp build --render DIR makes the PDF)."),
    ("Errors", "A function that reports a problem (an #STP! message or an error value) makes every total over its "
               "table #N/A and fails the master check; the line below says which."),
    ("Functions", "STP_* are xl-stp's Excel functions (xlwings add-in, UDF module udfs.functions). Without the "
                  "add-in the stored values stand; `xl-stp regen` recalculates them on a server."),
    ("Built by", BUILT_BY),
]
#: The rows of the master check and of the functions line.
MASTER_ROW, FUNCTIONS_ROW = 10, 11
#: The width of the text column, and the characters a line of it holds (Arial 10).
WIDTH, LINE = 130, 185
#: What the Cover says of a plan with no description.
NO_DESCRIPTION = "An STP's finance and capital plan: enter the footprint's figures on the Inputs sheet."


def write_cover(book: Book, s: Sheet, inputs: Cells, master: str, errors: ErrorChecks) -> None:
    """The Cover (the first tab, created first and filled in last, when the master check exists)."""
    ws = s.ws
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, WIDTH)
    ws.hide_gridlines(2)
    s.text(0, 0, [Ref(book.names["plan_title"]), ": finance and capital"], "title")
    s.label(2, 0, "Purpose", "key")
    s.text(2, 1, [Named(inputs[key("plan", "description")], NO_DESCRIPTION)], "wrap")
    ws.set_row(2, _height("x" * 2 * LINE))  # a description of up to two lines
    for i, (k, v) in enumerate(LINES, start=3):
        s.label(i, 0, k, "key")
        s.label(i, 1, v, "wrap")
        ws.set_row(i, _height(v))
    s.label(MASTER_ROW, 0, "Master check", "key")
    s.formula(MASTER_ROW, 1, f"={master}", book.excel_value(master), "status")
    s.label(FUNCTIONS_ROW, 0, "Function checks", "key")
    s.formula(FUNCTIONS_ROW, 1, *functions_line(book, errors), "wrap")
    ws.set_row(FUNCTIONS_ROW, _height("x" * 2 * LINE))  # room for two lines of functions reporting a problem
    for i, (k, colour, fill) in enumerate([("Input", BLUE, INPUT_FILL), ("Formula", BLACK, None)], start=FUNCTIONS_ROW + 2):
        props = {"font_color": colour, "font_name": "Arial", "font_size": 10}
        if fill:
            props["bg_color"] = fill
        ws.write_string(i, 0, k, book.wb.add_format(props))
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 1)
    ws.print_area(0, 0, FUNCTIONS_ROW + 3, 1)
    ws.set_footer("&L&8&A&R&8Page &P of &N")


def _height(text: str) -> float:
    """The height of a row whose wrapped text takes as many lines as it needs (points)."""
    return 14.0 * (1 + (len(text) - 1) // LINE) + 2


def functions_line(book: Book, errors: ErrorChecks) -> tuple[str, str]:
    """How many functions report a problem and where, as a formula over the error checks (each
    row's cell and label), and its value."""
    calc = book.sheets["Calculations"]
    blocks = list(book.blocks.values())
    parts, found = [], []
    for block in blocks:
        row = errors.rows[block.name]
        cell, label = calc.ref(row, 3), calc.ref(row, 0)
        parts.append(f'IF({block.name}>0,", "&{cell}&" ("&{label}&")","")')
        if block.problems:
            found.append(f"{block.anchor} ({block.label})")
    n = ERR_FUNCTIONS
    formula = (f'=IF({n}=0,"none of the {len(blocks)} functions reports a problem",'
               f'{n}&IF({n}=1," function reports"," functions report")&" a problem: "&MID({"&".join(parts)},3,4000))')
    if not found:
        return formula, f"none of the {len(blocks)} functions reports a problem"
    verb = "function reports" if len(found) == 1 else "functions report"
    return formula, f"{len(found)} {verb} a problem: " + ", ".join(found)

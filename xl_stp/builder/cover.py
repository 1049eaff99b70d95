"""The Cover sheet: what the workbook is, how it is laid out, the master check, which functions
report a problem and the colour key.

The functions line is a formula over the error checks at the end of Calculations, so that it
follows Excel's recalculation: ``none of the 12 functions reports a problem``, or ``2 functions
report a problem: Calculations!B58 (Acute configuration funding: STP_FUNDING_SPLIT), ...``. It is
built with IF, ``&`` and MID only, which Excel, LibreOffice and the ``formulas`` package all compute.
"""

from __future__ import annotations

from .book import BLACK, BLUE, BUILT_BY, Book, Sheet
from .calculations import ERR_FUNCTIONS, ErrorChecks

PURPOSE = ("The finance and capital sections of the Leicester, Leicestershire & Rutland Sustainability and "
           "Transformation Plan (November 2016), rebuilt from their line items.")
TEMPLATE_PURPOSE = "The same layout with empty inputs: enter another footprint's figures on the Inputs sheet."
LINES = [
    ("Units", "£000 unless a table says £m; financial years 2017/18 ...; negatives in brackets."),
    ("Sheets", "Inputs (blue: published figures, with sources) > Calculations (STP_* functions and SUMs, then an "
               "error check for each function) > Outputs (tables and charts) > Checks (stated against computed)."),
    ("Errors", "A function that reports a problem (an #STP! message or an error value) makes every total over its "
               "table #N/A and fails the master check; the line below says which."),
    ("Functions", "STP_* are xl-stp's Excel functions (xlwings add-in, UDF module udfs.functions). Without the "
                  "add-in the stored values stand; `xl-stp regen` recalculates them on a server."),
    ("Built by", BUILT_BY),
]


#: The rows of the master check and of the functions line.
MASTER_ROW, FUNCTIONS_ROW = 9, 10


def write_cover(book: Book, s: Sheet, master: str, errors: ErrorChecks, empty: bool) -> None:
    """The Cover (the first tab, created first and filled in last, when the master check exists)."""
    ws = s.ws
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 90)
    s.label(0, 0, "LLR STP 2016: finance and capital" if not empty else "STP finance and capital: template", "title")
    for i, (k, v) in enumerate([("Purpose", TEMPLATE_PURPOSE if empty else PURPOSE), *LINES], start=2):
        s.label(i, 0, k, "status")
        s.label(i, 1, v)
    s.label(MASTER_ROW, 0, "Master check", "status")
    s.formula(MASTER_ROW, 1, f"={master}", book.excel_value(master), "status")
    s.label(FUNCTIONS_ROW, 0, "Function checks", "status")
    s.formula(FUNCTIONS_ROW, 1, *functions_line(book, errors), "status")
    for i, (k, colour) in enumerate([("Input", BLUE), ("Formula", BLACK)], start=FUNCTIONS_ROW + 2):
        ws.write_string(i, 0, k, book.wb.add_format({"font_color": colour, "font_name": "Arial", "font_size": 10}))


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

"""The Cover sheet: what the workbook is, how it is laid out, the master check and the colour key."""

from __future__ import annotations

from .book import BLACK, BLUE, BUILT_BY, Book, Sheet

PURPOSE = ("The finance and capital sections of the Leicester, Leicestershire & Rutland Sustainability and "
           "Transformation Plan (November 2016), rebuilt from their line items.")
TEMPLATE_PURPOSE = "The same layout with empty inputs: enter another footprint's figures on the Inputs sheet."
LINES = [
    ("Units", "£000 unless a table says £m; financial years 2017/18 ...; negatives in brackets."),
    ("Sheets", "Inputs (blue: published figures, with sources) > Calculations (STP_* functions and SUMs) > "
               "Outputs (tables and charts) > Checks (stated against computed)."),
    ("Functions", "STP_* are xl-stp's Excel functions (xlwings add-in, UDF module udfs.functions). Without the "
                  "add-in the stored values stand; `xl-stp regen` recalculates them on a server."),
    ("Built by", BUILT_BY),
]


def write_cover(book: Book, s: Sheet, master: str, empty: bool) -> None:
    """The Cover (the first tab, created first and filled in last, when the master check exists)."""
    ws = s.ws
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 90)
    s.label(0, 0, "LLR STP 2016: finance and capital" if not empty else "STP finance and capital: template", "title")
    for i, (k, v) in enumerate([("Purpose", TEMPLATE_PURPOSE if empty else PURPOSE), *LINES], start=2):
        s.label(i, 0, k, "status")
        s.label(i, 1, v)
    s.label(8, 0, "Master check", "status")
    s.formula(8, 1, f"={master}", book.excel_value(master), "status")
    for i, (k, colour) in enumerate([("Input", BLUE), ("Formula", BLACK)], start=10):
        ws.write_string(i, 0, k, book.wb.add_format({"font_color": colour, "font_name": "Arial", "font_size": 10}))

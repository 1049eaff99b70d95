"""Which engine's answer the fused engine writes where LibreOffice and formulas disagree: a policy
by function, measured on the Excel-saved training corpus (``../shared/corpus/excel-saved``) with
``python -m bench.agreement --by-function``.

For every function, the cells that call it were recomputed by both engines and compared with the
value Excel stored. A function is given to formulas when formulas reproduced Excel on more of its
cells than LibreOffice did, and to LibreOffice when LibreOffice did better; everything else stays
with LibreOffice (faster, broader). A cell that calls functions from both lists stays with
LibreOffice. The figures behind each entry are in the comment beside it: cells calling the
function, LibreOffice wrong, formulas wrong.
"""

from __future__ import annotations

# Measured on 2026-11-25 with LibreOffice 25.2.3 and formulas 1.3 (bench/agreement.py), on the 60
# Excel-saved workbooks LibreOffice opens (3,394 formula cells compared; LibreOffice crashes loading
# formulas-project/test.xlsx, which the fused engine then computes with formulas alone). Cells of
# the deliberately circular file are left out of the evidence. cells / LibreOffice wrong / formulas wrong:

#: Functions whose cells formulas gets right more often than LibreOffice.
PREFER_FORMULAS: frozenset[str] = frozenset({
    "DATE",  # 26 / 8 / 0: a year below 1900 is 1900 + year in Excel and formulas, a year as given in LibreOffice;
             # DATE(10000,1,1) is #NUM! in Excel and formulas, a date in LibreOffice
})

#: Functions whose cells LibreOffice gets right more often than formulas.
PREFER_LIBREOFFICE: frozenset[str] = frozenset({
    "BIN2HEX", "BIN2OCT",  # 86 / 0 / 13, 85 / 0 / 12
    "DEC2BIN", "DEC2HEX", "DEC2OCT",  # 666 / 2 / 327, 673 / 2 / 327, 669 / 2 / 327: negatives ignore 'places'
    "HEX2BIN", "HEX2DEC", "HEX2OCT",  # 113 / 0 / 36, 65 / 0 / 1, 113 / 0 / 36
    "OCT2BIN", "OCT2HEX",  # 94 / 0 / 24, 94 / 0 / 24
    "VDB",  # 40 / 14 / 17
})


def prefers_formulas(functions: set[str]) -> set[str]:
    """Of the functions a cell calls (upper case, no ``_xlfn.``), those that send it to formulas;
    empty when any of them is LibreOffice's."""
    if functions & PREFER_LIBREOFFICE:
        return set()
    return functions & PREFER_FORMULAS

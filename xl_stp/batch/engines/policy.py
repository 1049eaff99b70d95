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

#: Functions whose cells formulas gets right more often than LibreOffice.
PREFER_FORMULAS: frozenset[str] = frozenset()

#: Functions whose cells LibreOffice gets right more often than formulas.
PREFER_LIBREOFFICE: frozenset[str] = frozenset()


def prefers_formulas(functions: set[str]) -> set[str]:
    """Of the functions a cell calls (upper case, no ``_xlfn.``), those that send it to formulas;
    empty when any of them is LibreOffice's."""
    if functions & PREFER_LIBREOFFICE:
        return set()
    return functions & PREFER_FORMULAS

"""A1 cell names and ranges: bounds, the cells of a range, shapes, column letters and numbers.

One copy of each for the scan, the engines and the write-back. ``bounds`` and ``expand`` are
cached (a workbook asks for the same ranges pass after pass); :func:`clear_caches` empties them
once a workbook is done, so nothing a workbook asked for outlives its regeneration.
"""

from __future__ import annotations

import functools
import re

from openpyxl.utils.cell import get_column_letter as column_letter
from openpyxl.utils.cell import range_boundaries

#: A cell name without dollars: groups column letters, row number.
CELL_NAME = re.compile(r"([A-Z]{1,3})([0-9]+)")
_CELL = r"\$?[A-Z]{1,3}\$?[0-9]+"
#: A whole argument that is a reference: an optional sheet ('My Sheet' or Inputs), then A1 or A1:B2
#: (dollars allowed); groups sheet (as written, quotes and all), a, b.
REF = re.compile(rf"^(?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_. ]*)!)?(?P<a>{_CELL})(?::(?P<b>{_CELL}))?$")
#: A sheet-qualified reference inside formula text: groups sheet (as written), A1 or A1:B2.
SHEET_CELLS = re.compile(rf"('(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!({_CELL}(?::{_CELL})?)")


@functools.lru_cache(maxsize=65536)
def bounds(ref: str) -> tuple[int, int, int, int]:
    """'B5:D6' -> (first column, first row, last column, last row) = (2, 5, 4, 6); 'B5' -> (2, 5, 2, 5)."""
    return range_boundaries(ref)


@functools.lru_cache(maxsize=65536)
def expand(ref: str) -> tuple[str, ...]:
    """'B5:D6' -> ('B5', 'C5', 'D5', 'B6', ...): the cells of a range, row by row."""
    c1, r1, c2, r2 = bounds(ref)
    return tuple(f"{column_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))


def shape(ref: str) -> tuple[int, int]:
    """'B5:D6' -> (2 rows, 3 columns)."""
    c1, r1, c2, r2 = bounds(ref)
    return r2 - r1 + 1, c2 - c1 + 1


def area(c1: int, r1: int, c2: int, r2: int) -> str:
    """(2, 5, 4, 6) -> 'B5:D6'."""
    return f"{column_letter(c1)}{r1}:{column_letter(c2)}{r2}"


@functools.lru_cache(maxsize=4096)
def column_index(letters: str) -> int:
    """'A' -> 1, 'AB' -> 28."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def clear_caches() -> None:
    bounds.cache_clear()
    expand.cache_clear()


__all__ = ["CELL_NAME", "REF", "SHEET_CELLS", "area", "bounds", "clear_caches", "column_index", "column_letter", "expand",
           "shape"]

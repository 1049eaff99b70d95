"""Excel's value conventions, written once: the converter, the batch engine and the workbook
builder all read them from here.

- **Error values**: every literal Excel shows in a cell, including the dynamic-array ones
  (``#SPILL!``, ``#CALC!``) and those of data types, connections and Python in Excel; and the COM
  codes classic Excel passes for the seven classic ones when xlwings does not convert them.
- **A range as Excel passes it to a function**: one cell as its value, more as a list of rows.
- **Cached values in a file**: a formula cell's ``t`` attribute and ``<v>`` text read as the
  Python value Excel would pass on, and a Python value written as Excel writes it.
- **Function-name spellings** a workbook may carry for an add-in's function
  (``_xludf.STP_GAP``, ``[1]!STP_GAP``, ``_xldudf_XLSTP_STP_GAP``...), reduced to the name.

Nothing here imports the registry, the core or xlwings: it is the bottom of the Excel side.
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

#: Excel's error values as text (what xlwings' ``err_to_str=True`` yields, what a file stores).
ERRORS = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!",
    "#EXTERNAL!",
})
#: COM error codes as classic Excel passes them without conversion.
COM_ERRORS = {
    -2146826288: "#NULL!", -2146826281: "#DIV/0!", -2146826273: "#VALUE!", -2146826265: "#REF!",
    -2146826259: "#NAME?", -2146826252: "#NUM!", -2146826246: "#N/A",
}
#: Characters XML 1.0 cannot store (a text value loses them when written to a file).
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def is_error(value: Any) -> bool:
    """An Excel error value, as text (any case, surrounding blanks ignored) or as a COM code."""
    return (isinstance(value, str) and value.strip().upper() in ERRORS) or (
        type(value) is int and value in COM_ERRORS)


def as_argument(rows: Sequence[Sequence[Any]]) -> Any:
    """A range's values (a list of rows) as Excel hands them to a function: one cell as its value,
    more as the list of rows."""
    return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows


# ---- cached values ---------------------------------------------------------------------------

def decode_cached(t: str | None, text: str | None, shared: Sequence[str] | None = None) -> Any:
    """A cell's stored value (``t`` attribute, ``<v>`` text already unescaped) as a function
    receives it: numbers as float, ``b`` as True/False, errors and formula strings as their text,
    shared strings looked up in ``shared``; None for no value (an empty text result is ``""``).
    Raises ValueError for a value that does not fit its type (and for ``t="d"`` ISO dates, which a
    reader must convert itself)."""
    if text is None:
        return None
    if text == "":
        return "" if t in ("e", "str", "inlineStr") else None
    if t in (None, "n"):
        return float(text)
    if t == "b":
        if text not in ("0", "1"):
            raise ValueError(f"boolean cell holding {text!r}")
        return text == "1"
    if t in ("e", "str", "inlineStr"):
        return text
    if t == "s":
        if shared is None:
            raise ValueError("a shared string without the shared-strings table")
        return shared[int(text)]
    raise ValueError(f"cell type {t!r}")


def encode_cached(value: Any) -> tuple[str | None, str]:
    """(``t`` attribute or None, ``<v>`` text) as Excel writes a formula's cached value: numbers
    in the shortest form that reads back the same, TRUE/FALSE as ``b``, an error literal as ``e``,
    other text as ``str`` (without the control characters XML cannot store); a number that is not
    finite is stored as ``#NUM!``."""
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, (int, float)):
        v = float(value)
        if not math.isfinite(v):
            return "e", "#NUM!"
        if v == int(v) and abs(v) < 1e15:
            return None, str(int(v))
        return None, repr(v)
    text = str(value)
    if text in ERRORS:
        return "e", text
    return "str", XML_INVALID.sub("", text)


# ---- function-name spellings -------------------------------------------------------------------

_PREFIX = re.compile(r"^(?:_xludf\.|_xll\.|_xldudf_(?:[A-Za-z0-9]+_)*?(?=stp_))", re.IGNORECASE)


def canonical_name(spelling: str) -> str:
    """The name of a function as a workbook's formula text may spell it.

    ``STP_GAP``, ``stp_gap``, ``_xludf.STP_GAP``, ``_xll.STP_GAP``, ``[1]!STP_GAP``,
    ``'C:\\addins\\xl_stp.xlam'!STP_GAP`` and ``_xldudf_XLSTP_STP_GAP`` all give ``STP_GAP``.
    """
    name = spelling.strip().lstrip("=")
    if "!" in name:
        name = name.rsplit("!", 1)[1]
    return _PREFIX.sub("", name).upper()

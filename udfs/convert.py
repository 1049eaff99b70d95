"""Excel values -> core types, and core results -> Excel values.

What an argument looks like when it reaches a UDF (xlwings' documented rules, which our own
converter follows so that the same code works under classic xlwings on Windows, under xlwings
Server/Lite, in the batch engine and in tests):

- a single cell or a literal: a scalar — ``float`` for numbers (xlwings reads every number as
  float), ``str`` for text, ``bool``, ``datetime`` for a date-formatted cell in classic Excel (a
  serial number under Office.js), ``None`` for a blank;
- a range: with ``ndim=2`` (which every range argument of ours asks for) a list of rows, each a
  list of cell values, so a row of years arrives as ``[[a, b, c]]`` and a column of schemes as
  ``[[a], [b], [c]]``; without ``ndim`` xlwings flattens a one-row or one-column range to a flat
  list — we accept that too and read it as one row;
- xlwings Server / Office.js sends every argument as a 2-D matrix, even a single cell (``[[x]]``);
- an Excel error cell (``#N/A``, ``#REF!`` …): with ``err_to_str=True`` (which we ask for) its
  text, e.g. ``'#N/A'``; classic COM may also hand over the raw error code (an int such as
  -2146826246), and xlwings without ``err_to_str`` gives ``None``.

Blank cells in a money range count as 0 (the help text says so). Anything else that is not a
number — text, TRUE/FALSE, a date, an error, NaN, infinity — is refused with a message naming the
argument, the cell's position in the range and what to type::

    costs: '12,000' is text at row 1, column 2; type it as a number
    costs: expected a number in cell 2 of the row, found the error #N/A

and the position itself in the error's ``at`` (row, column), for the batch engine's report. The
rules for values that are numbers but cannot be meant (a growth rate of 400% a year) and those
that only earn a warning are written down in :mod:`udfs.rules`.
"""

from __future__ import annotations

import datetime as _dt
import math
from itertools import chain
from typing import Any, Sequence

import numpy as np

from xl_stp.core.errors import STPError

from .excel import COM_ERRORS, ERRORS as EXCEL_ERRORS, is_error  # noqa: F401  (re-exported)

_NUMBER_TYPES = (int, float, np.integer, np.floating)


def _describe(value: Any) -> str:
    if value is None:
        return "a blank"
    if isinstance(value, (bool, np.bool_)):
        return f"the logical value {str(bool(value)).upper()}"
    if isinstance(value, str):
        return f"the error {value.strip().upper()}" if is_error(value) else f"text {value[:40]!r}"
    if type(value) is int and value in COM_ERRORS:
        return f"the error {COM_ERRORS[value]}"
    if isinstance(value, (_dt.date, _dt.datetime)):
        return f"a date ({value:%d/%m/%Y})"
    if isinstance(value, _NUMBER_TYPES):
        return "NaN (not a number)" if math.isnan(float(value)) else "an infinite number"
    return f"a {type(value).__name__}"


def block(value: Any, argument: str) -> list[list[Any]]:
    """Any Excel-shaped value as a rectangular list of rows."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        return [[value]]
    if len(value) == 0:
        raise STPError(argument, "is empty; expected a cell or a range")
    if not isinstance(value[0], (list, tuple)) and not any(isinstance(v, (list, tuple)) for v in value):
        return [list(value)]  # a flat list: one row
    rows = [r if type(r) is list else list(r) if isinstance(r, tuple) else [r] for r in value]
    width = len(rows[0])
    if width == 0:
        raise STPError(argument, "is empty; expected a cell or a range")
    if len(set(map(len, rows))) != 1:
        i = next(i for i, r in enumerate(rows) if len(r) != width)
        raise STPError(argument, f"row {i + 1} has {len(rows[i])} cells, row 1 has {width}; expected a rectangular range",
                       at=(i, width) if len(rows[i]) > width else None)
    return rows


def where(rows: list[list[Any]], i: int, j: int, names: Sequence[str] | None = None, first_column: int = 0) -> str:
    """Where cell (i, j) of a range is, in the range's own words: `` in cell 2 of the row``,
    `` in cell 3 of the column``, `` at row 1, column 2``; nothing for a single cell. With row
    ``names`` (the message then names the row by its label): `` in column 4`` of the range as
    passed (``first_column`` columns of names come first)."""
    if names is not None:
        return f" in column {j + first_column + 1}"
    if len(rows) == 1 and len(rows[0]) == 1:
        return ""
    if len(rows) == 1:
        return f" in cell {j + 1} of the row"
    if len(rows[0]) == 1:
        return f" in cell {i + 1} of the column"
    return f" at row {i + 1}, column {j + 1}"


_NUMERIC_TEXT = str.maketrans("", "", ", £$€\u00a0")


def number_in_text(text: str) -> float | None:
    """The number a text cell was meant to hold, if it looks like one: ``'12,000'``, ``'£1,200'``,
    ``'(2,000)'`` (in brackets: negative), ``'3.5%'``; None otherwise."""
    t = text.strip().translate(_NUMERIC_TEXT)
    negative = len(t) > 2 and t[0] == "(" and t[-1] == ")"
    if negative:
        t = t[1:-1]
    percent = t.endswith("%")
    if percent:
        t = t[:-1]
    if not t or not any(c.isdigit() for c in t):
        return None
    try:
        x = float(t)
    except ValueError:
        return None
    if not math.isfinite(x):
        return None
    x = x / 100 if percent else x
    return -x if negative else x


def _refusal(v: Any, place: str, blank_ok: bool) -> str:
    """What is wrong with a value that should be a number, and what to type instead."""
    if isinstance(v, str) and not is_error(v):
        if number_in_text(v) is not None:
            return f"{v[:40]!r} is text{place}; type it as a number"
        if not v.strip():
            return f"a cell of spaces{place} is text; clear it" + (" (a blank counts as 0)" if blank_ok else " and type a number")
        return f"{v[:40]!r} is text{place}; type a number" + (" (or leave the cell blank for 0)" if blank_ok else "")
    if isinstance(v, (_dt.date, _dt.datetime)):
        return f"expected a number{place}, found {_describe(v)}; format the cell as a number"
    if v is None:
        return f"expected a number{place}, found a blank"
    finite = isinstance(v, _NUMBER_TYPES) and not isinstance(v, (bool, np.bool_)) and not (type(v) is int and v in COM_ERRORS)
    return f"expected {'a finite number' if finite else 'a number'}{place}, found {_describe(v)}"


def _refuse(rows: list[list[Any]], cell: Sequence[int], argument: str, blank_ok: bool,
            names: Sequence[str] | None, first_column: int) -> None:
    i, j = int(cell[0]), int(cell[1])
    raise STPError(argument, _refusal(rows[i][j], where(rows, i, j, names, first_column), blank_ok),
                   at=(i, j + first_column), label=None if names is None else names[i])


def money(value: Any, argument: str, *, blank: float | None = 0.0, names: Sequence[str] | None = None,
          first_column: int = 0) -> np.ndarray:
    """A range (or single cell) of amounts as a 2-D float array; blanks become ``blank`` (a blank
    is refused when ``blank`` is None).

    A refusal names the cell (``at``: its row and column in ``value``, shifted by ``first_column``)
    and says what to type. With row ``names`` (a range whose label column the caller split off)
    the row is named by its label.

    Fast path: when every cell is a number or blank, one pass to fill the blanks and one numpy
    conversion.
    """
    rows = block(value, argument)
    flat = list(chain.from_iterable(rows))
    types = set(map(type, flat))
    plain = all(t is type(None) or (issubclass(t, _NUMBER_TYPES) and not issubclass(t, (bool, np.bool_))) for t in types)
    if plain and int in types:  # classic COM may pass error cells as int error codes
        plain = not any(type(v) is int and v in COM_ERRORS for v in flat)
    if plain:
        if type(None) in types:
            if blank is None:
                _refuse(rows, divmod(flat.index(None), len(rows[0])), argument, False, names, first_column)
            flat = [blank if v is None else v for v in flat]
        arr = np.array(flat, dtype=float).reshape(len(rows), len(rows[0]))
        finite = np.isfinite(arr)
        if finite.all():
            return arr
        _refuse(rows, np.argwhere(~finite)[0], argument, blank is not None, names, first_column)
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if v is None:
                if blank is None:
                    _refuse(rows, (i, j), argument, False, names, first_column)
                continue
            if isinstance(v, _NUMBER_TYPES) and not isinstance(v, (bool, np.bool_)) and math.isfinite(float(v)) and not (type(v) is int and v in COM_ERRORS):
                continue
            _refuse(rows, (i, j), argument, blank is not None, names, first_column)
    raise STPError(argument, "expected numbers")  # unreachable in practice


def vector(value: Any, argument: str) -> np.ndarray:
    """A single row or column of amounts as a flat array (blanks as 0)."""
    arr = money(value, argument)
    if arr.shape[0] != 1 and arr.shape[1] != 1:
        raise STPError(argument, f"is {arr.shape[0]} rows by {arr.shape[1]} columns; expected a single row or column")
    return arr.reshape(-1)


def scalar(value: Any, argument: str) -> Any:
    """One cell's value out of whatever shape it came in (``[[x]]``, ``[x]`` or ``x``)."""
    rows = block(value, argument)
    if len(rows) != 1 or len(rows[0]) != 1:
        raise STPError(argument, f"expected a single cell, got a range of {len(rows)} x {len(rows[0])}")
    return rows[0][0]


def number(value: Any, argument: str, default: float | None = None) -> float:
    """One number; a blank (or an omitted optional argument) gives ``default``."""
    v = scalar(value, argument) if value is not None else None
    if v is None:
        if default is None:
            raise STPError(argument, "is blank; expected a number", at=(0, 0))
        return float(default)
    if isinstance(v, str) and not is_error(v):
        try:  # a percentage typed as text, e.g. '3.5%'
            text = v.strip()
            return float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            pass
    if isinstance(v, _NUMBER_TYPES) and not isinstance(v, (bool, np.bool_)) and not (type(v) is int and v in COM_ERRORS) and math.isfinite(float(v)):
        return float(v)
    raise STPError(argument, _refusal(v, "", blank_ok=False), at=(0, 0))


def whole(value: Any, argument: str, default: int | None = None, minimum: int | None = None) -> int:
    x = number(value, argument, None if default is None else float(default))
    if not float(x).is_integer():
        raise STPError(argument, f"expected a whole number, found {x:g}", at=(0, 0))
    if minimum is not None and x < minimum:
        raise STPError(argument, f"expected {minimum} or more, found {int(x)}", at=(0, 0))
    return int(x)


def text(value: Any, argument: str, default: str | None = None, choices: Sequence[str] | None = None) -> str:
    v = scalar(value, argument) if value is not None else None
    if v is None or (isinstance(v, str) and not v.strip()):
        if default is None:
            raise STPError(argument, "is blank; expected text", at=(0, 0))
        return default
    if not isinstance(v, str) or is_error(v):
        raise STPError(argument, f"expected text, found {_describe(v)}", at=(0, 0))
    out = v.strip()
    if choices is not None and out.lower() not in choices:
        raise STPError(argument, f"expected one of {', '.join(choices)}, found {out!r}", at=(0, 0))
    return out.lower() if choices is not None else out


def flag(value: Any, argument: str, default: bool = False) -> bool:
    v = scalar(value, argument) if value is not None else None
    if v is None:
        return default
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, _NUMBER_TYPES) and float(v) in (0.0, 1.0):
        return bool(v)
    if isinstance(v, str) and v.strip().upper() in ("TRUE", "FALSE"):
        return v.strip().upper() == "TRUE"
    raise STPError(argument, f"expected TRUE or FALSE, found {_describe(v)}", at=(0, 0))


def labels(value: Any, argument: str) -> list[str]:
    """Names from a row or column of cells (numbers are written as text)."""
    rows = block(value, argument)
    if len(rows) != 1 and len(rows[0]) != 1:
        raise STPError(argument, "expected a single row or column of names")
    out = []
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if v is None or is_error(v) or isinstance(v, (bool, np.bool_)) or not isinstance(v, (str, *_NUMBER_TYPES)):
                raise STPError(argument, f"expected names, found {_describe(v)}{where(rows, i, j)}", at=(i, j))
            out.append(v.strip() if isinstance(v, str) else f"{v:g}")
    return out


def split_labels(value: Any, argument: str) -> tuple[list[str] | None, Any]:
    """If the first column of a range is all text (row labels, as finance tables have), split it
    off: returns (labels, the rest); otherwise (None, the range unchanged)."""
    rows = block(value, argument)
    first = [r[0] for r in rows]
    if len(rows[0]) > 1 and all(isinstance(v, str) and not is_error(v) and v.strip() for v in first):
        return [v.strip() for v in first], [r[1:] for r in rows]
    return None, rows


# ---- results -------------------------------------------------------------------------------

def _cell(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return f if math.isfinite(f) else "#NUM!"
    if isinstance(v, np.integer):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


NOISE = 1e-9  # results smaller than this (in £000, or as a ratio) are float noise, shown as 0


def out_row(values: Any) -> list[list[Any]]:
    """A 1-d result as one row (so a by-year result spills across the year columns)."""
    return out_table(np.asarray(values).reshape(1, -1))


def out_table(values: Any, row_labels: Sequence[str] | None = None) -> list[list[Any]]:
    """A 2-d result as rows of cells, optionally with a label column in front."""
    arr = np.asarray(values)
    if arr.ndim < 2:
        arr = arr.reshape(1, -1)
    if arr.dtype.kind == "f" and np.isfinite(arr).all():
        # Float noise such as 62.9 - 50.7 - 12.2 = -3.6e-15 would print as (0.0): show it as nil.
        arr = np.where(np.abs(arr) < NOISE, 0.0, arr)
        rows = arr.tolist()  # plain Python floats, in one C-level pass
    else:
        rows = [[_cell(v) for v in r] for r in arr.astype(object)]
    if row_labels is not None:
        rows = [[label] + r for label, r in zip(row_labels, rows)]
    return rows


def out_scalar(value: Any) -> Any:
    return _cell(np.asarray(value).reshape(-1)[0] if np.ndim(value) else value)

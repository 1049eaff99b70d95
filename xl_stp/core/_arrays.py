"""Validation of numeric inputs at the core's boundary.

The core works on float arrays in £000. These helpers turn whatever a caller hands over (numbers,
lists, nested lists, numpy arrays, pandas objects) into a float ``ndarray`` once, and raise
:class:`~xl_stp.errors.STPError` naming the argument when a value is text, missing, NaN or
infinite. Callers convert Excel blanks to 0 *before* calling the core (the Excel adapters do; the
core never guesses that a missing value means zero).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import STPError


def _where(index: tuple[int, ...]) -> str:
    if len(index) == 0:
        return ""
    if len(index) == 1:
        return f" at position {index[0] + 1}"
    return f" at row {index[0] + 1}, column {index[1] + 1}" if len(index) == 2 else f" at {tuple(i + 1 for i in index)}"


def at(shape: tuple[int, ...], index: Any) -> tuple[int, int] | None:
    """The (row, column) of ``index`` in an array of ``shape``, as the caller passed it: a scalar
    is (0, 0), a 1-d sequence one row. ``index`` is an index tuple, or a flat (row-major) position."""
    if isinstance(index, (int, np.integer)):
        index = tuple(int(i) for i in np.unravel_index(int(index), shape)) if len(shape) else ()
    index = tuple(int(i) for i in index)
    if len(index) == 0:
        return (0, 0)
    if len(index) == 1:
        return (0, index[0])
    if len(index) == 2:
        return (index[0], index[1])
    return None


def count(n: int, noun: str) -> str:
    """``count(1, "strand")`` -> '1 strand'; ``count(2, "strand")`` -> '2 strands'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def figure(value: float) -> str:
    """An amount as a finance table prints it: 2,000, 27.2, negatives in brackets (28.4)."""
    v = float(value)
    text = f"{abs(v):,.10g}"
    return f"({text})" if v < 0 else text


def place(shape: tuple[int, ...], index: tuple[int, ...], rows: str = "row", columns: str = "year") -> str:
    """Where a value sits, in the words of what the axes are: `` in scheme 4, year 2``,
    `` in year 3``; empty for a single value. A 1-d array's values are ``columns``."""
    if int(np.prod(shape)) <= 1:
        return ""
    if len(shape) == 1:
        return f" in {columns} {index[0] + 1}"
    parts = []
    if shape[0] > 1:
        parts.append(f"{rows} {index[0] + 1}")
    if shape[1] > 1:
        parts.append(f"{columns} {index[1] + 1}")
    return f" in {', '.join(parts)}"


def amounts(values: Any, argument: str, *, ndim: int | None = None, allow_negative: bool = True) -> np.ndarray:
    """Return ``values`` as a finite float array, or raise STPError naming ``argument`` (and, in
    ``at``, the offending value's row and column).

    ``ndim`` (if given) is the largest number of dimensions accepted; fewer are fine (a scalar is a
    0-d array). Booleans are refused: TRUE is not an amount of money.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        arr = values
    else:
        try:
            obj = np.asarray(values, dtype=object)
        except ValueError:  # ragged nested lists
            raise STPError(argument, "rows have different lengths; expected a rectangular range") from None
        if obj.dtype == object and obj.ndim == 1 and any(isinstance(v, (list, tuple, np.ndarray)) for v in obj):
            raise STPError(argument, "rows have different lengths; expected a rectangular range")
        flat = obj.reshape(-1)
        for i, v in enumerate(flat):
            found = None
            if isinstance(v, (bool, np.bool_)):
                found = f"the logical value {str(bool(v)).upper()}"
            elif v is None:
                found = "a blank"
            elif isinstance(v, str):
                found = f"text {v[:40]!r}"
            if found is not None:
                idx = tuple(int(k) for k in np.unravel_index(i, obj.shape)) if obj.ndim else ()
                raise STPError(argument, f"expected a number{_where(idx)}, found {found}", at=at(obj.shape, idx))
        try:
            arr = obj.astype(float)
        except (TypeError, ValueError):
            raise STPError(argument, "expected numbers") from None
    if ndim is not None and arr.ndim > ndim:
        raise STPError(argument, f"expected at most {ndim} dimension(s), got {arr.ndim}")
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0]) if arr.ndim else ()
        kind = "NaN (not a number)" if np.isnan(arr[idx] if arr.ndim else arr) else "an infinite value"
        raise STPError(argument, f"expected a finite number{_where(idx)}, found {kind}", at=at(arr.shape, idx))
    if not allow_negative and (arr < 0).any():
        idx = tuple(int(i) for i in np.argwhere(arr < 0)[0]) if arr.ndim else ()
        raise STPError(argument, f"expected zero or more{_where(idx)}, found {float(arr[idx] if arr.ndim else arr):g}",
                       at=at(arr.shape, idx))
    return arr


def one_sign(arr: np.ndarray, argument: str, *, shape: tuple[int, ...] | None = None, rows: str = "row",
             columns: str = "year") -> np.ndarray:
    """Proceeds as positive magnitudes, refusing a mixture of signs.

    The message names the first value of the minority sign (a positive figure when there are as
    many of each: NHS tables print proceeds in brackets) and says what to type. ``shape`` is the
    shape the caller passed, when ``arr`` is a reshaped view of it (for ``at``); ``rows`` and
    ``columns`` are the words for the axes of ``arr``.
    """
    positive, negative = arr > 0, arr < 0
    n_pos, n_neg = int(np.count_nonzero(positive)), int(np.count_nonzero(negative))
    if n_pos and n_neg:
        odd = positive if n_pos <= n_neg else negative
        flat = int(np.flatnonzero(odd)[0])
        idx = tuple(int(i) for i in np.unravel_index(flat, arr.shape)) if arr.ndim else ()
        v = float(arr[idx] if arr.ndim else arr)
        others = n_neg if v > 0 else n_pos
        kind, other_kind = ("positive", "in brackets") if v > 0 else ("in brackets", "positive")
        rest = f"the other {others} are {other_kind}" if others > 1 else f"the other is {other_kind}"
        raise STPError(argument,
                       f"mixes positive and negative amounts: {figure(v)}{place(arr.shape, idx, rows, columns)} is {kind}, "
                       f"{rest}; type them all in brackets (or all as positive amounts)",
                       at=at(arr.shape if shape is None else shape, flat))
    return np.abs(arr)


def proceeds(values: Any, argument: str, *, ndim: int | None = None, rows: str = "row", columns: str = "year") -> np.ndarray:
    """Funding sources and disposal proceeds as positive magnitudes.

    Published NHS tables print them in brackets (negative); users type them either way. Both are
    accepted, but one range must use one convention: a mixture of positive and negative values is
    refused, because it is almost always a typing slip and guessing would hide it.
    """
    return one_sign(amounts(values, argument, ndim=ndim), argument, rows=rows, columns=columns)


def as_percent(value: float) -> str:
    """0.04 -> '4%'; 50 -> '5000%'."""
    return f"{float(value) * 100:.10g}%"


def refuse_rate(arr: np.ndarray, argument: str, low: float, high: float, *, what: str, a_year: bool = True,
                low_open: bool = False, high_open: bool = False, rows: str = "row", columns: str = "year") -> None:
    """Raise for the first rate outside [low, high] (a fraction: 4% = 0.04), with the likely
    slip in the message: a rate typed 4 for 4% is "4 is 400% a year; type 4% or 0.04"."""
    too_low = arr <= low if low_open else arr < low
    too_high = arr >= high if high_open else arr > high
    bad = too_low | too_high
    if not bad.any():
        return
    idx = tuple(int(i) for i in np.argwhere(bad)[0]) if arr.ndim else ()
    v = float(arr[idx] if arr.ndim else arr)
    found = f"{v:.10g}{place(arr.shape, idx, rows, columns)} is {as_percent(v)}{' a year' if a_year else ''}"
    meant = v / 100
    fits = (meant > low if low_open else meant >= low) and (meant < high if high_open else meant <= high)
    if fits and abs(v) >= 1:
        fix = f"type {v:g}% or {meant:g}"
    else:
        fix = f"expected {what}"
    raise STPError(argument, f"{found}; {fix}", at=at(arr.shape, idx))


def as_2d(arr: np.ndarray) -> np.ndarray:
    """A row vector for 0-d/1-d input (one scheme/line over years), unchanged for 2-d."""
    return arr.reshape(1, -1) if arr.ndim < 2 else arr


def years_match(first: np.ndarray, first_name: str, other: np.ndarray, other_name: str) -> None:
    """Raise when two year ranges have different lengths (last axis); ``at`` is the first year
    of ``other`` beyond ``first``'s (a fifth figure beside four years), if it has more."""
    n1 = first.shape[-1] if first.ndim else 1
    n2 = other.shape[-1] if other.ndim else 1
    if n1 != n2:
        raise STPError(other_name, f"has {n2} years, {first_name} has {n1}", at=(0, n1) if n2 > n1 else None)


def per_year(values: Any, argument: str, n_years: int, *, rows: int | None = None, row_word: str = "row") -> np.ndarray:
    """A rate or amount given once, once per row, once per year or per row and year, broadcast to
    ``(rows, n_years)`` (or ``(n_years,)`` when ``rows`` is None).

    A flat sequence is read as one value per year when its length is the number of years,
    otherwise one per row; pass a column (rows x 1) to mean one per row unambiguously.
    """
    arr = amounts(values, argument, ndim=2)
    target = (n_years,) if rows is None else (rows, n_years)
    if arr.size == 1:
        arr = arr.reshape(())
    if arr.ndim == 0:
        return np.broadcast_to(arr, target).astype(float)
    forms = f"one value, {n_years} in a row (one per year)"
    if rows is not None and rows > 1:
        forms += f", {rows} in a column (one per {row_word}) or {rows} rows of {n_years}"
    if arr.ndim == 1:
        if arr.shape[0] == n_years:
            return np.broadcast_to(arr, target).astype(float)
        if rows is not None and arr.shape[0] == rows:
            return np.broadcast_to(arr[:, None], target).astype(float)
        raise STPError(argument, f"has {arr.shape[0]} values; expected {forms}")
    if rows is not None and arr.shape == (rows, n_years):
        return arr
    if arr.shape == (1, n_years):
        return np.broadcast_to(arr[0], target).astype(float)
    if rows is not None and arr.shape == (rows, 1):
        return np.broadcast_to(arr, target).astype(float)
    raise STPError(argument, f"is {arr.shape[0]} rows by {arr.shape[1]} columns; expected {forms}")

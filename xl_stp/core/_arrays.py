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


def amounts(values: Any, argument: str, *, ndim: int | None = None, allow_negative: bool = True) -> np.ndarray:
    """Return ``values`` as a finite float array, or raise STPError naming ``argument``.

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
            if isinstance(v, (bool, np.bool_)):
                idx = np.unravel_index(i, obj.shape) if obj.ndim else ()
                raise STPError(argument, f"expected a number{_where(tuple(idx))}, found the logical value {str(bool(v)).upper()}")
            if v is None:
                idx = np.unravel_index(i, obj.shape) if obj.ndim else ()
                raise STPError(argument, f"expected a number{_where(tuple(idx))}, found a blank")
            if isinstance(v, str):
                idx = np.unravel_index(i, obj.shape) if obj.ndim else ()
                raise STPError(argument, f"expected a number{_where(tuple(idx))}, found text {v[:40]!r}")
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
        raise STPError(argument, f"expected a finite number{_where(idx)}, found {kind}")
    if not allow_negative and (arr < 0).any():
        idx = tuple(int(i) for i in np.argwhere(arr < 0)[0]) if arr.ndim else ()
        raise STPError(argument, f"expected zero or more{_where(idx)}, found {float(arr[idx] if arr.ndim else arr):g}")
    return arr


def proceeds(values: Any, argument: str, *, ndim: int | None = None) -> np.ndarray:
    """Funding sources and disposal proceeds as positive magnitudes.

    Published NHS tables print them in brackets (negative); users type them either way. Both are
    accepted, but one range must use one convention: a mixture of positive and negative values is
    refused, because it is almost always a typing slip and guessing would hide it.
    """
    arr = amounts(values, argument, ndim=ndim)
    if (arr > 0).any() and (arr < 0).any():
        raise STPError(
            argument,
            "mixes positive and negative amounts; enter proceeds either all as positive amounts or all in brackets (negative)",
        )
    return np.abs(arr)


def as_2d(arr: np.ndarray) -> np.ndarray:
    """A row vector for 0-d/1-d input (one scheme/line over years), unchanged for 2-d."""
    return arr.reshape(1, -1) if arr.ndim < 2 else arr


def years_match(first: np.ndarray, first_name: str, other: np.ndarray, other_name: str) -> None:
    """Raise when two year ranges have different lengths (last axis)."""
    n1 = first.shape[-1] if first.ndim else 1
    n2 = other.shape[-1] if other.ndim else 1
    if n1 != n2:
        raise STPError(other_name, f"has {n2} years, {first_name} has {n1}")


def per_year(values: Any, argument: str, n_years: int, *, rows: int | None = None) -> np.ndarray:
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
    if arr.ndim == 1:
        if arr.shape[0] == n_years:
            return np.broadcast_to(arr, target).astype(float)
        if rows is not None and arr.shape[0] == rows:
            return np.broadcast_to(arr[:, None], target).astype(float)
        expect = f"1 or {n_years} values" + (f" (or one per row: {rows})" if rows is not None else "")
        raise STPError(argument, f"has {arr.shape[0]} values; expected {expect}")
    if rows is not None and arr.shape == (rows, n_years):
        return arr
    if arr.shape == (1, n_years):
        return np.broadcast_to(arr[0], target).astype(float)
    if rows is not None and arr.shape == (rows, 1):
        return np.broadcast_to(arr, target).astype(float)
    raise STPError(argument, f"has shape {arr.shape[0]}x{arr.shape[1]}; expected {rows or 1}x{n_years} or one value per year")

"""Spreading an amount over years, and re-phasing (slippage).

Profiles (weights over ``years`` years, normalised to 1):

- ``straight``: equal amounts each year;
- ``front``: front-loaded, weights n, n-1, ..., 1;
- ``back``: back-loaded, weights 1, 2, ..., n;
- ``s-curve``: spend follows a bell (sin) shape, so cumulative spend is the S-curve typical of a
  build: slow start, peak mid-programme, tail-off at commissioning;
- a sequence of weights (e.g. a row of percentages from a scheme's business case).

Totals are conserved: the amounts always add back to the total (to float precision; with
``decimals`` the rounded amounts add back *exactly*, the rounding difference going to the years
with the largest remainders, as finance teams do by hand).

LLR: Market Harborough £8.6m, straight over 2 years from 2018/19 on a 2017/18-2020/21 timeline:

>>> phase(8600, "straight", 2, start=1, horizon=4).tolist()
[0.0, 4300.0, 4300.0, 0.0]
>>> rephase([0, 4300, 4300, 0], 1).tolist()
[0.0, 0.0, 4300.0, 4300.0]
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from . import _arrays
from .errors import STPError
from .years import MAX_YEARS

PROFILES: tuple[str, ...] = ("straight", "front", "back", "s-curve")
_ALIASES = {
    "straight": "straight", "straight-line": "straight", "straightline": "straight", "flat": "straight", "even": "straight",
    "front": "front", "front-loaded": "front", "frontloaded": "front",
    "back": "back", "back-loaded": "back", "backloaded": "back",
    "s-curve": "s-curve", "scurve": "s-curve", "s curve": "s-curve", "s": "s-curve",
}


def _whole(value: Any, argument: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value) or not float(value).is_integer():
        raise STPError(argument, f"expected a whole number, found {value!r}")
    if int(value) < minimum:
        raise STPError(argument, f"expected {minimum} or more, found {int(value)}")
    if int(value) > MAX_YEARS:
        raise STPError(argument, f"expected at most {MAX_YEARS}, found {int(value)}")
    return int(value)


def profile_weights(profile: str | Sequence[float] | np.ndarray, years: int | None = None) -> np.ndarray:
    """Weights (adding to 1) of a named profile over ``years`` years, or of custom weights."""
    if isinstance(profile, str):
        key = _ALIASES.get(profile.strip().lower())
        if key is None:
            raise STPError("profile", f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)} or a range of weights")
        n = _whole(years, "years", 1)
        i = np.arange(n, dtype=float)
        w = {
            "straight": np.ones(n),
            "front": n - i,
            "back": i + 1,
            "s-curve": np.sin(np.pi * (i + 0.5) / n),
        }[key]
    else:
        given = _arrays.amounts(profile, "profile", ndim=1)
        w = given.reshape(-1)
        if (w < 0).any():
            k = int(np.flatnonzero(w < 0)[0])
            raise STPError("profile", f"weight {k + 1} is {float(w[k]):g}; expected weights of zero or more (e.g. 20%, 50%, 30%)",
                           at=_arrays.at(given.shape, k))
        if years is not None and len(w) != _whole(years, "years", 1):
            raise STPError("profile", f"has {len(w)} weights but years is {years}",
                           at=(0, int(years)) if len(w) > int(years) else None)
        if w.sum() <= 0:
            raise STPError("profile", "weights add up to zero; expected positive weights")
    return w / w.sum()


def _round_conserving(values: np.ndarray, totals: np.ndarray, decimals: int) -> np.ndarray:
    """Round each row to ``decimals`` so that it still adds to its (rounded) total."""
    scale = 10.0 ** decimals
    scaled = values * scale
    floors = np.floor(scaled)
    target = np.round(totals * scale)
    short = (target - floors.sum(axis=-1)).astype(int)
    order = np.argsort(-(scaled - floors), axis=-1, kind="stable")
    out = floors.copy()
    rows = np.arange(out.shape[0])
    for k in range(out.shape[-1]):
        take = short > k
        out[rows[take], order[take, k]] += 1
    return out / scale


def phase(total: Any, profile: str | Sequence[float] = "straight", years: int | None = None, start: int = 0,
          horizon: int | None = None, decimals: int | None = None) -> np.ndarray:
    """Spread ``total`` (one amount, or one per scheme) over ``years`` years, ``start`` years into
    a timeline of ``horizon`` years (default ``start + years``).

    Spend that would fall beyond the horizon is put in the final year, so that the total is never
    lost; choose a horizon long enough if that matters. Returns years (or schemes x years).
    """
    t = _arrays.amounts(total, "total", ndim=1)
    if years is None:
        if isinstance(profile, str):
            raise STPError("years", "expected the number of years to spread over")
        years = len(np.atleast_1d(np.asarray(profile, dtype=object)))
    n = _whole(years, "years", 1)
    s = _whole(start, "start", 0)
    h = s + n if horizon is None else _whole(horizon, "horizon", 1)
    w = profile_weights(profile, n)
    out = np.zeros(t.shape + (max(h, 1),))
    spread = t[..., None] * w
    if s >= h:
        out[..., -1] = t
    else:
        keep = min(n, h - s)
        out[..., s:s + keep] = spread[..., :keep]
        out[..., -1] += spread[..., keep:].sum(axis=-1)
    if decimals is not None:
        flat = out.reshape(-1, out.shape[-1])
        out = _round_conserving(flat, t.reshape(-1), _whole(decimals, "decimals", 0)).reshape(out.shape)
    return out


def rephase(amounts: Any, slip: float, horizon: int | None = None) -> np.ndarray:
    """Move spend ``slip`` years later (a fraction splits between the two years it falls in).

    ``amounts`` is years, or schemes x years. The result keeps the same number of years unless
    ``horizon`` says otherwise; spend pushed beyond the last year is added to the last year, so the
    total is conserved. ``slip=0`` returns the amounts unchanged.
    """
    a = _arrays.amounts(amounts, "amounts", ndim=2)
    if a.ndim == 0:
        a = a.reshape(1)
    sl = _arrays.amounts(slip, "slip", ndim=0)
    if not 0 <= sl <= MAX_YEARS:
        raise STPError("slip", f"expected from 0 to {MAX_YEARS} years of delay, found {float(sl):g}")
    n = a.shape[-1]
    h = n if horizon is None else _whole(horizon, "horizon", 1)
    whole = int(np.floor(sl))
    frac = float(sl) - whole
    out = np.zeros(a.shape[:-1] + (h,))

    def place(values: np.ndarray, shift: int) -> None:
        for j in range(n):
            target = j + shift
            out[..., min(target, h - 1)] += values[..., j]

    if frac == 0.0:
        if whole == 0 and h == n:
            return a.copy()
        place(a, whole)
    else:
        place(a * (1.0 - frac), whole)
        place(a * frac, whole + 1)
    return out

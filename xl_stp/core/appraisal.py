"""Investment appraisal: ROI, payback, NPV and capital charges, each naming its basis.

Definitions (every result carries its own ``basis`` sentence, to print beside the figure):

- **Simple ROI** = annual recurrent net saving / capital investment. The investment is the cost
  *before* disposal proceeds (``basis="gross"``, as LLR's community tables state) or *net* of them
  (``basis="net"``, as LLR's acute table: 25,600 / 251,231 = 10.2%).
- **Simple payback** = the point at which cumulative undiscounted savings first cover the
  investment, interpolated within the year (a constant saving S pays back I in I/S years).
- **Discounted payback**: the same on savings discounted with the Green Book schedule.
- **NPV**: cash flows by year, year 0 first and undiscounted, discounted with the HM Treasury
  Green Book schedule (3.5% a year to year 30, 3.0% years 31-75, 2.5% 76-125, 2.0% 126-200,
  1.5% 201-300, 1.0% beyond) unless a flat ``rate`` is given.
- **Capital charges**: straight-line depreciation of each year's spend over the asset life,
  from ``in_use_lag`` years after the spend (default 1: an asset comes into use the year after it
  is built), plus the PDC dividend: ``pdc_rate`` (3.5%) x average of opening and closing net book
  value (assets under construction included, as PDC relevant net assets include them).

A rate typed as a whole percentage (3.5 for 3.5%: 350% a year) is refused with the fix in the
message; a discount rate must be above -100% and at most 100% a year, a PDC rate from 0% to below
100%.

>>> roi(25_600, 279_581, disposals=28_350, basis="net").value.round(4)
np.float64(0.1019)
>>> payback(1000, 250).value
4.0
>>> round(float(npv([-100, 50, 60]).value), 2)
4.32
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _arrays
from .errors import STPError

#: (first year, last year, rate) of the HM Treasury Green Book declining discount schedule.
GREEN_BOOK_SCHEDULE: tuple[tuple[int, float, float], ...] = (
    (0, 30, 0.035), (31, 75, 0.030), (76, 125, 0.025), (126, 200, 0.020), (201, 300, 0.015), (301, math.inf, 0.010),
)


@dataclass(frozen=True)
class Appraisal:
    """A figure and the sentence that says how it was worked out."""

    value: Any
    basis: str


def green_book_rates(n_years: int) -> np.ndarray:
    """Discount rate applying to each year 1..n (year 0 is not discounted)."""
    t = np.arange(1, n_years + 1)
    rates = np.empty(n_years)
    for first, last, rate in GREEN_BOOK_SCHEDULE:
        rates[(t >= first) & (t <= last)] = rate
    return rates


def discount_factors(n_years: int, rate: float | None = None) -> np.ndarray:
    """Factors for years 0..n-1: 1, 1/(1+r1), 1/((1+r1)(1+r2)), ... (Green Book if ``rate`` is None)."""
    rates = green_book_rates(n_years - 1) if rate is None else np.full(n_years - 1, float(rate))
    return np.concatenate([[1.0], np.cumprod(1.0 / (1.0 + rates))])


#: What a flat discount rate may be: above -100% and at most 100% a year (3.5 typed for 3.5% is refused).
DISCOUNT_RANGE = "a discount rate above -100% and at most 100% a year (3.5% = 0.035)"
#: What a PDC dividend rate may be: from 0% to below 100% a year.
PDC_RANGE = "a PDC dividend rate from 0% to below 100% a year (3.5% = 0.035)"


def _rate(rate: Any) -> float | None:
    if rate is None:
        return None
    r = _arrays.amounts(rate, "rate", ndim=0)
    _arrays.refuse_rate(r, "rate", -1.0, 1.0, low_open=True, what=DISCOUNT_RANGE)
    return float(r)


def _rate_text(rate: float | None) -> str:
    return "the HM Treasury Green Book schedule (3.5% to year 30, then declining)" if rate is None else f"a flat {rate:.2%} a year"


def npv(cashflows: Any, rate: Any = None) -> Appraisal:
    """Net present value of cash flows by year (year 0 first; several rows give several NPVs)."""
    cf = _arrays.amounts(cashflows, "cashflows", ndim=2)
    if cf.ndim == 0:
        cf = cf.reshape(1)
    r = _rate(rate)
    value = cf @ discount_factors(cf.shape[-1], r)
    return Appraisal(value, f"NPV of {cf.shape[-1]} years of cash flows, year 0 undiscounted, discounted at {_rate_text(r)}")


def _investment(capital_cost: Any, disposals: Any, basis: str) -> tuple[np.ndarray, str]:
    cost = _arrays.amounts(capital_cost, "capital_cost", ndim=1)
    proceeds = _arrays.proceeds(disposals, "disposals", ndim=1)
    b = str(basis).strip().lower()
    if b == "gross":
        inv, text = cost, "capital cost before disposal proceeds"
    elif b == "net":
        inv, text = cost - proceeds, "capital cost net of disposal proceeds"
    else:
        raise STPError("basis", f"expected 'gross' (before disposal proceeds) or 'net' (after them), found {basis!r}")
    if (inv <= 0).any():
        raise STPError("capital_cost", f"the investment ({text}) must be more than zero to work out a return")
    return inv, text


def roi(annual_saving: Any, capital_cost: Any, disposals: Any = 0.0, basis: str = "gross") -> Appraisal:
    """Simple ROI = annual recurrent net saving / investment (a fraction: 0.102 = 10.2%)."""
    inv, text = _investment(capital_cost, disposals, basis)
    saving = _arrays.amounts(annual_saving, "annual_saving", ndim=1)
    with np.errstate(over="ignore"):
        value = saving / inv
    if not np.all(np.isfinite(value)):
        raise STPError("capital_cost", f"is too small against the saving to give a finite return ({text})")
    return Appraisal(value, f"simple ROI: annual recurrent net saving / {text}")


def _cross(cum: np.ndarray, flows: np.ndarray, target: float) -> float:
    """Years (interpolated) until cumulative ``cum`` first reaches ``target``; inf if never."""
    reached = np.nonzero(cum >= target - 1e-9 * max(1.0, abs(target)))[0]
    if reached.size == 0:
        return math.inf
    t = int(reached[0])
    before = cum[t - 1] if t > 0 else 0.0
    return t + ((target - before) / flows[t] if flows[t] else 0.0)


def payback(capital_cost: Any, savings: Any, basis: str = "simple", disposals: Any = 0.0,
            cost_basis: str = "gross", rate: Any = None, max_years: int = 100) -> Appraisal:
    """Years until savings repay the investment, interpolated within the year.

    ``savings``: one annual amount (constant), or savings by year from year 1. ``basis``:
    'simple' (undiscounted) or 'discounted'. Returns ``inf`` when the investment is not repaid
    within the savings given (or ``max_years`` for a constant saving).
    """
    inv, text = _investment(capital_cost, disposals, cost_basis)
    if inv.ndim:
        raise STPError("capital_cost", "expected one capital cost for a payback period")
    inv_v = float(inv)
    s = _arrays.amounts(savings, "savings", ndim=1)
    flows = np.full(int(max_years), float(s)) if s.ndim == 0 else s
    kind = str(basis).strip().lower()
    r = _rate(rate)
    if kind == "simple":
        if s.ndim == 0 and float(s) > 0:
            return Appraisal(inv_v / float(s), f"simple payback: {text} / constant annual saving")
        disc = flows
        label = "simple payback: years until cumulative undiscounted savings cover the " + text
    elif kind == "discounted":
        disc = flows * discount_factors(len(flows) + 1, r)[1:]
        label = f"discounted payback: years until cumulative savings discounted at {_rate_text(r)} cover the {text}"
    else:
        raise STPError("basis", f"expected 'simple' or 'discounted', found {basis!r}")
    return Appraisal(_cross(np.cumsum(disc), disc, inv_v), label)


@dataclass(frozen=True)
class CapitalCharges:
    """Depreciation, PDC dividend and closing net book value by year (schemes x years)."""

    depreciation: np.ndarray
    pdc_dividend: np.ndarray
    net_book_value: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.depreciation + self.pdc_dividend


MAX_LIFE = 200  # years: longer than any NHS asset life (buildings are depreciated over up to 90)


def capital_charges(capex: Any, life: Any, pdc_rate: Any = 0.035, in_use_lag: int = 1, horizon: int | None = None) -> CapitalCharges:
    """Revenue consequences of capital spend (see the module docstring).

    ``capex``: spend by year (one scheme) or schemes x years. ``life``: asset life in whole
    years (one, or one per scheme). Results cover ``horizon`` years (default: the spend's years).
    """
    c = _arrays.as_2d(_arrays.amounts(capex, "capex", ndim=2))
    n_s, n = c.shape
    life_given = lv = _arrays.amounts(life, "life", ndim=1)
    if lv.shape not in ((), (1,), (n_s,)):
        raise STPError("life", f"has {lv.shape[0]} values for {n_s} schemes", at=(0, n_s) if lv.shape[0] > n_s else None)
    for bad, problem in ((lv <= 0, "expected an asset life of one year or more, found {:g}"),
                         (lv != np.round(lv), "expected a whole number of years, found {:g}"),
                         (lv > MAX_LIFE, f"expected an asset life of at most {MAX_LIFE} years, found {{:g}}")):
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            where = _arrays.place(lv.shape, (k,), columns="scheme") if lv.ndim else ""
            raise STPError("life", problem.format(float(lv[k] if lv.ndim else lv)) + where,
                           at=_arrays.at(np.shape(life_given), k) if lv.ndim else (0, 0))
    rate = _arrays.amounts(pdc_rate, "pdc_rate", ndim=0)
    _arrays.refuse_rate(rate, "pdc_rate", 0.0, 1.0, high_open=True, what=PDC_RANGE)
    rate = float(rate)
    lag = int(_arrays.amounts(in_use_lag, "in_use_lag", ndim=0))
    h = n if horizon is None else int(horizon)
    if not 1 <= h <= 1000 or not 0 <= lag <= 1000:
        raise STPError("horizon" if h < 1 else "in_use_lag", "expected a positive number of years")
    spend = np.zeros((n_s, h))
    spend[:, : min(n, h)] = c[:, : min(n, h)]
    cum = np.cumsum(spend, axis=1)
    t = np.arange(h)

    def cum_at(k: np.ndarray) -> np.ndarray:
        """Cumulative spend at year index k (0 before the first year)."""
        idx = np.clip(k, 0, h - 1)
        vals = np.take_along_axis(cum, np.broadcast_to(idx, (n_s, h)).astype(int), axis=1)
        return np.where(k >= 0, vals, 0.0)

    lv = np.broadcast_to(lv, (n_s,))
    life_col = lv[:, None]
    dep = (cum_at(t[None, :] - lag) - cum_at(t[None, :] - lag - life_col.astype(int))) / life_col
    closing = cum - np.cumsum(dep, axis=1)
    opening = np.column_stack([np.zeros(n_s), closing[:, :-1]])
    return CapitalCharges(depreciation=dep, pdc_dividend=rate * (opening + closing) / 2, net_book_value=closing)

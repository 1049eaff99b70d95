"""The 'do nothing' financial gap and the bridge from it to the residual gap.

'Do nothing': costs grow with demand, demography and inflation; funding grows with allocations.
For each sector row (health, social care, or one row per organisation) and each plan year t:

    cost_t    = baseline_cost    x (1 + cost_growth_1)    x ... x (1 + cost_growth_t)
    funding_t = baseline_funding x (1 + funding_growth_1) x ... x (1 + funding_growth_t)
    gap_t     = cost_t - funding_t          (positive = shortfall)

``baseline_funding`` defaults to the baseline cost (a system in balance in the base year); pass
it to start from a deficit. Growth rates are fractions (2% = 0.02): one rate, one per year, one
per row, or per row and year; a rate above 100% a year (4 typed for 4%) or at or below -100% is
refused. Money in £000.

The bridge: residual gap = do-nothing gap - net savings (every strand) + investment - STF funding.

LLR: the do-nothing gap by 2020/21 is 399.3m, health 341.6m and social care 57.7m.

>>> dn = do_nothing_gap([1000, 500], funding_growth=[[0.02], [0.0]], cost_growth=0.04, years=2)
>>> dn.gap.round(1).tolist()
[[20.0, 41.2], [20.0, 40.8]]
>>> b = gap_bridge(dn.gap, savings=[[30, 60], [5, 10]], stf=[0, 10])
>>> b.residual.round(1).tolist()
[5.0, 2.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from . import _arrays
from .errors import STPError
from .years import MAX_YEARS, Timeline

#: What a growth rate may be: above -100% and at most 100% a year. A rate outside is a typing slip
#: (4 for 4%), refused with the fix in the message.
GROWTH_RANGE = "a growth rate above -100% and at most 100% a year (2% = 0.02)"


@dataclass(frozen=True)
class DoNothing:
    """Rows x years of cost, funding and the gap between them."""

    cost: np.ndarray
    funding: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        return self.cost - self.funding

    @property
    def gap_by_year(self) -> np.ndarray:
        """All rows together (the system gap) by year."""
        return self.gap.sum(axis=0)


def _years(years: Any) -> int:
    if isinstance(years, Timeline):
        return years.n
    if isinstance(years, (list, tuple, np.ndarray)):
        return Timeline.from_labels(years).n
    if isinstance(years, bool) or not isinstance(years, (int, float, np.integer, np.floating)) or not float(years).is_integer() or not 1 <= years <= MAX_YEARS:
        raise STPError("years", f"expected a number of years (1 to {MAX_YEARS}) or a row of year labels, found {years!r}")
    return int(years)


def do_nothing_gap(baseline: Any, funding_growth: Any, cost_growth: Any, years: Any, baseline_funding: Any = None) -> DoNothing:
    """The 'do nothing' cost, funding and gap by row and year (see the module docstring)."""
    base = _arrays.amounts(baseline, "baseline", ndim=1).reshape(-1)
    n = _years(years)
    k = base.shape[0]
    fund0 = base if baseline_funding is None else _arrays.amounts(baseline_funding, "baseline_funding", ndim=1).reshape(-1)
    if fund0.shape != base.shape:
        raise STPError("baseline_funding", f"has {fund0.shape[0]} sectors, baseline has {k}",
                       at=(0, k) if fund0.shape[0] > k else None)
    rates = {}
    for name, given in (("funding_growth", funding_growth), ("cost_growth", cost_growth)):
        raw = _arrays.amounts(given, name, ndim=2)
        one_d = "year" if raw.ndim < 2 and raw.size == n else "sector"
        _arrays.refuse_rate(raw, name, -1.0, 1.0, low_open=True, what=GROWTH_RANGE, rows="sector",
                            columns="year" if raw.ndim == 2 else one_d)
        rates[name] = _arrays.per_year(raw, name, n, rows=k, row_word="sector")
    fg, cg = rates["funding_growth"], rates["cost_growth"]
    with np.errstate(over="ignore", invalid="ignore"):
        cost = base[:, None] * np.cumprod(1 + cg, axis=1)
        funding = fund0[:, None] * np.cumprod(1 + fg, axis=1)
    for name, grown in (("cost_growth", cost), ("funding_growth", funding)):
        if not np.isfinite(grown).all():
            raise STPError(name, f"grows the baseline past the largest number a spreadsheet holds within {n} years; "
                                 "expected rates as fractions (2% = 0.02)")
    return DoNothing(cost=cost, funding=funding)


@dataclass(frozen=True)
class Bridge:
    """Steps from the do-nothing gap to the residual gap, by year.

    ``steps`` are (label, change by year): the do-nothing gap first, then each savings strand
    (negative: it closes the gap), investment (positive), STF (negative); ``residual`` last.
    """

    steps: tuple[tuple[str, np.ndarray], ...]

    @property
    def residual(self) -> np.ndarray:
        return np.sum([v for _, v in self.steps], axis=0)

    def table(self) -> tuple[list[str], np.ndarray]:
        labels = [s for s, _ in self.steps] + ["Residual gap"]
        rows = np.vstack([v for _, v in self.steps] + [self.residual])
        return labels, np.column_stack([rows, rows.sum(axis=1)])


def _rows(values: Any, argument: str, n: int) -> np.ndarray:
    arr = _arrays.amounts(values, argument, ndim=2)
    if arr.ndim == 0:
        return np.full((1, n), float(arr))
    arr = _arrays.as_2d(arr)
    if arr.shape[1] != n:
        raise STPError(argument, f"has {arr.shape[1]} years, do_nothing has {n}", at=(0, n) if arr.shape[1] > n else None)
    return arr


def gap_bridge(do_nothing: Any, savings: Any, investment: Any = 0.0, stf: Any = 0.0,
               strand_names: Sequence[str] | None = None) -> Bridge:
    """Bridge from the do-nothing gap (rows x years, summed) through net savings (strands x
    years, positive), investment (additional cost, positive) and STF funding (positive) to the
    residual gap."""
    dn = _arrays.as_2d(_arrays.amounts(do_nothing, "do_nothing", ndim=2))
    n = dn.shape[1]
    sv = _rows(savings, "savings", n)
    inv = _rows(investment, "investment", n).sum(axis=0)
    st = _rows(stf, "stf", n).sum(axis=0)
    names = list(strand_names) if strand_names is not None else [f"Strand {i + 1}" for i in range(sv.shape[0])]
    if len(names) != sv.shape[0]:
        raise STPError("strand_names", f"has {len(names)} names for {sv.shape[0]} strands")
    steps = [("Do nothing gap", dn.sum(axis=0))]
    steps += [(name, -row) for name, row in zip(names, sv)]
    steps += [("Investment", inv), ("STF funding", -st)]
    return Bridge(steps=tuple(steps))

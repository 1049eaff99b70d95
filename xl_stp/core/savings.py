"""Savings by strand: gross, less investment and capital charges, net; risk-adjusted.

    net = gross x delivery - investment - capital charges

``gross`` is strands x years (a single strand may be one row). ``delivery`` is the share of the
gross saving expected to be delivered (a risk adjustment), from 0 to 1 (0% to 100%; 50 typed for
50% is refused): one fraction for every strand and year, one per strand (a column), one per year
(a row, the same for every strand) or one per strand and year. Investment and capital charges are running costs
that the scheme adds; they are not risk-adjusted. All £000, savings positive.

LLR Strand 2 (Service Configuration), 2017/18-2020/21 totals: acute reconfiguration 25,600 plus
community 8,600 gross, less capital charges 15,100, gives 19,100 net — the plan states both 18.9m
(heading) and 19.2m (text), and the reconciliation checks report both differences.

>>> r = net_savings([[25600], [8600]], capital_charges=[[15100], [0]])
>>> float(r.net.sum())
19100.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _arrays
from .errors import STPError


@dataclass(frozen=True)
class Savings:
    """Strands x years of each component; ``net`` = ``risk_adjusted`` - investment - charges."""

    gross: np.ndarray
    delivery: np.ndarray
    investment: np.ndarray
    capital_charges: np.ndarray

    @property
    def risk_adjusted(self) -> np.ndarray:
        return self.gross * self.delivery

    @property
    def net(self) -> np.ndarray:
        return self.risk_adjusted - self.investment - self.capital_charges

    @property
    def net_by_strand(self) -> np.ndarray:
        return self.net.sum(axis=-1)

    @property
    def net_by_year(self) -> np.ndarray:
        return self.net.sum(axis=0)


def _like(values: Any, argument: str, shape: tuple[int, int], *, any_form: bool = False) -> np.ndarray:
    """``values`` broadcast to gross's strands x years.

    Always accepted: a single value given as a number (not a range), strands x years, one per strand
    (a column), and a flat sequence of one per year or one per strand. With ``any_form`` (delivery:
    "one, per strand or per year") also a single cell and one row of one per year for every strand;
    without it those are refused when there are several strands, because one investment figure
    repeated for each strand is almost always a total typed in the wrong place.
    """
    arr = _arrays.amounts(values, argument, ndim=2)
    n_strands, n_years = shape
    if arr.ndim == 0:
        return np.broadcast_to(arr, shape)
    if arr.ndim == 1:
        if arr.shape[0] == n_years:
            return np.broadcast_to(arr, shape)
        if arr.shape[0] == n_strands:
            return np.broadcast_to(arr[:, None], shape)
        raise STPError(argument, f"has {arr.shape[0]} values; gross has {n_strands} strands and {n_years} years",
                       at=(0, max(n_strands, n_years)) if arr.shape[0] > max(n_strands, n_years) else None)
    if arr.shape == shape:
        return arr
    if any_form and arr.shape == (1, 1):
        return np.broadcast_to(arr.reshape(()), shape)
    if any_form and arr.shape == (1, n_years):
        return np.broadcast_to(arr, shape)
    if arr.shape == (n_strands, 1):
        return np.broadcast_to(arr, shape)
    forms = (f"one value, a row of {n_years} (one per year), a column of {n_strands} (one per strand) or {n_strands} x {n_years}"
             if any_form else f"a column of {n_strands} (one per strand) or {n_strands} rows of {n_years} years")
    if arr.shape[0] != n_strands and arr.shape[1] in (1, n_years):
        at = (n_strands, 0) if arr.shape[0] > n_strands else None
        raise STPError(argument, f"has {_arrays.count(arr.shape[0], 'strand')}, gross has {n_strands}; expected {forms}", at=at)
    at = (0, n_years) if arr.shape[1] > n_years else None
    raise STPError(argument, f"has {_arrays.count(arr.shape[1], 'year')}, gross has {n_years}; expected {forms}", at=at)


#: What a delivery share may be.
SHARE_RANGE = "a share from 0% to 100% (0 to 1)"


def net_savings(gross: Any, investment: Any = 0.0, capital_charges: Any = 0.0, delivery: Any = 1.0) -> Savings:
    """Net savings by strand and year (see the module docstring for the definition)."""
    g = _arrays.as_2d(_arrays.amounts(gross, "gross", ndim=2))
    shape = g.shape
    share = _arrays.amounts(delivery, "delivery", ndim=2)
    _arrays.refuse_rate(share, "delivery", 0.0, 1.0, what=SHARE_RANGE, a_year=False, rows="strand",
                        columns="year" if share.ndim == 2 or share.size == shape[1] else "strand")
    d = _like(share, "delivery", shape, any_form=True)
    return Savings(gross=g, delivery=d, investment=_like(investment, "investment", shape),
                   capital_charges=_like(capital_charges, "capital_charges", shape))

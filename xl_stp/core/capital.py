"""Capital schemes: phased cost, disposal proceeds and the net capital requirement.

Sign convention: costs and requirements are positive; disposal proceeds are returned as
*negative* figures in tables (as NHS tables print them in brackets), and may be entered either
way round (see :func:`xl_stp._arrays.proceeds`). Money in £000.

The net capital requirement of a scheme is its total cost less its disposal proceeds. It may be
negative: a scheme that sells more than it spends releases capital. Worked example from the LLR
plan (Oakham & Lutterworth): cost 1,000 + 350 + 1,000 = 2,350, disposal of Oakham at net book
value 4,758, net requirement (2,408).

>>> r = capital_net([[0, 0, 1000, 0], [0, 0, 350, 0], [0, 0, 0, 1000], [0, 0, 0, 0]], [0, 0, 0, -4758])
>>> float(r.total_cost), float(r.total_disposals), float(r.total_net)
(2350.0, -4758.0, -2408.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _arrays
from .errors import STPError


@dataclass(frozen=True)
class CapitalRequirement:
    """Cost, disposals and net requirement of a set of schemes.

    ``costs`` is schemes x years (positive). ``disposals`` is schemes x years when the year of each
    sale is known, otherwise schemes x 1; it is held *negative* (proceeds in brackets).
    """

    costs: np.ndarray
    disposals: np.ndarray

    @property
    def disposals_phased(self) -> bool:
        """True when the disposals carry a year (same number of columns as the costs)."""
        return self.disposals.shape[-1] == self.costs.shape[-1]

    @property
    def cost_by_scheme(self) -> np.ndarray:
        return self.costs.sum(axis=-1)

    @property
    def disposals_by_scheme(self) -> np.ndarray:
        return self.disposals.sum(axis=-1)

    @property
    def net_by_scheme(self) -> np.ndarray:
        """Cost less disposal proceeds, per scheme (negative where a scheme releases capital)."""
        return self.cost_by_scheme + self.disposals_by_scheme

    @property
    def cost_by_year(self) -> np.ndarray:
        return self.costs.sum(axis=0)

    @property
    def disposals_by_year(self) -> np.ndarray:
        """Proceeds by year (negative); only meaningful when the disposals are phased."""
        if not self.disposals_phased:
            raise STPError("disposals", "proceeds were given without a year, so they cannot be shown by year")
        return self.disposals.sum(axis=0)

    @property
    def net_by_year(self) -> np.ndarray:
        return self.cost_by_year + self.disposals_by_year

    @property
    def total_cost(self) -> float:
        return float(self.costs.sum())

    @property
    def total_disposals(self) -> float:
        return float(self.disposals.sum())

    @property
    def total_net(self) -> float:
        return self.total_cost + self.total_disposals

    def table(self) -> np.ndarray:
        """The published layout (as in the LLR scheme tables): one row per scheme, then a TOTAL
        row; columns are the cost in each year, Disposals (negative), then Total (net)."""
        body = np.column_stack([self.costs, self.disposals_by_scheme, self.net_by_scheme])
        return np.vstack([body, body.sum(axis=0)])


def capital_net(costs: Any, disposals: Any = 0.0) -> CapitalRequirement:
    """Net capital requirement of schemes x years of cost and their disposal proceeds.

    ``costs``: one row per scheme, one column per year (a single row for one scheme), £000, >= 0
    is not enforced (a credit/re-phasing row may be negative).
    ``disposals``: proceeds per scheme — one value per scheme (year unknown), one row per scheme
    by year (year known), or a single value; positive or in brackets, not mixed.
    """
    c = _arrays.as_2d(_arrays.amounts(costs, "costs", ndim=2))
    given = _arrays.amounts(disposals, "disposals", ndim=2)
    n_schemes, n_years = c.shape
    d = given
    if d.ndim == 0:
        if d != 0 and n_schemes != 1:
            raise STPError("disposals", f"is a single value but costs has {n_schemes} schemes; give one value per scheme")
        d = np.full((n_schemes, 1), float(d))
    elif d.ndim == 1:
        if d.shape[0] == n_schemes:
            d = d.reshape(n_schemes, 1)
        elif n_schemes == 1 and d.shape[0] == n_years:
            d = d.reshape(1, n_years)
        elif n_schemes == 1:
            raise STPError("disposals", f"has {d.shape[0]} values; costs has one scheme of {n_years} years "
                                        "(expected one value, or one per year)", at=(0, n_years) if d.shape[0] > n_years else None)
        else:
            raise STPError("disposals", f"has {d.shape[0]} values; costs has {n_schemes} schemes (expected one value per scheme)",
                           at=(0, n_schemes) if d.shape[0] > n_schemes else None)
    else:
        if d.shape[0] != n_schemes:
            raise STPError("disposals", f"has {_arrays.count(d.shape[0], 'scheme')}, costs has {n_schemes}",
                           at=(n_schemes, 0) if d.shape[0] > n_schemes else None)
        if d.shape[1] not in (1, n_years):
            raise STPError("disposals", f"has {_arrays.count(d.shape[1], 'year')}, costs has {n_years}",
                           at=(0, n_years) if d.shape[1] > n_years else None)
    proceeds = _arrays.one_sign(d, "disposals", shape=given.shape if given.ndim else None, rows="scheme", columns="year")
    return CapitalRequirement(costs=c, disposals=-proceeds)

"""Savings by strand: gross, less investment and capital charges, net; risk-adjusted.

    net = gross x delivery - investment - capital charges

``gross`` is strands x years (a single strand may be one row). ``delivery`` is the share of the
gross saving expected to be delivered (a risk adjustment): one fraction, one per strand or one
per strand and year, from 0 to 1 (0% to 100%). Investment and capital charges are running costs
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


def _like(values: Any, argument: str, shape: tuple[int, int]) -> np.ndarray:
    arr = _arrays.amounts(values, argument, ndim=2)
    if arr.ndim == 0:
        return np.broadcast_to(arr, shape)
    if arr.ndim == 1:
        if arr.shape[0] == shape[1]:
            return np.broadcast_to(arr, shape)
        if arr.shape[0] == shape[0]:
            return np.broadcast_to(arr[:, None], shape)
        raise STPError(argument, f"has {arr.shape[0]} values; gross has {shape[0]} strands and {shape[1]} years")
    if arr.shape == shape:
        return arr
    if arr.shape[0] != shape[0]:
        raise STPError(argument, f"has {arr.shape[0]} strands, gross has {shape[0]}")
    if arr.shape[1] == 1:
        return np.broadcast_to(arr, shape)
    raise STPError(argument, f"has {arr.shape[1]} years, gross has {shape[1]}")


def net_savings(gross: Any, investment: Any = 0.0, capital_charges: Any = 0.0, delivery: Any = 1.0) -> Savings:
    """Net savings by strand and year (see the module docstring for the definition)."""
    g = _arrays.as_2d(_arrays.amounts(gross, "gross", ndim=2))
    shape = g.shape
    d = _like(delivery, "delivery", shape)
    bad = (d < 0) | (d > 1)
    if bad.any():
        v = float(d[bad][0])
        raise STPError("delivery", f"expected a share from 0% to 100% (0 to 1), found {v * 100:g}%")
    return Savings(gross=g, delivery=d, investment=_like(investment, "investment", shape),
                   capital_charges=_like(capital_charges, "capital_charges", shape))

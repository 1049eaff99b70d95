"""Sustainability and Transformation Fund (STF) investment: recurrent and non-recurrent.

Each investment line has a non-recurrent and a recurrent amount per year (£000). Recurrent
investment is a continuing cost that stays in the baseline; non-recurrent is a one-off.

LLR 'Investment requirements for transformation', 2017/18: non-recurrent 7,950 + recurrent 16,700
= 24,650.

>>> t = stf_totals([[500, 300], [0, 2000]], [[1000, 700], [3500, 3500]])
>>> t.non_recurrent.tolist(), t.recurrent.tolist(), t.total.tolist()
([500.0, 2300.0], [4500.0, 4200.0], [5000.0, 6500.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _arrays
from .errors import STPError


@dataclass(frozen=True)
class STFInvestment:
    """Lines x years of non-recurrent and recurrent investment, and their totals by year."""

    lines_non_recurrent: np.ndarray
    lines_recurrent: np.ndarray

    @property
    def non_recurrent(self) -> np.ndarray:
        return self.lines_non_recurrent.sum(axis=0)

    @property
    def recurrent(self) -> np.ndarray:
        return self.lines_recurrent.sum(axis=0)

    @property
    def total(self) -> np.ndarray:
        return self.non_recurrent + self.recurrent

    @property
    def by_line(self) -> np.ndarray:
        """Total over all years, per line (non-recurrent + recurrent)."""
        return (self.lines_non_recurrent + self.lines_recurrent).sum(axis=-1)

    def table(self) -> np.ndarray:
        """Rows: non-recurrent, recurrent, total; columns: years, then the whole period."""
        rows = np.vstack([self.non_recurrent, self.recurrent, self.total])
        return np.column_stack([rows, rows.sum(axis=1)])


def stf_totals(non_recurrent: Any, recurrent: Any) -> STFInvestment:
    """Totals of STF investment lines; both arguments lines x years (blank lines as 0)."""
    nr = _arrays.as_2d(_arrays.amounts(non_recurrent, "non_recurrent", ndim=2))
    rc = _arrays.as_2d(_arrays.amounts(recurrent, "recurrent", ndim=2))
    _arrays.years_match(nr, "non_recurrent", rc, "recurrent")
    if nr.shape[0] != rc.shape[0]:
        raise STPError("recurrent", f"has {rc.shape[0]} lines, non_recurrent has {nr.shape[0]}",
                       at=(nr.shape[0], 0) if rc.shape[0] > nr.shape[0] else None)
    return STFInvestment(lines_non_recurrent=nr, lines_recurrent=rc)

"""Reconciliation: a stated figure against the value computed from its line items.

Published tables round every cell. If each of n line items is printed rounded to ``unit`` (1 for
£000 tables, 0.1 for £m tables to one decimal), their printed sum can differ from the true total
by up to n x unit/2, and the printed total itself carries another unit/2. So a stated total and
the sum of its printed items agree *within rounding* when

    |stated - computed| <= (n + 1) x unit / 2     (n items; +1 for the rounded total itself)

Every difference is reported with its sign (stated - computed), and its status says whether it
is nil, within rounding, or exceeds rounding — the last is an error in the document (or in the
transcription), never something to "fix" by editing an input.

>>> r = reconcile(279_581, items=[31_600, 12_906, 57_609, 15_803, 65_531, 17_577, 10_958, 12_000, 20_800, 17_298, 17_500])
>>> r.difference, r.status
(-1.0, 'within rounding')
>>> check(114.5, 114.6, tolerance=0.05)
-0.1
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from . import _arrays
from .errors import STPError

#: The status of a reconciliation: nil difference, a difference rounding explains, one it does not.
NIL, ROUNDING, MISMATCH = "agrees", "within rounding", "exceeds rounding"
#: What :func:`check` (and STP_CHECK) returns when stated and computed agree.
OK = "OK"
_UNITS = {"£000": 1.0, "£k": 1.0, "000": 1.0, "£m": 1000.0, "m": 1000.0, "£bn": 1_000_000.0, "bn": 1_000_000.0}


def to_thousands(values: Any, units: str = "£000") -> np.ndarray:
    """Convert amounts in ``units`` (£000, £m or £bn) to £000."""
    key = str(units).strip().lower()
    factor = {k.lower(): v for k, v in _UNITS.items()}.get(key)
    if factor is None:
        raise STPError("units", f"expected £000, £m or £bn, found {units!r}")
    return _arrays.amounts(values, "values") * factor


@dataclass(frozen=True)
class Reconciliation:
    label: str
    stated: float
    computed: float
    tolerance: float

    @property
    def difference(self) -> float:
        """Stated less computed (positive: the document states more than its items add up to)."""
        return round(self.stated - self.computed, 10)

    @property
    def status(self) -> str:
        return rounding_status(self.difference, self.stated, self.tolerance)

    @property
    def exceeds_rounding(self) -> bool:
        return self.status == MISMATCH

    def __str__(self) -> str:
        return f"{self.label}: stated {self.stated:,.1f}, computed {self.computed:,.1f}, difference {self.difference:+,.1f} ({self.status})"


def rounding_status(difference: float, stated: float, tolerance: float) -> str:
    """NIL when ``difference`` (stated less computed) is nil to float precision (relative to the
    stated figure), ROUNDING when it is within ``tolerance``, else MISMATCH.

    >>> rounding_status(-1.0, 279_581, 6.0), rounding_status(0.0, 114.5, 0.1), rounding_status(-41.8, 98.4, 8.55)
    ('within rounding', 'agrees', 'exceeds rounding')
    """
    d = abs(difference)
    if d <= 1e-9 * max(1.0, abs(stated)):
        return NIL
    return ROUNDING if d <= tolerance + 1e-9 else MISMATCH


def rounding_tolerance(n_items: int, unit: float = 1.0, total_rounded: bool = True) -> float:
    """Largest difference explained by rounding n printed items (and the printed total)."""
    return (n_items + (1 if total_rounded else 0)) * unit / 2


def reconcile(stated: Any, items: Sequence[float] | np.ndarray | None = None, *, computed: Any = None,
              unit: float = 1.0, n_items: int | None = None, label: str = "") -> Reconciliation:
    """Compare ``stated`` with the sum of ``items`` (or with an already ``computed`` value).

    ``unit`` is the rounding unit of the printed figures; ``n_items`` the number of rounded
    figures behind ``computed`` when ``items`` is not given (default 1).
    """
    s = float(_arrays.amounts(stated, "stated", ndim=0))
    if (items is None) == (computed is None):
        raise STPError("items", "give either the line items or the computed value")
    if items is not None:
        arr = _arrays.amounts(items, "items", ndim=2)
        c, n = float(arr.sum()), int(arr.size)
    else:
        c, n = float(_arrays.amounts(computed, "computed", ndim=0)), (1 if n_items is None else int(n_items))
    return Reconciliation(label=label, stated=s, computed=c, tolerance=rounding_tolerance(n, unit))


def check(stated: Any, computed: Any, tolerance: Any = 0.0) -> float | str:
    """'OK' when ``stated`` and ``computed`` agree within ``tolerance``, else stated - computed.

    For a Checks sheet: ``tolerance`` 0 asks for an exact match (to float precision); pass the
    rounding tolerance for published figures.
    """
    s = float(_arrays.amounts(stated, "stated", ndim=0))
    c = float(_arrays.amounts(computed, "computed", ndim=0))
    tol = float(_arrays.amounts(tolerance, "tolerance", ndim=0))
    if tol < 0:
        raise STPError("tolerance", f"expected zero or more, found {tol:g}")
    diff = s - c
    if abs(diff) <= tol + 1e-9 * max(1.0, abs(s), abs(c)):
        return OK
    return round(diff, 10)

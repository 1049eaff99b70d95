"""The capital funding waterfall, from the programme to the residual DH requirement.

    programme
      less approved to date
      less internally funded (depreciation, retained surpluses)
    = external funding requirement
      less each alternative source, in a chosen order (site disposals, PF2, charitable,
      commercial, local authority ...)
    = DH funding requirement (the residual)

Sign convention: the programme and the requirements are positive; every deduction is shown
negative (in brackets), as the LLR summary tables print them. Deductions may be *entered* either
way round (all positive or all in brackets per source). Money in £000 unless the caller's
figures are in £m — the arithmetic does not care, the labels do.

The residual is not capped at zero: in a year when receipts exceed spend the DH requirement is
negative, and :attr:`FundingWaterfall.over_funded` says so. LLR acute configuration 2020/21 (£m):
98.2 external requirement, less site disposal 28.4, PF2 70.2 and Welcome Centre 10.0, gives a DH
requirement of (10.4).

>>> w = funding_waterfall([109.0], {"Site disposal": [-28.4], "PF2": [-70.2], "Welcome Centre": [-10.0]}, internal=[10.8])
>>> round(float(w.external_requirement[0]), 1), round(float(w.dh_requirement[0]), 1)
(98.2, -10.4)
>>> w.over_funded.tolist()
[True]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from . import _arrays
from .errors import STPError
from .years import Timeline

#: LLR's order of alternative sources, used when a caller gives none.
STANDARD_SOURCES: tuple[str, ...] = ("Site disposals", "PF2", "Charitable", "Commercially funded", "Local authority funded")


def default_source_names(n: int) -> list[str]:
    """Names of ``n`` unnamed source rows: LLR's standard order, then Source 6, Source 7 ..."""
    return [STANDARD_SOURCES[i] if i < len(STANDARD_SOURCES) else f"Source {i + 1}" for i in range(n)]


def by_year(amounts: np.ndarray) -> np.ndarray:
    """Amounts by year (the last axis): programmes x years summed over the programmes; one row of
    years as it is.

    >>> by_year(np.array([[20.5, 29.4], [2.0, 0.0]])).tolist(), by_year(np.array([98.2, -10.4])).tolist()
    ([22.5, 29.4], [98.2, -10.4])
    """
    return amounts.sum(axis=0) if amounts.ndim > 1 else amounts


@dataclass(frozen=True)
class FundingWaterfall:
    """Each step of the waterfall by year (last axis); deductions held as positive magnitudes."""

    programme: np.ndarray
    approved: np.ndarray
    internal: np.ndarray
    source_names: tuple[str, ...]
    sources: tuple[np.ndarray, ...]

    @property
    def external_requirement(self) -> np.ndarray:
        """Programme less approved to date less internally funded."""
        return self.programme - self.approved - self.internal

    @property
    def alternative_funding(self) -> np.ndarray:
        """All alternative sources together (positive magnitude)."""
        total = np.zeros(np.broadcast_shapes(self.programme.shape, *(s.shape for s in self.sources)))
        for s in self.sources:
            total = total + s
        return total

    @property
    def dh_requirement(self) -> np.ndarray:
        """External requirement less alternative funding; negative where sources exceed it."""
        return self.external_requirement - self.alternative_funding

    @property
    def over_funded(self) -> np.ndarray:
        """True in each year (and programme) whose DH requirement is negative (beyond float
        noise: 62.9 - 50.7 - 12.2 is not an over-funded year)."""
        scale = max(1.0, float(np.abs(self.programme).max(initial=0.0)))
        return self.dh_requirement < -1e-9 * scale

    def warnings(self, timeline: Timeline | None = None, tolerance: float = 1e-9) -> list[str]:
        """One sentence per year whose total DH requirement is negative."""
        out = []
        for i, v in enumerate(np.atleast_1d(self.by_year(self.dh_requirement))):
            if v < -tolerance:
                label = timeline.labels[i] if timeline is not None else f"year {i + 1}"
                out.append(f"{label}: DH funding requirement is negative ({-v:,.1f}): funding sources exceed the external requirement")
        return out

    def by_year(self, values: np.ndarray) -> np.ndarray:
        """A step of the waterfall (any amounts of the programme's shape) by year: summed over
        the programmes when there are several, as the published table prints it."""
        return by_year(np.broadcast_to(values, self.programme.shape))

    def rows(self) -> list[tuple[str, np.ndarray]]:
        """The published table as (label, signed values by year): deductions negative."""
        rows: list[tuple[str, np.ndarray]] = [
            ("Programme", self.programme),
            ("Approved to date", -self.approved),
            ("Internally funded", -self.internal),
            ("External funding requirement", self.external_requirement),
        ]
        rows.extend((name, -values) for name, values in zip(self.source_names, self.sources))
        rows.append(("DH funding requirement", self.dh_requirement))
        return rows

    def table(self) -> tuple[list[str], np.ndarray]:
        """Row labels and a rows x (years + Total) matrix, summed over programmes if several."""
        labels, values = [], []
        for label, v in self.rows():
            v = self.by_year(v)
            labels.append(label)
            values.append(np.append(v, v.sum()))
        return labels, np.vstack(values)


def _fit(prog: np.ndarray, values: Any, argument: str, row: int | None = None, label: str | None = None) -> np.ndarray:
    """One deduction as positive magnitudes in the programme's shape. ``row``: its row in the
    caller's ``sources``; ``label``: its name when the caller named it (for the message)."""
    shape = prog.shape
    arr = None
    try:
        arr = _arrays.amounts(values, argument, ndim=2)
        if arr.ndim == 0:
            return np.broadcast_to(_arrays.one_sign(arr, argument), shape)
        if not (arr.shape == shape or arr.shape == shape[-1:] or (arr.ndim == 2 and arr.shape == (1, shape[-1]))):
            _arrays.years_match(prog, "programme", arr, argument)
            raise STPError(argument, f"has {arr.shape[0]} rows, programme has {shape[0]}",
                           at=(shape[0], 0) if arr.ndim == 2 and arr.shape[0] > shape[0] else None)
        arr = _arrays.one_sign(arr, argument, rows="programme", columns="year")
        return arr if arr.ndim <= len(shape) else arr.reshape(shape[-1])
    except STPError as e:
        if row is None:
            raise
        # A source row: named by its name, or by its row; ``at`` within the sources range.
        at = None if e.at is None or (arr is not None and arr.ndim == 2) else (row, e.at[1])
        problem = e.problem if label is not None else f"row {row + 1} {e.problem}"
        raise e.moved(argument="sources", problem=problem, at=at, label=label) from None


def _source_items(sources: Any, names: Sequence[str] | None, n_years: int) -> list[tuple[Any, Any]]:
    """(name, amounts) for each source, named twice refused."""
    if isinstance(sources, Mapping):
        items = list(sources.items())
    else:
        arr = np.asarray(sources, dtype=object) if not isinstance(sources, np.ndarray) else sources
        if arr.size == 0:
            return []
        rows = list(arr) if arr.ndim == 2 else [arr]
        if arr.ndim == 2:  # one range of sources: its years against the programme's, once
            width = arr.shape[1]
            if width != n_years and not (width == 1 and n_years == 1):
                raise STPError("sources", f"has {width} years, programme has {n_years}", at=(0, n_years) if width > n_years else None)
        if names is None:
            names = default_source_names(len(rows))
        if len(names) != len(rows):
            raise STPError("names", f"has {len(names)} names for {len(rows)} source rows")
        items = list(zip(names, rows))
    seen: set[str] = set()
    for name, _ in items:
        if name in seen:
            raise STPError("sources", f"names {name!r} twice; give each source its own name", label=str(name))
        seen.add(name)
    return items


def _in_order(items: list[tuple[Any, Any]], order: Sequence[str] | None) -> list[tuple[Any, Any]]:
    """The sources in the waterfall's order: every source named once."""
    if order is None:
        return items
    by_name = dict(items)
    unknown = [i for i, o in enumerate(order) if o not in by_name]
    if unknown:
        raise STPError("order", f"names {order[unknown[0]]!r}, which is not one of the sources ({', '.join(map(str, by_name))})",
                       at=(0, unknown[0]))
    missing = [n for n in by_name if n not in order]
    if missing or len(set(order)) != len(order):
        again = next((i for i, o in enumerate(order) if o in order[:i]), None)
        raise STPError("order", f"must list every source once; missing or repeated: {', '.join(map(str, missing)) or 'repeated name'}",
                       at=None if again is None else (0, again))
    return [(o, by_name[o]) for o in order]


def funding_waterfall(
    programme: Any,
    sources: Mapping[str, Any] | Sequence[Any] | np.ndarray = (),
    *,
    approved: Any = 0.0,
    internal: Any = 0.0,
    order: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
) -> FundingWaterfall:
    """Build the waterfall.

    ``programme``: spend by year (one row), or programmes/schemes x years.
    ``sources``: a mapping of source name to amounts (same shape as ``programme``, or one row of
    years that funds the programme as a whole — the waterfall is then worked on the programme's
    year totals), or a sources x years array with ``names``.
    ``approved``, ``internal``: amounts already funded, same shapes.
    ``order``: the order of the sources in the waterfall (names from ``sources``; every source
    must appear once). The residual does not depend on the order; the table rows do.
    """
    prog = _arrays.amounts(programme, "programme", ndim=2)
    if prog.ndim == 0:
        prog = prog.reshape(1)
    named = names is not None or isinstance(sources, Mapping)
    items = _source_items(sources, names, prog.shape[-1])
    position = {name: i for i, (name, _) in enumerate(items)}
    items = _in_order(items, order)
    fitted = tuple(_fit(prog, v, str(n), position[n], str(n) if named else None) for n, v in items)
    done = (_fit(prog, approved, "approved"), _fit(prog, internal, "internal"))
    if prog.ndim == 2 and any(a.ndim == 1 for a in fitted + done):
        # A source given as one row of years funds the programme as a whole, not each scheme:
        # work on the programme's year totals (schemes x years arguments are totalled too).
        prog = by_year(prog)
        fitted = tuple(by_year(a) for a in fitted)
        done = tuple(by_year(a) for a in done)
    return FundingWaterfall(
        programme=prog,
        approved=done[0],
        internal=done[1],
        source_names=tuple(str(n) for n, _ in items),
        sources=fitted,
    )

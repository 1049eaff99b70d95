"""Financial years and the timeline every year-indexed figure is attached to.

NHS financial years run 1 April to 31 March and are labelled ``2017/18``. A :class:`Timeline`
is a run of consecutive financial years; year-indexed arrays carry one value per year of a
timeline, in order, on their last axis, so two ranges that do not cover the same years are caught
instead of being added column by column.

>>> fy_label(2017)
'2017/18'
>>> parse_fy("FY18"), parse_fy("17/18"), parse_fy("2017-18"), parse_fy("2017/2018")
(2017, 2017, 2017, 2017)
>>> Timeline.from_labels(["2017/18", "2018/19", "2019/20", "2020/21"]).labels
('2017/18', '2018/19', '2019/20', '2020/21')
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from .errors import STPError

#: The longest timeline any calculation accepts (Green Book appraisals run to a few hundred years).
MAX_YEARS = 1000

_FULL = re.compile(r"^\s*(?:FY\s*)?(\d{4})\s*[/\-–]\s*(\d{2}|\d{4})\s*$", re.IGNORECASE)
_SHORT = re.compile(r"^\s*(?:FY\s*)?(\d{2})\s*[/\-–]\s*(\d{2})\s*$", re.IGNORECASE)
_FY = re.compile(r"^\s*FY\s*(\d{2}|\d{4})\s*$", re.IGNORECASE)


def fy_label(start_year: int) -> str:
    """``2017`` -> ``'2017/18'`` (the year that starts on 1 April ``start_year``)."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def _century(two_digits: int) -> int:
    return 2000 + two_digits if two_digits < 80 else 1900 + two_digits


def parse_fy(value: Any, argument: str = "year") -> int:
    """The start year of a financial year written in any of the usual ways.

    Accepts ``2017/18``, ``2017-18``, ``2017/2018``, ``17/18``, ``FY18`` (the year *ending* March
    2018, as HM Treasury writes it), ``FY2018``, an integer start year (``2017``), or a date (the
    financial year that contains it). Raises STPError naming ``argument`` otherwise.
    """
    if isinstance(value, bool):
        raise STPError(argument, f"expected a financial year such as 2017/18, found {value}")
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.year if value.month >= 4 else value.year - 1
    if isinstance(value, (int, np.integer)) or (isinstance(value, (float, np.floating)) and float(value).is_integer()):
        year = int(value)
        if 1900 <= year <= 2200:
            return year
        raise STPError(argument, f"expected a financial year such as 2017/18 or a start year such as 2017, found {value}")
    if isinstance(value, str):
        m = _FULL.match(value)
        if m:
            start, end = int(m.group(1)), m.group(2)
            end_year = int(end) if len(end) == 4 else (start // 100) * 100 + int(end)
            if len(end) == 2 and int(end) == 0 and start % 100 == 99:
                end_year = start + 1
            if end_year != start + 1:
                raise STPError(argument, f"{value!r} is not one financial year (the years must be consecutive)")
            return start
        m = _SHORT.match(value)
        if m:
            start = _century(int(m.group(1)))
            if (start + 1) % 100 != int(m.group(2)):
                raise STPError(argument, f"{value!r} is not one financial year (the years must be consecutive)")
            return start
        m = _FY.match(value)
        if m:
            digits = m.group(1)
            end_year = int(digits) if len(digits) == 4 else _century(int(digits))
            return end_year - 1
    raise STPError(argument, f"expected a financial year such as 2017/18, 17/18, 2017-18 or FY18, found {value!r}")


@dataclass(frozen=True)
class Timeline:
    """``n`` consecutive financial years starting with the one that begins in April ``start``."""

    start: int
    n: int

    def __post_init__(self) -> None:
        if not 1 <= self.n <= MAX_YEARS:
            raise STPError("years", f"expected from 1 to {MAX_YEARS} years, got {self.n}")

    @classmethod
    def of(cls, first: Any, n: int) -> "Timeline":
        """``Timeline.of("2017/18", 4)`` covers 2017/18 to 2020/21."""
        if isinstance(n, bool) or not float(n).is_integer():
            raise STPError("n", f"expected a whole number of years, found {n!r}")
        return cls(parse_fy(first, "first"), int(n))

    @classmethod
    def from_labels(cls, labels: Iterable[Any], argument: str = "years") -> "Timeline":
        """A timeline from year headings; they must be consecutive and in order."""
        starts = []
        for k, v in enumerate(labels):
            try:
                starts.append(parse_fy(v, argument))
            except STPError as e:
                raise e.moved(problem=f"heading {k + 1}: {e.problem}", at=(0, k)) from None
        if not starts:
            raise STPError(argument, "expected at least one financial year")
        for i, (a, b) in enumerate(zip(starts, starts[1:])):
            if b != a + 1:
                raise STPError(argument, f"years must be consecutive: {fy_label(a)} is followed by {fy_label(b)} (heading {i + 2})",
                               at=(0, i + 1))
        return cls(starts[0], len(starts))

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.start, self.start + self.n))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(fy_label(y) for y in self.years)

    def __len__(self) -> int:
        return self.n

    def index(self, year: Any) -> int:
        """Column of a year on this timeline (``'2019/20'`` -> 2 on a 2017/18 timeline)."""
        y = parse_fy(year)
        if not self.start <= y < self.start + self.n:
            raise STPError("year", f"{fy_label(y)} is outside {self.labels[0]} to {self.labels[-1]}")
        return y - self.start

    def check(self, values: np.ndarray, argument: str) -> np.ndarray:
        """Raise unless ``values`` has one column per year of this timeline."""
        n = values.shape[-1] if values.ndim else 1
        if n != self.n:
            raise STPError(argument, f"has {n} years; the timeline {self.labels[0]} to {self.labels[-1]} has {self.n}",
                           at=(0, self.n) if n > self.n else None)
        return values


def fy_labels(first: Any, n: int) -> tuple[str, ...]:
    """Labels of ``n`` financial years from ``first``: ``fy_labels(2017, 3)`` -> 2017/18, 2018/19, 2019/20."""
    return Timeline.of(first, n).labels

"""The rules for implausible input, written down once: what is refused, what is only warned about,
and the message each gives.

- **Refused**: a value that cannot be meant. The call returns ``#STP! <argument>: <message>``
  instead of a figure, so no total is worked out from it; the message says what was found, where,
  and what to type. These rules live where the value is read (:mod:`udfs.convert`) or where the
  finance is (:mod:`xl_stp.core`), so a Python caller of the core meets them too.
- **Warned**: a value that may be meant. The result is unchanged; :meth:`udfs.registry.UDF.explain`
  lists the warning (an :class:`~xl_stp.core.errors.STPError` naming the argument and, in ``at``,
  the cell), for the batch engine's report. The checks are here, declared with each function
  (``udf(..., checks=...)``): a plain call never runs them.

Each rule carries an example call, and ``tests/udfs/test_rules.py`` runs every one and compares
the message with the table, so the table cannot drift from the code. ``python -m udfs.rules``
prints the table (Markdown) for the README.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from dataclasses import dataclass
from typing import Any, ClassVar, Iterator, Mapping

import numpy as np

from xl_stp.core._arrays import as_percent, figure
from xl_stp.core.errors import STPError

from . import convert as cv

REFUSED, WARNED = "refused", "warned"

#: Growth above this (a year, either way) is flagged: NHS cost and funding growth run at a few per cent.
GROWTH_WARNING = 0.20
#: A PDC dividend or discount rate above this is flagged (both are 3.5% a year).
RATE_WARNING = 0.10


@dataclass(frozen=True)
class Rule:
    """One rule: ``id``; ``kind`` (refused or warned); the arguments it applies to; when it
    applies; the message (as the cell shows it for a refusal, as the report lists it for a
    warning); and the example call that gives that message: (function, arguments)."""

    id: str
    kind: str
    applies_to: str
    when: str
    message: str
    example: tuple[str, tuple[Any, ...]]


RULES: tuple[Rule, ...] = (
    # ---- refused -------------------------------------------------------------------------------
    Rule("text-number", REFUSED, "every amount, rate and number",
         "a number typed as text ('12,000', '£1,200', '(2,000)', '3.5%' in a range)",
         "costs: '12,000' is text at row 1, column 2; type it as a number",
         ("STP_CAPITAL_NET", ([[1000.0, "12,000"], [0.0, 500.0]], 0.0))),
    Rule("text", REFUSED, "every amount, rate and number", "other text in a cell that should hold a number",
         "costs: 'n/a' is text in cell 2 of the row; type a number (or leave the cell blank for 0)",
         ("STP_CAPITAL_NET", ([[1000.0, "n/a"]], 0.0))),
    Rule("error-value", REFUSED, "every argument", "an Excel error in an input cell (#N/A, #REF!, #DIV/0! ...)",
         "costs: expected a number in cell 2 of the row, found the error #N/A",
         ("STP_CAPITAL_NET", ([[1000.0, "#N/A"]], 0.0))),
    Rule("not-a-number", REFUSED, "every amount", "TRUE/FALSE, a date, NaN or an infinite number where an amount goes",
         "costs: expected a number in cell 2 of the column, found a date (01/04/2017); format the cell as a number",
         ("STP_CAPITAL_NET", ([[1000.0], [dt.datetime(2017, 4, 1)]], 0.0))),
    Rule("growth-rate", REFUSED, "`funding_growth`, `cost_growth` (STP_DO_NOTHING)",
         "above 100% a year, or at or below -100% (growth typed 4 for 4%)",
         "funding_growth: 4 is 400% a year; type 4% or 0.04",
         ("STP_DO_NOTHING", ([[1000.0]], 4.0, 0.03, 4.0))),
    Rule("delivery-share", REFUSED, "`delivery` (STP_SAVINGS)", "below 0% or above 100% (typed 50 for 50%)",
         "delivery: 50 is 5000%; type 50% or 0.5",
         ("STP_SAVINGS", ([[100.0, 200.0], [50.0, 50.0]], None, None, 50.0))),
    Rule("pdc-rate", REFUSED, "`pdc_rate` (STP_CAPITAL_CHARGES)", "below 0%, or 100% a year or more (typed 3.5 for 3.5%)",
         "pdc_rate: 3.5 is 350% a year; type 3.5% or 0.035",
         ("STP_CAPITAL_CHARGES", ([[100.0, 0.0, 0.0]], 5.0, 3.5))),
    Rule("discount-rate", REFUSED, "`rate` (STP_NPV)", "above 100% a year, or at or below -100% (typed 3.5 for 3.5%)",
         "rate: 3.5 is 350% a year; type 3.5% or 0.035",
         ("STP_NPV", ([[-100.0, 50.0, 60.0]], 3.5))),
    Rule("mixed-signs", REFUSED, "`disposals` (STP_CAPITAL_NET); each row of `sources`, `approved`, `internal` "
         "(STP_FUNDING_SPLIT, STP_DH_REQUIREMENT)",
         "proceeds typed positive in one cell and in brackets in another; the message names the first cell of the "
         "sign there are fewer of (a positive one when there are as many)",
         "disposals: mixes positive and negative amounts: 2,000 in scheme 3 is positive, the other 2 are in brackets; "
         "type them all in brackets (or all as positive amounts)",
         ("STP_CAPITAL_NET", ([[100.0, 0.0], [0.0, 200.0], [50.0, 50.0], [0.0, 10.0]], [[-500.0], [-300.0], [2000.0], [None]]))),
    Rule("mixed-signs-source", REFUSED, "each row of `sources` (STP_FUNDING_SPLIT, STP_DH_REQUIREMENT)",
         "the same, for a funding source: named by its name when the range has a first column of names",
         "sources 'PF2': mixes positive and negative amounts: 27.2 in year 3 is positive, the other is in brackets; "
         "type them all in brackets (or all as positive amounts)",
         ("STP_DH_REQUIREMENT", ([[10.0, 50.0, 100.0]], [["Site disposal", 0.0, 0.0, -28.4], ["PF2", 0.0, -27.2, 27.2]]))),
    Rule("years-differ", REFUSED, "every range by year, against the range it goes with",
         "a range with more or fewer years than the others (a fifth figure beside four years); the cell named is the "
         "first one beyond the others' years",
         "disposals: has 5 years, costs has 4",
         ("STP_CAPITAL_NET", ([[100.0, 200.0, 0.0, 0.0], [0.0, 0.0, 50.0, 50.0]],
                              [[0.0, 0.0, 0.0, -50.0, -2000.0], [0.0, 0.0, 0.0, 0.0, 0.0]]))),
    Rule("one-for-many", REFUSED, "`investment`, `capital_charges` (STP_SAVINGS)",
         "one figure (or one row of years) for several strands: one investment repeated for each strand is almost "
         "always a total typed in the wrong place",
         "investment: has 1 strand, gross has 2; expected a column of 2 (one per strand) or 2 rows of 2 years",
         ("STP_SAVINGS", ([[100.0, 200.0], [50.0, 50.0]], [[30.0, 30.0]]))),
    Rule("asset-life", REFUSED, "`life` (STP_CAPITAL_CHARGES)", "not a whole number of years from 1 to 200",
         "life: expected an asset life of one year or more, found 0 in scheme 2",
         ("STP_CAPITAL_CHARGES", ([[100.0, 0.0], [50.0, 50.0]], [[5.0], [0.0]]))),
    Rule("weights", REFUSED, "`profile` as weights (STP_PHASE)", "a negative weight, or weights adding up to zero",
         "profile: weight 2 is -0.2; expected weights of zero or more (e.g. 20%, 50%, 30%)",
         ("STP_PHASE", (100.0, [[0.5, -0.2, 0.7]]))),
    Rule("named-twice", REFUSED, "the names of `sources`", "two sources with the same name",
         "sources 'PF2': is named twice (rows 1 and 3); give each source its own name",
         ("STP_DH_REQUIREMENT", ([[10.0, 20.0]], [["PF2", -1.0, -1.0], ["LA", 0.0, -2.0], ["PF2", 0.0, -3.0]]))),
    # ---- warned --------------------------------------------------------------------------------
    Rule("negative-cost", WARNED, "`costs` (STP_CAPITAL_NET), `capex` (STP_CAPITAL_CHARGES), `gross`, `investment`, "
         "`capital_charges` (STP_SAVINGS), `non_recurrent`, `recurrent` (STP_STF), `baseline` (STP_DO_NOTHING)",
         "a negative figure where the help says the figures are positive (the first one named, with how many more)",
         "costs: (500) at row 2, column 3 is a negative cost; it reduces the capital requirement "
         "(proceeds from a sale go in disposals)",
         ("STP_CAPITAL_NET", ([[100.0, 200.0, 0.0], [0.0, 50.0, -500.0]], 0.0))),
    Rule("blank-between", WARNED, "rows of years: `costs`, `capex`, `gross`, `investment`, `capital_charges`, "
         "`savings`, `do_nothing`, `stf`, `programme`, `approved`, `internal`, `recurrent`, `cashflows`",
         "a blank cell with a non-zero figure on each side in a row of years (one year left out of a run): it counts "
         "as 0, which may be a figure not typed yet",
         "costs: the blank at row 1, column 2 is between figures and counts as 0; type 0 there if that is meant",
         ("STP_CAPITAL_NET", ([[1000.0, None, 2000.0], [0.0, 50.0, 0.0]], 0.0))),
    Rule("high-growth", WARNED, "`funding_growth`, `cost_growth` (STP_DO_NOTHING)",
         f"more than {GROWTH_WARNING:.0%} a year either way (and within the 100% that is refused)",
         "cost_growth: 0.35 is 35% a year; growth is usually a few per cent (3.5% is 0.035): check it",
         ("STP_DO_NOTHING", ([[1000.0]], 0.02, 0.35, 4.0))),
    Rule("high-rate", WARNED, "`pdc_rate` (STP_CAPITAL_CHARGES), `rate` (STP_NPV)",
         f"more than {RATE_WARNING:.0%} a year",
         "pdc_rate: 0.35 is 35% a year; the PDC dividend rate is 3.5% (0.035): check it",
         ("STP_CAPITAL_CHARGES", ([[100.0, 0.0, 0.0]], 5.0, 0.35))),
    Rule("weights-not-100", WARNED, "`profile` as weights (STP_PHASE)",
         "weights typed as percentages (each below 100%) that do not add up to 100%: they are scaled to 100%",
         "profile: the weights add up to 90%, not 100%; they are scaled to 100%",
         ("STP_PHASE", (100.0, [[0.3, 0.3, 0.3]]))),
    Rule("weights-percent-typed-whole", WARNED, "`profile` as weights (STP_PHASE)",
         "weights below 1 beside a whole number that would make them add up to 100% if it were a percentage",
         "profile: 50 in cell 2 of the row is a weight of 50 beside weights below 1; if it means 50%, type 50% or 0.5",
         ("STP_PHASE", (100.0, [[0.2, 50.0, 0.3]]))),
    Rule("beyond-horizon", WARNED, "`horizon` (STP_PHASE)",
         "start + years goes beyond the horizon: the spend of the later years is added to the last year",
         "horizon: 4 years end before the spend does (start 1 + 5 years = 6); the spend of the last 2 years goes into year 4",
         ("STP_PHASE", (1000.0, "straight", 5.0, 1.0, 4.0))),
)

BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


def table() -> str:
    """The rules as a Markdown table, refused first."""
    lines = ["| rule | applies to | when | result | message (example) |", "|---|---|---|---|---|"]
    for r in RULES:
        result = "refused: the cell shows `#STP! …`" if r.kind == REFUSED else "warned: result unchanged, listed in the report"
        lines.append(f"| `{r.id}` | {r.applies_to} | {r.when} | {result} | `{r.message}` |")
    return "\n".join(lines)


# ---- warning checks --------------------------------------------------------------------------

def _cells(value: Any) -> list[list[Any]] | None:
    """The argument as rows of cells, or None when it is not a range of cells."""
    if value is None:
        return None
    try:
        return cv.block(value, "")
    except STPError:
        return None


def _number(v: Any) -> float | None:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        return None
    x = float(v)
    return x if math.isfinite(x) else None


def _first(argument: str, rows: list[list[Any]], found: list[tuple[int, int, Any]], say) -> Iterator[STPError]:
    """One warning for the first of the cells ``found`` ((row, column, value), in order), naming
    it and counting the others: ``say(value, where)`` gives the sentence."""
    if found:
        i, j, x = found[0]
        more = "" if len(found) <= 1 else f" ({len(found) - 1} more like it in the range)"
        yield STPError(argument, say(x, cv.where(rows, i, j)) + more, at=(i, j))


@dataclass(frozen=True)
class NegativeFigures:
    """Rule ``negative-cost``: the first negative figure of ``argument`` (and how many more)."""

    argument: str
    noun: str
    effect: str
    rule: ClassVar[str] = "negative-cost"

    def __call__(self, values: Mapping[str, Any]) -> Iterator[STPError]:
        rows = _cells(values.get(self.argument))
        if rows is None:
            return
        found = [(i, j, x) for i, r in enumerate(rows) for j, v in enumerate(r) if (x := _number(v)) is not None and x < 0]
        yield from _first(self.argument, rows, found, lambda x, where: f"{figure(x)}{where} is a negative {self.noun}; {self.effect}")


@dataclass(frozen=True)
class BlankBetween:
    """Rule ``blank-between``: a blank cell of a row of years with a non-zero figure on each side
    (a year left out of a run; a pause of two years or more is taken as phasing)."""

    argument: str
    rule: ClassVar[str] = "blank-between"

    def __call__(self, values: Mapping[str, Any]) -> Iterator[STPError]:
        rows = _cells(values.get(self.argument))
        if rows is None or len(rows[0]) < 3:
            return
        found = [(i, j, None) for i, r in enumerate(rows) for j in range(1, len(r) - 1)
                 if r[j] is None and _number(r[j - 1]) and _number(r[j + 1])]
        yield from _first(self.argument, rows, found,
                          lambda _x, where: f"the blank{where} is between figures and counts as 0; type 0 there if that is meant")


@dataclass(frozen=True)
class HighRate:
    """Rules ``high-growth`` and ``high-rate``: a rate a year above ``above`` (either way, with
    ``both_ways``) that is not refused outright."""

    argument: str
    above: float
    advice: str
    both_ways: bool = False
    rule: ClassVar[str] = "high-rate"

    def __call__(self, values: Mapping[str, Any]) -> Iterator[STPError]:
        rows = _cells(values.get(self.argument))
        if rows is None:
            return
        found = [(i, j, x) for i, r in enumerate(rows) for j, v in enumerate(r) if (x := _number(v)) is not None
                 and (self.above < x <= 1 or (self.both_ways and -1 < x < -self.above))]
        yield from _first(self.argument, rows, found, lambda x, where: f"{x:g}{where} is {as_percent(x)} a year; {self.advice}")


@dataclass(frozen=True)
class Weights:
    """Rules ``weights-not-100`` and ``weights-percent-typed-whole`` on a row of weights."""

    argument: str = "profile"
    rule: ClassVar[str] = "weights"

    def __call__(self, values: Mapping[str, Any]) -> Iterator[STPError]:
        rows = _cells(values.get(self.argument))
        if rows is None or len(rows) * len(rows[0]) < 2:
            return
        cells = [(i, j, v) for i, r in enumerate(rows) for j, v in enumerate(r)]
        weights = [(i, j, 0.0 if v is None else _number(v)) for i, j, v in cells]
        if any(w is None or w < 0 for _, _, w in weights):
            return  # text (a profile name) or refused weights
        total = sum(w for _, _, w in weights)
        if total > 0 and all(w < 1 for _, _, w in weights) and abs(total - 1) > 1e-9:
            yield STPError(self.argument, f"the weights add up to {as_percent(round(total, 10))}, not 100%; they are scaled to 100%")
            return
        whole = [(i, j, w) for i, j, w in weights if w >= 1]
        if whole and any(0 < w < 1 for _, _, w in weights):
            as_typed = sum(w / 100 if w >= 1 else w for _, _, w in weights)
            if abs(as_typed - 1) < 1e-6:
                i, j, w = whole[0]
                yield STPError(self.argument, f"{w:g}{cv.where(rows, i, j)} is a weight of {w:g} beside weights below 1; "
                                              f"if it means {w:g}%, type {w:g}% or {w / 100:g}", at=(i, j))


@dataclass(frozen=True)
class BeyondHorizon:
    """Rule ``beyond-horizon`` (STP_PHASE): start + years beyond the horizon."""

    rule: ClassVar[str] = "beyond-horizon"

    def __call__(self, values: Mapping[str, Any]) -> Iterator[STPError]:
        if values.get("horizon") is None:
            return
        try:
            horizon = cv.whole(values["horizon"], "horizon", minimum=1)
            start = cv.whole(values.get("start"), "start", default=0, minimum=0)
            if values.get("years") is not None:
                years = cv.whole(values["years"], "years", minimum=1)
            else:
                rows = cv.block(values.get("profile"), "profile")
                years = len(rows) * len(rows[0])
        except STPError:
            return
        if start + years > horizon:
            late = min(start + years - horizon, years)
            yield STPError("horizon", f"{horizon} years end before the spend does (start {start} + {years} years = "
                                      f"{start + years}); the spend of the last {late} years goes into year {horizon}",
                           at=(0, 0))


def main() -> int:
    sys.stdout.write(table() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

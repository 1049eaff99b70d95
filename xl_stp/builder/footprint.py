"""A footprint's plan as the template holds it: the inputs, by key, and the figures the core works
out from them.

The template (``workbooks/stp_template.xlsx``) has room for :data:`PROGRAMMES` capital programmes of
:data:`SCHEMES` schemes each, :data:`WATERFALLS` funding waterfalls that share :data:`SOURCES`
named funding sources (besides approved to date, internally funded and disposal proceeds),
:data:`STF_LINES` lines of STF investment, :data:`SECTORS` 'do nothing' sectors, :data:`STRANDS`
savings strands fed by :data:`SAVINGS_LINES` savings lines, over :data:`PLAN_YEARS` plan years
(plus a base year and prior years in the funding waterfalls). A :class:`Footprint` maps an input
key (:func:`key`) to an :class:`Entry`: a value as typed, and where it comes from. Blank entries
are simply absent.

:func:`quantities` is the plan worked out with the core (capital net of disposals, the waterfalls
with the capital programme linked in £m, STF, savings by strand and the gap bridge for every plan
year), by the same keys as the workbook's Calculations sheet: the tests compare every calculated
cell with it.

Sign convention: costs and requirements positive; disposals and funding sources negative (in
brackets), as typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..core.capital import capital_net
from ..core.funding import funding_waterfall
from ..core.gap import gap_bridge
from ..core.savings import net_savings
from ..core.stf import stf_totals

PLAN_YEARS = 4
PROGRAMMES, SCHEMES = 8, 15
WATERFALLS, SOURCES = 3, 5
STF_LINES = 20
SECTORS, STRANDS, SAVINGS_LINES = 3, 8, 16

#: The columns of a funding waterfall: prior years, the base year, then each plan year.
FUNDING_COLUMNS: tuple[Any, ...] = ("prior", "base", *range(PLAN_YEARS))
#: The rows of a funding waterfall on Inputs (a source is its number 1..SOURCES).
WATERFALL_ROWS: tuple[Any, ...] = ("programme", "approved", "internal", "external", "disposals",
                                   *range(1, SOURCES + 1), "dh")
#: The rows STP_FUNDING_SPLIT spills, as keys (sources by number) and as the table labels them.
SPLIT_ROWS: tuple[Any, ...] = ("programme", "approved", "internal", "external", "disposals",
                               *range(1, SOURCES + 1), "dh")
#: The columns STP_CAPITAL_NET spills for a programme: each plan year, Disposals, Total.
CAPITAL_COLUMNS: tuple[Any, ...] = (*range(PLAN_YEARS), "disposals", "total")
#: The steps of the gap bridge STP_GAP spills: 'do nothing', each strand, investment, STF, residual.
BRIDGE_STEPS: tuple[Any, ...] = ("do nothing", *(("strand", k) for k in range(1, STRANDS + 1)), "investment", "stf",
                                 "residual")

Key = tuple


def key(*parts: Any) -> Key:
    """An input's key: ``key("scheme", 1, 3, 0)`` is scheme 3 of programme 1, first plan year."""
    return tuple(parts)


@dataclass(frozen=True)
class Entry:
    """An input as typed (a number, or text: a name, or a figure typed as text by mistake) and
    where it comes from (``source``; ``figure``: the transcribed figure it holds, if any)."""

    value: Any
    source: str = ""
    figure: tuple | None = None


#: Settings the template comes with (a user changes them to suit the plan).
DEFAULTS: dict[Key, Entry] = {
    key("plan", "first year"): Entry("2017/18", "the first year of the plan (the base year is the year before)"),
    key("plan", "unit £000"): Entry(1.0, "tables in £000 print whole thousands"),
    key("plan", "unit £m"): Entry(0.1, "tables in £m print one decimal"),
}


@dataclass(frozen=True)
class Footprint:
    """A plan's inputs by key (see the module's doc); absent keys are blank cells."""

    entries: Mapping[Key, Entry] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> "Footprint":
        """The template: nothing but the settings."""
        return cls(dict(DEFAULTS))

    def get(self, k: Key) -> Any:
        e = self.entries.get(k)
        return None if e is None else e.value

    def number(self, k: Key) -> float:
        """A figure as the functions read it: a blank is 0 (text is not expected here)."""
        v = self.get(k)
        return 0.0 if v is None or isinstance(v, str) else float(v)

    def block(self, rows: Iterable[Any], columns: Iterable[Any], make) -> list[list[float]]:
        """Rows x columns of figures (``make(row, column)`` gives each key), a blank as 0."""
        cols = list(columns)
        return [[self.number(make(r, c)) for c in cols] for r in rows]

    def name(self, k: Key) -> str:
        v = self.get(k)
        return "" if v is None else str(v)


# ---- the plan worked out with the core -----------------------------------------------------------

def quantities(fp: Footprint) -> dict[str, float]:
    """Every figure the Calculations sheet works out, by its key (see each part below)."""
    q: dict[str, float] = {}
    _capital(fp, q)
    _waterfalls(fp, q)
    _stf(fp, q)
    _savings_and_gap(fp, q)
    return q


def _capital(fp: Footprint, q: dict[str, float]) -> None:
    """``capital|p|s|c`` (s a scheme number or TOTAL; c a plan year, disposals or total) and
    ``capital|p|cost``, £000."""
    for p in range(1, PROGRAMMES + 1):
        schemes = range(1, SCHEMES + 1)
        costs = fp.block(schemes, range(PLAN_YEARS), lambda s, y: key("scheme", p, s, y))
        disposals = [row[0] for row in fp.block(schemes, ["disposals"], lambda s, c: key("scheme", p, s, c))]
        body = capital_net(costs, disposals).table()
        for i, s in enumerate([*schemes, "TOTAL"]):
            for j, c in enumerate(CAPITAL_COLUMNS):
                q[f"capital|{p}|{s}|{c}"] = float(body[i, j])
        q[f"capital|{p}|cost"] = float(body[-1, :PLAN_YEARS].sum())


def members(fp: Footprint, w: int) -> list[int]:
    """The programmes funded through waterfall ``w`` (its name in their 'Funded through', any case)."""
    name = fp.name(key("waterfall", w, "name")).lower()
    return [p for p in range(1, PROGRAMMES + 1) if name and fp.name(key("programme", p, "waterfall")).lower() == name]


def linked_programme(fp: Footprint, q: dict[str, float], w: int) -> list[float]:
    """Waterfall ``w``'s capital programme (£m) by funding column: spend before the plan as typed,
    then the cost by plan year of the programmes funded through it (£000 / 1000)."""
    before = [fp.number(key("waterfall", w, "programme", c)) for c in ("prior", "base")]
    plan = [sum(q[f"capital|{p}|TOTAL|{y}"] for p in members(fp, w)) / 1000 for y in range(PLAN_YEARS)]
    return before + plan


def _waterfalls(fp: Footprint, q: dict[str, float]) -> None:
    """``programme|w|c`` (the linked programme, and its programmes' ``disposals``) and ``funding|w|row|c`` (rows of
    :data:`SPLIT_ROWS`, columns of :data:`FUNDING_COLUMNS` and total), £m."""
    for w in range(1, WATERFALLS + 1):
        programme = linked_programme(fp, q, w)
        row = lambda r: fp.block([r], FUNDING_COLUMNS, lambda rr, c: key("waterfall", w, rr, c))[0]  # noqa: E731
        sources = [row("disposals"), *(row(k) for k in range(1, SOURCES + 1))]
        wf = funding_waterfall(programme, sources, approved=row("approved"), internal=row("internal"))
        table = [wf.by_year(v) for _, v in wf.rows()]
        for c, v in zip(FUNDING_COLUMNS, programme):
            q[f"programme|{w}|{c}"] = float(v)
        q[f"programme|{w}|total"] = float(sum(programme))
        q[f"programme|{w}|disposals"] = sum(q[f"capital|{p}|TOTAL|disposals"] for p in members(fp, w)) / 1000
        for r, values in zip(SPLIT_ROWS, table):
            for c, v in zip(FUNDING_COLUMNS, values):
                q[f"funding|{w}|{r}|{c}"] = float(v)
            q[f"funding|{w}|{r}|total"] = float(values.sum())


def _stf(fp: Footprint, q: dict[str, float]) -> None:
    """``stf|kind|y`` for kind nr, r, total and each plan year (and total), £000."""
    lines = range(1, STF_LINES + 1)
    t = stf_totals(fp.block(lines, range(PLAN_YEARS), lambda l, y: key("stf", l, "nr", y)),
                   fp.block(lines, range(PLAN_YEARS), lambda l, y: key("stf", l, "r", y)))
    for kind, values in (("nr", t.non_recurrent), ("r", t.recurrent), ("total", t.total)):
        for y, v in enumerate(values):
            q[f"stf|{kind}|{y}"] = float(v)
        q[f"stf|{kind}|total"] = float(values.sum())


def strand_gross(fp: Footprint) -> list[list[float]]:
    """Gross savings by strand and plan year (£m): the savings lines of each strand added up (a
    line whose strand is not one of the strands counts for none)."""
    out = [[0.0] * PLAN_YEARS for _ in range(STRANDS)]
    for k in range(1, STRANDS + 1):
        name = fp.name(key("strand", k, "name")).lower()
        for line in range(1, SAVINGS_LINES + 1):
            if name and fp.name(key("line", line, "strand")).lower() == name:
                out[k - 1] = [a + fp.number(key("line", line, y)) for a, y in zip(out[k - 1], range(PLAN_YEARS))]
    return out


def _savings_and_gap(fp: Footprint, q: dict[str, float]) -> None:
    """``gross|k|y`` and ``savings|k|y`` (net, with ``total``) by strand, ``savings|all|y``,
    ``bridge|step|y``, £m."""
    gross = strand_gross(fp)
    charges = fp.block(range(1, STRANDS + 1), range(PLAN_YEARS), lambda k, y: key("strand", k, "charges", y))
    net = net_savings(gross, capital_charges=charges).net
    for k in range(1, STRANDS + 1):
        for y in range(PLAN_YEARS):
            q[f"gross|{k}|{y}"] = float(gross[k - 1][y])
            q[f"savings|{k}|{y}"] = float(net[k - 1, y])
        q[f"savings|{k}|total"] = float(net[k - 1].sum())
    for y in range(PLAN_YEARS):
        q[f"savings|all|{y}"] = float(net[:, y].sum())
    years = range(PLAN_YEARS)
    bridge = gap_bridge(fp.block(range(1, SECTORS + 1), years, lambda s, y: key("sector", s, y)), net,
                        investment=fp.block(["investment"], years, lambda r, y: key("gap", r, y)),
                        stf=fp.block(["stf"], years, lambda r, y: key("gap", r, y)))
    labels, table = bridge.table()
    for step, values in zip(BRIDGE_STEPS, table):
        for y, v in enumerate(values[:PLAN_YEARS]):
            q[f"bridge|{step_key(step)}|{y}"] = float(v)


def step_key(step: Any) -> str:
    """A bridge step as a key part: ``do nothing``, ``strand 3``, ``investment``, ``stf``, ``residual``."""
    return f"strand {step[1]}" if isinstance(step, tuple) else step

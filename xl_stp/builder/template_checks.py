"""The checks every plan gets (the template's Checks sheet): each total the plan states against its
line items, in groups, as :class:`~xl_stp.builder.checks.CheckSpec` rows.

- Capital programmes (£000): each scheme's total, each column's total and the totals row, the
  summary's cost, disposal proceeds and net requirement.
- Funding waterfalls (£m): each row's total; the programme of each plan year against the capital
  programmes funded through it (£000); the external and DH requirements of each column; the
  disposal proceeds against the programmes' disposals.
- Summary of total requirement (£m): each waterfall's external requirement, alternative funding
  and DH requirement, and the total DH capital requirement.
- STF investment (£000): the totals rows; the STF requested (£m) against the table.
- Savings and gap (£m): each strand's net savings in the final plan year, all strands, every
  savings line allocated to a strand, the 'do nothing' and residual gaps of each plan year.
- Totals the plan states: the total capital of the programmes (£m) against the tables (£000).

Each check's tolerance rests on the figures typed behind it (:class:`~xl_stp.builder.checks.Items`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from .arithmetic import Named, Ref
from .book import Book, is_number
from .checks import CheckSpec, Items
from .footprint import (
    FUNDING_COLUMNS,
    PLAN_YEARS,
    PROGRAMMES,
    SAVINGS_LINES,
    SCHEMES,
    SECTORS,
    SOURCES,
    STF_LINES,
    STRANDS,
    WATERFALLS,
    key,
)
from .inputs import Cells


@dataclass(frozen=True)
class Ctx:
    book: Book
    inputs: Cells
    calc: dict[str, str]

    def inp(self, *k: Any) -> str:
        return self.inputs[key(*k)]

    def rng(self, first: tuple, last: tuple) -> str:
        return f"{self.inputs[first]}:{self.inputs[last].split('!')[1]}"

    def count(self, ranges: Sequence[str], units: str) -> Items:
        """``COUNT`` of Inputs ranges: the figures typed there."""
        n = 0
        for r in ranges:
            v = self.book.excel_value(r)
            values = [x for line in v for x in line] if isinstance(v, list) else [v]
            n += sum(1 for x in values if is_number(x))
        return Items(f"COUNT({','.join(ranges)})", float(n), units)

    def counted(self, cell: str, units: str) -> Items:
        """A count worked out on Calculations (figures behind a linked programme)."""
        v = self.book.excel_value(cell)
        return Items(cell, float(v) if is_number(v) else 0.0, units)

    def year(self, y: Any) -> Ref:
        return Ref(self.inp("year", y))


GROUPS = ("Capital programmes", "Funding waterfalls", "Summary of total requirement", "STF investment",
          "Savings and gap", "Totals the plan states", "The tables add up")


def template_checks(ctx: Ctx) -> list[tuple[str, list[CheckSpec]]]:
    """The checks of every plan, by group."""
    return [(GROUPS[0], [c for p in range(1, PROGRAMMES + 1) for c in capital_checks(ctx, p)]),
            (GROUPS[1], [c for w in range(1, WATERFALLS + 1) for c in waterfall_checks(ctx, w)]),
            (GROUPS[2], list(requirement_checks(ctx))),
            (GROUPS[3], list(stf_checks(ctx))),
            (GROUPS[4], list(savings_checks(ctx)) + list(gap_checks(ctx))),
            (GROUPS[5], list(stated_checks(ctx))),
            (GROUPS[6], list(arithmetic_checks(ctx)))]


def capital_checks(ctx: Ctx, p: int) -> Iterator[CheckSpec]:
    """A capital programme (£000): each scheme's total, each column's total, the totals row and
    the summary."""
    section = [Named(ctx.inp("programme", p, "name"), f"Capital programme {p}")]
    calc = lambda *parts: ((ctx.calc["|".join(["capital", str(p), *map(str, parts)])], 1.0),)  # noqa: E731
    stated = lambda field_: ctx.inp("programme", p, "stated", field_)  # noqa: E731
    for sc in range(1, SCHEMES + 1):
        row = ctx.rng(key("scheme", p, sc, 0), key("scheme", p, sc, "disposals"))
        yield CheckSpec(section, [Named(ctx.inp("scheme", p, sc, "name"), f"Scheme {sc}"),
                                  ": total = cost by year less disposals"],
                        ctx.inp("scheme", p, sc, "total"), calc(sc, "total"), "£000", (ctx.count([row], "£000"),))
    column = lambda c: ctx.rng(key("scheme", p, 1, c), key("scheme", p, SCHEMES, c))  # noqa: E731
    for y in range(PLAN_YEARS):
        yield CheckSpec(section, [ctx.year(y), ": column total = sum of schemes"], stated(y), calc("TOTAL", y), "£000",
                        (ctx.count([column(y)], "£000"),))
    everything = ctx.rng(key("scheme", p, 1, 0), key("scheme", p, SCHEMES, "disposals"))
    costs = ctx.rng(key("scheme", p, 1, 0), key("scheme", p, SCHEMES, PLAN_YEARS - 1))
    rows = (("disposals", "Disposals: column total = sum of schemes", calc("TOTAL", "disposals"), column("disposals")),
            ("total", "Total net requirement = sum of schemes", calc("TOTAL", "total"), everything),
            ("cost", "Summary: total capital cost = sum of scheme costs", calc("cost"), costs),
            ("summary disposals", "Summary: disposal proceeds = sum of schemes", calc("TOTAL", "disposals"),
             column("disposals")),
            ("net", "Summary: net capital requirement = cost less disposals", calc("TOTAL", "total"), everything))
    for field_, words, computed, behind in rows:
        yield CheckSpec(section, words, stated(field_), computed, "£000", (ctx.count([behind], "£000"),))


def programme_items(ctx: Ctx, w: int, col: Any) -> list[Items]:
    """The figures behind waterfall ``w``'s programme in a column: spend before the plan, and each
    scheme of its programmes, counted at half a £m unit each (a £m summary prints each scheme
    rounded and adds them up); all of them for the total."""
    if col == "total":
        return [i for c in FUNDING_COLUMNS for i in programme_items(ctx, w, c)]
    if col in ("prior", "base"):
        return [ctx.count([ctx.inp("waterfall", w, "programme", col)], "£m")]
    return [ctx.counted(ctx.calc[f"programme entered|{w}|{col}"], "£m")]


def waterfall_checks(ctx: Ctx, w: int) -> Iterator[CheckSpec]:
    """A funding waterfall (£m): row totals, the programme against the capital programmes, the two
    requirements of each column, disposal proceeds against the programmes' disposals."""
    name = Named(ctx.inp("waterfall", w, "name"), f"Waterfall {w}")
    section = [name, " funding (£m)"]
    row = lambda r: ctx.rng(key("waterfall", w, r, "prior"), key("waterfall", w, r, PLAN_YEARS - 1))  # noqa: E731
    labels = {"approved": "Approved to date", "internal": "Internally funded", "disposals": "Disposal proceeds"}
    for r in ("approved", "internal", "disposals", *range(1, SOURCES + 1)):
        words = [Named(ctx.inp("source", r), f"Funding source {r}")] if isinstance(r, int) else [labels[r]]
        yield CheckSpec(section, [*words, ": total = sum of years"], ctx.inp("waterfall", w, r, "total"),
                        ((ctx.calc[f"funding|{w}|{r}|total"], 1.0),), "£m", (ctx.count([row(r)], "£m"),))
    for col in (*range(PLAN_YEARS), "total"):
        words = [ctx.year(col), ": programme = capital programmes funded through it (£000)"] if col != "total" else \
            ["Total: programme = spend before the plan + capital programmes funded through it"]
        yield CheckSpec(section, words, ctx.inp("waterfall", w, "programme", col), ((ctx.calc[f"programme|{w}|{col}"], 1.0),),
                        "£m", tuple(programme_items(ctx, w, col)))
    for col in (*FUNDING_COLUMNS, "total"):
        yield from requirement_pair(ctx, w, col, section)
    yield CheckSpec(section, "Disposal proceeds = disposals of the programmes funded through it (£000)",
                    ctx.inp("waterfall", w, "disposals", "total"), ((ctx.calc[f"programme|{w}|disposals"], 1.0),), "£m",
                    (ctx.counted(ctx.calc[f"programme entered|{w}|disposals"], "£m"),))


def _column_items(ctx: Ctx, w: int, rows: Sequence[Any], col: Any) -> Items:
    if col == "total":
        return ctx.count([ctx.rng(key("waterfall", w, rows[0], "prior"), key("waterfall", w, rows[-1], PLAN_YEARS - 1))], "£m")
    return ctx.count([ctx.rng(key("waterfall", w, rows[0], col), key("waterfall", w, rows[-1], col))], "£m")


def external_items(ctx: Ctx, w: int, col: Any) -> list[Items]:
    return [*programme_items(ctx, w, col), _column_items(ctx, w, ["approved", "internal"], col)]


def dh_items(ctx: Ctx, w: int, col: Any) -> list[Items]:
    return [*external_items(ctx, w, col), _column_items(ctx, w, ["disposals", SOURCES], col)]


def requirement_pair(ctx: Ctx, w: int, col: Any, section: Sequence[str]) -> Iterator[CheckSpec]:
    """A column's external requirement (programme less approved and internal) and DH requirement
    (less every source)."""
    heading = "Total" if col == "total" else "Prior years" if col == "prior" else ctx.year(col)
    yield CheckSpec(section, [heading, ": external requirement = programme less approved to date and internally funded"],
                    ctx.inp("waterfall", w, "external", col), ((ctx.calc[f"funding|{w}|external|{col}"], 1.0),), "£m",
                    tuple(external_items(ctx, w, col)))
    yield CheckSpec(section, [heading, ": DH requirement = external requirement less disposals and funding sources"],
                    ctx.inp("waterfall", w, "dh", col), ((ctx.calc[f"funding|{w}|dh|{col}"], 1.0),), "£m",
                    tuple(dh_items(ctx, w, col)))


def requirement_checks(ctx: Ctx) -> Iterator[CheckSpec]:
    """The summary of total requirement (£m) against the waterfalls."""
    section = "Summary of total requirement (£m)"
    everything = []
    for w in range(1, WATERFALLS + 1):
        name = Named(ctx.inp("waterfall", w, "name"), f"Waterfall {w}")
        sources = tuple((ctx.calc[f"funding|{w}|{r}|total"], 1.0) for r in ("disposals", *range(1, SOURCES + 1)))
        yield CheckSpec(section, [name, ": external funding requirement = the waterfall's"], ctx.inp("requirement", w, "external"),
                        ((ctx.calc[f"funding|{w}|external|total"], 1.0),), "£m", tuple(external_items(ctx, w, "total")))
        yield CheckSpec(section, [name, ": alternative funding = disposals and funding sources"],
                        ctx.inp("requirement", w, "alternative"), sources, "£m",
                        (_column_items(ctx, w, ["disposals", SOURCES], "total"),))
        yield CheckSpec(section, [name, ": DH funding requirement = the waterfall's"], ctx.inp("requirement", w, "dh"),
                        ((ctx.calc[f"funding|{w}|dh|total"], 1.0),), "£m", tuple(dh_items(ctx, w, "total")))
        everything += dh_items(ctx, w, "total")
    dh = tuple((ctx.calc[f"funding|{w}|dh|total"], 1.0) for w in range(1, WATERFALLS + 1))
    yield CheckSpec(section, ["Total ", Ref(ctx.book.names["footprint"]), " DH capital requirement = the waterfalls' DH requirements"],
                    ctx.inp("requirement", "total"), dh, "£m", tuple(everything))


def stf_checks(ctx: Ctx) -> Iterator[CheckSpec]:
    """STF investment (£000): the totals rows by plan year; the STF requested (£m) against the table."""
    section = "STF investment (£000)"
    column = lambda kind, y: ctx.rng(key("stf", 1, kind, y), key("stf", STF_LINES, kind, y))  # noqa: E731
    for y in range(PLAN_YEARS):
        for kind, words in (("nr", " non-recurrent: total = sum of lines"), ("r", " recurrent: total = sum of lines")):
            yield CheckSpec(section, [ctx.year(y), words], ctx.inp("stf stated", kind, y), ((ctx.calc[f"stf|{kind}|{y}"], 1.0),),
                            "£000", (ctx.count([column(kind, y)], "£000"),))
        yield CheckSpec(section, [ctx.year(y), ": non-recurrent + recurrent = sum of lines"], ctx.inp("stf stated", "total", y),
                        ((ctx.calc[f"stf|total|{y}"], 1.0),), "£000", (ctx.count([column("nr", y), column("r", y)], "£000"),))
    everything = ctx.rng(key("stf", 1, "nr", 0), key("stf", STF_LINES, "r", PLAN_YEARS - 1))
    yield CheckSpec(section, "STF requested over the plan (£m) = the investment table (£000)", ctx.inp("stated", "stf requested"),
                    ((ctx.calc["stf|total|total"], 0.001),), "own", (ctx.count([everything], "£000 in £m"),),
                    ctx.inp("stated", "stf requested", "unit"))


def strand_items(ctx: Ctx, k: int, y: int) -> Items:
    """The savings lines of strand ``k`` and its capital charge in plan year ``y``."""
    names = ctx.rng(key("line", 1, "strand"), key("line", SAVINGS_LINES, "strand"))
    name_cell, charge = ctx.inp("strand", k, "name"), ctx.inp("strand", k, "charges", y)
    name = ctx.book.excel_value(name_cell)
    lines = ctx.book.excel_value(names)
    n = sum(1 for (v,) in lines if isinstance(v, str) and isinstance(name, str) and v.lower() == name.lower())
    n += 1 if is_number(ctx.book.excel_value(charge)) else 0
    return Items(f"(COUNTIF({names},{name_cell})+COUNT({charge}))", float(n), "£m")


def savings_checks(ctx: Ctx) -> Iterator[CheckSpec]:
    """Each strand's net savings in the final plan year as stated, all strands, and every savings
    line allocated to a strand."""
    section = "Savings and gap (£m)"
    final = PLAN_YEARS - 1
    for k in range(1, STRANDS + 1):
        yield CheckSpec(section, [Named(ctx.inp("strand", k, "name"), f"Strand {k}"), ": net savings ", ctx.year(final),
                                  " = gross less capital charges"], ctx.inp("strand", k, "stated"),
                        ((ctx.calc[f"savings|{k}|{final}"], 1.0),), "£m", (strand_items(ctx, k, final),))
    lines = ctx.rng(key("line", 1, final), key("line", SAVINGS_LINES, final))
    charges = ctx.rng(key("strand", 1, "charges", final), key("strand", STRANDS, "charges", final))
    yield CheckSpec(section, ["Total net savings ", ctx.year(final), " = all strands"], ctx.inp("stated", "savings"),
                    ((ctx.calc[f"savings|all|{final}"], 1.0),), "own", (ctx.count([lines, charges], "£m"),),
                    ctx.inp("stated", "savings", "unit"))
    for y in range(PLAN_YEARS):
        yield CheckSpec(section, [ctx.year(y), ": every savings line belongs to a strand (lines = strands' gross)"],
                        ctx.calc[f"lines|{y}"], ((ctx.calc[f"allocated|{y}"], 1.0),), "£m")


def gap_checks(ctx: Ctx) -> Iterator[CheckSpec]:
    """The 'do nothing' and residual gaps of each plan year as stated."""
    section = "Savings and gap (£m)"
    for y in range(PLAN_YEARS):
        sectors = ctx.rng(key("sector", 1, y), key("sector", SECTORS, y))
        yield CheckSpec(section, [ctx.year(y), ": 'do nothing' gap = sum of sectors"], ctx.inp("gap", "do nothing stated", y),
                        ((ctx.calc[f"bridge|do nothing|{y}"], 1.0),), "£m", (ctx.count([sectors], "£m"),))
        behind = [sectors, ctx.rng(key("line", 1, y), key("line", SAVINGS_LINES, y)),
                  ctx.rng(key("strand", 1, "charges", y), key("strand", STRANDS, "charges", y)),
                  ctx.inp("gap", "investment", y), ctx.inp("gap", "stf", y)]
        yield CheckSpec(section, [ctx.year(y), ": residual gap = 'do nothing' gap less savings, plus investment, less STF"],
                        ctx.inp("gap", "residual stated", y), ((ctx.calc[f"bridge|residual|{y}"], 1.0),), "£m",
                        (ctx.count(behind, "£m"),))


def stated_checks(ctx: Ctx) -> Iterator[CheckSpec]:
    """Totals the plan states: the total capital of the programmes (£m) against the tables (£000)."""
    costs = [ctx.rng(key("scheme", p, 1, 0), key("scheme", p, SCHEMES, PLAN_YEARS - 1)) for p in range(1, PROGRAMMES + 1)]
    yield CheckSpec("Totals the plan states (£m)", "Total capital of the programmes = the capital programmes (£000)",
                    ctx.inp("stated", "capital"), tuple((ctx.calc[f"capital|{p}|cost"], 0.001) for p in range(1, PROGRAMMES + 1)),
                    "own", (ctx.count(costs, "£000 in £m"),), ctx.inp("stated", "capital", "unit"))


def arithmetic_checks(ctx: Ctx) -> Iterator[CheckSpec]:
    """The tables add up, whatever the plan states (no rounding allowed): each programme's net
    requirement is its cost less its disposals; each waterfall's sources and DH requirement make
    up its external requirement; each year's residual gap is the sum of the bridge's steps."""
    section = "The tables add up"
    for p in range(1, PROGRAMMES + 1):
        name = Named(ctx.inp("programme", p, "name"), f"Capital programme {p}")
        yield CheckSpec(section, [name, ": net requirement = cost less disposals"], ctx.calc[f"capital|{p}|TOTAL|total"],
                        ((ctx.calc[f"capital|{p}|cost"], 1.0), (ctx.calc[f"capital|{p}|TOTAL|disposals"], 1.0)), "exact")
    for w in range(1, WATERFALLS + 1):
        name = Named(ctx.inp("waterfall", w, "name"), f"Waterfall {w}")
        sources = [(ctx.calc[f"funding|{w}|{r}|total"], -1.0) for r in ("disposals", *range(1, SOURCES + 1))]
        yield CheckSpec(section, [name, ": disposals, funding sources and DH requirement = external requirement"],
                        ctx.calc[f"funding|{w}|external|total"], ((ctx.calc[f"funding|{w}|dh|total"], 1.0), *sources), "exact")
    steps = ("do nothing", *(f"strand {k}" for k in range(1, STRANDS + 1)), "investment", "stf")
    for y in range(PLAN_YEARS):
        yield CheckSpec(section, [ctx.year(y), ": residual gap = the steps of the bridge"], ctx.calc[f"bridge|residual|{y}"],
                        tuple((ctx.calc[f"bridge|{step}|{y}"], 1.0) for step in steps), "exact")

"""What only the LLR workbook has: the acute reconfiguration's return (``=STP_ROI``) on
Calculations, and the checks that only make sense for LLR — the community summary's scheme rows
against the capital tables, figures the text repeats (the UHL DH requirement in two tables, strand
2's net saving in its heading and its text, the 2016/17 spend on the plan on a page and in the
finance section), the text's own sums (net gap and net saving after STF, the capital requirement),
the acute ROI and organisational growth. Their tolerances are worked out the same way as the
template's, from the units the figures are rounded to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..llr.figures import (
    CAPITAL_TABLES,
    COMMUNITY_FUNDING_COLUMNS,
    COMMUNITY_SCHEMES,
    STRAND_2,
    YEARS,
    Figures,
    item_rows,
)
from .book import excel_arithmetic
from .calculations import Calc
from .checks import CheckSpec, Items
from .footprint import PLAN_YEARS, SAVINGS_LINES, SCHEMES, SECTORS, STF_LINES, key
from .llr_inputs import placed
from .template_checks import Ctx, external_items, strand_items

FINAL = PLAN_YEARS - 1
GROUP = "LLR: figures the plan repeats or works out in its text"


def llr_calculations(c: Calc) -> None:
    """The acute reconfiguration's return on its net capital requirement: =STP_ROI."""
    s = c.sheet
    c.heading("LLR: acute reconfiguration appraisal", ["Value"])
    s.label(c.row, 0, "Annual gross saving (£000)")
    saving = c.inputs[("figure", "narrative", "Acute reconfiguration gross saving", "a year")]
    s.formula(c.row, 1, f"={saving}*1000", excel_arithmetic([(c.book.excel_value(saving), 1000.0)]), "£000")
    saving_cell = s.ref(c.row, 1)
    c.row += 1
    s.label(c.row, 0, "ROI on the net capital requirement: =STP_ROI(saving, cost, disposals, \"net\")")
    s.udf(c.row, 1, "STP_ROI", [saving_cell, c.cells["capital|1|cost"], c.cells["capital|1|TOTAL|disposals"], '"net"'],
          "ratio", check=("err_acute_roi", "Acute reconfiguration ROI: STP_ROI", (1, 1)))
    c.cells["appraisal|acute|roi"] = s.ref(c.row, 1)
    c.row += 2


@dataclass(frozen=True)
class LLRCtx(Ctx):
    """The template's context, with LLR's figures found wherever they were typed."""

    figures: Figures = None  # type: ignore[assignment]

    def figure(self, table: str, row: str, column: str) -> str:
        where = placed(self.figures).get((table, row, column))
        return self.inputs[where] if where is not None else self.inputs[("figure", table, row, column)]

    def unit(self, table: str, row: str, column: str) -> str:
        """How a figure's rounding unit is found: its table's setting, or worked out from it."""
        units = self.figures.record(table, row, column)["units"]
        if units in ("£000", "£m") and table not in ("narrative", "strand_savings"):
            return units
        return "derived:" + self.figure(table, row, column)

    def one(self, table: str, row: str, column: str) -> Items:
        return Items("1", 1.0, self.unit(table, row, column))


def llr_checks(ctx: LLRCtx) -> list[CheckSpec]:
    return [*community_summary_checks(ctx), *repeated_figure_checks(ctx), *text_sum_checks(ctx), *org_growth_checks(ctx)]


def _capital_cell(ctx: LLRCtx, table: str, row: str, col: str) -> tuple[str, str]:
    """The Calculations cell of a capital table's scheme in a plan year, and the Inputs cell."""
    p = list(CAPITAL_TABLES).index(table) + 1
    s = item_rows(ctx.figures, table).index(row) + 1
    y = YEARS.index(col)
    return ctx.calc[f"capital|{p}|{s}|{y}"], ctx.inputs[key("scheme", p, s, y)]


def community_summary_checks(ctx: LLRCtx) -> Iterator[CheckSpec]:
    """The community summary's scheme rows (£m): each row's total, each scheme against the capital
    tables (£000), each column's external requirement and DH requirement from the rows as printed."""
    f, c = ctx.figures, "community_funding"
    section = "Community configuration: schemes as summarised (£m)"
    for scheme in COMMUNITY_SCHEMES:
        present = [col for col in COMMUNITY_FUNDING_COLUMNS if (c, scheme, col) in f]
        yield CheckSpec(section, f"{scheme}: total = sum of years", ctx.figure(c, scheme, "Total"),
                        tuple((ctx.figure(c, scheme, col), 1.0) for col in present), "£m",
                        (ctx.count([ctx.figure(c, scheme, col) for col in present], "£m"),))
    for scheme, parts in COMMUNITY_SCHEMES.items():
        for col in (*YEARS, "Total"):
            years = YEARS if col == "Total" else (col,)
            if f.get(c, scheme, col) == 0 and all(f.get(t, r, y) == 0 for t, r in parts for y in years):
                continue  # nothing in either table for this year
            cells = [_capital_cell(ctx, t, r, y) for t, r in parts for y in years]
            yield CheckSpec(section, f"{scheme}, {col}: = capital tables (£000)", ctx.figure(c, scheme, col),
                            tuple((calc, 0.001) for calc, _ in cells), "£m",
                            (ctx.count([inp for _, inp in cells], "£000 in £m"),))
    sources = ("Disposals", "Commercially funded", "Local Authority funded")
    for col in (*COMMUNITY_FUNDING_COLUMNS, "Total"):
        schemes = [ctx.figure(c, r, col) for r in COMMUNITY_SCHEMES]
        yield CheckSpec(section, f"{col}: external requirement = sum of the scheme rows", ctx.figure(c, "External Funding Requirement", col),
                        tuple((x, 1.0) for x in schemes), "£m", (ctx.count(schemes, "£m"),))
        funding = [ctx.figure(c, r, col) for r in sources]
        yield CheckSpec(section, f"{col}: DH requirement = scheme rows less alternative funding",
                        ctx.figure(c, "DH funding requirement", col), tuple((x, 1.0) for x in schemes + funding), "£m",
                        (ctx.count(schemes + funding, "£m"),))


def repeated_figure_checks(ctx: LLRCtx) -> Iterator[CheckSpec]:
    """Figures printed in two places."""
    t, sv, nar = "total_requirement", "strand_savings", "narrative"
    section = "Figures printed in two places"
    for row, table_row, w in (("Total UHL DH requirement", "acute_funding", 1), ("Total Community DH requirement", "community_funding", 2)):
        yield CheckSpec(section, f"{row} = the {'acute' if w == 1 else 'community'} table's DH total (same figure, two tables)",
                        ctx.figure(t, row, "£m"), ((ctx.figure(table_row, "DH funding requirement", "Total"), 1.0),), "£m",
                        (ctx.one(table_row, "DH funding requirement", "Total"),))
    yield CheckSpec(section, "Strand 2 net (heading) = its text (same figure, two places)", ctx.figure(sv, STRAND_2, "Net"),
                    ((ctx.figure(sv, STRAND_2, "Net (text)"), 1.0),), "£m", (ctx.one(sv, STRAND_2, "Net (text)"),))
    yield CheckSpec(section, "Acute reconfiguration saving: plan text = strand 2 text",
                    ctx.figure(nar, "Acute reconfiguration gross saving", "a year"),
                    ((ctx.figure(sv, STRAND_2, "Gross: acute reconfiguration"), 1.0),), "own", (Items("1", 1.0, "£m"),))
    spend = "Spend on health and social care 2016/17"
    yield CheckSpec(section, "Spend on health and social care 2016/17: plan on a page = finance section (same figure, two places)",
                    ctx.figure(nar, spend, "Plan on a page"), ((ctx.figure(nar, spend, "Finance: How we spend our money"), 1.0),),
                    "own", (ctx.one(nar, spend, "Finance: How we spend our money"),))


def text_sum_checks(ctx: LLRCtx) -> Iterator[CheckSpec]:
    """Sums the text works out: strand 2's net saving, the net gap and the net saving after STF, the
    capital requirement, the STF of 2020/21, the acute ROI."""
    sv, nar = "strand_savings", "narrative"
    section = "The text's own sums"
    col = lambda first, last: ctx.rng(first, last)  # noqa: E731
    sectors = col(key("sector", 1, FINAL), key("sector", SECTORS, FINAL))
    lines = col(key("line", 1, FINAL), key("line", SAVINGS_LINES, FINAL))
    yield CheckSpec(section, "Strand 2 net (text) = gross (acute + community) less capital charges", ctx.figure(sv, STRAND_2, "Net (text)"),
                    ((ctx.calc[f"savings|2|{FINAL}"], 1.0),), "£m", (strand_items(ctx, 2, FINAL),))
    yield CheckSpec(section, "Net gap after STF = 'do nothing' gap less STF 2020/21", ctx.figure(nar, "Net gap after STF", "Total"),
                    ((ctx.calc[f"bridge|do nothing|{FINAL}"], 1.0), (ctx.calc[f"bridge|stf|{FINAL}"], 1.0)), "own",
                    (ctx.count([sectors, ctx.inp("gap", "stf", FINAL)], "£m"),))
    yield CheckSpec(section, "Net saving after STF = strand net savings less STF investment 2020/21",
                    ctx.figure(nar, "Net saving after STF", "Total"),
                    ((ctx.calc[f"savings|all|{FINAL}"], 1.0), (ctx.calc[f"bridge|investment|{FINAL}"], -1.0)), "own",
                    (ctx.count([lines, ctx.rng(key("strand", 1, "charges", FINAL), key("strand", 8, "charges", FINAL)),
                                ctx.inp("gap", "investment", FINAL)], "£m"),))
    acute_costs = ctx.rng(key("scheme", 1, 1, 0), key("scheme", 1, SCHEMES, PLAN_YEARS - 1))
    yield CheckSpec(section, "Capital requirement (text) = acute programme 2017/18-2020/21 (£000) + community external requirement",
                    ctx.figure(nar, "Capital required", "Summary of Overall Capital Requirement"),
                    ((ctx.calc["capital|1|cost"], 0.001), (ctx.calc["funding|2|external|total"], 1.0)), "own",
                    (ctx.count([acute_costs], "£000 in £m"), *external_items(ctx, 2, "total")))
    stf = [ctx.rng(key("stf", 1, kind, FINAL), key("stf", STF_LINES, kind, FINAL)) for kind in ("nr", "r")]
    yield CheckSpec(section, "STF 2020/21 in the text (£m) = investment table 2020/21 (£000)",
                    ctx.figure(nar, "STF net investment 2020/21", "2020/21"), ((ctx.calc[f"stf|total|{FINAL}"], 0.001),), "own",
                    (ctx.count(stf, "£000 in £m"),))
    net = ctx.calc["programme total|1|total"]  # the guarded link: #N/A while the table reports a problem
    saving_unit = "derived:" + ctx.figure(nar, "Acute reconfiguration gross saving", "a year")
    yield CheckSpec(section, "Acute ROI (%) = annual gross saving / net capital requirement (net of disposals)",
                    ctx.figure("acute_reconfiguration_summary", "ROI", "Value"), ((ctx.calc["appraisal|acute|roi"], 100.0),), "own",
                    (Items(f"100*1000/{net}", 100 * 1000 / _value(ctx, net), saving_unit),))


def _value(ctx: Ctx, cell: str) -> float:
    v = ctx.book.excel_value(cell)
    return float(v) if isinstance(v, (int, float)) and v else float("inf")


def org_growth_checks(ctx: LLRCtx) -> Iterator[CheckSpec]:
    """Organisational growth (%): net planned growth = 'do nothing' growth less savings schemes."""
    og = "org_growth"
    for org in ctx.figures.rows(og):
        yield CheckSpec("Organisational growth (%)", f"{org}: net planned growth = 'do nothing' growth less savings schemes",
                        ctx.figure(og, org, "Net Planned Growth"),
                        ((ctx.figure(og, org, "Do Nothing Growth"), 1.0), (ctx.figure(og, org, "Savings Schemes"), -1.0)),
                        "own", (ctx.one(og, org, "Do Nothing Growth"), ctx.one(og, org, "Savings Schemes")))

"""The STP_* Excel functions: thin adapters from Excel values to :mod:`xl_stp` and back.

This is the xlwings UDF module (``UDF Modules: udfs.functions``). Each function converts its
arguments with :mod:`udfs.convert` (one line each), calls the core, and shapes the result for
Excel: a scalar, or a list of rows that spills (by-year results as a row, so they line up under
the year headings). Blank cells in money ranges count as 0. Errors come back as ``#STP! ...``
text naming the argument, the cell and what to type; ``checks=`` lists the warnings
:meth:`~udfs.registry.UDF.explain` looks for (:mod:`udfs.rules`).

Shapes each argument takes (with ``ndim=2`` every range argument arrives as a list of rows; the
batch engine passes the same):

=====================  ======================================================================
argument               Excel shape
=====================  ======================================================================
amounts by year        one row of year columns (a column is accepted too)
schemes x years        one row per scheme/strand/line, one column per year
per-scheme amounts     one cell per scheme, as a column (or a row)
rates                  one cell, a row (one per year), or schemes x years
names / choices        a single cell of text
=====================  ======================================================================
"""

from __future__ import annotations

import math

import numpy as np

from xl_stp import core
from xl_stp.core.errors import STPError

from . import convert as cv
from . import rules
from .registry import REGISTRY, Arg, udf  # noqa: F401  (REGISTRY: what discover() returns)

_MONEY = "£000 (blank cells count as 0)"


def _years_arg(value, argument: str) -> int:
    """A number of years, or a row of year headings (2017/18 ...) whose count is used."""
    rows = cv.block(value, argument)
    if len(rows) == 1 and len(rows[0]) == 1:
        v = rows[0][0]
        if isinstance(v, str):
            core.parse_fy(v, argument)
            return 1
        return cv.whole(v, argument, minimum=1)
    labels = cv.labels(rows, argument)
    return core.Timeline.from_labels(labels, argument).n


@udf(
    Arg("first", "First financial year: 2017/18, 17/18, FY18, or the start year 2017", range=False),
    Arg("n", "Number of years", range=False),
    returns="a row of financial-year labels",
)
def STP_FY(first, n):
    """Financial-year labels (2017/18, 2018/19, ...) as a row."""
    start = core.parse_fy(cv.scalar(first, "first"), "first")
    return cv.out_row(core.fy_labels(start, cv.whole(n, "n", minimum=1)))


@udf(
    Arg("baseline", f"Base-year spend, one cell per sector or organisation (health, social care), {_MONEY}"),
    Arg("funding_growth", "Funding growth a year, at most 100%: one rate (2% or 0.02), one per year (a row) or per sector (a column)"),
    Arg("cost_growth", "Cost and demand growth a year, at most 100%: one rate, one per year (a row) or per sector (a column)"),
    Arg("years", "Number of plan years, or the row of year headings"),
    Arg("baseline_funding", "Optional base-year funding per sector if not in balance (default: equal to baseline)", optional=True),
    returns="sectors x years of the 'do nothing' gap (positive = shortfall)",
    checks=(rules.NegativeFigures("baseline", "base-year spend", "check the sign"),
            rules.HighRate("funding_growth", rules.GROWTH_WARNING, "growth is usually a few per cent (3.5% is 0.035): check it", True),
            rules.HighRate("cost_growth", rules.GROWTH_WARNING, "growth is usually a few per cent (3.5% is 0.035): check it", True)),
)
def STP_DO_NOTHING(baseline, funding_growth, cost_growth, years, baseline_funding=None):
    """'Do nothing' gap by sector and year: cost grown at cost growth less funding grown at funding growth."""
    n = _years_arg(years, "years")
    base = cv.money(baseline, "baseline").reshape(-1)
    fund = None if baseline_funding is None else cv.money(baseline_funding, "baseline_funding").reshape(-1)
    dn = core.do_nothing_gap(base, cv.money(funding_growth, "funding_growth"), cv.money(cost_growth, "cost_growth"), n, fund)
    return cv.out_table(dn.gap)


@udf(
    Arg("do_nothing", f"'Do nothing' gap by year (one row, or one row per sector: they are added), {_MONEY}"),
    Arg("savings", f"Net savings: one row per strand, one column per year, positive, {_MONEY}"),
    Arg("investment", f"Optional investment (extra running cost) by year, {_MONEY}", optional=True),
    Arg("stf", f"Optional STF / transformation funding by year, {_MONEY}", optional=True),
    Arg("bridge", "Optional TRUE for the whole bridge (do nothing, each strand, investment, STF, residual) instead of the residual row", optional=True, range=False),
    returns="the residual gap by year (or the bridge rows)",
    checks=tuple(rules.BlankBetween(a) for a in ("do_nothing", "savings", "investment", "stf")),
)
def STP_GAP(do_nothing, savings, investment=None, stf=None, bridge=None):
    """Residual gap by year: 'do nothing' gap less savings (all strands) plus investment less STF."""
    b = core.gap_bridge(cv.money(do_nothing, "do_nothing"), cv.money(savings, "savings"),
                        0.0 if investment is None else cv.money(investment, "investment"),
                        0.0 if stf is None else cv.money(stf, "stf"))
    if cv.flag(bridge, "bridge"):
        return cv.out_table(np.vstack([v for _, v in b.steps] + [b.residual]))
    return cv.out_row(b.residual)


@udf(
    Arg("gross", f"Gross savings: one row per strand/scheme, one column per year, {_MONEY}"),
    Arg("investment", f"Optional investment (running cost) by strand and year, {_MONEY}", optional=True),
    Arg("capital_charges", f"Optional capital charges by strand and year, {_MONEY}", optional=True),
    Arg("delivery", "Optional share of gross savings expected to be delivered, 0% to 100% (default 100%): one, per strand (a column), "
                    "per year (a row) or per strand and year", optional=True),
    returns="strands x years of net savings",
    checks=(rules.NegativeFigures("gross", "saving", "it is taken as a cost of the strand"),
            rules.NegativeFigures("investment", "investment", "it adds to the net saving"),
            rules.NegativeFigures("capital_charges", "capital charge", "it adds to the net saving"),
            *(rules.BlankBetween(a) for a in ("gross", "investment", "capital_charges"))),
)
def STP_SAVINGS(gross, investment=None, capital_charges=None, delivery=None):
    """Net savings by strand and year: gross x delivery % less investment less capital charges."""
    s = core.net_savings(cv.money(gross, "gross"),
                         0.0 if investment is None else cv.money(investment, "investment"),
                         0.0 if capital_charges is None else cv.money(capital_charges, "capital_charges"),
                         1.0 if delivery is None else cv.money(delivery, "delivery", blank=None))
    return cv.out_table(s.net)


@udf(
    Arg("total", f"Amount to spread: one cell, or a column of one amount per scheme, {_MONEY}"),
    Arg("profile", "straight, front, back or s-curve; or a row of weights (e.g. 20%, 50%, 30%)"),
    Arg("years", "Number of years to spread over (optional with a row of weights)", optional=True, range=False),
    Arg("start", "Optional delay in whole years before spend starts (slippage); default 0", optional=True, range=False),
    Arg("horizon", "Optional number of year columns to return (spend beyond goes into the last one); default start + years", optional=True, range=False),
    returns="a row by year (a row per scheme)",
    checks=(rules.Weights("profile"), rules.BeyondHorizon()),
)
def STP_PHASE(total, profile, years=None, start=None, horizon=None):
    """Spreads an amount over years on a profile, optionally starting later; the total is kept."""
    rows = cv.block(profile, "profile")
    prof = cv.text(rows, "profile") if len(rows) == 1 and len(rows[0]) == 1 and isinstance(rows[0][0], str) else cv.vector(rows, "profile")
    n = None if years is None else cv.whole(years, "years", minimum=1)
    amounts = cv.money(total, "total").reshape(-1)
    out = core.phase(amounts, prof, n, start=cv.whole(start, "start", default=0, minimum=0),
                     horizon=None if horizon is None else cv.whole(horizon, "horizon", minimum=1))
    return cv.out_table(out)


@udf(
    Arg("costs", f"Capital cost: one row per scheme, one column per year, {_MONEY}"),
    Arg("disposals", f"Disposal proceeds: one cell per scheme (a column), or schemes x years, or 0 for none; positive or in brackets, not both, {_MONEY}"),
    Arg("result", "Optional: table (default: years, Disposals, Total for each scheme and a TOTAL row), net (net per scheme), by_year (cost by year), or total", optional=True, range=False),
    returns="the scheme table, or the part asked for",
    checks=(rules.NegativeFigures("costs", "cost", "it reduces the capital requirement (proceeds from a sale go in disposals)"),
            rules.BlankBetween("costs")),
)
def STP_CAPITAL_NET(costs, disposals, result=None):
    """Net capital requirement: cost less disposal proceeds, per scheme, per year and in total (may be negative)."""
    what = cv.text(result, "result", default="table", choices=("table", "net", "by_year", "total"))
    d = cv.money(disposals, "disposals")
    c = cv.money(costs, "costs")
    if d.size == 1 and c.shape[0] > 1 and float(d.reshape(-1)[0]) == 0.0:
        d = np.zeros(c.shape[0])  # a single 0 or blank: no disposal proceeds for any scheme
    elif d.shape != c.shape and 1 in d.shape:
        d = d.reshape(-1)  # one value per scheme, typed as a row or a column
    r = core.capital_net(c, d)
    if what == "net":
        return cv.out_table(r.net_by_scheme.reshape(-1, 1))
    if what == "by_year":
        return cv.out_row(r.cost_by_year)
    if what == "total":
        return cv.out_scalar(r.total_net)
    return cv.out_table(r.table())


def _waterfall(programme, sources, order, approved, internal):
    names, body = cv.split_labels(sources, "sources")
    first = 0 if names is None else 1
    if names is not None:
        seen: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in seen:
                raise STPError("sources", f"is named twice (rows {seen[name] + 1} and {i + 1}); give each source its own name",
                               at=(i, 0), label=name)
            seen[name] = i
    src = cv.money(body, "sources", names=names, first_column=first)
    prog = cv.money(programme, "programme")
    if prog.shape[0] == 1:
        prog = prog.reshape(-1)
    wanted = None
    if order is not None:  # names, or positions 1..k
        given = cv.labels(order, "order")
        known = names if names is not None else core.funding.default_source_names(src.shape[0])
        wanted = []
        for k, w in enumerate(given):
            if w.isdigit() and 1 <= int(w) <= len(known):
                wanted.append(known[int(w) - 1])
            elif names is None:
                raise STPError("order", f"names {w!r}, but the sources have no names; give their numbers 1, 2, ... "
                                        "or put their names in a first column of sources", at=(0, k))
            else:
                wanted.append(w)
    try:
        return core.funding_waterfall(prog, src, names=names, order=wanted,
                                      approved=0.0 if approved is None else cv.money(approved, "approved").reshape(-1),
                                      internal=0.0 if internal is None else cv.money(internal, "internal").reshape(-1))
    except STPError as e:
        if e.argument == "sources" and e.at is not None and first:
            raise e.moved(at=(e.at[0], e.at[1] + first)) from None  # the column of names comes first
        raise


_FUNDING_ARGS = (
    Arg("programme", f"External funding requirement by year (or the programme, with approved/internal), {_MONEY}"),
    Arg("sources", f"Funding sources: one row per source, one column per year; positive or in brackets (one way per source); a first column of names is allowed, {_MONEY}"),
    Arg("order", "Optional order of the sources: a row of their names (or numbers 1, 2, ...)", optional=True),
    Arg("approved", f"Optional capital approved to date by year, {_MONEY}", optional=True),
    Arg("internal", f"Optional internally funded capital by year, {_MONEY}", optional=True),
)


_FUNDING_CHECKS = tuple(rules.BlankBetween(a) for a in ("programme", "approved", "internal"))


@udf(*_FUNDING_ARGS, returns="rows: [programme, approved, internal,] external requirement, each source (negative), DH requirement",
     checks=_FUNDING_CHECKS)
def STP_FUNDING_SPLIT(programme, sources, order=None, approved=None, internal=None):
    """Funding waterfall by year: each source (negative) and the residual DH requirement, which may be negative."""
    w = _waterfall(programme, sources, order, approved, internal)
    rows = w.rows()
    if approved is None and internal is None:
        rows = rows[3:]  # programme given as the external requirement: start there
    return cv.out_table(np.vstack([w.by_year(v) for _, v in rows]))


@udf(*_FUNDING_ARGS, returns="the DH funding requirement by year (negative where sources exceed the requirement)", checks=_FUNDING_CHECKS)
def STP_DH_REQUIREMENT(programme, sources, order=None, approved=None, internal=None):
    """Residual DH funding requirement by year: external requirement less all sources; negative where they exceed it."""
    w = _waterfall(programme, sources, order, approved, internal)
    return cv.out_row(w.by_year(w.dh_requirement))


@udf(
    Arg("non_recurrent", f"Non-recurrent investment: one row per line, one column per year, {_MONEY}"),
    Arg("recurrent", f"Recurrent investment: same rows and years, {_MONEY}"),
    returns="3 rows by year: non-recurrent, recurrent, total",
    checks=(rules.NegativeFigures("non_recurrent", "investment", "it reduces the total"),
            rules.NegativeFigures("recurrent", "investment", "it reduces the total"), rules.BlankBetween("recurrent")),
)
def STP_STF(non_recurrent, recurrent):
    """Transformation (STF) investment by year: non-recurrent, recurrent and total rows."""
    t = core.stf_totals(cv.money(non_recurrent, "non_recurrent"), cv.money(recurrent, "recurrent"))
    return cv.out_table(np.vstack([t.non_recurrent, t.recurrent, t.total]))


@udf(
    Arg("capex", f"Capital spend by year (one row per scheme), {_MONEY}"),
    Arg("life", "Asset life in whole years: one, or a column with one per scheme", range=True),
    Arg("pdc_rate", "Optional PDC dividend rate, 0% to below 100% (default 3.5%)", optional=True, range=False),
    Arg("in_use_lag", "Optional years from spend to depreciation starting (default 1)", optional=True, range=False),
    returns="3 rows by year: depreciation, PDC dividend, total capital charges",
    checks=(rules.NegativeFigures("capex", "capital spend", "it reduces the capital charges"), rules.BlankBetween("capex"),
            rules.HighRate("pdc_rate", rules.RATE_WARNING, "the PDC dividend rate is 3.5% (0.035): check it")),
)
def STP_CAPITAL_CHARGES(capex, life, pdc_rate=None, in_use_lag=None):
    """Capital charges to revenue by year: straight-line depreciation plus PDC dividend on average net book value."""
    lives = cv.money(life, "life", blank=None).reshape(-1)
    cc = core.capital_charges(cv.money(capex, "capex"), lives, cv.number(pdc_rate, "pdc_rate", 0.035),
                              cv.whole(in_use_lag, "in_use_lag", default=1, minimum=0))
    return cv.out_table(np.vstack([cc.depreciation.sum(axis=0), cc.pdc_dividend.sum(axis=0), cc.total.sum(axis=0)]))


@udf(
    Arg("annual_saving", "Annual recurrent net saving, £000", range=False),
    Arg("capital_cost", "Capital cost, £000", range=False),
    Arg("disposals", "Optional disposal proceeds, £000", optional=True, range=False),
    Arg("basis", "Optional: gross (investment before disposal proceeds, default) or net (after them)", optional=True, range=False),
    returns="ROI as a fraction (format as %)",
)
def STP_ROI(annual_saving, capital_cost, disposals=None, basis=None):
    """Simple ROI: annual recurrent net saving / capital investment (gross or net of disposal proceeds)."""
    r = core.roi(cv.number(annual_saving, "annual_saving"), cv.number(capital_cost, "capital_cost"),
                 abs(cv.number(disposals, "disposals", 0.0)), cv.text(basis, "basis", "gross", ("gross", "net")))
    return cv.out_scalar(r.value)


@udf(
    Arg("capital_cost", "Capital cost, £000", range=False),
    Arg("savings", "Annual saving (one cell, constant) or savings by year from year 1 (a row), £000"),
    Arg("basis", "Optional: simple (default) or discounted (Green Book 3.5%)", optional=True, range=False),
    Arg("disposals", "Optional disposal proceeds, £000", optional=True, range=False),
    Arg("cost_basis", "Optional: gross (before disposal proceeds, default) or net", optional=True, range=False),
    returns="payback in years (interpolated), or text when not repaid",
)
def STP_PAYBACK(capital_cost, savings, basis=None, disposals=None, cost_basis=None):
    """Payback period in years: when cumulative (optionally discounted) savings first cover the investment."""
    flows = cv.money(savings, "savings").reshape(-1)
    p = core.payback(cv.number(capital_cost, "capital_cost"), flows[0] if flows.size == 1 else flows,
                     cv.text(basis, "basis", "simple", ("simple", "discounted")), abs(cv.number(disposals, "disposals", 0.0)),
                     cv.text(cost_basis, "cost_basis", "gross", ("gross", "net")))
    if math.isinf(p.value):
        horizon = 100 if flows.size == 1 else flows.size
        return f"not repaid within {horizon} years"
    return cv.out_scalar(p.value)


@udf(
    Arg("cashflows", "Cash flows by year, year 0 first (a row), £000; costs negative, savings positive"),
    Arg("rate", "Optional flat discount rate, at most 100% a year; default the HM Treasury Green Book schedule (3.5%, declining after year 30)", optional=True, range=False),
    returns="NPV, £000",
    checks=(rules.BlankBetween("cashflows"),
            rules.HighRate("rate", rules.RATE_WARNING, "the Green Book discount rate is 3.5% (0.035): check it")),
)
def STP_NPV(cashflows, rate=None):
    """Net present value, year 0 undiscounted, on the Green Book schedule unless a rate is given."""
    flows = cv.money(cashflows, "cashflows")
    if flows.shape[0] != 1 and flows.shape[1] != 1:
        raise STPError("cashflows", "expected a single row (or column) of cash flows")
    r = core.npv(flows.reshape(-1), None if rate is None else cv.number(rate, "rate"))
    return cv.out_scalar(r.value)


@udf(
    Arg("stated", "The figure as stated (published)", range=False),
    Arg("computed", "The figure computed from its line items", range=False),
    Arg("tolerance", "Optional largest difference to accept (e.g. rounding: half a unit per rounded figure); default 0", optional=True, range=False),
    returns="OK, or the signed difference stated - computed",
)
def STP_CHECK(stated, computed, tolerance=None):
    """Check for a Checks sheet: OK when stated and computed agree within tolerance, else stated - computed."""
    return core.check(cv.number(stated, "stated"), cv.number(computed, "computed"), cv.number(tolerance, "tolerance", 0.0))

# xl-stp for xlwings Lite. Generated from xl-stp's function registry by `python -m udfs.lite`: do not edit by hand.
#
# Paste this whole file into the main.py tab of the xlwings Lite editor, and add the xl-stp
# line of requirements.txt to its requirements.txt tab. Each function below is the registry's
# STP_* function under its own name, with its help text; the figures come from the
# installed xl-stp package. Range arguments arrive as rows of cells (ndim=2) and error
# cells as their text (err_to_str=True), so a problem comes back as '#STP! <argument>: ...'.

from xlwings import func, arg

import udfs.functions as stp


@func
@arg("first", err_to_str=True, doc="First financial year: 2017/18, 17/18, FY18, or the start year 2017")
@arg("n", err_to_str=True, doc="Number of years")
def STP_FY(first, n):
    """Financial-year labels (2017/18, 2018/19, ...) as a row."""
    return stp.STP_FY(first, n)


@func
@arg("baseline", ndim=2, err_to_str=True, doc="Base-year spend, one cell per sector or organisation (health, social care), £000 (blank cells count as 0)")
@arg("funding_growth", ndim=2, err_to_str=True, doc="Funding growth a year, at most 100%: one rate (2% or 0.02), one per year (a row) or per sector (a column)")
@arg("cost_growth", ndim=2, err_to_str=True, doc="Cost and demand growth a year, at most 100%: one rate, one per year (a row) or per sector (a column)")
@arg("years", ndim=2, err_to_str=True, doc="Number of plan years, or the row of year headings")
@arg("baseline_funding", ndim=2, err_to_str=True, doc="Optional base-year funding per sector if not in balance (default: equal to baseline)")
def STP_DO_NOTHING(baseline, funding_growth, cost_growth, years, baseline_funding=None):
    """'Do nothing' gap by sector and year: cost grown at cost growth less funding grown at funding growth."""
    return stp.STP_DO_NOTHING(baseline, funding_growth, cost_growth, years, baseline_funding)


@func
@arg("do_nothing", ndim=2, err_to_str=True, doc="'Do nothing' gap by year (one row, or one row per sector: they are added), £000 (blank cells count as 0)")
@arg("savings", ndim=2, err_to_str=True, doc="Net savings: one row per strand, one column per year, positive, £000 (blank cells count as 0)")
@arg("investment", ndim=2, err_to_str=True, doc="Optional investment (extra running cost) by year, £000 (blank cells count as 0)")
@arg("stf", ndim=2, err_to_str=True, doc="Optional STF / transformation funding by year, £000 (blank cells count as 0)")
@arg("bridge", err_to_str=True, doc="Optional TRUE for the whole bridge (do nothing, each strand, investment, STF, residual) instead of the residual row")
def STP_GAP(do_nothing, savings, investment=None, stf=None, bridge=None):
    """Residual gap by year: 'do nothing' gap less savings (all strands) plus investment less STF."""
    return stp.STP_GAP(do_nothing, savings, investment, stf, bridge)


@func
@arg("gross", ndim=2, err_to_str=True, doc="Gross savings: one row per strand/scheme, one column per year, £000 (blank cells count as 0)")
@arg("investment", ndim=2, err_to_str=True, doc="Optional investment (running cost) by strand and year, £000 (blank cells count as 0)")
@arg("capital_charges", ndim=2, err_to_str=True, doc="Optional capital charges by strand and year, £000 (blank cells count as 0)")
@arg("delivery", ndim=2, err_to_str=True, doc="Optional share of gross savings expected to be delivered, 0% to 100% (default 100%): one, per strand (a column), per year (a row) or per strand and year")
def STP_SAVINGS(gross, investment=None, capital_charges=None, delivery=None):
    """Net savings by strand and year: gross x delivery % less investment less capital charges."""
    return stp.STP_SAVINGS(gross, investment, capital_charges, delivery)


@func
@arg("total", ndim=2, err_to_str=True, doc="Amount to spread: one cell, or a column of one amount per scheme, £000 (blank cells count as 0)")
@arg("profile", ndim=2, err_to_str=True, doc="straight, front, back or s-curve; or a row of weights (e.g. 20%, 50%, 30%)")
@arg("years", err_to_str=True, doc="Number of years to spread over (optional with a row of weights)")
@arg("start", err_to_str=True, doc="Optional delay in whole years before spend starts (slippage); default 0")
@arg("horizon", err_to_str=True, doc="Optional number of year columns to return (spend beyond goes into the last one); default start + years")
def STP_PHASE(total, profile, years=None, start=None, horizon=None):
    """Spreads an amount over years on a profile, optionally starting later; the total is kept."""
    return stp.STP_PHASE(total, profile, years, start, horizon)


@func
@arg("costs", ndim=2, err_to_str=True, doc="Capital cost: one row per scheme, one column per year, £000 (blank cells count as 0)")
@arg("disposals", ndim=2, err_to_str=True, doc="Disposal proceeds: one cell per scheme (a column), or schemes x years, or 0 for none; positive or in brackets, not both, £000 (blank cells count as 0)")
@arg("result", err_to_str=True, doc="Optional: table (default: years, Disposals, Total for each scheme and a TOTAL row), net (net per scheme), by_year (cost by year), or total")
def STP_CAPITAL_NET(costs, disposals, result=None):
    """Net capital requirement: cost less disposal proceeds, per scheme, per year and in total (may be negative)."""
    return stp.STP_CAPITAL_NET(costs, disposals, result)


@func
@arg("programme", ndim=2, err_to_str=True, doc="External funding requirement by year (or the programme, with approved/internal), £000 (blank cells count as 0)")
@arg("sources", ndim=2, err_to_str=True, doc="Funding sources: one row per source, one column per year; positive or in brackets (one way per source); a first column of names is allowed, £000 (blank cells count as 0)")
@arg("order", ndim=2, err_to_str=True, doc="Optional order of the sources: a row of their names (or numbers 1, 2, ...)")
@arg("approved", ndim=2, err_to_str=True, doc="Optional capital approved to date by year, £000 (blank cells count as 0)")
@arg("internal", ndim=2, err_to_str=True, doc="Optional internally funded capital by year, £000 (blank cells count as 0)")
def STP_FUNDING_SPLIT(programme, sources, order=None, approved=None, internal=None):
    """Funding waterfall by year: each source (negative) and the residual DH requirement, which may be negative."""
    return stp.STP_FUNDING_SPLIT(programme, sources, order, approved, internal)


@func
@arg("programme", ndim=2, err_to_str=True, doc="External funding requirement by year (or the programme, with approved/internal), £000 (blank cells count as 0)")
@arg("sources", ndim=2, err_to_str=True, doc="Funding sources: one row per source, one column per year; positive or in brackets (one way per source); a first column of names is allowed, £000 (blank cells count as 0)")
@arg("order", ndim=2, err_to_str=True, doc="Optional order of the sources: a row of their names (or numbers 1, 2, ...)")
@arg("approved", ndim=2, err_to_str=True, doc="Optional capital approved to date by year, £000 (blank cells count as 0)")
@arg("internal", ndim=2, err_to_str=True, doc="Optional internally funded capital by year, £000 (blank cells count as 0)")
def STP_DH_REQUIREMENT(programme, sources, order=None, approved=None, internal=None):
    """Residual DH funding requirement by year: external requirement less all sources; negative where they exceed it."""
    return stp.STP_DH_REQUIREMENT(programme, sources, order, approved, internal)


@func
@arg("non_recurrent", ndim=2, err_to_str=True, doc="Non-recurrent investment: one row per line, one column per year, £000 (blank cells count as 0)")
@arg("recurrent", ndim=2, err_to_str=True, doc="Recurrent investment: same rows and years, £000 (blank cells count as 0)")
def STP_STF(non_recurrent, recurrent):
    """Transformation (STF) investment by year: non-recurrent, recurrent and total rows."""
    return stp.STP_STF(non_recurrent, recurrent)


@func
@arg("capex", ndim=2, err_to_str=True, doc="Capital spend by year (one row per scheme), £000 (blank cells count as 0)")
@arg("life", ndim=2, err_to_str=True, doc="Asset life in whole years: one, or a column with one per scheme")
@arg("pdc_rate", err_to_str=True, doc="Optional PDC dividend rate, 0% to below 100% (default 3.5%)")
@arg("in_use_lag", err_to_str=True, doc="Optional years from spend to depreciation starting (default 1)")
def STP_CAPITAL_CHARGES(capex, life, pdc_rate=None, in_use_lag=None):
    """Capital charges to revenue by year: straight-line depreciation plus PDC dividend on average net book value."""
    return stp.STP_CAPITAL_CHARGES(capex, life, pdc_rate, in_use_lag)


@func
@arg("annual_saving", err_to_str=True, doc="Annual recurrent net saving, £000")
@arg("capital_cost", err_to_str=True, doc="Capital cost, £000")
@arg("disposals", err_to_str=True, doc="Optional disposal proceeds, £000")
@arg("basis", err_to_str=True, doc="Optional: gross (investment before disposal proceeds, default) or net (after them)")
def STP_ROI(annual_saving, capital_cost, disposals=None, basis=None):
    """Simple ROI: annual recurrent net saving / capital investment (gross or net of disposal proceeds)."""
    return stp.STP_ROI(annual_saving, capital_cost, disposals, basis)


@func
@arg("capital_cost", err_to_str=True, doc="Capital cost, £000")
@arg("savings", ndim=2, err_to_str=True, doc="Annual saving (one cell, constant) or savings by year from year 1 (a row), £000")
@arg("basis", err_to_str=True, doc="Optional: simple (default) or discounted (Green Book 3.5%)")
@arg("disposals", err_to_str=True, doc="Optional disposal proceeds, £000")
@arg("cost_basis", err_to_str=True, doc="Optional: gross (before disposal proceeds, default) or net")
def STP_PAYBACK(capital_cost, savings, basis=None, disposals=None, cost_basis=None):
    """Payback period in years: when cumulative (optionally discounted) savings first cover the investment."""
    return stp.STP_PAYBACK(capital_cost, savings, basis, disposals, cost_basis)


@func
@arg("cashflows", ndim=2, err_to_str=True, doc="Cash flows by year, year 0 first (a row), £000; costs negative, savings positive")
@arg("rate", err_to_str=True, doc="Optional flat discount rate, at most 100% a year; default the HM Treasury Green Book schedule (3.5%, declining after year 30)")
def STP_NPV(cashflows, rate=None):
    """Net present value, year 0 undiscounted, on the Green Book schedule unless a rate is given."""
    return stp.STP_NPV(cashflows, rate)


@func
@arg("stated", err_to_str=True, doc="The figure as stated (published)")
@arg("computed", err_to_str=True, doc="The figure computed from its line items")
@arg("tolerance", err_to_str=True, doc="Optional largest difference to accept (e.g. rounding: half a unit per rounded figure); default 0")
def STP_CHECK(stated, computed, tolerance=None):
    """Check for a Checks sheet: OK when stated and computed agree within tolerance, else stated - computed."""
    return stp.STP_CHECK(stated, computed, tolerance)

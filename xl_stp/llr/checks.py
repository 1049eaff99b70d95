"""The checks of the LLR plan: every stated total against its computed value.

Each check compares a figure the document states with its value computed from the line items
(:attr:`LLRPlan.quantities`), or with the same figure printed elsewhere, and allows what rounding
of the printed figures explains. There is one function per section of the plan, in the order of
the workbook's Checks sheet; :func:`checks` lists them all and :func:`check_results` compares.

The tolerances follow one rule: a printed figure is at most half its rounding unit from the true
value (:data:`UNIT`: 0.5 in a £000 table, 0.05 in a £m table printed to one decimal), so a check
allows half a unit for the stated figure plus half a unit for each printed figure behind the
computed value, all in the stated figure's units. The named rules below apply it.

>>> f = Figures.load()
>>> results = check_results(f)
>>> len(results), sum(r.status == MISMATCH for r in results)
(175, 9)
>>> total_of_items("£000", 11), same_figure("£m"), m_against_thousands(1)
(6.0, 0.1, 0.0505)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

from ..core.reconcile import MISMATCH, rounding_status  # noqa: F401 (the module docstring's example uses it)
from .figures import (ACUTE_FUNDING_COLUMNS, ACUTE_SOURCES, CAPITAL_TABLES, COMMUNITY_CAPITAL_TABLES,
                      COMMUNITY_DISPOSAL_TABLES, COMMUNITY_FUNDING_COLUMNS, COMMUNITY_SCHEMES, COMMUNITY_SOURCES,
                      STRAND_2, UNIT, YEARS, Figures, Key, has_disposals, item_rows, stf_lines)
from .plan import LLRPlan


@dataclass(frozen=True)
class Check:
    """A stated figure against its computed value.

    ``computed`` is a sum of (factor x term); a term is a quantity key of :attr:`LLRPlan.quantities`
    or ``figure|table|row|column`` (another stated figure: the same number in two places).
    ``tolerance`` is what rounding of the printed figures allows: half a unit for the stated
    figure plus half a unit for each printed figure behind the computed value.
    """

    section: str
    description: str
    stated: Key
    computed: tuple[tuple[str, float], ...]
    tolerance: float

    def computed_value(self, plan: LLRPlan) -> float:
        total = 0.0
        for term, factor in self.computed:
            if term.startswith("figure|"):
                _, t, r, c = term.split("|")
                total += factor * plan.figures.value(t, r, c)
            else:
                total += factor * plan.quantities[term]
        return round(total, 9)

    def result(self, plan: LLRPlan) -> "CheckResult":
        return CheckResult(self, plan.figures.value(*self.stated), self.computed_value(plan))


@dataclass(frozen=True)
class CheckResult:
    check: Check
    stated: float
    computed: float

    @property
    def difference(self) -> float:
        """Stated less computed."""
        return round(self.stated - self.computed, 9)

    @property
    def status(self) -> str:
        """agrees, within rounding or exceeds rounding (xl_stp.core.reconcile's NIL, ROUNDING, MISMATCH)."""
        return rounding_status(self.difference, self.stated, self.check.tolerance)


# ---- tolerance rules: what rounding of the printed figures allows ------------------------------

#: Half a unit of a figure the text prints in whole £m ('£350m capital', 'a net gap of £333M').
WHOLE_M = 0.5
#: Half a unit of a £m figure printed to one decimal.
TENTH_M = 0.05
#: Half a unit of a £000 figure, in £m.
THOUSAND_IN_M = 0.0005
#: Half a unit of a percentage printed to two decimals, and of one printed whole.
HUNDREDTH_PERCENT, WHOLE_PERCENT = 0.005, 0.5
#: The acute table's net capital requirement from its items (£000), behind the ROI's tolerance.
ACUTE_NET_CAPITAL = 251_232
#: The acute reconfiguration schemes with a cost (11 of the table's 14 rows; £000), behind the text's
#: capital requirement.
ACUTE_SCHEME_COSTS = 11


def rounding(stated_units: str, item_units: str, items: int = 1) -> float:
    """Half a unit for the stated figure plus half a unit for each of ``items`` printed figures in
    ``item_units`` behind the computed value, in the stated figure's units (£m and £000 convert)."""
    scale = {"£000": 1.0, "£m": 1000.0}
    base = scale.get(stated_units, 1.0)
    total = UNIT[stated_units] / 2
    for _ in range(items):
        total += UNIT[item_units] * scale.get(item_units, 1.0) / base / 2
    return round(total, 9)


def total_of_items(units: str, items: int) -> float:
    """A printed total against ``items`` printed figures of the same units (its own table)."""
    return rounding(units, units, items)


def same_figure(units: str) -> float:
    """One figure printed in two places."""
    return rounding(units, units)


def m_against_thousands(items: int = 1) -> float:
    """A figure of a £m summary against ``items`` figures of the £000 capital tables."""
    return rounding("£m", "£000", items)


def m_total_against_thousand_totals(m_items: int, tables: int) -> float:
    """A £m total of ``m_items`` printed figures against the totals of ``tables`` £000 capital
    tables: the £m total's own rounding plus the £000 tables' rounding, in £m."""
    return total_of_items("£m", m_items) + total_of_items("£000", tables) / 1000


def whole_m_against(whole: int = 0, tenths: int = 0, thousands: int = 0) -> float:
    """A figure the text prints in whole £m against ``whole`` other whole-£m figures, ``tenths`` £m
    figures printed to one decimal and ``thousands`` £000 figures."""
    return WHOLE_M + WHOLE_M * whole + TENTH_M * tenths + THOUSAND_IN_M * thousands


def roi_rounding(net_capital: float = ACUTE_NET_CAPITAL) -> float:
    """Half a unit of an ROI printed to two decimals (%), plus what half a unit of the £m saving it
    rests on (£50k) moves it: 100 x 0.05 x 1000 / net capital (£000) percentage points."""
    return HUNDREDTH_PERCENT + 100 * TENTH_M * 1000 / net_capital


def hundredths_against_whole_percents(items: int) -> float:
    """A percentage printed to two decimals against ``items`` percentages printed whole."""
    total = HUNDREDTH_PERCENT
    for _ in range(items):
        total += WHOLE_PERCENT
    return total


# ---- the checks, one function per section -------------------------------------------------------

def _check(section: str, description: str, stated: Key, computed: Sequence[tuple[str, float]], tolerance: float) -> Check:
    return Check(section, description, stated, tuple(computed), tolerance)


def capital_table_checks(f: Figures, table: str) -> Iterator[Check]:
    """A capital programme table (£000): each row's total, each column's total, the totals row."""
    total_row, _summary, title = CAPITAL_TABLES[table]
    rows = item_rows(f, table)
    for r in rows:
        n = sum((table, r, c) in f for c in YEARS + ("Disposals",))
        yield _check(title, f"{r}: total = cost by year less disposal proceeds", (table, r, "Total"),
                     [(f"capital|{table}|{r}|Total", 1.0)], total_of_items("£000", n))
    n_rows = len(rows)
    for y in YEARS:
        yield _check(title, f"{y}: column total = sum of schemes", (table, total_row, y),
                     [(f"capital|{table}|TOTAL|{y}", 1.0)], total_of_items("£000", n_rows))
    if has_disposals(table):
        yield _check(title, "Disposals: column total = sum of schemes", (table, total_row, "Disposals"),
                     [(f"capital|{table}|TOTAL|Disposals", 1.0)], total_of_items("£000", n_rows))
    yield _check(title, "Total net requirement = sum of schemes", (table, total_row, "Total"),
                 [(f"capital|{table}|TOTAL|Total", 1.0)], total_of_items("£000", n_rows * 2))


def summary_box_checks(f: Figures, table: str) -> Iterator[Check]:
    """A capital programme's summary box (£000): cost, disposal proceeds and net requirement."""
    _total_row, summary, title = CAPITAL_TABLES[table]
    if not summary:
        return
    n_rows = len(item_rows(f, table))
    cost_row = next(r for r in f.rows(summary) if "Capital Cost" in r)
    yield _check(title, "Summary box: total capital cost = sum of scheme costs", (summary, cost_row, "Value"),
                 [(f"capital|{table}|cost", 1.0)], total_of_items("£000", n_rows))
    for r in f.rows(summary):
        if "Disposal" in r:
            yield _check(title, "Summary box: disposal proceeds = sum of schemes", (summary, r, "Value"),
                         [(f"capital|{table}|TOTAL|Disposals", 1.0)], total_of_items("£000", n_rows))
        if r == "Net Capital Requirement":
            yield _check(title, "Summary box: net capital requirement = cost less disposals", (summary, r, "Value"),
                         [(f"capital|{table}|TOTAL|Total", 1.0)], total_of_items("£000", n_rows * 2))


def capital_checks(f: Figures) -> Iterator[Check]:
    """Capital programme tables (£000): row totals, column totals, the totals row, the summary box."""
    for table in CAPITAL_TABLES:
        yield from capital_table_checks(f, table)
        yield from summary_box_checks(f, table)


def acute_funding_checks(f: Figures) -> Iterator[Check]:
    """Acute funding summary (£m): row totals and the two requirements of the waterfall."""
    a, sec = "acute_funding", "Acute configuration funding (£m)"
    label = {"Reconfiguration programme": "Programme", "Approved to date": "Approved to date",
             "Internally funded": "Internally funded", **{s: s for s in ACUTE_SOURCES}}
    for r in ("Reconfiguration programme", "Approved to date", "Internally funded", *ACUTE_SOURCES):
        n = sum((a, r, c) in f for c in ACUTE_FUNDING_COLUMNS)
        yield _check(sec, f"{r}: total = sum of years", (a, r, "Total"), [(f"funding|acute|{label[r]}|Total", 1.0)],
                     total_of_items("£m", max(n, 1)))
    for col in (*ACUTE_FUNDING_COLUMNS, "Total"):
        yield _check(sec, f"{col}: external requirement = programme less approved less internally funded",
                     (a, "External funding requirement", col),
                     [(f"funding|acute|External funding requirement|{col}", 1.0)],
                     total_of_items("£m", 3 if col != "Total" else 18))
        yield _check(sec, f"{col}: DH requirement = external requirement less alternative funding",
                     (a, "DH funding requirement", col), [(f"funding|acute|DH funding requirement|{col}", 1.0)],
                     total_of_items("£m", 6 if col != "Total" else 36))


def acute_against_capital_checks(f: Figures) -> Iterator[Check]:
    """Acute funding summary (£m) against the acute reconfiguration table (£000)."""
    a, sec = "acute_funding", "Acute configuration funding (£m)"
    for y in YEARS:
        yield _check(sec, f"{y}: programme = acute reconfiguration table (£000)", (a, "Reconfiguration programme", y),
                     [(f"capital|acute_reconfiguration|TOTAL|{y}", 0.001)],
                     m_against_thousands(len(item_rows(f, "acute_reconfiguration"))))
    yield _check(sec, "Site disposal = acute reconfiguration table disposals (£000)", (a, "Site disposal", "Total"),
                 [("capital|acute_reconfiguration|TOTAL|Disposals", 0.001)], m_against_thousands(1))


def community_funding_checks(f: Figures) -> Iterator[Check]:
    """Community funding summary (£m): row totals and the two requirements of the waterfall."""
    c, sec = "community_funding", "Community configuration funding (£m)"
    for r in (*COMMUNITY_SCHEMES, *COMMUNITY_SOURCES):
        present = [col for col in COMMUNITY_FUNDING_COLUMNS if (c, r, col) in f]
        terms = ([(f"funding|community|{r}|Total", 1.0)] if r in COMMUNITY_SOURCES
                 else [(f"figure|{c}|{r}|{col}", 1.0) for col in present])
        yield _check(sec, f"{r}: total = sum of years", (c, r, "Total"), terms, total_of_items("£m", max(len(present), 1)))
    n_s = len(COMMUNITY_SCHEMES)
    for col in (*COMMUNITY_FUNDING_COLUMNS, "Total"):
        years = 1 if col != "Total" else 5
        yield _check(sec, f"{col}: external requirement = sum of schemes", (c, "External Funding Requirement", col),
                     [(f"funding|community|External funding requirement|{col}", 1.0)], total_of_items("£m", n_s * years))
        yield _check(sec, f"{col}: DH requirement = external requirement less alternative funding",
                     (c, "DH funding requirement", col), [(f"funding|community|DH funding requirement|{col}", 1.0)],
                     total_of_items("£m", (n_s + 3) * years))


def community_against_capital_checks(f: Figures) -> Iterator[Check]:
    """Community funding summary (£m) against the capital tables (£000): each scheme, the external
    requirement and the disposals."""
    c, sec = "community_funding", "Community configuration funding (£m)"
    for scheme, parts in COMMUNITY_SCHEMES.items():
        for col in (*YEARS, "Total"):
            years = YEARS if col == "Total" else (col,)
            if f.get(c, scheme, col) == 0 and all(f.get(t, r, y) == 0 for t, r in parts for y in years):
                continue  # nothing in either table for this year
            terms = [(f"capital|{t}|{r}|{y}", 0.001) for t, r in parts for y in years]
            yield _check(sec, f"{scheme}, {col}: = capital tables (£000)", (c, scheme, col), terms,
                         m_against_thousands(len(terms)))
    n_s, tables = len(COMMUNITY_SCHEMES), COMMUNITY_CAPITAL_TABLES
    for y in YEARS:
        # the stated figure adds up to eight rounded scheme figures: each may be half a unit out
        yield _check(sec, f"{y}: external requirement = community, Hinckley, Oakham & Lutterworth and other schemes tables (£000)",
                     (c, "External Funding Requirement", y), [(f"capital|{t}|TOTAL|{y}", 0.001) for t in tables],
                     m_total_against_thousand_totals(n_s, len(tables)))
    yield _check(sec, "Total external requirement = those capital tables' total cost (£000)",
                 (c, "External Funding Requirement", "Total"), [(f"capital|{t}|cost", 0.001) for t in tables],
                 m_total_against_thousand_totals(n_s, len(tables)))
    yield _check(sec, "Disposals = disposal proceeds of the community, Hinckley and Oakham & Lutterworth tables (£000)",
                 (c, "Disposals", "Total"), [(f"capital|{t}|TOTAL|Disposals", 0.001) for t in COMMUNITY_DISPOSAL_TABLES],
                 m_against_thousands(len(COMMUNITY_DISPOSAL_TABLES)))


def total_requirement_checks(f: Figures) -> Iterator[Check]:
    """Summary of total requirement (£m) against the funding waterfalls, and the capital totals the
    text states."""
    t, sec = "total_requirement", "Summary of total requirement (£m)"
    n_s = len(COMMUNITY_SCHEMES)
    acute_dh, community_dh = "funding|acute|DH funding requirement|Total", "funding|community|DH funding requirement|Total"
    yield _check(sec, "UHL reconfiguration = acute external funding requirement", (t, "UHL Reconfiguration", "£m"),
                 [("funding|acute|External funding requirement|Total", 1.0)], total_of_items("£m", 18))
    yield _check(sec, "UHL alternative funding = site disposal + PF2 + Welcome Centre", (t, "Less: Alternative funding (UHL)", "£m"),
                 [(f"funding|acute|{s}|Total", 1.0) for s in ACUTE_SOURCES], total_of_items("£m", 5))
    yield _check(sec, "Total UHL DH requirement = acute DH requirement (from line items)", (t, "Total UHL DH requirement", "£m"),
                 [(acute_dh, 1.0)], total_of_items("£m", 23))
    yield _check(sec, "Total UHL DH requirement = the acute table's DH total (same figure, two tables)",
                 (t, "Total UHL DH requirement", "£m"), [("figure|acute_funding|DH funding requirement|Total", 1.0)],
                 same_figure("£m"))
    yield _check(sec, "Community & CAMHS = community external funding requirement",
                 (t, "Community Hospital & CAMHS reconfiguration", "£m"),
                 [("funding|community|External funding requirement|Total", 1.0)], total_of_items("£m", n_s * 5))
    yield _check(sec, "Community alternative funding = disposals + commercial + local authority",
                 (t, "Less: Alternative funding (Community)", "£m"),
                 [(f"funding|community|{s}|Total", 1.0) for s in COMMUNITY_SOURCES], total_of_items("£m", 15))
    yield _check(sec, "Total community DH requirement = community DH requirement (from line items)",
                 (t, "Total Community DH requirement", "£m"), [(community_dh, 1.0)], total_of_items("£m", (n_s + 3) * 5))
    yield _check(sec, "Total LLR DH requirement = acute + community DH requirement (from line items)",
                 (t, "Total LLR DH Capital requirement", "£m"), [(acute_dh, 1.0), (community_dh, 1.0)],
                 total_of_items("£m", 23 + (n_s + 3) * 5))
    yield _check(sec, "Total LLR capital (plan on a page) = all capital programme tables (£000)",
                 ("narrative", "Capital required", "Plan on a page"), [(f"capital|{k}|cost", 0.001) for k in CAPITAL_TABLES],
                 whole_m_against(thousands=len(CAPITAL_TABLES)))
    yield _check(sec, "Total capital requirement (text) = acute programme 2017/18-2020/21 (£000) + community external requirement",
                 ("narrative", "Capital required", "Summary of Overall Capital Requirement"),
                 [("capital|acute_reconfiguration|cost", 0.001), ("funding|community|External funding requirement|Total", 1.0)],
                 total_of_items("£m", n_s * 5) + THOUSAND_IN_M * ACUTE_SCHEME_COSTS)


def stf_checks(f: Figures) -> Iterator[Check]:
    """STF investment (£000): the totals rows, and the figures the text gives in £m."""
    s, sec = "stf_investment", "STF investment (£000)"
    n_l = len(stf_lines(f))
    for y in YEARS:
        yield _check(sec, f"{y} non-recurrent: total = sum of lines", (s, "Total", f"{y} Non Rec"), [(f"stf|Non Rec|{y}", 1.0)],
                     total_of_items("£000", n_l))
        yield _check(sec, f"{y} recurrent: total = sum of lines", (s, "Total", f"{y} Rec"), [(f"stf|Rec|{y}", 1.0)],
                     total_of_items("£000", n_l))
        yield _check(sec, f"{y}: non-recurrent + recurrent = sum of lines", (s, "Total Non Recurrent and Recurrent", f"{y} Total"),
                     [(f"stf|Total|{y}", 1.0)], total_of_items("£000", 2 * n_l))
    yield _check(sec, "STF 2020/21 in the text (£m) = investment table 2020/21 (£000)",
                 ("narrative", "STF net investment 2020/21", "2020/21"), [("stf|Total|2020/21", 0.001)],
                 m_against_thousands(2 * n_l))
    yield _check(sec, "STF requested over five years (plan on a page, £m) = investment table total (£000)",
                 ("narrative", "STF investment requested over five years", "Total"), [("stf|Total|Total", 0.001)],
                 m_against_thousands(8 * n_l))


def savings_and_gap_checks(f: Figures) -> Iterator[Check]:
    """Savings and the gap (£m): strand 2 from its parts, the strands' total, the gap bridge, the
    figures printed twice and the acute ROI."""
    sv, sec = "strand_savings", "Savings and gap (£m)"
    yield _check(sec, "Strand 2 net (heading) = gross (acute + community) less capital charges", (sv, STRAND_2, "Net"),
                 [("savings|strand2|net", 1.0)], total_of_items("£m", 3))
    yield _check(sec, "Strand 2 net (text) = gross (acute + community) less capital charges", (sv, STRAND_2, "Net (text)"),
                 [("savings|strand2|net", 1.0)], total_of_items("£m", 3))
    yield _check(sec, "Strand 2 net: heading = text (same figure, two places)", (sv, STRAND_2, "Net"),
                 [(f"figure|{sv}|{STRAND_2}|Net (text)", 1.0)], same_figure("£m"))
    yield _check(sec, "Acute reconfiguration saving: plan text = strand 2 text",
                 ("narrative", "Acute reconfiguration gross saving", "a year"),
                 [(f"figure|{sv}|{STRAND_2}|Gross: acute reconfiguration", 1.0)], same_figure("£m"))
    yield _check(sec, "Savings across the five strands = sum of strand net savings",
                 ("narrative", "Savings across five priority areas", "Total"), [("savings|strands|total", 1.0)],
                 total_of_items("£m", 5))
    yield _check(sec, "'Do nothing' gap = health + social care", ("narrative", "Do nothing gap by 2020/21", "Total"),
                 [("bridge|Do nothing gap", 1.0)], total_of_items("£m", 2))
    yield _check(sec, "Net gap after STF = 'do nothing' gap less STF 2020/21", ("narrative", "Net gap after STF", "Total"),
                 [("bridge|Do nothing gap", 1.0), ("bridge|STF funding", 1.0)], whole_m_against(tenths=3))
    yield _check(sec, "Net saving after STF = strand net savings less STF investment 2020/21",
                 ("narrative", "Net saving after STF", "Total"),
                 [("savings|strands|total", 1.0), ("bridge|Investment", -1.0)], whole_m_against(tenths=6))
    yield _check(sec, "Spend on health and social care 2016/17: plan on a page = finance section (same figure, two places)",
                 ("narrative", "Spend on health and social care 2016/17", "Plan on a page"),
                 [("figure|narrative|Spend on health and social care 2016/17|Finance: How we spend our money", 1.0)],
                 whole_m_against(whole=1))
    yield _check(sec, "Acute ROI (%) = annual gross saving / net capital requirement (net of disposals)",
                 ("acute_reconfiguration_summary", "ROI", "Value"), [("appraisal|acute|roi", 100.0)], roi_rounding())


def org_growth_checks(f: Figures) -> Iterator[Check]:
    """Organisational growth (%): net planned growth = 'do nothing' growth less savings."""
    og = "org_growth"
    for org in f.rows(og):
        yield _check("Organisational growth (%)", f"{org}: net planned growth = 'do nothing' growth less savings schemes",
                     (og, org, "Net Planned Growth"),
                     [(f"figure|{og}|{org}|Do Nothing Growth", 1.0), (f"figure|{og}|{org}|Savings Schemes", -1.0)],
                     hundredths_against_whole_percents(2))


#: The sections of the checks, in the order of the Checks sheet.
SECTIONS = (capital_checks, acute_funding_checks, acute_against_capital_checks, community_funding_checks,
            community_against_capital_checks, total_requirement_checks, stf_checks, savings_and_gap_checks,
            org_growth_checks)


def checks(figures: Figures) -> list[Check]:
    """Every check of the plan whose stated figure is published, in the order of the Checks sheet."""
    return [c for section in SECTIONS for c in section(figures) if c.stated in figures]


def check_results(figures: Figures | None = None) -> list[CheckResult]:
    f = figures or Figures.load()
    plan = LLRPlan(f)
    return [c.result(plan) for c in checks(f)]

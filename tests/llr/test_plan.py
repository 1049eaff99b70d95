"""The LLR STP 2016 rebuilt from its transcribed line items (xl_stp.llr.plan).

Each published total is recomputed from its line items with the core. Where the document's total
differs from its items, the test asserts the computed value and that reconciliation reports the
difference; inputs are never edited to make a total match.
"""

from __future__ import annotations

import numpy as np
import pytest

from xl_stp import reconcile
from xl_stp.llr import ACUTE_FUNDING_COLUMNS, Figures, LLRPlan


@pytest.fixture(scope="module")
def figures() -> Figures:
    return Figures.load()


@pytest.fixture(scope="module")
def plan(figures) -> LLRPlan:
    return LLRPlan(figures)


# ---- capital programme tables (£000) -----------------------------------------------------------

@pytest.mark.parametrize("table, by_year, disposals, cost, net", [
    ("acute_reconfiguration", [29_390, 52_203, 88_989, 109_000], -28_350, 279_582, 251_232),
    ("community_hospitals", [0, 8_600, 3_850, 7_500], -14_000, 19_950, 5_950),
    ("hinckley", [0, 7_701, 0, 0], -2_000, 7_701, 5_701),
    ("oakham_lutterworth", [0, 0, 1_350, 1_000], -4_758, 2_350, -2_408),
    ("epr", [26_751, 1_605, 0, 0], 0, 28_356, 28_356),
    ("other_schemes", [2_000, 8_000, 0, 2_000], 0, 12_000, 12_000),
])
def test_capital_tables_rebuilt_from_line_items(plan, table, by_year, disposals, cost, net):
    r = plan.capital[table]
    assert r.cost_by_year.tolist() == by_year
    assert -r.total_disposals == pytest.approx(disposals) or r.total_disposals == pytest.approx(disposals)
    assert r.total_cost == cost
    assert r.total_net == net


def test_acute_table_totals_differ_from_their_items_by_rounding(figures, plan):
    """The acute table states 279,581 and 29,389 for 2017/18; its items add to 279,582 and 29,390."""
    acute = plan.capital["acute_reconfiguration"]
    stated_cost = figures.value("acute_reconfiguration_summary", "Total Estate Reconfiguration Capital Cost", "Value")
    assert (stated_cost, acute.total_cost) == (279_581, 279_582)
    r = reconcile(stated_cost, computed=acute.total_cost, n_items=11)
    assert r.difference == -1 and r.status == "within rounding"
    column = reconcile(figures.value("acute_reconfiguration", "TOTAL ACUTE HOSPITAL RECONFIGURATION CAPITAL", "2017/18"),
                       items=figures.block("acute_reconfiguration", plan.capital_rows["acute_reconfiguration"], ["2017/18"]))
    assert (column.stated, column.computed, column.difference) == (29_389, 29_390, -1)


def test_oakham_and_lutterworth_net_requirement_is_negative(plan):
    """Disposal proceeds (4,758) exceed the cost (2,350): a negative net requirement is valid."""
    assert plan.capital["oakham_lutterworth"].total_net == -2_408


# ---- funding summaries (£m) --------------------------------------------------------------------

def test_acute_funding_waterfall(plan, figures):
    w = plan.acute_funding
    np.testing.assert_allclose(w.external_requirement, [0, 16.0, 24.7, 43.0, 70.4, 98.2], atol=1e-9)
    np.testing.assert_allclose(w.dh_requirement, [0, 16.0, 24.7, 43.0, 41.2, -10.4], atol=1e-9)
    assert w.external_requirement.sum() == pytest.approx(252.3)
    assert w.dh_requirement.sum() == pytest.approx(114.5)
    # 2020/21 is over-funded: sources exceed the external requirement, and it is said.
    assert w.over_funded.tolist() == [False, False, False, False, False, True]
    assert w.warnings()[0].startswith("year 6: DH funding requirement is negative (10.4)")
    # PF2: 27.2 + 70.2 = 97.4, the table states (97.3)
    pf2 = reconcile(figures.value("acute_funding", "PF2", "Total"), items=figures.block("acute_funding", ["PF2"], ACUTE_FUNDING_COLUMNS), unit=0.1)
    assert pf2.computed == pytest.approx(-97.4) and pf2.difference == pytest.approx(0.1) and pf2.status == "within rounding"


def test_community_funding_waterfall(plan):
    w = plan.community_funding
    np.testing.assert_allclose(w.external_requirement, [0, 2.0, 16.3, 5.3, 18.5], atol=1e-9)
    np.testing.assert_allclose(w.dh_requirement, [0, 0, 6.9, 4.3, 2.7], atol=1e-9)
    assert w.external_requirement.sum() == pytest.approx(42.1)
    assert w.dh_requirement.sum() == pytest.approx(13.9)
    assert w.alternative_funding.sum() == pytest.approx(28.2)


def test_total_llr_dh_requirement(plan, figures):
    """Summary of total requirement: 114.6 + 13.9 = 128.5 as stated; from line items the acute DH
    requirement is 114.5 (the acute table's own DH row), so the LLR total is 128.4."""
    computed = plan.acute_funding.dh_requirement.sum() + plan.community_funding.dh_requirement.sum()
    assert computed == pytest.approx(128.4)
    stated = figures.value("total_requirement", "Total LLR DH Capital requirement", "£m")
    r = reconcile(stated, computed=computed, unit=0.1, n_items=2)
    assert r.difference == pytest.approx(0.1) and r.status == "within rounding"


def test_funding_quantities_are_the_waterfall_tables(plan):
    """Each funding quantity is a cell of the waterfall's table: programmes summed by year, then the Total."""
    q = plan.quantities
    labels, table = plan.community_funding.table()
    for label, row in zip(labels, table):
        assert [q[f"funding|community|{label}|{c}"] for c in ("2016/17", "2017/18", "2018/19", "2019/20", "2020/21", "Total")] \
            == row.tolist()
    assert q["funding|acute|DH funding requirement|Total"] == pytest.approx(114.5)


# ---- STF, savings, gap -------------------------------------------------------------------------

def test_stf_investment_table(plan):
    s = plan.stf
    assert s.non_recurrent.tolist() == [7_950, 5_400, 3_000, 0]
    assert s.recurrent.tolist() == [16_700, 19_000, 22_150, 66_000]
    assert s.total.tolist() == [24_650, 24_400, 25_150, 66_000]
    assert len(plan.stf_lines) == 17


def test_strand_savings_and_the_gap_bridge(plan):
    assert plan.strand2.net.sum() == pytest.approx(19.1)  # 25.6 + 8.6 - 15.1
    assert plan.strand_net.sum() == pytest.approx(411.5)  # 54 + 18.9 + 33 + 288 + 17.6; the plan says 412.9
    labels, table = plan.bridge.table()
    assert labels[0] == "Do nothing gap" and table[0, -1] == pytest.approx(399.3)
    assert labels[-1] == "Residual gap" and table[-1, -1] == pytest.approx(399.3 - 411.5 + 66 - 66)

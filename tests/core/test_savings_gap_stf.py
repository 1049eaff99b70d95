import numpy as np
import pytest

from xl_stp import STPError, do_nothing_gap, gap_bridge, net_savings, stf_totals


def test_net_savings_definition():
    s = net_savings([[100, 200], [50, 50]], investment=[[10, 10], [0, 5]], capital_charges=[[0, 20], [0, 0]], delivery=[[0.5], [1.0]])
    assert s.risk_adjusted.tolist() == [[50, 100], [50, 50]]
    assert s.net.tolist() == [[40, 70], [50, 45]]
    assert s.net_by_strand.tolist() == [110, 95]
    assert s.net_by_year.tolist() == [90, 115]


def test_llr_strand_2_gross_less_capital_charges():
    # acute reconfiguration 25.6m + community 8.6m gross, less capital charges 15.1m (£000)
    s = net_savings([[25_600], [8_600]], capital_charges=[[15_100], [0]])
    assert s.net.sum() == 19_100


@pytest.mark.parametrize("delivery, message, at", [
    (2.5, "delivery: 2.5 is 250%; type 2.5% or 0.025", (0, 0)),
    (50, "delivery: 50 is 5000%; type 50% or 0.5", (0, 0)),
    (-0.1, "delivery: -0.1 is -10%; expected a share from 0% to 100% (0 to 1)", (0, 0)),
    ([[0.5, 1.2]], "delivery: 1.2 in year 2 is 120%; type 1.2% or 0.012", (0, 1)),
    ([[0.5], [80]], "delivery: 80 in strand 2 is 8000%; type 80% or 0.8", (1, 0)),
])
def test_delivery_outside_0_to_100_percent(delivery, message, at):
    gross = [[100, 200]] if np.ndim(delivery) < 2 or np.shape(delivery)[0] == 1 else [[100, 200], [10, 20]]
    with pytest.raises(STPError) as e:
        net_savings(gross, delivery=delivery)
    assert str(e.value) == message and e.value.at == at and e.value.argument == "delivery"


@pytest.mark.parametrize("delivery, expected", [
    (0.5, [[50, 100, 150, 200], [5, 10, 15, 20]]),  # one, for every strand and year
    ([[0.5]], [[50, 100, 150, 200], [5, 10, 15, 20]]),  # one, as a cell of a range
    ([[0.5], [1.0]], [[50, 100, 150, 200], [10, 20, 30, 40]]),  # per strand: a column
    ([[0.5, 0.5, 1.0, 1.0]], [[50, 100, 300, 400], [5, 10, 30, 40]]),  # per year: a row, for every strand
    ([[0.5, 0.5, 0.5, 0.5], [1.0, 1.0, 1.0, 0.0]], [[50, 100, 150, 200], [10, 20, 30, 0]]),  # per strand and year
])
def test_delivery_in_every_form(delivery, expected):
    s = net_savings([[100, 200, 300, 400], [10, 20, 30, 40]], delivery=delivery)
    assert s.net.tolist() == expected


def test_one_investment_figure_for_several_strands_is_refused():
    with pytest.raises(STPError, match="investment: has 1 strand, gross has 2"):
        net_savings([[100, 200], [10, 20]], investment=[[5.0]])


def test_do_nothing_gap_compounds_growth():
    dn = do_nothing_gap([1000.0], funding_growth=0.02, cost_growth=[0.05, 0.04, 0.03], years=3)
    cost = 1000 * np.cumprod([1.05, 1.04, 1.03])
    funding = 1000 * 1.02 ** np.arange(1, 4)
    assert np.allclose(dn.gap[0], cost - funding)
    assert dn.gap[0][0] == pytest.approx(30.0)


def test_do_nothing_from_a_deficit_and_by_sector():
    dn = do_nothing_gap([2000, 500], funding_growth=[[0.02], [0.0]], cost_growth=0.03, years=["2017/18", "2018/19"],
                        baseline_funding=[1990, 500])
    assert dn.gap[0, 0] == pytest.approx(2000 * 1.03 - 1990 * 1.02)
    assert dn.gap[1].tolist() == pytest.approx([15.0, 30.45])
    assert dn.gap_by_year.shape == (2,)


def test_bridge_steps_and_residual():
    b = gap_bridge([[100, 200], [10, 20]], savings=[[30, 60], [20, 40]], investment=[5, 5], stf=[10, 10],
                   strand_names=["New models of care", "Service configuration"])
    labels, table = b.table()
    assert labels == ["Do nothing gap", "New models of care", "Service configuration", "Investment", "STF funding", "Residual gap"]
    assert b.residual.tolist() == [55, 115]
    assert table[-1].tolist() == [55, 115, 170]


def test_llr_stf_2017_18_column():
    # LLR investment requirements for transformation, 2017/18 (£000): Non Rec 7,950, Rec 16,700
    non_rec = [0, 0, 0, 0, 500, 300, 0, 2000, 200, 0, 500, 200, 250, 0, 1000, 3000]
    rec = [3500, 4000, 750, 500, 1000, 700, 1750, 0, 1500, 2000, 0, 0, 0, 1000, 0, 0]
    t = stf_totals(np.array(non_rec)[:, None], np.array(rec)[:, None])
    assert t.non_recurrent.tolist() == [7950]
    assert t.recurrent.tolist() == [16700]
    assert t.total.tolist() == [24650]


@pytest.mark.parametrize("call, message", [
    (lambda: gap_bridge([1, 2, 3], [[1, 2]]), "savings: has 2 years, do_nothing has 3"),
    (lambda: do_nothing_gap([100], 0.02, [0.01, 0.02], 3), "cost_growth: has 2 values; expected one value, 3 in a row (one per year)"),
    (lambda: do_nothing_gap([100, 50], 0.02, [[0.01, 0.02]], 3), "cost_growth: is 1 rows by 2 columns; expected one value, 3 in a row "
                                                               "(one per year), 2 in a column (one per sector) or 2 rows of 3"),
    (lambda: do_nothing_gap([100], 0.02, -1.5, 3), "cost_growth: -1.5 is -150% a year; type -1.5% or -0.015"),
    (lambda: do_nothing_gap([100], 0.02, -150, 3), "cost_growth: -150 is -15000% a year; expected a growth rate above -100% and at most 100% a year"),
    (lambda: do_nothing_gap([100], 0.02, -1, 3), "cost_growth: -1 is -100% a year; type -1% or -0.01"),
    (lambda: do_nothing_gap([100], 4, 0.03, 3), "funding_growth: 4 is 400% a year; type 4% or 0.04"),
    (lambda: do_nothing_gap([100], 0.02, [[0.03, 0.03, 3.5]], 3), "cost_growth: 3.5 in year 3 is 350% a year; type 3.5% or 0.035"),
    (lambda: do_nothing_gap([100, 50], 0.02, [[0.03], [3.5]], 3), "cost_growth: 3.5 in sector 2 is 350% a year; type 3.5% or 0.035"),
    (lambda: do_nothing_gap([100], 0.02, 0.03, 0), "years: expected a number of years"),
    (lambda: do_nothing_gap([1e300], 0.02, 1.0, 1000), "cost_growth: grows the baseline past the largest number"),
    (lambda: do_nothing_gap([1e300], 1.0, 0.0, 1000), "funding_growth: grows the baseline past the largest number"),
    (lambda: stf_totals([[1, 2]], [[1, 2, 3]]), "recurrent: has 3 years, non_recurrent has 2"),
    (lambda: stf_totals([[1, 2]], [[1, 2], [3, 4]]), "recurrent: has 2 lines, non_recurrent has 1"),
    (lambda: net_savings([[1, 2]], investment=[[1, 2, 3]]), "investment: has 3 years, gross has 2"),
])
def test_bad_input_named(call, message):
    with pytest.raises(STPError) as e:
        call()
    assert message in str(e.value)

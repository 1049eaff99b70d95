import numpy as np
import pytest

from xl_stp import STPError, capital_net

# LLR Hinckley & District table (£000): three schemes in 2018/19 and one disposal.
HINCKLEY_COSTS = [[0, 4236, 0, 0], [0, 300, 0, 0], [0, 3165, 0, 0], [0, 0, 0, 0]]
HINCKLEY_DISPOSALS = [0, 0, 0, -2000]


def test_hinckley_published_totals():
    r = capital_net(HINCKLEY_COSTS, HINCKLEY_DISPOSALS)
    assert r.total_cost == 7701
    assert r.total_disposals == -2000
    assert r.total_net == 5701
    assert r.cost_by_year.tolist() == [0, 7701, 0, 0]
    assert r.net_by_scheme.tolist() == [4236, 300, 3165, -2000]
    # table: years, Disposals, Total; last row is the TOTAL row as published
    assert r.table()[-1].tolist() == [0, 7701, 0, 0, -2000, 5701]


def test_disposals_entered_positive_or_in_brackets_give_the_same_answer():
    a = capital_net(HINCKLEY_COSTS, HINCKLEY_DISPOSALS)
    b = capital_net(HINCKLEY_COSTS, [0, 0, 0, 2000])
    assert a.total_net == b.total_net == 5701


def test_negative_net_requirement_is_valid():
    # Oakham & Lutterworth: cost 2,350, disposal 4,758 at net book value -> (2,408)
    r = capital_net([[0, 0, 1000, 0], [0, 0, 350, 0], [0, 0, 0, 0], [0, 0, 0, 1000]], [0, 0, 4758, 0])
    assert r.total_net == -2408
    assert r.net_by_scheme[2] == -4758


def test_phased_disposals_give_net_by_year():
    r = capital_net([[100, 200, 300]], [[0, 0, -450]])
    assert r.disposals_phased
    assert r.net_by_year.tolist() == [100, 200, -150]


def test_unphased_disposals_cannot_be_shown_by_year():
    with pytest.raises(STPError, match="disposals: proceeds were given without a year"):
        capital_net([[100, 200, 300], [1, 2, 3]], [10, 0]).disposals_by_year


@pytest.mark.parametrize("disposals, message", [
    ([1, 2, 3], "disposals: has 3 values; costs has 2 schemes"),
    ([[1, 2], [3, 4], [5, 6]], "disposals: has 3 schemes, costs has 2"),
    ([[1, 2], [3, 4]], "disposals: has 2 years, costs has 3"),
    ([5, -5], "disposals: mixes positive and negative"),
    (7, "disposals: is a single value but costs has 2 schemes"),
    ([float("nan"), 0], "disposals: expected a finite number at position 1, found NaN"),
    (["lots", 0], "disposals: expected a number at position 1, found text 'lots'"),
])
def test_bad_disposals_are_named(disposals, message):
    with pytest.raises(STPError) as e:
        capital_net([[1, 2, 3], [4, 5, 6]], disposals)
    assert message in str(e.value)


def test_costs_with_infinity_or_text():
    with pytest.raises(STPError, match=r"costs: expected a finite number at row 1, column 2, found an infinite value"):
        capital_net([[1, np.inf]], 0)
    with pytest.raises(STPError, match=r"costs: expected a number at row 2, column 1, found text"):
        capital_net([[1, 2], ["x", 3]], [0, 0])

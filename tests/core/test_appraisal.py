import math

import numpy as np
import pytest

from xl_stp import STPError, capital_charges, discount_factors, green_book_rates, npv, payback, roi


def test_green_book_schedule_declines_after_year_30():
    r = green_book_rates(80)
    assert r[0] == 0.035 and r[29] == 0.035 and r[30] == 0.030 and r[74] == 0.030 and r[75] == 0.025
    df = discount_factors(40)
    assert df[30] == pytest.approx(1.035 ** -30)
    assert df[31] == pytest.approx(1.035 ** -30 / 1.03)


def test_npv_hand_computed_and_flat_rate():
    assert npv([-100, 50, 60]).value == pytest.approx(-100 + 50 / 1.035 + 60 / 1.035 ** 2)
    assert npv([-100, 110], rate=0.10).value == pytest.approx(0.0)
    assert "Green Book" in npv([1, 2]).basis and "10.00%" in npv([1, 2], rate=0.1).basis
    assert np.allclose(npv([[1, 1], [2, 2]], rate=0.0).value, [2, 4])


def test_llr_roi_bases():
    # Acute: 25.6m a year on the net requirement 251,231 -> the published 10.20%
    acute = roi(25_600, 279_581, disposals=28_350, basis="net")
    assert round(float(acute.value) * 100, 1) == 10.2
    assert "net of disposal proceeds" in acute.basis
    # Community hospitals: ROI 15.6% and payback 6.39 years, "based on investment before disposal proceeds"
    implied_saving = 19_950 / 6.39
    assert round(float(roi(implied_saving, 19_950, disposals=14_000).value) * 100, 1) == 15.6
    assert "before disposal proceeds" in roi(1, 2).basis


def test_payback_simple_discounted_and_never():
    assert payback(1000, 250).value == 4.0
    assert payback(100, [10, 20, 30, 40, 50]).value == pytest.approx(4.0)
    assert payback(100, [50, 100]).value == pytest.approx(1.5)
    d = payback(1000, 250, basis="discounted")
    assert 4 < d.value < 5 and "discounted" in d.basis
    assert payback(5701, 360, cost_basis="net").value == pytest.approx(5701 / 360)
    assert math.isinf(payback(1000, [10, 10]).value)


def test_capital_charges_hand_computed():
    cc = capital_charges([100, 0, 0, 0], life=2)
    assert cc.depreciation[0].tolist() == [0, 50, 50, 0]
    assert cc.net_book_value[0].tolist() == [100, 50, 0, 0]
    assert cc.pdc_dividend[0].tolist() == pytest.approx([0.035 * 50, 0.035 * 75, 0.035 * 25, 0])
    assert cc.total.sum() == pytest.approx(100 + 0.035 * 150)


def test_capital_charges_per_scheme_lives_and_no_lag():
    cc = capital_charges([[90, 0, 0], [60, 0, 0]], life=[3, 2], pdc_rate=0, in_use_lag=0)
    assert cc.depreciation.tolist() == [[30, 30, 30], [30, 30, 0]]


@pytest.mark.parametrize("call, message", [
    (lambda: capital_charges([100, 0], life=0), "life: expected an asset life of one year or more, found 0"),
    (lambda: capital_charges([100, 0], life=-5), "life: expected an asset life of one year or more, found -5"),
    (lambda: capital_charges([100, 0], life=2.5), "life: expected a whole number of years"),
    (lambda: capital_charges([100, 0], life=5, pdc_rate=3.5), "pdc_rate: 3.5 is 350% a year; type 3.5% or 0.035"),
    (lambda: capital_charges([100, 0], life=5, pdc_rate=-0.01), "pdc_rate: -0.01 is -1% a year; expected a PDC dividend rate from 0%"),
    (lambda: npv([1, 2], rate=3.5), "rate: 3.5 is 350% a year; type 3.5% or 0.035"),
    (lambda: capital_charges([[100, 0], [5, 5]], life=[5, 0]), "life: expected an asset life of one year or more, found 0 in scheme 2"),
    (lambda: roi(10, 100, basis="sideways"), "basis: expected 'gross'"),
    (lambda: roi(10, 100, disposals=150, basis="net"), "capital_cost: the investment (capital cost net of disposal proceeds) must be more than zero"),
    (lambda: payback(100, 10, basis="lazy"), "basis: expected 'simple' or 'discounted'"),
    (lambda: npv([1, "x"]), "cashflows: expected a number at position 2, found text 'x'"),
])
def test_bad_appraisal_input(call, message):
    with pytest.raises(STPError) as e:
        call()
    assert message in str(e.value)


def test_absurd_asset_life_and_overflowing_roi_are_named():
    from xl_stp import STPError, capital_charges, roi
    with pytest.raises(STPError, match="life: expected an asset life of at most 200 years, found 1e\\+300"):
        capital_charges([100.0], 1e300)
    with pytest.raises(STPError, match="capital_cost: is too small against the saving"):
        roi(1e308, 1e-300)

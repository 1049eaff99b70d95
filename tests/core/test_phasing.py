import numpy as np
import pytest

from xl_stp import STPError, phase, profile_weights, rephase


def test_named_profiles_hand_computed():
    assert phase(1000, "straight", 4).tolist() == [250, 250, 250, 250]
    assert phase(600, "front", 3).tolist() == [300, 200, 100]
    assert phase(600, "back", 3).tolist() == [100, 200, 300]
    s = phase(1000, "s-curve", 5)
    assert s.sum() == pytest.approx(1000)
    assert s[2] == s.max() and s[0] == pytest.approx(s[4])  # bell-shaped spend: S-shaped cumulative
    assert np.all(np.diff(np.cumsum(s)) > 0)


def test_custom_weights_from_a_business_case():
    assert phase(57_609, [1728, 2880, 19001, 34000]).round(0).tolist() == [1728, 2880, 19001, 34000]


def test_start_delays_and_horizon_keeps_the_total():
    assert phase(8600, "straight", 2, start=1, horizon=4).tolist() == [0, 4300, 4300, 0]
    # slips past the horizon: the remainder lands in the last year, nothing is lost
    assert phase(900, "straight", 3, start=2, horizon=3).tolist() == [0, 0, 900]
    assert phase(900, "straight", 3, start=5, horizon=3).tolist() == [0, 0, 900]


def test_rounded_phasing_adds_back_exactly():
    out = phase([1000, 7, 12_345], "s-curve", 7, decimals=0)
    assert out.sum(axis=1).tolist() == [1000, 7, 12_345]
    assert np.all(out == np.round(out))


def test_rephase_whole_and_fractional_years():
    assert rephase([0, 4300, 4300, 0], 1).tolist() == [0, 0, 4300, 4300]
    assert rephase([100, 0, 0], 0.5).tolist() == [50, 50, 0]
    assert rephase([100, 200, 300], 2).tolist() == [0, 0, 600]  # beyond the horizon -> last year
    assert rephase([100, 200, 300], 1, horizon=4).tolist() == [0, 100, 200, 300]


@pytest.mark.parametrize("call, message", [
    (lambda: phase(100, "zigzag", 3), "profile: unknown profile 'zigzag'; expected one of straight, front, back, s-curve"),
    (lambda: phase(100, "straight", 0), "years: expected 1 or more, found 0"),
    (lambda: phase(100, "straight", 2.5), "years: expected a whole number, found 2.5"),
    (lambda: phase(100, [1, -1, 2]), "profile: weight 2 is -1; expected weights of zero or more"),
    (lambda: phase(100, [0, 0]), "profile: weights add up to zero"),
    (lambda: phase(100, "straight", 3, start=-1), "start: expected 0 or more, found -1"),
    (lambda: rephase([1, 2], -1), "slip: expected from 0 to 1000 years of delay"),
    (lambda: phase(100, "straight", 10**9), "years: expected at most 1000, found 1000000000"),
    (lambda: profile_weights([1, 2], 3), "profile: has 2 weights but years is 3"),
])
def test_bad_phasing_input(call, message):
    with pytest.raises(STPError) as e:
        call()
    assert message in str(e.value)

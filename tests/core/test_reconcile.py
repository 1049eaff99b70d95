import pytest

from xl_stp import STPError, check, reconcile, rounding_tolerance, to_thousands
from xl_stp.core.reconcile import MISMATCH, NIL, ROUNDING


def test_rounding_tolerance():
    assert rounding_tolerance(11) == 6.0
    assert rounding_tolerance(5, unit=0.1) == pytest.approx(0.3)
    assert rounding_tolerance(5, unit=0.1, total_rounded=False) == pytest.approx(0.25)


def test_statuses():
    assert reconcile(10, items=[4, 6]).status == NIL
    r = reconcile(114.5, computed=114.6, unit=0.1, n_items=5)
    assert r.difference == pytest.approx(-0.1) and r.status == ROUNDING
    bad = reconcile(411.5, items=[54, 18.9, 33, 288, 17.6], unit=0.1)
    assert bad.status == NIL
    worse = reconcile(412.9, items=[54, 18.9, 33, 288, 17.6], unit=0.1, label="Savings")
    assert worse.difference == pytest.approx(1.4) and worse.status == MISMATCH and worse.exceeds_rounding
    assert str(worse) == "Savings: stated 412.9, computed 411.5, difference +1.4 (exceeds rounding)"


def test_check_ok_or_signed_difference():
    assert check(100, 100) == "OK"
    assert check(100, 100.4, tolerance=0.5) == "OK"
    assert check(279_581, 279_582) == -1
    assert check(114.6, 114.5, tolerance=0.01) == pytest.approx(0.1)


def test_units():
    assert to_thousands(29.4, "£m") == pytest.approx(29_400)
    assert to_thousands(2.121, "£bn") == pytest.approx(2_121_000)
    with pytest.raises(STPError, match="units: expected £000, £m or £bn"):
        to_thousands(1, "guineas")


def test_bad_reconcile_input():
    with pytest.raises(STPError, match="items: give either the line items or the computed value"):
        reconcile(1)
    with pytest.raises(STPError, match="tolerance: expected zero or more"):
        check(1, 1, -1)
    with pytest.raises(STPError, match="stated: expected a number, found text"):
        check("lots", 1)

"""The builder's parts on their own: the sheet writer, the Checks sheet's status, the gap bridge's bars."""

from __future__ import annotations

import pytest

from xl_stp.builder.book import Book
from xl_stp.builder.checks import NOT_COMPUTED, status, status_formula
from xl_stp.builder.outputs import floating_bar
from xl_stp.core.reconcile import MISMATCH, NIL, OK, ROUNDING


def test_a_range_is_handed_over_as_excel_hands_it_to_a_function(tmp_path):
    book = Book(tmp_path / "t.xlsx")
    s = book.sheet("Inputs")
    s.value(0, 0, 1.5, "£m")
    s.value(0, 1, 2.0, "£m")
    s.values[(1, 0)] = None  # a blank
    assert book.excel_value("Inputs!$A$1") == 1.5
    assert book.excel_value("Inputs!$A$1:$B$2") == [[1.5, 2.0], [None, None]]
    assert book.excel_value("Inputs!$A$2") is None and book.num("Inputs!$A$2") == 0.0
    assert (book.excel_value('"net"'), book.excel_value("TRUE"), book.excel_value("0")) == ("net", True, 0.0)
    book.close()


def test_the_status_formula_says_what_the_status_is():
    assert (status(OK, 0.5), status(-1.0, 6.0), status(-41.8, 8.55), status("#STP! x", 1.0)) == (
        NIL, ROUNDING, MISMATCH, NOT_COMPUTED)
    text = status_formula("$F$7", "$G$7")
    assert text == ('=IFERROR(IF($F$7="OK","agrees",IF(ABS($F$7)<=$G$7+1E-9,"within rounding","exceeds rounding")),'
                    '"not computed")')
    for word in (OK, NIL, ROUNDING, MISMATCH, NOT_COMPUTED):
        assert f'"{word}"' in text


@pytest.mark.parametrize("before, after, bar", [
    (0.0, 399.3, (0.0, 399.3, 0.0)),       # the 'do nothing' gap, from zero
    (399.3, 345.3, (345.3, 54.0, 0.0)),    # a saving: floats above zero
    (10.0, -5.0, (0.0, 10.0, -5.0)),       # crosses zero: the part above and the part below
    (-5.0, -12.0, (-5.0, 0.0, -7.0)),      # below zero
])
def test_floating_bar(before, after, bar):
    assert floating_bar(before, after) == pytest.approx(bar)

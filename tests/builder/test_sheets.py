"""The builder's parts on their own: the sheet writer (values as Excel works them out, blocks and
their guards), the Checks sheet's status and master check, the gap bridge's bars."""

from __future__ import annotations

import openpyxl
import pytest

from udfs import discover
from xl_stp.builder.book import Block, Book, excel_arithmetic, excel_link, excel_sum
from xl_stp.builder.checks import NOT_COMPUTED, master, status, status_formula
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
    assert book.excel_value("Inputs!$A$2") is None and excel_link(book.excel_value("Inputs!$A$2")) == 0.0
    assert (book.excel_value('"net"'), book.excel_value("TRUE"), book.excel_value("0")) == ("net", True, 0.0)
    book.close()


def test_values_are_worked_out_as_excel_does():
    """SUM skips text and blanks and passes an error on; arithmetic gives #VALUE! for text (an #STP!
    message) and passes an error on; a link to a blank shows 0."""
    assert excel_sum([1.0, None, "#STP! x", 2.5]) == 3.5
    assert excel_sum([1.0, "#N/A", "#VALUE!"]) == "#N/A"
    assert excel_arithmetic([(1.0, 1.0), (None, 1.0), (2.0, -0.5)]) == 0.0
    assert excel_arithmetic([(1.0, 1.0), ("#STP! x", 1.0), ("#N/A", 1.0)]) == "#VALUE!"
    assert excel_arithmetic([("#N/A", 1.0), ("12,000", 1.0)]) == "#N/A"
    assert excel_arithmetic([(1.0, 1.0), ("1.4", 1.0)]) == 2.4 and excel_arithmetic([("12,000", 1.0)]) == "#VALUE!"
    assert (excel_link(None), excel_link("#STP! x"), excel_link(-1.5)) == (0.0, "#STP! x", -1.5)


@pytest.mark.parametrize("disposals, failed", [([2.0, 4.0], False), ([2.0, -4.0], True)])  # mixed signs: refused
def test_a_block_has_an_error_check_and_totals_over_it_are_guarded(tmp_path, disposals, failed):
    """An STP_* call written as a block records its size and how many of its cells do not hold a
    number (a failed call: its message in its cell, the rest blank, as classic Excel shows it); a
    formula reading the block is =IF(err_...>0,NA(),...) and gives #N/A while the block fails."""
    discover()
    book = Book(tmp_path / "t.xlsx", strict=False)
    src = book.sheet("Inputs")
    for i, (cost, disposal) in enumerate(zip([10.0, 30.0], disposals)):
        src.value(i, 0, cost, "£000")
        src.value(i, 1, disposal, "£000")
    calc = book.sheet("Calculations")
    block = calc.udf(0, 1, "STP_CAPITAL_NET", ["Inputs!$A$1:$A$2", "Inputs!$B$1:$B$2", '"net"'], "£000",
                     check=("err_net", "Net: STP_CAPITAL_NET", (2, 1)))
    assert book.blocks["err_net"] == Block("err_net", "Net: STP_CAPITAL_NET", "Calculations!B1", "$B$1:$B$2", 2 if failed else 0)
    assert block[0][0].startswith("#STP! disposals") if failed else block == [[8.0], [26.0]]
    assert book.blocks_read(["Calculations!$B$2", "Inputs!$A$1"]) == ["err_net"]
    assert book.blocks_read(["Calculations!$C$1:$C$2", "Inputs!$A$1:$B$2"]) == []
    total = calc.row_sum(0, 1, 1, "£000")  # =SUM over the block's first row, in C1
    link = calc.guarded(1, 2, "Inputs!$A$1", ["Inputs!$A$1"], 10.0, "£000")  # reads no block: not guarded
    assert (total, link) == ("#N/A" if failed else 8.0, 10.0)
    if not failed:
        with pytest.raises(RuntimeError, match="spills 2 x 1, the layout expects 3 x 1"):
            calc.udf(5, 1, "STP_CAPITAL_NET", ["Inputs!$A$1:$A$2", "Inputs!$B$1:$B$2", '"net"'], "£000",
                     check=("err_other", "Net again", (3, 1)))
    book.close()
    formulas = openpyxl.load_workbook(tmp_path / "t.xlsx")["Calculations"]
    assert (formulas["C1"].value, formulas["C2"].value) == ("=IF(err_net>0,NA(),SUM($B$1:$B$1))", "=Inputs!$A$1")


def test_the_master_check_says_the_worst_first():
    assert master(0, 0, 0) == OK and master(0, 0, 9) == "9 checks exceed rounding"
    assert master(0, 1, 9) == "1 check not computed" and master(0, 24, 0) == "24 checks not computed"
    assert master(1, 24, 9) == "1 function reports a problem" and master(2, 0, 0) == "2 functions report a problem"


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

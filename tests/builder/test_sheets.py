"""The builder's parts on their own: the sheet writer (values as Excel works them out, blocks and
their guards, text formulas over the Inputs), the Checks sheet's status, tolerance and master check,
the gap bridge's bars."""

from __future__ import annotations

import openpyxl
import pytest

from udfs import discover
from xl_stp.builder.arithmetic import (
    Named,
    Ref,
    excel_count,
    excel_sumif,
    excel_text,
    rounding_unit,
    rounding_unit_formula,
    text_formula,
    year_label,
    year_label_formula,
)
from xl_stp.builder.book import Block, Book, excel_arithmetic, excel_link, excel_sum
from xl_stp.builder.checks import (
    NOT_COMPUTED,
    NOT_STATED,
    master,
    status_formula,
    status_of,
)
from xl_stp.builder.outputs import floating_bar
from xl_stp.core.reconcile import MISMATCH, NIL, OK, ROUNDING


def test_a_range_is_handed_over_as_excel_hands_it_to_a_function(tmp_path):
    book = Book(tmp_path / "t.xlsx", "t")
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
    book = Book(tmp_path / "t.xlsx", "t", strict=False)
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
    assert (status_of(5.0, OK, 0.5), status_of(1.0, -1.0, 6.0), status_of(1.0, -41.8, 8.55),
            status_of(1.0, "#STP! x", 1.0), status_of("", OK, "")) == (NIL, ROUNDING, MISMATCH, NOT_COMPUTED, NOT_STATED)
    text = status_formula("$D$7", "$F$7", "$H$7")
    assert text == ('=IFERROR(IF($D$7="","not stated",IF($F$7="OK","agrees",IF(ABS($F$7)<=$H$7+1E-9,'
                    '"within rounding","exceeds rounding"))),"not computed")')
    for word in (OK, NIL, ROUNDING, MISMATCH, NOT_COMPUTED, NOT_STATED):
        assert f'"{word}"' in text


def test_labels_are_text_formulas_over_the_inputs():
    """A label follows its Inputs cell: a blank name shows nothing (not 0), a fallback stands in
    for a blank name, an error passes on, and a row of an unused name is blank."""
    cells = {"Inputs!$A$1": "Acute", "Inputs!$A$2": None, "Inputs!$A$3": "#N/A", "Inputs!$A$4": 2018.0}
    assert text_formula([Ref("Inputs!$A$1")], cells.get) == ('=Inputs!$A$1&""', "Acute")
    assert text_formula([Ref("Inputs!$A$2")], cells.get) == ('=Inputs!$A$2&""', "")
    assert text_formula([Named("Inputs!$A$2", "Programme 2"), " (£000)"], cells.get) == (
        '=IF(Inputs!$A$2="","Programme 2",Inputs!$A$2)&" (£000)"', "Programme 2 (£000)")
    assert text_formula(["Total ", Ref("Inputs!$A$1"), " DH"], cells.get)[1] == "Total Acute DH"
    assert text_formula([Ref("Inputs!$A$3"), " x"], cells.get)[1] == "#N/A"
    assert text_formula(["Total"], cells.get, unless="Inputs!$A$2") == ('=IF(Inputs!$A$2="","","Total")', "")
    assert text_formula(["Total"], cells.get, unless=("Inputs!$A$1", "Inputs!$A$2"))[0] == \
        '=IF(OR(Inputs!$A$1="",Inputs!$A$2=""),"","Total")'
    assert (excel_text(2018.0), excel_text(0.1), excel_text(None), excel_text(True)) == ("2018", "0.1", "", "TRUE")


def test_sumif_count_units_and_years_as_excel_works_them_out():
    names, amounts = ["Acute", "community", "ACUTE", None], [10.0, 5.0, 7.0, 100.0]
    assert excel_sumif(names, "acute", amounts) == 17.0  # any case, exact name
    assert excel_sumif(names, "Acute care", amounts) == 0.0 and excel_sumif(names, "", amounts) == 0.0
    assert excel_sumif(names, "Community", [1.0, "#N/A", 2.0, 3.0]) == "#N/A"  # an error among the matches
    assert excel_sumif(names, "Acute", [1.0, "#N/A", 2.0, 3.0]) == 3.0  # ... not among the others
    assert excel_count([1.0, None, "12,000", 0.0, True]) == 2.0
    assert [rounding_unit(v) for v in (350.0, 98.4, 1.92, 16.0, -28.35)] == [1.0, 0.1, 0.01, 1.0, 0.01]
    assert rounding_unit_formula("D7") == "IF(ROUND(D7,0)=D7,1,IF(ROUND(D7,1)=D7,0.1,0.01))"
    assert [year_label("2017/18", k) for k in (-1, 0, 3)] == ["2016/17", "2017/18", "2020/21"]
    assert year_label(2019.0, 0) == "2019/20" and year_label("next year", 0) == "#VALUE!"
    assert year_label_formula("Inputs!$C$8", 1) == '=VALUE(LEFT(Inputs!$C$8,4))+1&"/"&RIGHT(VALUE(LEFT(Inputs!$C$8,4))+2,2)'


@pytest.mark.parametrize("before, after, bar", [
    (0.0, 399.3, (0.0, 399.3, 0.0)),       # the 'do nothing' gap, from zero
    (399.3, 345.3, (345.3, 54.0, 0.0)),    # a saving: floats above zero
    (10.0, -5.0, (0.0, 10.0, -5.0)),       # crosses zero: the part above and the part below
    (-5.0, -12.0, (-5.0, 0.0, -7.0)),      # below zero
])
def test_floating_bar(before, after, bar):
    assert floating_bar(before, after) == pytest.approx(bar)


def test_the_pack_is_rendered_from_the_stored_values():
    """LibreOffice recomputes array formulas on load (and does not know STP_*): the pack's copy holds
    the stored values only, text results as text, and the sheets outside the pack hidden."""
    from xl_stp.builder.render import hide_sheets, values_only

    sheet = (b'<row r="5"><c r="B5" s="15" cm="1"><f t="array" ref="B5:G19">STP_CAPITAL_NET(Inputs!$C$6:$F$19,0)</f>'
             b'<v>6600</v></c><c r="A6" s="5" t="str"><f>Inputs!$A$19&amp;""</f><v>LGH</v></c>'
             b'<c r="A7" s="5" t="str"><f>Inputs!$A$20&amp;""</f><v></v></c><c r="C5" s="15"><v>0</v></c>'
             b'<c r="D5" t="e"><f>NA()</f><v>#N/A</v></c></row>')
    assert values_only(sheet) == (b'<row r="5"><c r="B5" s="15" cm="1"><v>6600</v></c>'
                                  b'<c r="A6" s="5" t="inlineStr"><is><t xml:space="preserve">LGH</t></is></c>'
                                  b'<c r="A7" s="5" /><c r="C5" s="15"><v>0</v></c><c r="D5" t="e"><v>#N/A</v></c></row>')
    book = (b'<sheets><sheet name="Cover" sheetId="1" r:id="rId1"/><sheet name="Inputs" sheetId="2" state="visible" '
            b'r:id="rId2"/><sheet name="Outputs" sheetId="3" r:id="rId3"/></sheets>')
    assert hide_sheets(book, ("Cover", "Outputs")) == (
        b'<sheets><sheet name="Cover" sheetId="1" r:id="rId1"/><sheet state="hidden" name="Inputs" sheetId="2" '
        b'r:id="rId2"/><sheet name="Outputs" sheetId="3" r:id="rId3"/></sheets>')

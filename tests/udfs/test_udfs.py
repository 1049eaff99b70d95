"""The STP_* Excel functions called as Excel calls them (Excel is not on this machine: the
functions are plain Python here, fed the values xlwings would hand over)."""

import datetime as dt

import pytest

from udfs.registry import ERROR_PREFIX, canonical_name
from udfs import discover

R = discover()


def value(x):
    """Fail loudly if a call returned an #STP! message where a number was expected."""
    assert not (isinstance(x, str) and x.startswith(ERROR_PREFIX)), x
    return x


# ---- worked examples from the LLR plan ------------------------------------------------------

def test_fy_labels():
    assert R["STP_FY"]("2017/18", 4) == [["2017/18", "2018/19", "2019/20", "2020/21"]]
    assert R["STP_FY"]([["FY18"]], [[4.0]]) == [["2017/18", "2018/19", "2019/20", "2020/21"]]


HINCKLEY = [[None, 4236.0, None, None], [None, 300.0, None, None], [None, 3165.0, None, None], [None, None, None, None]]


def test_capital_net_hinckley_published_figures():
    table = value(R["STP_CAPITAL_NET"](HINCKLEY, [[None], [None], [None], [-2000.0]]))
    assert table[-1] == [0.0, 7701.0, 0.0, 0.0, -2000.0, 5701.0]  # 'Hinckley and District' total row
    assert R["STP_CAPITAL_NET"](HINCKLEY, [[None], [None], [None], [-2000.0]], "total") == 5701.0
    assert R["STP_CAPITAL_NET"](HINCKLEY, [[0.0, 0.0, 0.0, 2000.0]], "net") == [[4236.0], [300.0], [3165.0], [-2000.0]]
    assert R["STP_CAPITAL_NET"](HINCKLEY, [[0.0], [0.0], [0.0], [2000.0]], "by_year") == [[0.0, 7701.0, 0.0, 0.0]]


def test_capital_net_oakham_lutterworth_negative_requirement():
    costs = [[None, None, 1000.0, None], [None, None, 350.0, None], [None, None, None, None], [None, None, None, 1000.0]]
    assert R["STP_CAPITAL_NET"](costs, [[None], [None], [-4758.0], [None]], "total") == -2408.0


ACUTE_SOURCES = [["Site disposal", 0.0, 0.0, 0.0, 0.0, 0.0, -28.4],
                 ["PF2", 0.0, 0.0, None, None, -27.2, -70.2],
                 ["Welcome Centre", 0.0, 0.0, None, None, -2.0, -10.0]]
ACUTE_PROGRAMME = [[62.9, 20.5, 29.4, 52.2, 89.0, 109.0]]
ACUTE_APPROVED = [[-50.7, 0.0, 0.0, 0.0, 0.0, 0.0]]
ACUTE_INTERNAL = [[-12.2, -4.5, -4.7, -9.2, -18.6, -10.8]]


def test_funding_split_llr_acute_configuration():
    rows = value(R["STP_FUNDING_SPLIT"](ACUTE_PROGRAMME, ACUTE_SOURCES, None, ACUTE_APPROVED, ACUTE_INTERNAL))
    assert len(rows) == 8  # programme, approved, internal, external, 3 sources, DH
    assert rows[3] == pytest.approx([0, 16.0, 24.7, 43.0, 70.4, 98.2])
    assert rows[-1] == pytest.approx([0, 16.0, 24.7, 43.0, 41.2, -10.4])  # negative in 2020/21, as published


def test_funding_split_from_the_external_requirement_and_order():
    external = [[0.0, 16.0, 24.7, 43.0, 70.4, 98.2]]
    rows = value(R["STP_FUNDING_SPLIT"](external, ACUTE_SOURCES, [["PF2", "Welcome Centre", "Site disposal"]]))
    assert len(rows) == 5
    assert rows[1][-1] == pytest.approx(-70.2) and rows[3][-1] == pytest.approx(-28.4)
    assert rows[-1] == pytest.approx([0, 16.0, 24.7, 43.0, 41.2, -10.4])


def test_dh_requirement_llr_community_configuration():
    external = [[0.0, 2.0, 16.3, 5.3, 18.5]]  # 2016/17 .. 2020/21, £m
    sources = [[None, None, -6.0, None, -14.8], [None, None, None, -1.0, None], [None, -2.0, -3.4, None, -1.0]]
    dh = value(R["STP_DH_REQUIREMENT"](external, sources))
    assert dh == [pytest.approx([0.0, 0.0, 6.9, 4.3, 2.7])]
    assert sum(dh[0]) == pytest.approx(13.9)  # 'Total Community DH requirement'


def test_stf_llr_2017_18():
    non_rec = [[v] for v in (None, None, None, None, 500, 300, None, 2000, 200, None, 500, 200, 250, None, 1000, 3000)]
    rec = [[v] for v in (3500, 4000, 750, 500, 1000, 700, 1750, None, 1500, 2000, None, None, None, 1000, None, None)]
    assert R["STP_STF"](non_rec, rec) == [[7950.0], [16700.0], [24650.0]]


def test_gap_llr_net_gap_after_stf():
    # 'do nothing' 399.3m less STF investment of 66m in 2020/21: the 'net gap of £333M'
    assert R["STP_GAP"](399.3, 0.0, None, 66.0) == [[pytest.approx(333.3)]]
    bridge = R["STP_GAP"]([[100.0, 200.0]], [[30.0, 60.0], [20.0, 40.0]], [[5.0, 5.0]], [[10.0, 10.0]], True)
    assert bridge[-1] == [45.0, 95.0]


def test_savings_llr_strand_2_and_delivery():
    assert R["STP_SAVINGS"]([[25600.0], [8600.0]], None, [[15100.0], [None]]) == [[10500.0], [8600.0]]
    assert R["STP_SAVINGS"]([[100.0, 200.0]], None, None, 0.5) == [[50.0, 100.0]]


def test_do_nothing():
    out = value(R["STP_DO_NOTHING"]([[1000.0], [500.0]], [[0.02], [0.0]], 0.04, [["2017/18", "2018/19"]]))
    assert out == [pytest.approx([20.0, 41.2]), pytest.approx([20.0, 40.8])]


def test_phase_market_harborough():
    assert R["STP_PHASE"](8600.0, "straight", 2, 1, 4) == [[0.0, 4300.0, 4300.0, 0.0]]
    assert R["STP_PHASE"](100.0, [[0.2, 0.5, 0.3]]) == [[20.0, 50.0, 30.0]]


def test_appraisal_functions():
    assert round(R["STP_ROI"](25600.0, 279581.0, -28350.0, "net"), 3) == 0.102  # acute: 10.20%
    assert R["STP_PAYBACK"](1000.0, 250.0) == 4.0
    assert R["STP_PAYBACK"](1000.0, [[10.0, 10.0]]) == "not repaid within 2 years"
    assert R["STP_NPV"]([[-100.0, 50.0, 60.0]]) == pytest.approx(-100 + 50 / 1.035 + 60 / 1.035 ** 2)
    assert R["STP_NPV"]([[-100.0, 110.0]], "10%") == pytest.approx(0.0)
    assert R["STP_CAPITAL_CHARGES"]([[100.0, 0.0, 0.0, 0.0]], 2.0) == [
        [0.0, 50.0, 50.0, 0.0], [pytest.approx(1.75), pytest.approx(2.625), pytest.approx(0.875), 0.0],
        [pytest.approx(1.75), pytest.approx(52.625), pytest.approx(50.875), 0.0]]


def test_check():
    assert R["STP_CHECK"](279581.0, 279582.0) == -1.0
    assert R["STP_CHECK"](114.6, 114.5, 0.15) == "OK"


# ---- Excel shapes and readable errors -------------------------------------------------------

def test_ranges_in_any_orientation():
    by_row = R["STP_CAPITAL_NET"]([[1.0, 2.0]], 0.0, "total")
    flat = R["STP_CAPITAL_NET"]([1.0, 2.0], None, "total")  # xlwings without ndim=2; a blank cell of disposals
    assert by_row == flat == 3.0
    assert R["STP_CAPITAL_NET"]([[1.0, 2.0], [3.0, 4.0]], [[1.0, 1.0]], "total") == 8.0  # disposals as a row


@pytest.mark.parametrize("call, message", [
    (lambda: R["STP_CAPITAL_NET"]([[1.0, 2.0], [3.0, 4.0]], [[1.0], [2.0], [3.0]]), "#STP! disposals: has 3 values; costs has 2 schemes"),
    (lambda: R["STP_CAPITAL_NET"]([[1.0, "n/a"]], 0.0), "#STP! costs: 'n/a' is text in cell 2 of the row; type a number (or leave the cell blank for 0)"),
    (lambda: R["STP_CAPITAL_NET"]([[1.0, "#REF!"]], 0.0), "#STP! costs: expected a number in cell 2 of the row, found the error #REF!"),
    (lambda: R["STP_CAPITAL_NET"]([[1.0, -2146826246]], 0.0), "#STP! costs: expected a number in cell 2 of the row, found the error #N/A"),
    (lambda: R["STP_CAPITAL_NET"]([[1.0, True]], 0.0), "#STP! costs: expected a number in cell 2 of the row, found the logical value TRUE"),
    (lambda: R["STP_CAPITAL_NET"]([[1.0], [dt.datetime(2017, 4, 1)]], 0.0), "#STP! costs: expected a number in cell 2 of the column, found a date (01/04/2017)"),
    (lambda: R["STP_CAPITAL_NET"]([[1.0, 2.0], [3.0]], 0.0), "#STP! costs: row 2 has 1 cells, row 1 has 2; expected a rectangular range"),
    (lambda: R["STP_CAPITAL_NET"]([[1.0, float("nan")]], 0.0), "#STP! costs: expected a finite number in cell 2 of the row, found NaN"),
    (lambda: R["STP_CAPITAL_NET"]([[1.0]]), "#STP! disposals: is required"),
    (lambda: R["STP_CAPITAL_NET"]([[1.0]], 0.0, "sideways"), "#STP! result: expected one of table, net, by_year, total, found 'sideways'"),
    (lambda: R["STP_PHASE"](100.0, "zigzag", 3), "#STP! profile: unknown profile 'zigzag'"),
    (lambda: R["STP_SAVINGS"]([[100.0]], None, None, 2.5), "#STP! delivery: 2.5 is 250%; type 2.5% or 0.025"),
    (lambda: R["STP_CAPITAL_CHARGES"]([[100.0]], -5.0), "#STP! life: expected an asset life of one year or more, found -5"),
    (lambda: R["STP_FY"]("next year", 3), "#STP! first: expected a financial year such as 2017/18"),
    (lambda: R["STP_CHECK"](1.0, 2.0, 3.0, 4.0), "#STP! STP_CHECK takes at most 3 arguments, got 4"),
    (lambda: R["STP_DH_REQUIREMENT"]([[1.0, 2.0]], [[1.0, 2.0, 3.0]]), "#STP! sources: has 3 years, programme has 2"),
])
def test_bad_input_gives_a_readable_message(call, message):
    out = call()
    assert isinstance(out, str) and out.startswith(message), out


# ---- the one registry -----------------------------------------------------------------------

DESIGN_FUNCTIONS = ["STP_FY", "STP_DO_NOTHING", "STP_GAP", "STP_SAVINGS", "STP_PHASE", "STP_CAPITAL_NET", "STP_FUNDING_SPLIT",
                    "STP_DH_REQUIREMENT", "STP_STF", "STP_CAPITAL_CHARGES", "STP_ROI", "STP_PAYBACK", "STP_NPV", "STP_CHECK"]


def test_registry_has_every_design_function_with_help_text():
    assert sorted(R) == sorted(DESIGN_FUNCTIONS)
    for fn in R.values():
        assert fn.category == "xl-stp"
        assert fn.summary and len(fn.doc) < 255  # Excel's function wizard caps descriptions at 255 characters
        assert all(a.doc and len(a.doc) < 255 for a in fn.args)
        assert fn.signature.startswith(fn.name + "(")


@pytest.mark.parametrize("spelling", ["STP_GAP", "stp_gap", "_xludf.STP_GAP", "_xll.STP_GAP", "[1]!STP_GAP",
                                      "'C:\\addins\\xl_stp.xlam'!STP_GAP", "_xldudf_XLSTP_STP_GAP", "_xldudf_XLWINGS_NHS_stp_gap", "=STP_GAP"])
def test_every_spelling_resolves_to_the_same_function(spelling):
    assert canonical_name(spelling) == "STP_GAP"
    assert R.resolve(spelling) is R["STP_GAP"]


def test_unknown_names_do_not_resolve():
    assert R.resolve("SUM") is None and R.resolve("_xludf.STP_NOPE") is None and R.resolve("os.system") is None


def test_readme_function_table_matches_the_registry():
    from pathlib import Path

    from udfs.docs import function_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start, end = readme.index("<!-- functions:start -->"), readme.index("<!-- functions:end -->")
    assert readme[start:end].split("-->", 1)[1].strip() == function_table().strip(), "run: python -m udfs.docs"


def test_readme_rules_table_matches_the_rules():
    from pathlib import Path

    from udfs.rules import table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start, end = readme.index("<!-- rules:start -->"), readme.index("<!-- rules:end -->")
    assert readme[start:end].split("-->", 1)[1].strip() == table().strip(), "run: python -m udfs.docs"


def test_capital_net_with_no_disposals_and_float_noise_shown_as_nil():
    """EPR and the other schemes have no disposals column: 0 means none. 62.9 - 50.7 - 12.2 is
    -3.6e-15 in floating point; the result shows 0, not (0.0)."""
    from udfs.functions import STP_CAPITAL_NET, STP_FUNDING_SPLIT
    assert STP_CAPITAL_NET([[26_751, 1_605], [2_000, 0]], 0) == [[26_751, 1_605, 0, 28_356], [2_000, 0, 0, 2_000],
                                                                 [28_751, 1_605, 0, 30_356]]
    assert STP_CAPITAL_NET([[1, 2], [3, 4]], 5).startswith("#STP! disposals: has 1 values; costs has 2 schemes")
    split = STP_FUNDING_SPLIT([[62.9, 20.5]], [[0, 0]], None, [[-50.7, 0]], [[-12.2, -4.5]])
    assert split[3] == [0.0, 16.0]

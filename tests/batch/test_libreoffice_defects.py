"""The LibreOffice engine's defects of issue 15 (1-4), each reproduced by a small workbook built
here, and the engine's overrides (a workbook kept open, values written into it, what follows
recomputed)."""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pytest
import xlsxwriter

from tests.batch.common import REGISTRY
from udfs.excel import ERRORS
from xl_stp.batch import scan
from xl_stp.batch.diagnose import as_excel
from xl_stp.batch.engines.libreoffice import available as lo_available
from xl_stp.batch.package import WorkbookError
from xl_stp.batch.run import regen_file

pytestmark = [pytest.mark.libreoffice, pytest.mark.skipif(not lo_available(), reason="LibreOffice not installed")]


def _engine(**kw):
    from xl_stp.batch.engines.libreoffice.engine import LibreOfficeEngine

    return LibreOfficeEngine(**kw)


def _compute(path, **kw):
    return _engine(**kw).compute(path, REGISTRY, scan(path))


def _cell_xml(path, part: str, ref: str) -> str:
    with zipfile.ZipFile(path) as z:
        return re.search(rf'<c r="{ref}"[^>]*>.*?</c>', z.read(part).decode()).group(0)


# ---- 1. a first sheet named sheet1 / SHEET1 ------------------------------------------------------

@pytest.mark.parametrize("first", ["sheet1", "SHEET1"])
def test_a_first_sheet_named_like_libreoffices_default_in_another_case_is_computed(first, tmp_path):
    """LibreOffice renames such a sheet on load ('sheet1 -1') and then reads every reference to it
    as an unknown name: the engine finds sheets by position and loads the workbook so that the
    references resolve (a chart sheet among the sheets keeps the positions right)."""
    path = tmp_path / "first.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(first)
    ws.write_row("A1", [100, 40])
    ws.write_formula("C1", "=A1*2", None, 0)
    ws.write_formula("D1", "=STP_CHECK(A1,100)", None, 0)
    chart = wb.add_chart({"type": "line"})
    chart.add_series({"values": f"={first}!$A$1:$B$1"})
    wb.add_chartsheet("Chart").set_chart(chart)
    other = wb.add_worksheet("Other")
    other.write_formula("A1", f"={first}!A1+1", None, 0)
    other.write_formula("A2", f"=STP_CHECK({first}!C1,200)", None, 0)
    other.write_formula("A3", f"=STP_CHECK({first}!B1+1,41)", None, 0)  # an expression: a scratch cell
    wb.close()
    got = _compute(path)
    assert got.problems == [] and got.calls == []
    assert got.values[first] == {"C1": 200.0, "D1": "OK"}
    assert got.values["Other"] == {"A1": 101.0, "A2": "OK", "A3": "OK"}
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="libreoffice", full=True)
    assert r.status == "ok" and r.error is None and r.problems == []


# ---- 2. booleans -----------------------------------------------------------------------------------

def _booleans(path):
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("M")
    formulas = {"A1": "=1=1", "A2": "=ISERROR(1/0)", "A3": "=NOT(1=1)", "A4": "=A1", "A5": "=IF(A3,0,A1)",
                "A6": "=--(1=1)", "A7": "=(1=1)*1", "A8": "=SUM(1)", "A9": "=ISNUMBER(\"x\")"}
    for ref, f in formulas.items():
        ws.write_formula(ref, f, None, 0)
    ws.write_boolean("C1", True)
    ws.write_formula("C2", "=1+1", None, 0)
    ws.write_formula("B1", "=STP_CHECK(A1,A2)", None, 0)  # two logicals computed by formulas
    ws.write_formula("B2", "=STP_CHECK(C1:C2,1)", None, 0)  # a TRUE typed in, read by LibreOffice (C2 is a formula)
    wb.close()
    return path


def test_logicals_computed_by_libreoffice_are_booleans_in_cells_and_in_arguments(tmp_path):
    """=1=1 and =ISERROR(1/0) give TRUE, not 1, written t="b" as Excel writes it; a number made of
    a logical (=--(1=1), =(1=1)*1) stays a number; an STP_* call receives TRUE, not 1."""
    path = _booleans(tmp_path / "b.xlsx")
    got = _compute(path).values["M"]
    expected = {"A1": True, "A2": True, "A3": False, "A4": True, "A5": True, "A6": 1.0, "A7": 1.0, "A8": 1.0, "A9": False}
    for ref, v in expected.items():
        assert got[ref] == v and type(got[ref]) is type(v), (ref, got[ref])
    check = REGISTRY["STP_CHECK"]
    assert got["B1"] == as_excel(check(True, True)) == "#VALUE!"
    assert got["B2"] == as_excel(check([[True], [2.0]], 1.0))
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="libreoffice", full=True)
    assert "M!A1: expected a number, found the logical value TRUE (stated of STP_CHECK in M!B1)" in r.problems
    part = "xl/worksheets/sheet1.xml"
    assert re.fullmatch(r'<c r="A1" t="b"><f>1=1</f><v>1</v></c>', _cell_xml(r.output, part, "A1"))
    assert re.fullmatch(r'<c r="A3" t="b"><f>NOT\(1=1\)</f><v>0</v></c>', _cell_xml(r.output, part, "A3"))
    assert 't="b"' not in _cell_xml(r.output, part, "A6")


# ---- 3. error kinds ----------------------------------------------------------------------------------

#: (formula, what Excel gives): each LibreOffice error code met, read as Excel's own kind.
EXCEL_ERRORS = [
    ("SQRT(-1)", "#NUM!"), ("LN(0)", "#NUM!"), ("ACOSH(0)", "#NUM!"), ("LOG(-1)", "#NUM!"), ("FACT(-1)", "#NUM!"),  # Err:502
    ("ATANH(1)", "#NUM!"), ("COMBIN(2,3)", "#NUM!"), ("DATE(-1,1,1)", "#NUM!"), ("WEEKDAY(1,5)", "#NUM!"),
    ("GEOMEAN(-1)", "#NUM!"), ("DEC2BIN(1000)", "#NUM!"), ("TIME(-1,0,0)", "#NUM!"), ("DATEDIF(2,1,\"d\")", "#NUM!"),
    ("ASIN(2)", "#NUM!"), ("(-1)^0.5", "#NUM!"), ("EXP(1000)", "#NUM!"), ("PMT(0,0,1)", "#NUM!"),  # Err:503
    ("IRR({1,2,3})", "#NUM!"), ("RATE(1,1,1)", "#NUM!"),  # Err:523, no convergence
    ("MID(\"abc\",0,1)", "#VALUE!"), ("LEFT(\"abc\",-1)", "#VALUE!"), ("REPT(\"a\",-1)", "#VALUE!"),  # Err:502 in text functions
    ("SUBSTITUTE(\"a\",\"a\",\"b\",0)", "#VALUE!"), ("DATEVALUE(\"xyz\")", "#VALUE!"), ("VALUE(\"abc\")", "#VALUE!"),
    ("CHOOSE(5,1,2)", "#VALUE!"), ("ROMAN(-1)", "#VALUE!"), ("MDETERM({1,2})", "#VALUE!"),
    ("INDEX(A1:A3,5)", "#REF!"), ("VLOOKUP(1,A1:B2,5,FALSE)", "#REF!"), ("OFFSET(A1,-1,0)", "#REF!"),  # Err:502 past a range
    ("\"a\"+1", "#VALUE!"), ("FIND(\"z\",\"abc\")", "#VALUE!"), ("SUMPRODUCT({1,2},{1,2,3})", "#VALUE!"),  # Err:519
    ("LARGE({1,2},5)", "#NUM!"), ("SMALL({1,2},0)", "#NUM!"), ("MODE({1,2})", "#N/A"),
    ("1/0", "#DIV/0!"), ("MOD(1,0)", "#DIV/0!"), ("STDEV(1)", "#DIV/0!"),  # Err:532
    ("NA()", "#N/A"), ("MATCH(99,{1,2},0)", "#N/A"),  # 32767
    ("#REF!", "#REF!"), ("INDIRECT(\"zz\")", "#REF!"), ("Data!#REF!", "#REF!"), ("SUM(Data!#REF!,1)", "#REF!"),  # Err:524, 525
    ("A1:A2 B3:B4", "#NULL!"), ("NOSUCHFN(1)", "#NAME?"), ("nosuchname", "#NAME?"),
]
#: Where LibreOffice 7.4 does not tell Excel's kind apart (or gives a number where Excel has an error).
KNOWN_GAPS = [
    ("POWER(0,-1)", "#DIV/0!"),  # Err:503 as for POWER(-1,0.5), which is #NUM!
    ("VLOOKUP(1,A1:B2,0,FALSE)", "#VALUE!"),  # Err:502 as past the range's end, which is #REF!
    ("ATAN2(0,0)", "#DIV/0!"),  # LibreOffice gives 0
]
CASES = EXCEL_ERRORS + [pytest.param(f, x, marks=pytest.mark.xfail(strict=True, reason="LibreOffice 7.4 and 25.2 differ from Excel here")) for f, x in KNOWN_GAPS]


@pytest.fixture(scope="module")
def error_kinds(tmp_path_factory):
    """One workbook: each formula in column D, a cell reading it in E, a sum of it in F, and an
    STP_* call of it in G; computed once."""
    path = tmp_path_factory.mktemp("errors") / "errors.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("T")
    wb.add_worksheet("Data")
    for i, (f, _x) in enumerate(EXCEL_ERRORS + KNOWN_GAPS, start=1):
        ws.write_formula(f"D{i}", "=" + f, None, 0)
        ws.write_formula(f"E{i}", f"=D{i}", None, 0)
        ws.write_formula(f"F{i}", f"=SUM(D{i},1)", None, 0)
        ws.write_formula(f"G{i}", f"=STP_CHECK(D{i},1)", None, 0)
    wb.close()
    return _compute(path).values["T"]


@pytest.mark.parametrize("formula, excel", CASES)
def test_each_error_is_read_as_its_own_kind(error_kinds, formula, excel):
    """The cell, a cell reading it and a sum of it all hold Excel's error; an STP_* call is handed it."""
    row = [f for f, _x in EXCEL_ERRORS + KNOWN_GAPS].index(formula) + 1
    got = [error_kinds[f"{c}{row}"] for c in "DEF"]
    assert got == [excel] * 3
    assert excel in ERRORS
    assert REGISTRY["STP_CHECK"](excel, 1.0) == f"#STP! stated: expected a number, found the error {excel}"


def test_errors_are_written_with_their_kind(tmp_path):
    path = tmp_path / "e.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("M")
    wb.add_worksheet("Data")
    for ref, f in {"A1": "=SQRT(-1)", "A2": "=LN(0)", "A3": "=ACOSH(0)", "A4": "=Data!#REF!", "A5": "=A4*2"}.items():
        ws.write_formula(ref, f, None, 0)
    wb.close()
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="libreoffice", full=True)
    assert r.status == "ok" and not any("#NAME?" in p for p in r.problems), r.problems
    part = "xl/worksheets/sheet1.xml"
    for ref, kind in {"A1": "#NUM!", "A2": "#NUM!", "A3": "#NUM!", "A4": "#REF!", "A5": "#REF!"}.items():
        assert 't="e"' in _cell_xml(r.output, part, ref) and f"<v>{kind}</v>" in _cell_xml(r.output, part, ref), ref


# ---- 4. array-valued expression arguments -------------------------------------------------------

def test_array_expressions_in_an_array_formula_arrive_whole(tmp_path):
    """In an array formula, TRANSPOSE(B1:C1) and B2:B3*1 reach the function as the arrays they are
    (Excel evaluates them so there), not as their first value or #VALUE!: the results, and a sum
    over them, are the function's own when called directly."""
    path = tmp_path / "arrays.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Model")
    ws.write_row("B1", [151234.5, 92345.25])
    ws.write_column("B2", [151234.5, 92345.25])
    ws.write_array_formula("A5:D6", "{=STP_DO_NOTHING(TRANSPOSE(B1:C1),0.02,0.04,4)}")
    ws.write_array_formula("A8:D9", "{=STP_DO_NOTHING(B2:B3*1,0.02,0.04,4)}")
    ws.write_formula("F5", "=SUM(A5:D6)", None, 0)
    ws.write_array_formula("F8:F8", "{=STP_CHECK(SUM(B2:B3*1),243579.75)}")  # a 1 x 1 array formula: the sum of an array
    wb.close()
    got = _compute(path)
    assert got.problems == [] and got.calls == []
    direct = REGISTRY["STP_DO_NOTHING"]([[151234.5], [92345.25]], 0.02, 0.04, 4)
    values = got.values["Model"]
    for top in (5, 8):
        block = [[values[f"{c}{r}"] for c in "ABCD"] for r in (top, top + 1)]
        assert block == direct, top
    assert values["F5"] == pytest.approx(sum(map(sum, direct)), rel=1e-12)
    assert values["F8"] == "OK"


def test_array_formulas_reading_stp_results_are_recomputed(tmp_path):
    """LibreOffice does not tell a multi-cell array formula that a range write changed cells it
    reads: {=B3:B4&"x"} over an STP_* result written after the first pass (B4 reads the formula
    B3) was left #NAME?. It, and an expression argument evaluated as an array, follow the results."""
    path = tmp_path / "stale.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("M")
    ws.write_row("A1", [5.0, 7.0])
    ws.write_formula("B3", "=A1*1", None, 0)
    ws.write_formula("B4", "=STP_CHECK(B3,1)", None, 0)
    ws.write_array_formula("D3:D4", '{=B3:B4&"x"}')
    ws.write_formula("A6", "=STP_CHECK(A1,2)", None, 0)
    ws.write_formula("A7", "=STP_CHECK(B1,2)", None, 0)
    ws.write_array_formula("C6:C7", "{=STP_DO_NOTHING(A6:A7*-1000,0.02,0.04,2)}")
    ws.write_formula("E6", "=SUM(C6:D7)", None, 0)
    wb.close()
    values = _compute(path).values["M"]
    assert (values["D3"], values["D4"]) == ("5x", "4x")
    direct = REGISTRY["STP_DO_NOTHING"]([[-3000.0], [-5000.0]], 0.02, 0.04, 2)
    assert [[values["C6"]], [values["C7"]]] == [[direct[0][0]], [direct[1][0]]]
    assert values["E6"] == pytest.approx(direct[0][0] + direct[1][0])


# ---- overrides --------------------------------------------------------------------------------------

def _model(path):
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("M")
    ws.write_number("A1", 100)
    ws.write_formula("A2", "=A1*2", None, 0)
    ws.write_formula("A3", "=STP_CHECK(A2,200)", None, 0)
    ws.write_formula("A4", "=A2+1", None, 0)
    ws.write_formula("A5", "=A2>250", None, 0)
    ws.write_number("B1", 100)
    ws.write_formula("B2", "=STP_CHECK(B1,100)", None, 0)  # computed from the file's input cell
    ws.write_array_formula("C1:C2", "{=A1:A2*3}")
    ws.write_formula("D1", "=C1+C2", None, 0)
    wb.close()
    return path


def test_overrides_replace_formulas_and_recompute_what_follows(tmp_path):
    path = _model(tmp_path / "model.xlsx")
    eng = _engine(keep_open=True)
    first = eng.compute(path, REGISTRY, scan(path)).values["M"]
    assert (first["A3"], first["A4"], first["A5"], first["B2"], first["D1"]) == ("OK", 201.0, False, "OK", 900.0)
    check = REGISTRY["STP_CHECK"]
    try:
        got = eng.override({"M": {"A2": 500}})["M"]
        assert got["A2"] == 500.0 and got["A4"] == 501.0 and got["A5"] is True
        assert got["A3"] == as_excel(check(500.0, 200.0))  # the STP_* call reads the override
        assert got["C2"] == 1500.0 and got["D1"] == 1800.0
        got = eng.override({"M": {"C1": 7.0}})["M"]  # a cell of an array formula: the range goes, C2 keeps its value
        assert (got["C1"], got["C2"], got["D1"], got["A4"]) == (7.0, 1500.0, 1507.0, 501.0)  # earlier overrides stay
        got = eng.override({"M": {"B1": 150.0}})["M"]  # an input cell read by a call computed from the file
        assert got["B2"] == as_excel(check(150.0, 100.0))
        got = eng.override({"M": {"A2": "#N/A", "A5": np.bool_(True)}})["M"]  # as another engine may give them
        assert got["A4"] == "#N/A" and got["A3"] == as_excel(check("#N/A", 200.0)) and got["A5"] is True
        with pytest.raises(WorkbookError, match=r"^M!A3: is filled by an STP_\* call"):
            eng.override({"M": {"A3": 1.0}})
        with pytest.raises(WorkbookError, match="no such sheet"):
            eng.override({"Nope": {"A1": 1.0}})
    finally:
        eng.close()
    with pytest.raises(WorkbookError, match="no workbook is open"):
        eng.override({"M": {"A2": 1.0}})
    assert _compute(path).values["M"]["A4"] == 201.0  # the worker goes on; the file itself never changed


def test_without_keep_open_the_workbook_is_closed_and_overrides_refused(tmp_path):
    path = _model(tmp_path / "model.xlsx")
    eng = _engine()
    assert eng.compute(path, REGISTRY, scan(path)).values["M"]["A4"] == 201.0
    with pytest.raises(WorkbookError, match="no workbook is open"):
        eng.override({"M": {"A2": 1.0}})
    kept = _engine(keep_open=True)
    kept.compute(path, REGISTRY, scan(path))
    _engine().compute(_booleans(tmp_path / "b.xlsx"), REGISTRY, scan(tmp_path / "b.xlsx"))  # another workbook opened
    with pytest.raises(WorkbookError, match="no workbook is open"):
        kept.override({"M": {"A2": 1.0}})


# ---- a workbook LibreOffice crashes on ----------------------------------------------------------

def test_a_workbook_libreoffice_crashes_on_fails_alone_and_the_next_one_gets_a_new_libreoffice(tmp_path, monkeypatch):
    """LibreOffice 25.2 crashes loading FORECAST.ETS.CONFINT of a text (as on a sheet of the
    Excel-saved corpus). The next workbook used to wait for the old worker until the timeout (300 s),
    whose UNO bridge hung on the way out; it now gets a new one at once."""
    from xl_stp.batch.engines.libreoffice import client

    crasher = tmp_path / "crash.xlsx"
    wb = xlsxwriter.Workbook(str(crasher))
    ws = wb.add_worksheet("S")
    ws.write("C39", "x")
    ws.write_formula("C41", "=_xlfn.FORECAST.ETS.CONFINT(50,{3,3,1,2,3,2,1,3,2,1},{3,7,5,6,7,8,1,3,4,9},C39,4,1,)", None, 0)
    ws.write_formula("C42", "=_xlfn.FORECAST.ETS.CONFINT(50,{3,3,1,2,3,2,1,3,2,1},{3,7,5,6,7,8,1,3,4,9},0.95,C39,1,)", None, 0)
    wb.close()
    plain = tmp_path / "plain.xlsx"
    wb = xlsxwriter.Workbook(str(plain))
    ws = wb.add_worksheet("S")
    ws.write("A1", 2)
    ws.write_formula("A2", "=A1*21", None, 0)
    wb.close()
    monkeypatch.setattr(client, "TIMEOUT", 30.0)  # a hang fails the test in 30 s, not 300
    first = regen_file(crasher, REGISTRY, out_dir=tmp_path / "out", engine="libreoffice")
    if "crashed" not in (first.error or ""):
        pytest.skip(f"this LibreOffice does not crash on it ({first.status}: {first.error})")
    assert first.failed and not (tmp_path / "out" / "crash.xlsx").exists()
    nxt = regen_file(plain, REGISTRY, out_dir=tmp_path / "out", engine="libreoffice")
    assert (nxt.status, nxt.error) == ("ok", None)
    import openpyxl
    assert openpyxl.load_workbook(nxt.output, data_only=True)["S"]["A2"].value == 42
    fused = regen_file(crasher, REGISTRY, out_dir=tmp_path / "fused", engine="fused")  # computed by formulas alone
    assert fused.status == "ok" and fused.engine == "formulas" and "crashed" in fused.problems[0]

"""Defects 6 and 7 of issue 15, in the formulas engine, each reproduced by a small workbook made
here: the 1904 date system, 3-D references, what its dependencies print, formulas it cannot read,
and the time it took on workbooks of constants."""

from __future__ import annotations

import random
import zipfile

import openpyxl
import pytest
import xlsxwriter

from tests.batch.common import REGISTRY, sha
from xl_stp.batch import scan
from xl_stp.batch.engines import FormulasEngine, Unsupported
from xl_stp.batch.engines.formulas import DAYS_1904, simple_cycles
from xl_stp.batch.run import regen_file


def _regen(path, tmp_path):
    before = sha(path)
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="formulas")
    assert sha(path) == before
    return r


def _values(r, sheet: str) -> dict:
    ws = openpyxl.load_workbook(r.output, data_only=True)[sheet]
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}


# ---- 6. the 1904 date system ---------------------------------------------------------------------

#: (formula, its value in the 1904 date system, in the 1900 system)
DATES = [
    ("=DATE(2000,1,1)", 35064, 36526),
    ('=DATEVALUE("2000-01-01")', 35064, 36526),
    ('=VALUE("2000-01-01")', 35064, 36526),
    ("=YEAR(DATE(2017,4,1))", 2017, 2017),  # round trips: a date made and read back
    ("=MONTH(DATE(2017,4,1))", 4, 4),
    ("=DAY(DATE(2017,4,1))", 1, 1),
    ('=YEAR(DATEVALUE("2016-07-31"))', 2016, 2016),
    ("=YEAR(A1)", 2000, 2000),  # A1 holds 1 Jan 2000 as the file's own system counts it
    ("=A1+31", 35095, 36557),
    ("=YEAR(35064)", 2000, 1995),  # the same number is another day in the other system
    ("=DATE(1904,1,1)", 0, 1462),
    ("=DATE(1903,12,31)", "#NUM!", 1461),  # before the 1904 system's first day
    ("=WEEKDAY(DATE(2024,1,1))", 2, 2),  # a Monday in either system
    ("=WEEKNUM(DATE(2024,3,15))", 11, 11),
    ("=ISOWEEKNUM(DATE(2024,3,15))", 11, 11),
    ("=EDATE(DATE(2000,1,31),1)", 35123, 36585),  # 29 Feb 2000
    ("=EOMONTH(DATE(2000,2,10),0)", 35123, 36585),
    ("=WORKDAY(DATE(2024,1,5),1)", 43837, 45299),  # Friday 5 Jan 2024 -> Monday 8 Jan
    ('=TEXT(35064,"yyyy-mm-dd")', "2000-01-01", "1995-12-31"),
    ("=DATEDIF(DATE(2000,1,1),DATE(2001,3,1),\"m\")", 14, 14),
    ("=NETWORKDAYS(DATE(2024,1,1),DATE(2024,1,31))", 23, 23),
]


def _dated(path, date1904: bool):
    wb = xlsxwriter.Workbook(str(path), {"date_1904": date1904})
    ws = wb.add_worksheet("Dates")
    ws.write_number("A1", 35064 if date1904 else 36526)
    for i, (formula, _v1904, _v1900) in enumerate(DATES, start=2):
        ws.write_formula(f"B{i}", formula, None, 0)
    wb.close()
    return path


@pytest.mark.parametrize("date1904", [True, False], ids=["1904", "1900"])
def test_dates_count_in_the_workbooks_own_date_system(date1904, tmp_path):
    path = _dated(tmp_path / "dates.xlsx", date1904)
    assert (b'date1904="1"' in zipfile.ZipFile(path).read("xl/workbook.xml")) == date1904
    r = _regen(path, tmp_path)
    assert r.status == "ok", (r.error, r.problems)
    got = _values(r, "Dates")
    for i, (formula, v1904, v1900) in enumerate(DATES, start=2):
        assert got[f"B{i}"] == (v1904 if date1904 else v1900), formula
    assert DAYS_1904 == 36526 - 35064


def test_a_1904_workbook_does_not_change_the_next_ones_dates(tmp_path):
    """The date system is the workbook's, not the process's: a 1900 workbook computed after a 1904
    one (and in the same process) counts from 1900."""
    engine = FormulasEngine()
    for date1904, expected in ((True, 35064), (False, 36526), (True, 35064)):
        path = _dated(tmp_path / f"d{int(date1904)}.xlsx", date1904)
        assert engine.compute(path, REGISTRY, scan(path)).values["Dates"]["B2"] == expected


# ---- 6. 3-D references ---------------------------------------------------------------------------

def _months(path, formulas: dict[str, str], chart_sheet: bool = True):
    """Jan, 'Feb 2', a chart sheet, Mar: A1 = 1, 2, 4; A2 = 10, 20, 40; B1 text. Then a Summary sheet."""
    wb = xlsxwriter.Workbook(str(path))
    for value, name in ((1, "Jan"), (2, "Feb 2"), (None, "Chart1"), (4, "Mar")):
        if value is None:
            if chart_sheet:
                chart = wb.add_chart({"type": "line"})
                chart.add_series({"values": "=Jan!$A$1:$A$2"})
                wb.add_chartsheet(name).set_chart(chart)
            continue
        ws = wb.add_worksheet(name)
        ws.write("A1", value)
        ws.write("A2", value * 10)
        ws.write("B1", "text")
    ws = wb.add_worksheet("Summary")
    for cell, formula in formulas.items():
        ws.write_formula(cell, formula, None, 0)
    wb.close()
    return path


def test_3d_references_are_computed_sheet_by_sheet(tmp_path):
    path = _months(tmp_path / "months.xlsx", {
        "A1": "=SUM(Jan:Mar!A1)", "A2": "=COUNT(Jan:Mar!A1:B2)", "A3": "=COUNTA(Jan:Mar!A1:B2)",
        "A4": "=AVERAGE(Jan:Mar!A1:A2,100)", "A5": "=_xlfn.STDEV.S(Jan:Mar!A1)", "A6": "=SUM('Feb 2:Mar'!A2)",
        "A7": "=MAX(Mar:Jan!$A$2)", "A8": "=SUM(Jan:Mar!A1)*2+MIN(Jan:Mar!A2)", "A9": "=SUM(Jan:Jan!A1:A2)"})
    r = _regen(path, tmp_path)
    assert r.status == "ok", (r.error, r.problems)
    got = _values(r, "Summary")
    assert got["A1"] == 7  # 1 + 2 + 4: the chart sheet between Feb 2 and Mar has no cells
    assert got["A2"] == 6 and got["A3"] == 9
    assert got["A4"] == pytest.approx((1 + 10 + 2 + 20 + 4 + 40 + 100) / 7)
    assert got["A5"] == pytest.approx(1.5275252316519468)
    assert got["A6"] == 60 and got["A7"] == 40 and got["A8"] == 24 and got["A9"] == 11
    assert FormulasEngine().compute(path, REGISTRY, scan(path)).problems == []


@pytest.mark.parametrize("formula, shown", [
    ("=Jan:Mar!A1", "Jan:Mar!A1"),  # a bare 3-D reference
    ("=SUMPRODUCT(Jan:Mar!A1:A2)", "Jan:Mar!A1:A2"),  # a function Excel does not take one in
    ("=SUM(Jan:Mar!A1*2)", "Jan:Mar!A1"),  # part of an expression
    ("=SUM(Jan:Dec!A1)", "Jan:Dec!A1"),  # no sheet Dec
])
def test_3d_references_that_cannot_be_spelt_out_are_refused_naming_the_cell(formula, shown, tmp_path):
    path = _months(tmp_path / "months.xlsx", {"A1": "=SUM(Jan:Mar!A1)", "C3": formula})
    r = _regen(path, tmp_path)
    assert r.failed and not (tmp_path / "out" / "months.xlsx").exists()
    assert r.error.startswith(f"Summary!C3: uses the 3-D reference {shown} "), r.error
    assert "use --engine libreoffice" in r.error and "\n" not in r.error
    with pytest.raises(Unsupported) as refused:  # what the choice of engine can hand to LibreOffice
        FormulasEngine().compute(path, REGISTRY, scan(path))
    assert (refused.value.cell.sheet, refused.value.cell.ref) == ("Summary", "C3")


def test_a_defined_name_that_is_a_3d_reference_is_refused(tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "named.xlsx"))
    for name in ("Jan", "Feb", "Mar"):
        wb.add_worksheet(name).write("A1", 1)
    wb.add_worksheet("Summary").write_formula("A1", "=SUM(FirstCells)", None, 0)
    wb.define_name("FirstCells", "=Jan:Mar!$A$1")
    wb.close()
    with pytest.raises(Unsupported, match=r"^Summary!A1: uses the name FIRSTCELLS, a 3-D reference \(Jan:Mar!\$A\$1\)"):
        FormulasEngine().compute(tmp_path / "named.xlsx", REGISTRY, scan(tmp_path / "named.xlsx"))


# ---- 7. what the formulas package and its dependencies say -------------------------------------------

def test_a_cell_the_package_fails_on_is_one_line_and_no_traceback(tmp_path, capfd):
    path = tmp_path / "noisy.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write_column("A1", [1, 2])
    ws.write_column("B1", [1, 2, 3])
    ws.write_formula("D1", "=A1:A2+B1:B3", None, 42)  # ranges of different sizes: the package raises inside
    ws.write_formula("D2", "=A1*2", None, 0)
    wb.close()
    r = _regen(path, tmp_path)
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "DISPATCHING" not in out + err and "BroadcastError" not in out + err
    assert r.status == "ok"
    assert "S!D1: the formulas engine failed on this cell (it combines ranges of different sizes, which the formulas " \
        "engine cannot do); it keeps the value stored in the file" in r.problems
    assert all("\n" not in p for p in r.problems)
    got = _values(r, "S")
    assert got["D1"] == 42 and got["D2"] == 2


def test_a_formula_the_package_cannot_read_is_a_plain_sentence(tmp_path):
    path = tmp_path / "percent.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write("A1", 50000)
    ws.write_formula("B1", "=A1%%", None, 5)  # Excel reads A1/10000; the formulas package cannot parse it
    ws.write_formula("C1", "=B1*2", None, 0)
    wb.close()
    r = _regen(path, tmp_path)
    assert r.status == "ok"
    text = "\n".join(r.problems)
    assert "S!B1: has a formula the formulas engine cannot read (=A1%%); the cell keeps the value stored in the file, " \
        "and cells that use it are computed from that value" in r.problems
    assert "FormulaError" not in text and "Not a valid formula" not in text and "%s" not in text
    got = _values(r, "S")
    assert got["B1"] == 5 and got["C1"] == 10


def test_a_workbook_without_formulas_is_never_loaded(tmp_path, monkeypatch):
    import formulas

    path = tmp_path / "constants.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    for r in range(200):
        ws.write_row(r, 0, list(range(10)))
    wb.close()
    monkeypatch.setattr(formulas.ExcelModel, "__init__", lambda self: pytest.fail("the workbook was loaded"))
    computed = FormulasEngine().compute(path, REGISTRY, scan(path))
    assert computed.values == {} and computed.problems == [] and computed.calls == []


def test_only_the_cells_formulas_read_are_compiled(tmp_path, monkeypatch):
    """The formulas package's own loading compiles every constant cell (200,000 constants: 507 s
    measured); the engine compiles the formula cells and the cells they refer to."""
    import formulas

    path = tmp_path / "mostly_constants.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    for r in range(2000):
        ws.write_row(r, 0, [r * 10 + c for c in range(10)])
    ws.write_formula("L1", "=SUM(A1:B3)", None, 0)
    ws.write_formula("L2", "=L1+J2000", None, 0)
    wb.close()
    compiled = []
    original = formulas.ExcelModel._compile_cell
    monkeypatch.setattr(formulas.ExcelModel, "_compile_cell",
                        staticmethod(lambda crd, *a: compiled.append(crd) or original(crd, *a)))
    values = FormulasEngine().compute(path, REGISTRY, scan(path)).values["Data"]
    assert values == {"L1": 0 + 1 + 10 + 11 + 20 + 21, "L2": 63 + 19999}
    assert len(compiled) == 2 + 6 + 1  # the formulas, A1:B3 and J2000: not the 20,000 constants


def test_a_long_chain_of_formulas_is_computed(tmp_path):
    """The package's search for circular references recursed once per cell of a chain: past
    Python's limit at about a thousand."""
    path = tmp_path / "chain.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("C")
    ws.write("A1", 1)
    for row in range(2, 1202):
        ws.write_formula(f"A{row}", f"=A{row - 1}+1", None, 0)
    wb.close()
    assert FormulasEngine().compute(path, REGISTRY, scan(path)).values["C"]["A1201"] == 1201


def test_the_cycle_search_finds_what_the_package_finds_in_the_same_order():
    package_simple_cycles = _package_module("formulas.excel.cycle").simple_cycles
    for seed in range(200):
        rnd = random.Random(seed)
        n = rnd.randint(1, 12)
        p = rnd.choice([0.05, 0.1, 0.2, 0.3])
        graph = {i: {j for j in range(n) if rnd.random() < p} for i in range(n)}
        skip = {i for i in range(n) if rnd.random() < 0.1}
        ours = list(simple_cycles({k: set(v) for k, v in graph.items()}, skip_nodes=skip))
        theirs = list(package_simple_cycles({k: set(v) for k, v in graph.items()}, skip_nodes=skip))
        assert ours == theirs, seed


def _package_module(name: str):
    """A fresh copy of a module of the formulas package, as it ships (the engine replaces its
    simple_cycles in the imported one)."""
    import importlib
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_fresh_{name}", importlib.import_module(name).__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

"""Excel's calculation semantics (xl_stp/batch/recalc.py) and ``xl-stp verify``: what a regeneration
recomputes, what keeps the value Excel stored, and the agreement figure.

The workbooks are made here as Excel leaves them: every formula cell with a stored value and no
request for a full recalculation; some stored values are deliberately not what the formula gives
today, so that a test sees whether the cell was recomputed."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tests.batch.common import ENGINES, REGISTRY, SHARED, sha
from xl_stp.batch.recalc import VOLATILE_CELL, Graph
from xl_stp.batch.run import regen_file
from xl_stp.batch.scan import scan
from xl_stp.batch.verify import agree, verify_file
from xl_stp.cli.commands import app


def excel_like(path: Path, cells: dict[str, object], sheet: str = "Model", unstored: tuple[str, ...] = (),
               names: dict[str, str] | None = None, full_calc: bool = False) -> Path:
    """A workbook as Excel saves it. ``cells``: a value, or (formula, stored value); ``unstored``:
    formula cells saved with no value (as a program that does not compute writes them)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(sheet)
    for ref, v in cells.items():
        if isinstance(v, tuple):
            ws.write_formula(ref, v[0], None, v[1])
        else:
            ws.write(ref, v)
    for name, target in (names or {}).items():
        wb.define_name(name, target)
    wb.close()
    return _rewrite(path, full_calc, unstored)


def _rewrite(path: Path, full_calc: bool, unstored: tuple[str, ...]) -> Path:
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    if not full_calc:
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b' fullCalcOnLoad="1"', b"")
    for ref in unstored:
        sheet = parts["xl/worksheets/sheet1.xml"]
        parts["xl/worksheets/sheet1.xml"] = re.sub(rb'(<c r="%s"[^>]*>(?:<f>[^<]*</f>))<v>[^<]*</v>' % ref.encode(), rb"\1", sheet)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def values(path: str | Path, sheet: str = "Model") -> dict[str, object]:
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}


#: A model as Excel left it: B1 is stored as 999 (not 2*3) so that a recomputation shows; C1's
#: STP_CHECK result is stale (Excel saw other inputs); D1 reads C1; E1 reads only B1; F1 has no stored value.
MODEL = {"A1": 2, "A2": 100, "A3": 100,
         "B1": ("=A1*3", 999),
         "C1": ("=STP_CHECK(A2,A3)", "stale"),
         "D1": ('=C1&"!"', "stale!"),
         "E1": ("=B1+1", 1000),
         "F1": ("=A1+A2", 0),
         "G1": ("=LEN(TEXT(NOW(),\"yyyy\"))", 0)}


@pytest.mark.parametrize("engine", ENGINES)
def test_only_stp_volatile_unstored_and_downstream_cells_are_recomputed(tmp_path, engine):
    path = excel_like(tmp_path / "model.xlsx", MODEL, unstored=("F1",))
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine=engine)
    assert r.status == "ok", r.error
    got = values(r.output)
    assert got["B1"] == 999 and got["E1"] == 1000  # nothing they read changed: Excel's values kept
    assert got["C1"] == "OK" and got["D1"] == "OK!"  # the STP_* cell, and the cell that reads it
    assert got["F1"] == 102  # no stored value
    assert got["G1"] == 4  # volatile
    assert r.recomputed == 4
    assert r.recalc == ("4 formula cells recomputed (1 STP_* function, 1 volatile function, 1 no stored value, "
                        "1 reads a changed cell); the others keep the values Excel stored")


@pytest.mark.parametrize("engine", ENGINES)
def test_full_recomputes_every_formula_cell(tmp_path, engine):
    path = excel_like(tmp_path / "model.xlsx", MODEL)
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine=engine, full=True)
    got = values(r.output)
    assert (got["B1"], got["E1"], got["C1"], got["F1"]) == (6, 7, "OK", 102)
    assert r.recomputed == 6 and r.recalc == "6 formula cells recomputed (--full)"
    assert r.agreement == 0 and r.disagreements == 5  # B1 C1 D1 E1 F1 all stored otherwise; G1 (volatile) left out


def test_a_file_that_asks_for_a_full_recalculation_gets_one(tmp_path):
    path = excel_like(tmp_path / "model.xlsx", MODEL, full_calc=True)
    assert scan(path).full_calc_on_load
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="formulas")
    assert values(r.output)["B1"] == 6
    assert r.recalc == "6 formula cells recomputed (the workbook asks for a full recalculation on load)"
    assert r.agreement is None  # its stored values are placeholders, not Excel's


def test_an_stp_value_that_did_not_change_leaves_its_dependents_alone(tmp_path):
    cells = {"A2": 100, "A3": 100, "C1": ("=STP_CHECK(A2,A3)", "OK"), "D1": ('=C1&"?"', "kept")}
    path = excel_like(tmp_path / "same.xlsx", cells)
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="formulas")
    assert values(r.output)["D1"] == "kept" and r.recomputed == 1 and r.values_changed == 0
    assert sha(tmp_path / "out" / "same.xlsx") == sha(path)  # nothing changed: the file as it was, byte for byte


@pytest.mark.parametrize("engine", ENGINES)
def test_changes_follow_shared_formulas_ranges_names_and_other_sheets(tmp_path, engine):
    """C2:C4 share one formula (=B2*2, moved down); E1 sums them through a whole column; F1 reads a
    defined name that points at C1's row; H1 does not depend on the change and keeps its value."""
    import xlsxwriter

    path = tmp_path / "chain.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Model")
    ws.write_row("A1", [100, 100])
    ws.write_formula("C1", "=STP_CHECK(A1,B1)", None, "stale")
    for r in range(2, 5):
        ws.write_number(f"B{r}", r)
        ws.write_formula(f"C{r}", f"=IF(C$1=\"OK\",B{r}*2,-1)", None, -1)
    ws.write_formula("E1", "=SUM(C:C)", None, -3)
    wb.define_name("Verdict", "=Model!$C$1")
    ws.write_formula("F1", '=Verdict&"."', None, "stale.")
    other = wb.add_worksheet("Summary")
    other.write_formula("A1", "=Model!E1*10", None, -30)
    other.write_formula("A2", "=Model!B2*10", None, 999)
    wb.close()
    _rewrite(path, False, ())
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine=engine)
    got, summary = values(r.output), values(r.output, "Summary")
    assert [got[f"C{i}"] for i in range(2, 5)] == [4, 6, 8] and got["E1"] == 18 and got["F1"] == "OK."
    assert summary == {"A1": 180, "A2": 999}
    assert r.recomputed == 7


def test_graph_reads_whole_columns_rows_and_marks_what_it_cannot_pin_down(tmp_path):
    cells = {"A1": 1, "A5": ("=1+1", 2), "B1": ("=SUM(A:A)", 3), "B2": ("=SUM(1:1)", 4), "B3": ("=SUM(Model:Other!A1)", 1),
             "B4": ('=INDIRECT("A1")', 1), "B5": ("=Dyn", 1), "C7": ("=$A$5+B$1", 5)}
    path = excel_like(tmp_path / "g.xlsx", cells, names={"Dyn": "=OFFSET(Model!$A$1,0,0)"})
    g = Graph(scan(path))
    key = lambda ref: ("Model", ref)  # noqa: E731
    assert g.dependents(key("A5")) == {key("B1"), key("C7")}  # the whole column A, and $A$5
    assert g.dependents(key("B1")) == {key("B2"), key("C7")}  # row 1, and B$1
    assert g.everything == [key("B3")]  # a 3-D reference: recomputed whenever anything changed
    assert g.seeds() == {key("B4"): VOLATILE_CELL, key("B5"): VOLATILE_CELL}  # INDIRECT; OFFSET through a name


@pytest.mark.parametrize("engine", ENGINES)
def test_verify_lists_every_cell_that_differs_from_excel_and_writes_nothing(tmp_path, engine):
    path = excel_like(tmp_path / "model.xlsx", MODEL)
    before = sha(path)
    r = verify_file(path, REGISTRY, engine=engine)
    assert r.error is None and sha(path) == before
    assert (r.formula_cells, r.compared, r.agreed, r.left_out) == (6, 5, 0, 1)  # G1 (volatile) left out
    wrong = {d["cell"]: (d["excel"], d["ours"], d["formula"]) for d in r.disagreements}
    assert wrong["Model!B1"] == (999, 6, "A1*3") and wrong["Model!E1"] == (1000, 7, "B1+1")
    assert wrong["Model!C1"][:2] == ("stale", "OK") and wrong["Model!F1"][:2] == (0, 102) and len(wrong) == 5


def test_verify_command_exit_status_table_and_report(tmp_path):
    good = excel_like(tmp_path / "good.xlsx", {"A1": 2, "B1": ("=A1*3", 6)})
    bad = excel_like(tmp_path / "bad.xlsx", {"A1": 2, "B1": ("=A1*3", 7)})
    runner = CliRunner()
    ok = runner.invoke(app, ["verify", str(good), "--engine", "formulas"])
    assert ok.exit_code == 0, ok.output
    assert "100%" in ok.output
    differs = runner.invoke(app, ["verify", str(good), str(bad), "--engine", "formulas", "--report", str(tmp_path / "r.json")])
    assert differs.exit_code == 3, differs.output
    assert "bad.xlsx: Model!B1: Excel 7.0, formulas 6" in differs.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert [(d["cell"], d["excel"], d["ours"]) for d in report["disagreements"]] == [("Model!B1", 7.0, 6)]
    assert [f["agreement"] for f in report["files"]] == [1.0, 0.0]
    missing = runner.invoke(app, ["verify", str(tmp_path / "nope.xlsx"), "--engine", "formulas"])
    assert missing.exit_code == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_a_value_that_becomes_an_error_is_reported_and_an_unknown_function_keeps_its_value(tmp_path, engine):
    cells = {"A1": 0, "B1": ("=10/A1", 5), "C1": ("=MYVBAFUNC(A1)", 42), "D1": ("=C1*2", 84), "E1": ("=A1+1", 1)}
    path = excel_like(tmp_path / "m.xlsx", cells)
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine=engine, full=True)
    got = values(r.output)
    assert got["B1"] == "#DIV/0!" and got["C1"] == 42 and got["D1"] == 84
    text = "\n".join(r.problems)
    assert "Model!B1: was a value in the file and is now #DIV/0! (=10/A1)" in text
    assert ("Model!C1: calls MYVBAFUNC(), not a function the engines know (a VBA or add-in function?): keeps the value "
            "stored in the file") in text
    assert "Model!D1: computed from 1 cell(s) that keep their stored value" in text


def test_values_agree_as_excel_shows_them():
    assert agree(0.1 + 0.2, 0.3) and agree(1e12 + 1e-4, 1e12) and not agree(1.0001, 1.0)
    assert agree(True, True) and not agree(1.0, True) and not agree(True, 1.0)
    assert agree("#N/A", "#n/a") and not agree("#N/A", "#VALUE!") and agree("", None) and not agree("a", "A")


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/corpus not present")
def test_excel_saved_workbooks_come_back_with_excels_values(tmp_path):
    """Default mode on workbooks Excel saved: nothing is an STP_* cell, so only volatile and
    unstored cells are recomputed, and at least 99.9% of the formula cells keep Excel's value."""
    files = [p for p in sorted(SHARED.glob("*/*.xlsx")) if p.name != "test.xlsx"]
    kept = total = 0
    for path in files:
        r = regen_file(path, REGISTRY, out_dir=tmp_path / path.stem, engine="formulas")
        assert r.status == "ok", (path.name, r.error)
        total += r.formula_cells
        kept += r.formula_cells - r.values_changed
    assert total > 3000 and kept / total >= 0.999


@pytest.mark.parametrize("engine", ENGINES)
def test_other_workbooks_and_add_in_functions_keep_their_stored_values(tmp_path, engine):
    """A path written out, a link number, a defined name that points at another workbook, and a
    function of another add-in ([1]!RATE): never followed or run; each cell keeps its stored value
    and is reported once; a cell computed from one keeps its value too, and the rest is computed."""
    cells = {"A1": 5,
             "B1": ("='C:\\plans\\[budget.xlsx]Data'!A1", 42),
             "B2": ("=[1]Data!A1*2", 84),
             "B3": ("=Rates*3", 9),
             "B4": ("=[1]!RATE_TABLE(A1)", 0.035),
             "C1": ("=B1+B2+B3", 135),
             "C2": ("=A1*2", 0)}
    path = excel_like(tmp_path / "links.xlsx", cells, names={"Rates": "=[1]Data!$A$2"}, full_calc=False)
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine=engine, full=True)
    assert r.status == "ok", r.error
    got = values(r.output)
    assert (got["B1"], got["B2"], got["B3"], got["B4"], got["C1"], got["C2"]) == (42, 84, 9, 0.035, 135, 10)
    text = "\n".join(r.problems)
    assert "Model!B1: refers to another workbook (C:\\plans\\budget.xlsx) through a path written in the formula" in text
    assert "Model!B2: refers to another workbook" in text and "external link [1]" in text
    assert "Model!B3: uses the name Rates, which refers to another workbook" in text
    assert "Model!B4: calls RATE_TABLE() from another workbook or add-in" in text
    assert "sheet that does not exist" not in text
    for cell in ("B1", "B2", "B3", "B4"):  # each reported once
        assert sum(p.startswith(f"Model!{cell}:") for p in r.problems) == 1, r.problems


FORMULAS = ['SUM(A1:B2)*$C$3', 'IF(A2="a,b!c", TRUE, FALSE)', "'My sheet'!A1+Data!B$2", 'VLOOKUP(A1,Rates,2,FALSE)',
            'SUM(A:A)+SUM(3:5)', '1.5E+3*Q1Sales', 'LOG10(A1)', 'Données!A1', 'COLUMN(C14:E14:G13:I14 E13:F13)',
            '[1]Data!A1', 'SUM(Table1[Cost])', '{1,2}*A1', 'IFERROR(A1,#N/A)', '_xlfn.XLOOKUP(A1,B:B,C:C)', 'A1%+-B2^2']


@pytest.mark.parametrize("text", FORMULAS)
def test_the_one_pass_reading_finds_what_the_tokenizer_finds(text):
    """The graph reads most formulas in one regular-expression pass; it must find the same
    references and functions as the full tokenizer (which it falls back on for the rest)."""
    from xl_stp.batch.formula import RANGE, function_names, tokens
    from xl_stp.batch.recalc import _operands

    operands, functions = _operands(text)
    expected = [text[a:b] for a, b, _t, sub in tokens(text) if sub == RANGE]
    assert sorted(operands) == sorted(expected)
    assert sorted(f.upper() for f in functions) == sorted(f.upper() for f in function_names(text))

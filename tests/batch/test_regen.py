"""Batch regeneration: engines, surgical write-back, the command line, Dask.

The fidelity corpus is built by tests/data/corpus.py; Excel-saved workbooks in ../shared/corpus
are the oracle for native formulas.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.data.corpus import FIDELITY_EXPECTED, VBA_BYTES, fidelity_workbook, finance_workbook
from udfs.registry import REGISTRY
from udfs import discover
from xl_stp.cli import app
from xl_stp.batch import scan
from xl_stp.batch.run import regen_file, run_batch
from xl_stp.batch.engines.formulas import FormulasEngine, excel_round, fill_omitted
from xl_stp.batch.engines.libreoffice.engine import available as lo_available, split_call
from xl_stp.batch.patch import CELL, encode

ROOT = Path(__file__).resolve().parents[2]
LLR = ROOT / "workbooks" / "llr_stp_2016.xlsx"
SHARED = ROOT.parent / "shared" / "corpus" / "excel-saved"
ENGINES = ["formulas", pytest.param("libreoffice", marks=[pytest.mark.libreoffice,
                                                          pytest.mark.skipif(not lo_available(), reason="LibreOffice not installed")])]
discover()


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def strip_results(xml: bytes, cells: set[str]) -> bytes:
    """A sheet's XML with the cached value and type of the given cells removed."""
    def cut(m):
        r = re.search(rb'\br="([A-Z]+[0-9]+)"', m.group("attrs"))
        if not r or r.group(1).decode() not in cells:
            return m.group(0)
        body = re.sub(rb"<v>.*?</v>|<v/>", b"", m.group("body") or b"", flags=re.S)
        return b"<c" + re.sub(rb'\s+t="[^"]*"', b"", m.group("attrs")) + b">" + body + b"</c>"
    return CELL.sub(cut, xml)


def assert_surgical(src: Path, out: Path) -> None:
    """Every zip member but the worksheets byte-identical and in the same order; in worksheets,
    only the cached values of formula-result cells differ."""
    sc = scan(src)
    parts = {s.part: s.result_cells() for s in sc.sheets}
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(out) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            if name in parts:
                assert strip_results(a.read(name), parts[name]) == strip_results(b.read(name), parts[name]), name
            else:
                assert a.read(name) == b.read(name), name


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("corpus")
    return {"xlsx": fidelity_workbook(d / "fidelity.xlsx"), "xlsm": fidelity_workbook(d / "fidelity.xlsm", vba=True)}


# ---- write-back fidelity ---------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", ["xlsx", "xlsm"])
def test_regen_writes_new_values_and_changes_nothing_else(corpus, tmp_path, engine, kind):
    src = corpus[kind]
    before = sha(src)
    r = regen_file(src, out_dir=tmp_path / "out", engine=engine)
    assert r.status == "ok", r.error
    assert r.problems == []
    assert sha(src) == before  # the original is untouched
    out = Path(r.output)
    values = openpyxl.load_workbook(out, data_only=True)
    for (sheet, cell), expected in FIDELITY_EXPECTED.items():
        got = values[sheet][cell].value
        assert got == (pytest.approx(expected) if isinstance(expected, (int, float)) else expected), (sheet, cell, got)
    assert_surgical(src, out)
    with zipfile.ZipFile(out) as z:
        if kind == "xlsm":
            assert z.read("xl/vbaProject.bin") == VBA_BYTES
        else:
            assert "xl/vbaProject.bin" not in z.namelist()
        text = z.read("xl/worksheets/sheet2.xml").decode()
        assert "_xludf.STP_CHECK(Data!E5,C7)" in text and "stp_check(1,1)" in text  # each file keeps its spelling
        assert "<calcPr" in z.read("xl/workbook.xml").decode()
    # regenerating the regenerated file changes nothing, to the byte
    again = regen_file(out, out_dir=tmp_path / "again", engine=engine)
    assert again.values_changed == 0 and sha(again.output) == sha(out)


def test_llr_workbook_regenerates_with_no_changes(tmp_path):
    """The reference workbook's stored values are what the engine computes from its formulas."""
    for engine in ["formulas"] + (["libreoffice"] if lo_available() else []):
        r = regen_file(LLR, out_dir=tmp_path / engine, engine=engine)
        assert r.status == "ok" and r.problems == [], (engine, r.error, r.problems)
        assert r.formula_cells == 1161 and r.stp_cells == 187
        assert r.values_changed == 0, engine
        assert sha(r.output) == sha(LLR)


def test_readers_see_the_new_values(corpus, tmp_path):
    r = regen_file(corpus["xlsx"], out_dir=tmp_path, engine="formulas")
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(r.output).get_sheet_by_name("Data").to_python()
    assert sheet[4][4] == 1030 and sheet[1][5] == 200
    frame = pd.read_excel(r.output, sheet_name="Calc", header=None, engine="openpyxl")
    assert frame.iloc[4, 3] == 975 and frame.iloc[6, 0] == "OK"


@pytest.mark.libreoffice
@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed")
def test_libreoffice_reads_the_new_values_without_recalculating(corpus, tmp_path):
    r = regen_file(corpus["xlsx"], out_dir=tmp_path / "out", engine="formulas")
    profile = tmp_path / "profile" / "user"
    profile.mkdir(parents=True)
    (profile / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><oor:items xmlns:oor="http://openoffice.org/2001/registry">'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">'
        "<value>1</value></prop></item></oor:items>")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to", "csv",
                    "--outdir", str(tmp_path), r.output], check=True, capture_output=True, timeout=180)
    rows = (tmp_path / "fidelity.csv").read_text().splitlines()  # the first sheet, Data
    assert rows[4].split(",")[4] == "1030" and rows[1].split(",")[4] == "300"


# ---- engines ---------------------------------------------------------------------------------------

def test_both_engines_agree_cell_by_cell_on_a_finance_model(tmp_path):
    if not lo_available():
        pytest.skip("LibreOffice not installed")
    path, n = finance_workbook(tmp_path / "model.xlsx", rows=120)
    sc = scan(path)
    assert sc.formula_count == n and len(sc.stp_cells()) == 2 * (120 // 10)
    a = FormulasEngine().compute(path, REGISTRY, sc)
    from xl_stp.batch.engines.libreoffice.engine import LibreOfficeEngine

    b = LibreOfficeEngine().compute(path, REGISTRY, sc)
    assert a.problems == [] and b.problems == []
    compared = 0
    for s in sc.sheets:
        for cell in s.result_cells():
            x, y = a.values[s.name][cell], b.values[s.name][cell]
            if isinstance(x, float) or isinstance(y, float):
                assert x == pytest.approx(y, rel=1e-12, abs=1e-9), (s.name, cell, x, y)
            else:
                assert x == y, (s.name, cell, x, y)
            compared += 1
    assert compared == n


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("spelling", ["STP_CAPITAL_NET", "stp_capital_net", "_xludf.STP_CAPITAL_NET", "_xll.STP_CAPITAL_NET",
                                      "_xldudf_XLSTP_STP_CAPITAL_NET", "[1]!STP_CAPITAL_NET", "'C:\\addins\\xl_stp.xlam'!STP_CAPITAL_NET"])
def test_every_spelling_resolves_to_the_same_function(tmp_path, spelling, engine):
    path, _ = finance_workbook(tmp_path / "s.xlsx", rows=20, spelling=spelling)
    r = regen_file(path, out_dir=tmp_path / "out", engine=engine)
    assert r.status == "ok" and r.problems == [], r.problems
    wb = openpyxl.load_workbook(r.output, data_only=True)
    assert wb["Calc"]["B10"].value == (100 + 37 * 9 % 900) + (50 + 53 * 9 % 700) - (29 * 9 % 300)
    with zipfile.ZipFile(r.output) as z:
        assert spelling in z.read("xl/worksheets/sheet2.xml").decode()


def test_circular_references_and_unknown_functions_are_reported_and_the_rest_computed(tmp_path):
    import xlsxwriter

    path = tmp_path / "bad.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Model")
    ws.write_number("A1", 2)
    ws.write_formula("B1", "=A1*3", None, 0)
    ws.write_formula("C1", "=D1+1", None, 0)
    ws.write_formula("D1", "=C1+1", None, 0)
    ws.write_formula("E1", "=NOSUCHFUNC(A1)", None, 0)
    wb.close()
    r = regen_file(path, out_dir=tmp_path / "out", engine="formulas")
    assert r.status == "ok"
    text = "\n".join(r.problems)
    assert "Model!E1: calls an unknown function NOSUCHFUNC()" in text
    assert "Model!C1: is part of a circular reference" in text and "Model!D1" in text
    assert openpyxl.load_workbook(r.output, data_only=True)["Model"]["B1"].value == 6


def test_formulas_engine_refuses_what_it_cannot_do(tmp_path):
    import xlsxwriter

    path = tmp_path / "table.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("T")
    ws.add_table("A1:B3", {"name": "Amounts", "columns": [{"header": "x"}, {"header": "y"}], "data": [[1, 2], [3, 4]]})
    ws.write_formula("D1", "=SUM(Amounts[x])", None, 0)
    wb.define_name("T!Scoped", "=T!$A$2")
    ws.write_formula("D2", "=Scoped*2", None, 0)
    wb.close()
    before = sha(path)
    r = regen_file(path, out_dir=tmp_path / "out", engine="formulas")
    assert r.failed and not (tmp_path / "out" / "table.xlsx").exists() and sha(path) == before
    text = r.error + "\n" + "\n".join(r.problems)
    assert "not computed: T!D1: uses a structured table reference, which the formulas engine cannot compute" in r.error
    assert "T!D2: uses the sheet-scoped name SCOPED" in text


def test_excel_rounding_and_omitted_arguments():
    assert excel_round(2.385, 2) == 2.39 and excel_round(-2.385, 2) == -2.39 and excel_round(1234.5, -2) == 1200
    assert fill_omitted("STP_FUNDING_SPLIT(A1:F1,A2:F4,,A5:F5)") == 'STP_FUNDING_SPLIT(A1:F1,A2:F4,"",A5:F5)'
    assert fill_omitted('SUM(A1,,2)') == 'SUM(A1,,2)'
    assert split_call("STP_ROI(B5,B6,-B7,\"net\")") == ("STP_ROI", ["B5", "B6", "-B7", '"net"'])
    assert split_call("1+STP_ROI(B5,B6)") is None and split_call("STP_ROI(B5,B6)*2") is None
    assert encode(True) == ("b", "1") and encode(2.0) == (None, "2") and encode(float("nan")) == ("e", "#NUM!")
    assert encode("#N/A") == ("e", "#N/A") and encode("OK") == ("str", "OK") and encode(0.1) == (None, "0.1")


EXCEL_FILES = sorted(SHARED.glob("*/*.xlsx")) if SHARED.exists() else []
#: formulas-project/test.xlsx (13,487 cells, 2 minutes) is scored by bench/corpus_score.py instead.
QUICK_FILES = [p for p in EXCEL_FILES if p.name != "test.xlsx"]
#: Where both engines differ from Excel on most cells: DEC2BIN/HEX/OCT with 'places', whose
#: error kinds (#NUM! against #VALUE!) neither engine reproduces. Scored, but apart.
APART = {"BASES.xlsx"}


@pytest.mark.skipif(not EXCEL_FILES, reason="../shared/corpus not present")
@pytest.mark.parametrize("engine, floor", [("formulas", 0.93), pytest.param("libreoffice", 0.88, marks=ENGINES[1].marks)])
def test_engines_against_excels_own_answers(engine, floor, tmp_path):
    """Excel-saved workbooks: the share of formula cells where the engine reproduces the value Excel
    stored (measured here: formulas 94%, LibreOffice 91% outside BASES.xlsx)."""
    right = total = 0
    rows = []
    for path in QUICK_FILES:
        r = regen_file(path, out_dir=tmp_path / path.stem, engine=engine)
        assert r.status == "ok", (path.name, r.error)
        rows.append((path.name, r.values_changed, r.formula_cells))
        if path.name not in APART:
            total += r.formula_cells
            right += r.formula_cells - r.values_changed
    print(f"{engine}: {right}/{total} ({right / total:.1%}) outside {sorted(APART)}; differing: {[x for x in rows if x[1]]}")
    assert total > 300
    assert right / total >= floor


# ---- command line, batch, Dask ---------------------------------------------------------------------

def test_cli_regen_batch_report_and_exit_status(corpus, tmp_path):
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"not a zip")
    report = tmp_path / "report.json"
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["regen", str(corpus["xlsx"]), str(bad), str(LLR), "--out", str(out), "--engine", "formulas",
                                      "--jobs", "2", "--report", str(report)])
    assert result.exit_code == 1
    assert "broken.xlsx: is not an Excel workbook" in result.output
    assert "Traceback" not in result.output
    rows = json.loads(report.read_text())
    assert [Path(r["path"]).name for r in rows] == ["fidelity.xlsx", "broken.xlsx", "llr_stp_2016.xlsx"]
    assert [r["status"] for r in rows] == ["ok", "failed", "ok"]
    assert (out / "fidelity.xlsx").exists() and (out / "llr_stp_2016.xlsx").exists() and not (out / "broken.xlsx").exists()
    assert "3 files" in result.output and "1 failed" in result.output


def test_cli_requires_a_destination_and_in_place_is_atomic(corpus, tmp_path):
    work = tmp_path / "w.xlsx"
    shutil.copy(corpus["xlsx"], work)
    r = CliRunner().invoke(app, ["regen", str(work)])
    assert r.exit_code == 2 and "--in-place" in r.output
    r = CliRunner().invoke(app, ["regen", str(work), "--in-place", "--engine", "formulas", "--report", str(tmp_path / "r.csv")])
    assert r.exit_code == 0, r.output
    assert openpyxl.load_workbook(work, data_only=True)["Data"]["E5"].value == 1030
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
    assert "values_changed" in (tmp_path / "r.csv").read_text()


def test_dask_scheduler_runs_the_same_job(corpus, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        results = run_batch([corpus["xlsx"], LLR], out_dir=str(tmp_path), in_place=False, engine="formulas",
                            scheduler=cluster.scheduler_address)
    assert [r.status for r in results] == ["ok", "ok"]
    assert results[0].values_changed == 30 and results[1].values_changed == 0


def test_cross_check_runs_the_other_engine_and_reports_disagreements(tmp_path):
    if not lo_available():
        pytest.skip("LibreOffice not installed")
    path, _ = finance_workbook(tmp_path / "x.xlsx", rows=30)
    r = regen_file(path, out_dir=tmp_path / "out", engine="libreoffice", cross_check=True)
    assert r.status == "ok" and r.problems == [], r.problems  # the two engines agree on every cell
    import xlsxwriter

    odd = tmp_path / "odd.xlsx"  # ROUND(1.005, 2): Excel and LibreOffice give 1.01; plain float rounding gives 1.0
    wb = xlsxwriter.Workbook(str(odd))
    wb.add_worksheet("S").write_formula("A1", "=ROUND(1.005,2)", None, 0)
    wb.close()
    r = regen_file(odd, out_dir=tmp_path / "out", engine="libreoffice", cross_check=True)
    assert r.problems == []  # our ROUND override makes the formulas engine agree


def test_an_array_range_that_no_longer_fits_its_result_is_flagged(tmp_path):
    if not lo_available():
        pytest.skip("LibreOffice not installed")
    import xlsxwriter

    path = tmp_path / "spill.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Years")
    ws.write_array_formula("A1:B1", "{=STP_FY(2017,3)}", None, 0)  # three years into a two-cell range
    ws.write_array_formula("A3:C3", "{=STP_FY(2017,3)}", None, 0)
    wb.close()
    r = regen_file(path, out_dir=tmp_path / "out", engine="libreoffice")
    assert r.status == "ok"
    assert r.problems == ["Years!A1: the result is now 1 x 3 but its array range A1:B1 is 1 x 2; the range is kept as it is "
                          "(cells beyond the result show #N/A, results beyond the range are not shown); re-enter the formula "
                          "in Excel to resize it"]
    ws = openpyxl.load_workbook(r.output, data_only=True)["Years"]
    assert [ws["A1"].value, ws["B1"].value, ws["C1"].value] == ["2017/18", "2018/19", None]
    with zipfile.ZipFile(r.output) as z:
        assert 'ref="A1:B1"' in z.read("xl/worksheets/sheet1.xml").decode()


def _odd_shapes(tmp_path: Path) -> Path:
    """A sheet whose formula cells come in shapes the fast path does not take: attributes before
    r, an inline string after the formula, a formula in CDATA, a comment that looks like a cell."""
    from tests.data.hostile import SHEET1, rewrite, small_workbook

    src = small_workbook(tmp_path / "plain.xlsx")
    with zipfile.ZipFile(src) as z:
        xml = z.read(SHEET1)
    xml = xml.replace(b'<c r="B1"', b'<c s="0" r="B1"', 1)
    xml = re.sub(rb'(<c r="C1"[^>]*>)(<f>[^<]*</f>)<v>[^<]*</v>', rb'\1\2<is><t>old</t></is>', xml, count=1)
    xml = xml.replace(b"<f>SUM(A1:A3)</f>", b"<f><![CDATA[SUM(A1:A3)]]></f>", 1)
    return rewrite(src, tmp_path / "odd.xlsx", {SHEET1: xml})


def _commented(tmp_path: Path) -> Path:
    """The small workbook with an XML comment that looks like a formula cell."""
    from tests.data.hostile import SHEET1, rewrite, small_workbook

    src = small_workbook(tmp_path / "plain-comment.xlsx")
    with zipfile.ZipFile(src) as z:
        xml = z.read(SHEET1)
    assert b"<sheetData>" in xml
    xml = xml.replace(b"<sheetData>", b'<sheetData><!-- <c r="Z9"><f>1+1</f></c> -->', 1)
    return rewrite(src, tmp_path / "commented.xlsx", {SHEET1: xml})


def test_fast_and_general_write_back_give_the_same_bytes(corpus, tmp_path):
    """The write-back's fast path (formula cells as Excel writes them) and its general path give
    byte-identical files and the same list of changes, on every shape of cell we build."""
    from xl_stp.batch.patch import patch

    files = [corpus["xlsx"], corpus["xlsm"], LLR, finance_workbook(tmp_path / "model.xlsx", rows=60, stp_every=3)[0],
             _odd_shapes(tmp_path), _prefixed(tmp_path), _commented(tmp_path)]
    fast_used = 0
    kinds = [lambda i: i * 1.25 - 7, lambda i: f"<&'\"{i}", lambda i: i % 2 == 0, lambda i: "#N/A", lambda i: 1e20 / (i + 1)]
    for path in files:
        sc = scan(path)
        fast_used += len(sc.fast_sheets())
        values = {s.name: {c: kinds[i % 5](i) for i, c in enumerate(sorted(s.result_cells()))} for s in sc.sheets}
        general = patch(path, tmp_path / "general" / path.name, values)
        fast = patch(path, tmp_path / "fast" / path.name, values, fast_sheets=sc.fast_sheets())
        assert (tmp_path / "general" / path.name).read_bytes() == (tmp_path / "fast" / path.name).read_bytes(), path.name
        assert general.changed == fast.changed and general.values_changed > 0, path.name
    assert fast_used >= 5


def _prefixed(tmp_path: Path) -> Path:
    """The small workbook with its sheet written in a prefixed namespace (<x:c>, as some
    non-Excel producers write it)."""
    from tests.data.hostile import SHEET1, rewrite, small_workbook

    src = small_workbook(tmp_path / "plain-ns.xlsx")
    with zipfile.ZipFile(src) as z:
        xml = z.read(SHEET1)
    xml = xml.replace(b'<worksheet xmlns="', b'<worksheet xmlns:x="', 1)
    xml = re.sub(rb"<(/?)(?=[A-Za-z])", rb"<\1x:", xml)
    return rewrite(src, tmp_path / "prefixed.xlsx", {SHEET1: xml})


def _fast_and_parsed(files: list[Path], monkeypatch) -> list[bool]:
    """Asserts the fast reader and the XML parser find the same cells in each file; returns, per
    sheet, whether the fast reader took it."""
    scan_module = sys.modules["xl_stp.batch.scan"]  # the package's scan() hides the module's name
    taken = []
    real = scan_module._fast_sheet
    monkeypatch.setattr(scan_module, "_fast_sheet", lambda *a: taken.append(real(*a) is not None) or real(*a))

    def read(fast: bool, path: Path):
        monkeypatch.setattr(scan_module, "FAST", fast)
        sc = scan(path)
        return [(s.name, s.formulas, s.array_members) for s in sc.sheets]

    for path in files:
        assert read(True, path) == read(False, path), path.name
    return taken


def test_fast_scan_reads_what_the_xml_parser_reads(corpus, tmp_path, monkeypatch):
    """The scan's fast reader (an expression over the bytes, expat checking well-formedness) finds
    exactly the formula cells the general XML parser finds — on our corpus, odd shapes, a prefixed
    namespace and comments — and takes every sheet of the workbooks we generate."""
    ours = [corpus["xlsx"], corpus["xlsm"], LLR, finance_workbook(tmp_path / "model.xlsx", rows=60, stp_every=3)[0]]
    assert all(_fast_and_parsed(ours, monkeypatch))
    _fast_and_parsed([_odd_shapes(tmp_path), _prefixed(tmp_path), _commented(tmp_path)], monkeypatch)
    assert scan(_prefixed(tmp_path)).sheets[0].formulas[0].text == "SUM(A1:A3)"


@pytest.mark.skipif(not SHARED.exists(), reason="needs the Excel-saved workbooks of ../shared/corpus (absent in this checkout)")
def test_fast_scan_reads_what_the_xml_parser_reads_on_excel_saved_workbooks(monkeypatch):
    """The same on every Excel-saved workbook of ../shared/corpus: most real sheets take the fast reader."""
    files = sorted(SHARED.glob("**/*.xls[xm]"))
    taken = _fast_and_parsed(files, monkeypatch)
    assert len(files) > 40 and sum(taken) >= 0.9 * len(taken)


def test_input_cells_are_read_from_the_file_as_excel_would_pass_them(tmp_path):
    """scan.constants: numbers, shared and inline strings (escaped), booleans, errors, blank and
    absent cells, compared with openpyxl reading the same file; None for a sheet it cannot read."""
    import xlsxwriter

    from tests.data.hostile import SHEET1, rewrite
    from xl_stp.batch.scan import constants

    path = tmp_path / "inputs.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Inputs")
    ws.write_row("A1", [1.5, -2, 1e-7, "text & <more>", True, False])
    ws.write_string("A2", "line\nbreak")
    ws.write_blank("B2", None, wb.add_format({"bold": True}))
    ws.write_formula("C2", "=A1*2", None, 3)
    ws.write("D2", "#N/A")
    wb.close()
    with zipfile.ZipFile(path) as z:  # an error cell and an inline string, as other producers write them
        xml = z.read(SHEET1).replace(b'<c r="D2" t="s"><v>2</v></c>', b'<c r="D2" t="e"><v>#N/A</v></c>')
        xml = xml.replace(b"</row></sheetData>", b'<c r="E2" t="inlineStr"><is><t>in &amp; line</t></is></c></row></sheetData>')
    path = rewrite(path, tmp_path / "inputs2.xlsx", {SHEET1: xml})
    sc = scan(path)
    sheet = sc.sheet("Inputs")
    assert sheet.plain
    wanted = {"A1", "B1", "C1", "D1", "E1", "F1", "A2", "B2", "D2", "E2", "Z99"}
    got = constants(path, sheet, wanted)
    ws = openpyxl.load_workbook(path)["Inputs"]
    assert got == {c: ws[c].value for c in wanted}
    assert got["E1"] is True and got["F1"] is False and got["D2"] == "#N/A" and got["E2"] == "in & line"
    assert constants(_prefixed(tmp_path), scan(_prefixed(tmp_path)).sheets[0], {"A1"}) is None  # read by LibreOffice instead


@pytest.mark.libreoffice
@pytest.mark.skipif(not lo_available(), reason="LibreOffice not installed")
def test_calls_on_input_cells_are_computed_while_libreoffice_loads(tmp_path, monkeypatch):
    """The libreoffice engine computes STP_* calls whose ranges hold only inputs from the file
    (TRUE arrives as TRUE, as in Excel), and leaves to LibreOffice those whose ranges hold formulas;
    the results are the formulas engine's."""
    from xl_stp.batch.engines.libreoffice import engine as lo_module

    path, _n = finance_workbook(tmp_path / "model.xlsx", rows=40, stp_every=2, check_every=4)
    seen = {}
    real = lo_module._Plan.precompute

    def spy(self, *a):
        real(self, *a)
        seen.update(calls=len(self.calls), pre=len(self.pre_args),
                    pre_names={self.calls[i][0].text.split("(")[0] for i in self.pre_args})
    monkeypatch.setattr(lo_module._Plan, "precompute", spy)
    lo = regen_file(path, out_dir=tmp_path / "lo", engine="libreoffice")
    fo = regen_file(path, out_dir=tmp_path / "fo", engine="formulas")
    assert lo.status == fo.status == "ok" and lo.problems == []
    assert seen["pre"] == 20 and seen["calls"] == 30 and seen["pre_names"] == {"STP_CAPITAL_NET"}  # not STP_CHECK(B5, ...)
    a, b = openpyxl.load_workbook(lo.output, data_only=True), openpyxl.load_workbook(fo.output, data_only=True)
    for ws in a.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.value == pytest.approx(b[ws.title][c.coordinate].value) if isinstance(c.value, float) \
                    else c.value == b[ws.title][c.coordinate].value, c.coordinate


@pytest.mark.libreoffice
@pytest.mark.skipif(not lo_available(), reason="LibreOffice not installed")
def test_answers_that_arrive_together_are_all_read():
    """The worker's answers to requests nobody waited for (closing a document) may reach the pipe
    together with the next one; each is still taken in turn, without waiting for more."""
    import threading
    import time

    from xl_stp.batch.engines.libreoffice.engine import worker

    w = worker()
    done = []

    def run():
        w.defer("close")
        w.defer("close")
        time.sleep(0.5)  # all three answers are in the pipe before the first is read
        done.append(w.call("close")["ok"])
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(20)
    assert done == [True]

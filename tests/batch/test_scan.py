"""The scan: the fast reader against the XML parser, input cells read from the file."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.batch.common import LLR, SHARED
from tests.data import hostile
from tests.data.corpus import finance_workbook
from xl_stp.batch import scan
from xl_stp.batch.package import Package
from xl_stp.batch.scan import constants


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
    _fast_and_parsed([hostile.odd_shapes(tmp_path), hostile.prefixed(tmp_path), hostile.commented(tmp_path)], monkeypatch)
    assert scan(hostile.prefixed(tmp_path)).sheets[0].formulas[0].text == "SUM(A1:A3)"


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
        xml = z.read(hostile.SHEET1).replace(b'<c r="D2" t="s"><v>2</v></c>', b'<c r="D2" t="e"><v>#N/A</v></c>')
        xml = xml.replace(b"</row></sheetData>", b'<c r="E2" t="inlineStr"><is><t>in &amp; line</t></is></c></row></sheetData>')
    path = hostile.rewrite(path, tmp_path / "inputs2.xlsx", {hostile.SHEET1: xml})
    sc = scan(path)
    sheet = sc.sheet("Inputs")
    assert sheet.plain
    wanted = {"A1", "B1", "C1", "D1", "E1", "F1", "A2", "B2", "D2", "E2", "Z99"}
    got = constants(path, sheet, wanted)
    ws = openpyxl.load_workbook(path)["Inputs"]
    assert got == {c: ws[c].value for c in wanted}
    assert got["E1"] is True and got["F1"] is False and got["D2"] == "#N/A" and got["E2"] == "in & line"
    prefixed = hostile.prefixed(tmp_path)
    assert constants(prefixed, scan(prefixed).sheets[0], {"A1"}) is None  # read by LibreOffice instead
    with Package(path) as pkg:  # the same from the open package the scan read
        sc = scan(pkg)
        assert sc.package is pkg and constants(pkg, sc.sheet("Inputs"), wanted) == got
    assert scan(path).package is None  # a scan that opened the file itself closed it


@pytest.mark.parametrize("text, quick", [
    ("Calc!A1+'My Calc'!B2-MyCalc!C3", True),  # every reference names a sheet as the workbook spells it
    ("XCalc!A1", False),  # Calc! inside another name: SHEET_REF decides (an unknown sheet)
    ("[1]Calc!A1", False),  # another workbook's sheet
    ("CALC!A1", False),  # another spelling: SHEET_REF reads it
    ("'Calc'!A1+SUM(Calc!A1:A3)", True),
    ("'Other Calc'!A1", False),
])
def test_references_to_the_workbooks_own_sheets_are_told_quickly(text, quick):
    from xl_stp.batch.scan import _only_sheets_of

    assert _only_sheets_of(text, ["Calc", "My Calc", "MyCalc"]) is quick

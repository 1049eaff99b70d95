"""The committed LLR reference workbook (workbooks/llr_stp_2016.xlsx) and its template.

Its cached values must be the core's own computation (xl_stp.llr.plan), its Checks sheet must
find the document's disagreements by comparing stated and computed values, and it must read
correctly without Excel (openpyxl, pandas, LibreOffice).
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xl_stp.llr import Figures, LLRPlan, check_results, checks

ROOT = Path(__file__).resolve().parents[2]
WORKBOOK = ROOT / "workbooks" / "llr_stp_2016.xlsx"
TEMPLATE = ROOT / "workbooks" / "stp_template.xlsx"


@pytest.fixture(scope="module")
def builder():
    from xl_stp.builder import build
    return build


@pytest.fixture(scope="module")
def renderer():
    from xl_stp.builder import render
    return render


@pytest.fixture(scope="module")
def fresh(builder, tmp_path_factory):
    """A rebuild in a temporary folder: its layout tells where each figure and quantity lives."""
    out = tmp_path_factory.mktemp("wb")
    return builder.build(out / "llr.xlsx"), builder.build(out / "template.xlsx", empty=True)


@pytest.fixture(scope="module")
def values():
    return openpyxl.load_workbook(WORKBOOK, data_only=True)


@pytest.fixture(scope="module")
def formulas():
    return openpyxl.load_workbook(WORKBOOK, data_only=False)


def _cell(book, ref):
    sheet, cell = ref.split("!")
    return book[sheet][cell.replace("$", "")]


def test_committed_workbooks_are_what_the_builder_makes(fresh):
    """Rebuilding gives the same bytes: the committed files are up to date with the data and code."""
    built, template = fresh
    assert hashlib.sha256(built.path.read_bytes()).hexdigest() == hashlib.sha256(WORKBOOK.read_bytes()).hexdigest()
    assert hashlib.sha256(template.path.read_bytes()).hexdigest() == hashlib.sha256(TEMPLATE.read_bytes()).hexdigest()


def test_every_calculated_cell_holds_the_cores_value(fresh, values):
    built, _ = fresh
    plan = LLRPlan(Figures.load())
    assert len(built.calculations) > 250
    for key, ref in built.calculations.items():
        cached = _cell(values, ref).value
        assert cached == pytest.approx(plan.quantities[key], abs=1e-6), (key, ref, cached)


def test_every_input_is_the_published_figure_in_blue(fresh, values, formulas):
    built, _ = fresh
    figures = Figures.load()
    n = 0
    for rec in figures.frame.itertuples():
        ref = built.inputs[(rec.table, rec.row, rec.column)]
        assert _cell(values, ref).value == pytest.approx(rec.value), ref
        assert _cell(formulas, ref).font.color.rgb == "FF0000FF", ref
        n += 1
    assert n == len(figures.frame)


def test_formulas_are_black_and_each_stp_call_is_its_cells_whole_formula(formulas):
    stp = 0
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for c in row:
                text = c.value.text if hasattr(c.value, "text") else c.value
                if isinstance(text, str) and text.startswith("="):
                    assert c.font.color is None or c.font.color.rgb in ("FF000000", None), (ws.title, c.coordinate)
                    if "STP_" in text:
                        assert re.fullmatch(r"=STP_[A-Z_]+\([^()]*\)", text), (ws.title, c.coordinate, text)
                        stp += 1
    assert stp > 180  # 175 STP_CHECK cells and the calculations


def test_checks_sheet_compares_stated_and_computed(values):
    results = check_results()
    ws = values["Checks"]
    rows = [r for r in ws.iter_rows(min_row=7, values_only=True) if r[0] is not None]
    assert len(rows) == len(results) == len(checks(Figures.load()))
    for (k, section, desc, stated, computed, diff, tol, status), res in zip(rows, results):
        assert desc == res.check.description
        assert tol == pytest.approx(res.check.tolerance, abs=1e-12)
        assert stated == pytest.approx(res.stated) and computed == pytest.approx(res.computed, abs=1e-9)
        assert status == res.status
        assert (diff == "OK") == (res.status == "agrees")
        if diff != "OK":
            assert diff == pytest.approx(res.difference, abs=1e-9)
    beyond = [r for r in results if r.status == "exceeds rounding"]
    assert ws["D3"].value == f"{len(beyond)} checks exceed rounding" and ws["D4"].value == len(beyond) == 9
    assert ws["H4"].value == 0 and ws["D5"].value == 0  # no check not computed, no function reporting a problem
    assert values["Cover"]["B10"].value == ws["D3"].value == values["Outputs"]["B3"].value


def test_outputs_are_laid_out_like_the_published_tables(values):
    ws = values["Outputs"]
    text = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}
    labels = {v for v in text.values() if isinstance(v, str)}
    for title in ("Acute hospitals reconfiguration (£000)", "Community configuration funding (£m)",
                  "Summary of total requirement (£m)", "STF investment (£000)", "Gap bridge to 2020/21 (£m)"):
        assert title in labels
    frame = pd.read_excel(WORKBOOK, sheet_name="Outputs", header=None, engine="openpyxl")
    flat = frame.to_numpy().ravel().tolist()
    for figure in (251_232, -28_350, 279_582 - 28_350, 5_950, 5_701, -2_408, 28_356, 12_000):
        assert figure in flat
    dh = frame[frame[0] == "DH funding requirement"].iloc[0, 1:8].tolist()
    assert dh == pytest.approx([0, 16.0, 24.7, 43.0, 41.2, -10.4, 114.5], abs=1e-9)
    assert frame[frame[0] == "Total LLR DH capital requirement"].iloc[0, 1] == pytest.approx(128.4)


def test_negatives_in_brackets_and_native_charts(formulas):
    ws = formulas["Outputs"]
    fmts = {c.number_format for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith(("=Calc", "=IF(err_"))}
    assert fmts and all("(" in f for f in fmts)
    with zipfile.ZipFile(WORKBOOK) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 3
        assert all(b"<c:barChart>" in z.read(n) and b'<c:grouping val="stacked"/>' in z.read(n) for n in charts)
        assert not [n for n in z.namelist() if n.startswith("xl/media/")]  # charts, not pictures


def test_template_has_the_same_formulas_and_no_inputs(fresh):
    built, template = fresh
    full = openpyxl.load_workbook(WORKBOOK)
    empty = openpyxl.load_workbook(TEMPLATE)
    assert full.sheetnames == empty.sheetnames == ["Cover", "Inputs", "Calculations", "Outputs", "Checks"]
    for name in ("Calculations", "Outputs", "Checks"):
        f = {c.coordinate: c.value for row in full[name].iter_rows() for c in row
             if isinstance(c.value, str) and c.value.startswith("=")}
        e = {c.coordinate: c.value for row in empty[name].iter_rows() for c in row
             if isinstance(c.value, str) and c.value.startswith("=")}
        assert f == e and f
    numbers = [c.value for row in empty["Inputs"].iter_rows(min_col=3, max_col=14) for c in row
               if isinstance(c.value, (int, float))]
    assert numbers == []


@pytest.mark.libreoffice
@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftoppm")), reason="LibreOffice / poppler not installed")
def test_libreoffice_renders_the_outputs_with_numbers(renderer, tmp_path):
    import subprocess
    pdf, pngs = renderer.render(WORKBOOK, tmp_path)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    outputs = text[text.index("LLR STP 2016: capital, funding and savings"):]
    assert "#NAME?" not in outputs and "Err:" not in outputs
    for shown in ("(28,350)", "251,232", "(2,408)", "(10.4)", "114.5", "9 checks exceed rounding", "exceeds rounding"):
        assert shown in text
    assert len(pngs) == 1 and pngs[0].stat().st_size > 50_000


def test_every_output_link_shows_its_calculation(values, formulas):
    """Each Outputs cell that shows a calculated figure (=Calculations!$C$n, guarded by the error
    check of the block it reads: =IF(err_...>0,NA(),Calculations!$C$n)) holds that cell's value."""
    ws_f, n = formulas["Outputs"], 0
    for row in ws_f.iter_rows():
        for c in row:
            m = re.fullmatch(r"=(?:IF\(err_[a-z0-9_]+>0,NA\(\),)?Calculations!\$([A-Z]+)\$(\d+)\)?", str(c.value))
            if m:
                shown = values["Outputs"][c.coordinate].value
                assert shown == values["Calculations"][f"{m[1]}{m[2]}"].value, c.coordinate
                n += 1
    assert n > 200

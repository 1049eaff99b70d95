"""The committed workbooks: the template (workbooks/stp_template.xlsx) and the LLR reference
workbook (workbooks/llr_stp_2016.xlsx), which is the template with LLR's figures typed in.

Their cached values must be the core's own computation (xl_stp.builder.footprint.quantities), the
LLR workbook must reproduce every published total and find the document's disagreements, every
label must follow the Inputs, and both must read correctly without Excel (openpyxl, pandas,
LibreOffice).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from udfs.excel import ERRORS
from xl_stp.core.appraisal import roi
from xl_stp.llr import Figures, check_results
from xl_stp.llr.figures import CAPITAL_TABLES, YEARS, item_rows

ROOT = Path(__file__).resolve().parents[2]
WORKBOOK = ROOT / "workbooks" / "llr_stp_2016.xlsx"
TEMPLATE = ROOT / "workbooks" / "stp_template.xlsx"
SHEETS = ["Cover", "Inputs", "Calculations", "Outputs", "Checks"]


@pytest.fixture(scope="module")
def builder():
    from xl_stp.builder import build
    return build


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


def _text(v):
    return v.text if hasattr(v, "text") else v


def formula_cells(ws) -> dict[str, str]:
    return {c.coordinate: _text(c.value) for row in ws.iter_rows() for c in row
            if isinstance(_text(c.value), str) and _text(c.value).startswith("=")}


def row_of(ws, label: str, column: int = 1) -> int:
    return next(c.row for c in ws[openpyxl.utils.get_column_letter(column)] if c.value == label)


def test_committed_workbooks_are_what_the_builder_makes(fresh):
    """Rebuilding gives the same bytes: the committed files are up to date with the data and code."""
    built, template = fresh
    assert hashlib.sha256(built.path.read_bytes()).hexdigest() == hashlib.sha256(WORKBOOK.read_bytes()).hexdigest()
    assert hashlib.sha256(template.path.read_bytes()).hexdigest() == hashlib.sha256(TEMPLATE.read_bytes()).hexdigest()


def test_every_calculated_cell_holds_the_cores_value(fresh, values):
    from xl_stp.builder.footprint import quantities

    built, _ = fresh
    q = quantities(built.footprint)
    compared = 0
    for key, ref in built.calculations.items():
        if key in q:
            assert _cell(values, ref).value == pytest.approx(q[key], abs=1e-6), (key, ref)
            compared += 1
    assert compared > 1100
    # the return on the acute programme: 25.6 £m a year on 279,582 less 28,350 of disposals
    expected = float(roi(25.6 * 1000, 279_582, 28_350, basis="net").value)
    assert _cell(values, built.calculations["appraisal|acute|roi"]).value == pytest.approx(expected) == pytest.approx(0.101898, abs=1e-6)


def test_counts_behind_the_tolerances_and_the_savings_lines(fresh, values):
    """The figures typed behind each programme (for the tolerances), counted by hand from the
    published tables, and the savings lines against the strands."""
    built, _ = fresh
    f = Figures.load()
    acute = item_rows(f, "acute_reconfiguration")
    for y, year in enumerate(YEARS):
        typed = sum(("acute_reconfiguration", r, year) in f for r in acute)
        assert _cell(values, built.calculations[f"entered|1|{y}"]).value == typed
    assert _cell(values, built.calculations["entered|1|0"]).value == 12  # LGH and Vascular/Emergency floor rows aside
    assert _cell(values, built.calculations["entered|2|disposals"]).value == 3  # Lutterworth, Melton, Market Harborough
    # the community waterfall's programme rests on the community, Hinckley, Oakham & Lutterworth and other tables
    in_2018 = sum((t, r, "2018/19") in f for t in ("community_hospitals", "hinckley", "oakham_lutterworth", "other_schemes")
                  for r in item_rows(f, t))
    assert _cell(values, built.calculations["programme entered|2|1"]).value == in_2018
    # 54 + 25.6 + 8.6 + 33 + 288 + 17.6 typed as lines in 2020/21, every one in a strand
    assert _cell(values, built.calculations["lines|3"]).value == pytest.approx(426.8)
    assert _cell(values, built.calculations["allocated|3"]).value == pytest.approx(426.8)


def _row(ws, label: str, after: int = 0) -> list:
    r = next(c.row for c in ws["A"] if c.row > after and c.value == label)
    return [c.value for c in ws[r][1:8]]


def test_every_published_total_is_reproduced(values):
    """The Outputs show the published figures, worked out from the line items (the funding
    waterfalls take the capital programme by link: £000 / 1000)."""
    ws = values["Outputs"]
    capital = row_of(ws, "Capital cost by programme and year (£000)")
    assert _row(ws, "Acute hospitals reconfiguration", capital) == [29_390, 52_203, 88_989, 109_000, 279_582, -28_350, 251_232]
    for name, net in (("Community hospital inpatient services and planned care reconfiguration", 5_950),
                      ("Hinckley and District ambulatory care and diagnostics", 5_701),
                      ("Oakham and Lutterworth ambulatory care and diagnostics", -2_408),
                      ("Electronic patient records (UHL)", 28_356), ("Other capital schemes", 12_000)):
        assert _row(ws, name, capital)[6] == net
    acute = row_of(ws, "Acute configuration funding (£m)")
    published = {"Programme": [62.9, 20.5, 29.4, 52.2, 89.0, 109.0, 363.0],
                 "External funding requirement": [0, 16.0, 24.7, 43.0, 70.4, 98.2, 252.3],
                 "DH funding requirement": [0, 16.0, 24.7, 43.0, 41.2, -10.4, 114.5],
                 "PF2": [0, 0, 0, 0, -27.2, -70.2, -97.4]}
    for label, figures in published.items():
        assert _row(ws, label, acute) == pytest.approx(figures, abs=0.05), label  # as printed, to one decimal
    assert _row(ws, "DH funding requirement", acute)[6] == pytest.approx(114.482)  # 252.282 - 28.4 - 97.4 - 12
    stf = row_of(ws, "STF investment (£000)")
    assert _row(ws, "Total", stf)[:5] == [24_650, 24_400, 25_150, 66_000, 140_200]
    total_dh = next(c.row for c in ws["A"] if c.value == "Total LLR DH capital requirement")
    assert ws.cell(total_dh, 2).value == pytest.approx(114.482 + 13.801)  # 128.3; the plan states 128.5
    bridge = row_of(ws, "Gap bridge by plan year (£m)")
    assert _row(ws, "'Do nothing' gap", bridge)[3] == pytest.approx(399.3)
    assert _row(ws, "Strand 2 - Service Configuration", bridge)[3] == pytest.approx(-(25.6 + 8.6 - 15.1))
    assert _row(ws, "Residual gap", bridge)[3] == pytest.approx(399.3 - 411.7 + 66 - 66)


def test_funding_by_source_adds_up_to_the_programme(values):
    """Approved to date and internally funded are in the funding by source, and each column adds
    up to the waterfalls' capital programme (the issue: 2017/18 added to 4.2 against 5.7)."""
    ws = values["Outputs"]
    top = row_of(ws, "Capital funding by source, all waterfalls (£m)") + 2
    total = row_of(ws, "Capital programme of the waterfalls")
    rows = [[c.value for c in ws[r][1:8]] for r in range(top, total)]
    programme = [c.value for c in ws[total][1:8]]
    for j in range(7):
        assert sum(r[j] for r in rows if isinstance(r[j], (int, float))) == pytest.approx(programme[j])
    assert _row(ws, "Approved to date", top - 2)[0] == pytest.approx(50.7)
    assert programme[2] == pytest.approx(29.39 + 2.0)  # 2017/18: the acute and community programmes by link
    acute = row_of(ws, "Acute configuration funding (£m)")
    community = row_of(ws, "Community configuration funding (£m)")
    assert programme[6] == pytest.approx(_row(ws, "Programme", acute)[6] + _row(ws, "Programme", community)[6])


def test_every_input_is_the_published_figure_in_blue(fresh, values, formulas):
    from xl_stp.builder.llr_inputs import placed

    built, _ = fresh
    figures = Figures.load()
    where = placed(figures)
    n = 0
    for rec in figures.frame.itertuples():
        k = (rec.table, rec.row, rec.column)
        ref = built.inputs[where[k]] if k in where else built.inputs[("figure", *k)]
        assert _cell(values, ref).value == pytest.approx(rec.value), ref
        assert _cell(formulas, ref).font.color.rgb == "FF0000FF", ref
        n += 1
    assert n == len(figures.frame) == 408
    assert sum(1 for k in where) > 300  # most figures have a place in the template itself


def test_formulas_are_black_and_each_stp_call_is_its_cells_whole_formula(formulas):
    stp = 0
    for ws in formulas.worksheets:
        for text in formula_cells(ws).values():
            text = re.sub(r'"[^"]*"', '""', text)  # a label may name a function in its words
            if "STP_" in text:
                assert text.startswith("=STP_") and text.endswith(")") and text.count("STP_") == 1, text
                stp += 1
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(_text(c.value), str) and _text(c.value).startswith("="):
                    assert c.font.color is None or c.font.color.rgb in ("FF000000", None), (ws.title, c.coordinate)
    assert stp == 391 + 15  # an STP_CHECK a check, and the 15 blocks of Calculations


#: The checks of the LLR workbook beyond rounding: (the start of the check's words, stated less computed).
BEYOND = {
    ("Community configuration funding (£m): 2018/19: external requirement", 16.3 - 24.301),  # CAMHS moved a year
    ("Community configuration funding (£m): 2018/19: DH requirement", 6.9 - 14.901),
    ("Community configuration funding (£m): 2020/21: external requirement", 18.5 - 10.5),
    ("Community configuration funding (£m): 2020/21: DH requirement", 2.7 + 5.3),
    ("STF investment (£000): STF requested over the plan", 98.4 - 140.2),
    ("Savings and gap (£m): Total net savings 2020/21", 412.9 - (54 + 25.6 + 8.6 - 15.1 + 33 + 288 + 17.6)),
    ("Community configuration: schemes as summarised (£m): CAMHS, 2018/19", -8.0),
    ("Community configuration: schemes as summarised (£m): CAMHS, 2020/21", 8.0),
    ("Figures printed in two places: Strand 2 net (heading) = its text", 18.9 - 19.2),
    ("Figures printed in two places: Spend on health and social care 2016/17", 2121 - 2420),
    ("The text's own sums: Net saving after STF", 343 - (411.7 - 66)),
}


def test_checks_find_where_the_document_disagrees_with_itself(fresh, values):
    """The Checks sheet finds every disagreement the LLR case finds (xl_stp.llr.checks, which
    reads the published tables as printed), and the two the linked waterfall adds (the community
    DH requirement in the two years CAMHS moved); a correct figure agrees or is within rounding."""
    built, _ = fresh
    ws = values["Checks"]
    rows = {r.row: r for r in built.checks}
    for r in built.checks:  # the sheet holds what the builder wrote
        line = [c.value for c in ws[r.row + 1][1:9]]
        assert line[0] == r.section and line[1] == r.description and line[7] == r.status
    beyond = {(f"{r.section}: {r.description}", r.difference) for r in rows.values() if r.status == "exceeds rounding"}
    assert len(beyond) == len(BEYOND) == 11
    assert len(rows) == 391 and sum(r.status == "agrees" for r in rows.values()) == 143
    assert all(r.status == "agrees" for r in rows.values() if r.section == "The tables add up")
    for start, diff in BEYOND:
        assert any(words.startswith(start) and d == pytest.approx(diff, abs=1e-9) for words, d in beyond), start
    # every disagreement of the published tables as printed is found again, at the same stated figure
    from xl_stp.builder.llr_inputs import placed

    where, stated_cells = placed(Figures.load()), {}
    formulas = openpyxl.load_workbook(WORKBOOK)["Checks"]
    for r in rows.values():
        m = re.search(r"ISBLANK\((Inputs!\$[A-Z]+\$\d+)\)", formulas.cell(r.row + 1, 4).value or "")
        if m:
            stated_cells.setdefault(m[1], set()).add(r.status)
    for res in check_results():
        if res.status == "exceeds rounding":
            k = res.check.stated
            cell = built.inputs[where[k]] if k in where else built.inputs[("figure", *k)]
            assert "exceeds rounding" in stated_cells[cell], res.check.description
    within = {r.description: r.difference for r in rows.values() if r.status == "within rounding"}
    assert within["Summary: total capital cost = sum of scheme costs"] == -1  # 279,581 against 279,582
    assert within["PF2: total = sum of years"] == pytest.approx(0.1)  # (97.3) against 27.2 + 70.2
    assert within["Total UHL DH requirement = the acute table's DH total (same figure, two tables)"] == pytest.approx(0.1)
    assert within["Total LLR DH capital requirement = the waterfalls' DH requirements"] == pytest.approx(128.5 - 128.283)
    assert ws["D3"].value == "11 checks exceed rounding" and ws["D4"].value == 11
    assert ws["H4"].value == 0 and ws["D5"].value == 0  # no check not computed, no function reporting a problem
    assert values["Cover"]["B11"].value == ws["D3"].value == values["Outputs"]["B3"].value


def test_tolerances_come_from_the_units_the_figures_are_rounded_to(fresh):
    """Half a unit of the stated figure and of each figure typed behind the computed value: from
    the tables' settings (£000 to 1, £m to 0.1) or worked out from the figure (350 to 1)."""
    built, _ = fresh
    by_words = {r.description: r for r in built.checks if r.section in ("Acute hospitals reconfiguration",
                                                                         "Acute configuration funding (£m)",
                                                                         "Totals the plan states (£m)")}
    # 14 acute schemes, 11 with a cost: the summary's total cost allows 0.5 + 51 figures x 0.5
    f = Figures.load()
    typed = sum(("acute_reconfiguration", r, y) in f for r in item_rows(f, "acute_reconfiguration") for y in YEARS)
    assert by_words["Summary: total capital cost = sum of scheme costs"].tolerance == 0.5 + typed * 0.5
    assert by_words["PF2: total = sum of years"].tolerance == pytest.approx(0.05 + 4 * 0.05)  # four years typed
    assert by_words["Total capital of the programmes = the capital programmes (£000)"].tolerance == pytest.approx(
        0.5 + sum((t, r, y) in f for t in CAPITAL_TABLES for r in item_rows(f, t) for y in YEARS) * 0.0005)
    formulas = openpyxl.load_workbook(WORKBOOK)["Checks"]
    texts = [formulas.cell(r, 8).value for r in range(8, formulas.max_row + 1) if formulas.cell(r, 8).value]
    assert all("COUNT" in t or "/2" in t for t in texts)
    assert not [t for t in texts if re.search(r"0\.0249|0\.02|0\.45", t)]  # no constant fitted to LLR


def test_labels_follow_the_inputs(formulas, values):
    """No title or label of Calculations, Outputs or Checks names the footprint, a programme, a
    scheme, a waterfall, a source or a strand as fixed text: each is a formula over the Inputs
    (LLR's own checks, in the LLR workbook only, are LLR's words)."""
    f = Figures.load()
    names = {"LLR", "Acute configuration", "Community configuration", "PF2", "Welcome Centre", "LGH", "City Hub",
             *(t for _r, _s, t in CAPITAL_TABLES.values()), "Strand 2 - Service Configuration"}
    names |= set(item_rows(f, "acute_reconfiguration"))
    llr_own = row_of(values["Calculations"], "LLR: acute reconfiguration appraisal")
    first_llr_check = next(r for r in range(8, values["Checks"].max_row + 1)
                           if values["Checks"].cell(r, 2).value == "Community configuration: schemes as summarised (£m)")
    fixed = []
    for name in ("Calculations", "Outputs", "Checks"):
        ws_v, ws_f = values[name], formulas[name]
        for row in ws_v.iter_rows():
            for c in row:
                if not isinstance(c.value, str) or _text(ws_f[c.coordinate].value).startswith("="):
                    continue
                if (name == "Calculations" and c.row >= llr_own) or (name == "Checks" and c.row >= first_llr_check):
                    continue
                if name == "Outputs" and c.value.startswith("LLR: figures"):  # the LLR group's name in the summary
                    continue
                if any(n in c.value for n in names):
                    fixed.append((name, c.coordinate, c.value))
    assert fixed == []


def test_the_template_is_the_llr_workbook_without_its_figures(fresh):
    """One builder, two outputs: every formula of the template is the LLR workbook's, in the same
    cell, except where LLR's own parts follow the template's (the error checks and the Cover's
    functions line count its extra function; the checks' counts run over its extra checks)."""
    llr, template = openpyxl.load_workbook(WORKBOOK), openpyxl.load_workbook(TEMPLATE)
    assert llr.sheetnames == template.sheetnames == SHEETS
    values = openpyxl.load_workbook(TEMPLATE, data_only=True)
    limit = {"Calculations": row_of(values["Calculations"], "Error checks: each STP_* block holds only numbers"),
             "Outputs": next(c.row for c in values["Outputs"]["A"] if str(c.value).startswith("Checks summary"))}
    compared = 0
    for name in SHEETS:
        t, full = formula_cells(template[name]), formula_cells(llr[name])
        for cell, text in t.items():
            row = int(re.sub(r"[A-Z]+", "", cell))
            if row >= limit.get(name, 10**6) or (name == "Checks" and row < 7) or name == "Cover":
                continue
            assert full.get(cell) == text, (name, cell)
            compared += 1
    assert compared > 3000
    numbers = [(c.coordinate, c.value) for row in template["Inputs"].iter_rows() for c in row
               if isinstance(c.value, (int, float)) and not isinstance(c.value, bool)]
    assert sorted(v for _, v in numbers) == [0.1, 1.0]  # the units tables are rounded to: settings, not figures


def test_no_cell_holds_an_error_value(values):
    """Blank rows are harmless: neither workbook shows #VALUE!, #N/A or an #STP! message anywhere."""
    for book in (values, openpyxl.load_workbook(TEMPLATE, data_only=True)):
        errors = [(ws.title, c.coordinate) for ws in book.worksheets for row in ws.iter_rows() for c in row
                  if isinstance(c.value, str) and (c.value in ERRORS or c.value.startswith("#STP!"))]
        assert errors == []


def test_the_template_reports_nothing_and_checks_nothing(fresh):
    _, template = fresh
    assert {r.status for r in template.checks} == {"not stated", "agrees"}
    agree = [r for r in template.checks if r.status == "agrees"]  # the tables' own arithmetic, on zeros
    assert [r.description for r in agree if r.section != "The tables add up"] == [
        f"{y}: every savings line belongs to a strand (lines = strands' gross)" for y in YEARS]
    assert len(agree) == 4 + 8 + 3 + 4 and len(template.checks) == 336
    values = openpyxl.load_workbook(TEMPLATE, data_only=True)
    assert values["Checks"]["D3"].value == values["Cover"]["B11"].value == "OK"
    assert values["Cover"]["B12"].value == "none of the 14 functions reports a problem"
    assert values["Cover"]["A1"].value == "STP plan: finance and capital"


def test_negatives_in_brackets_and_native_charts(formulas):
    ws = formulas["Outputs"]
    fmts = {c.number_format for row in ws.iter_rows(max_col=9) for c in row
            if isinstance(c.value, str) and c.value.startswith(("=Calc", "=IF(err_"))}
    assert fmts and all("(" in f for f in fmts)
    with zipfile.ZipFile(WORKBOOK) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 3
        assert all(b"<c:barChart>" in z.read(n) and b'<c:grouping val="stacked"/>' in z.read(n) for n in charts)
        assert not [n for n in z.namelist() if n.startswith("xl/media/")]  # charts, not pictures


def test_pandas_reads_the_outputs(values):
    frame = pd.read_excel(WORKBOOK, sheet_name="Outputs", header=None, engine="openpyxl")
    flat = frame.to_numpy().ravel().tolist()
    for figure in (251_232, -28_350, 5_950, 5_701, -2_408, 28_356, 12_000, 140_200):
        assert figure in flat


def test_every_output_link_shows_its_calculation(values, formulas):
    """Each Outputs cell that shows a calculated figure (=Calculations!$C$n, guarded by the error
    check of the block it reads, and blank while its row is unused) holds that cell's value."""
    ws_f, n = formulas["Outputs"], 0
    pattern = (r'=(?:IF\(err_[a-z0-9_+]+>0,NA\(\),)?(?:IF\((?:OR\()?Inputs!\$[A-Z]+\$\d+=""(?:,Inputs!\$[A-Z]+\$\d+="")?\)?,"",)?'
               r'Calculations!\$([A-Z]+)\$(\d+)\)*')
    for row in ws_f.iter_rows():
        for c in row:
            m = re.fullmatch(pattern, str(_text(c.value)))
            if m:
                shown = values["Outputs"][c.coordinate].value
                assert shown in ("", None) or shown == values["Calculations"][f"{m[1]}{m[2]}"].value, c.coordinate
                n += 1
    assert n > 250


@pytest.mark.libreoffice
@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftoppm")), reason="LibreOffice / poppler not installed")
def test_the_print_pack_shows_the_stored_values(tmp_path):
    """The pack: the Cover on one page, the Outputs on five (tables, waterfalls, STF/savings/gap,
    charts, checks summary), no #NAME? anywhere (the STP_* blocks are shown as stored), a PNG a page."""
    import subprocess

    from xl_stp.builder.render import render

    pdf, pngs = render(WORKBOOK, tmp_path)
    pages = [subprocess.run(["pdftotext", "-layout", "-f", str(p), "-l", str(p), str(pdf), "-"], capture_output=True,
                            text=True, check=True).stdout for p in range(1, len(pngs) + 1)]
    assert len(pages) == len(pngs) == 6
    assert "LLR STP 2016: finance and capital" in pages[0] and "Master check" in pages[0] and "Page 1 of 6" in pages[0]
    assert all("LLR STP 2016: capital, funding and savings" in p for p in pages[1:])  # the title repeats
    text = "\n".join(pages)
    assert "#NAME?" not in text and "Err:" not in text and "#VALUE!" not in text
    for shown in ("(28,350)", "251,232", "(2,408)", "(10.4)", "114.5", "128.3", "11 checks exceed rounding", "(41.8)"):
        assert shown in text, shown
    assert "Acute configuration funding (£m)" in pages[2] and "Checks beyond rounding" in pages[5]
    assert [p.name for p in pngs] == [f"llr_stp_2016-pack-{k}.png" for k in range(1, 7)]
    assert all(p.stat().st_size > 30_000 for p in pngs)


@pytest.mark.libreoffice
@pytest.mark.parametrize("path", [WORKBOOK, TEMPLATE], ids=["llr", "template"])
def test_libreoffice_recomputes_every_formula_to_its_stored_value(path, tmp_path):
    """Every formula recomputed by LibreOffice (xl-stp regen, full recalculation) gives the value the
    builder stored: the Excel arithmetic of the builder (labels, SUMIF, COUNT, tolerances, the
    checks summary's INDEX/MATCH, the chart's bars) is LibreOffice's. (The formulas engine agrees
    too: about 40 s a workbook, measured, not run here; the second footprint runs it.)"""
    from udfs import discover
    from xl_stp.batch.engines.libreoffice import available
    from xl_stp.batch.run import regen_file

    if not available():
        pytest.skip("LibreOffice not installed")
    r = regen_file(path, discover(), out_dir=tmp_path, engine="libreoffice", full=True)
    assert (r.status, r.values_changed, r.problems) == ("ok", 0, [])

"""Charts show the new figures: after a regeneration, the copy of the plotted data that a chart part
keeps (numbers, category labels, series names, titles) holds the cells' new values, read back here
with an XML parser; a chart that plots no changed cell, and every other part, keeps its bytes."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
import xlsxwriter
from openpyxl.utils.cell import range_boundaries

from tests.batch.common import LLR, REGISTRY, ROOT
from xl_stp.batch.engines.libreoffice import available as lo_available
from xl_stp.batch.charts import areas, chart_references, rewrite_chart
from xl_stp.batch.patch import _same, patch
from xl_stp.batch.run import regen_file

TEMPLATE = ROOT / "workbooks" / "stp_template.xlsx"
#: The engine for the reference-sized workbooks (about 5,000 formulas: 25 s with formulas, 3 s with LibreOffice).
BIG = "libreoffice" if lo_available() else "formulas"
C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
CHANGED, PLAIN = "xl/charts/chart2.xml", "xl/charts/chart1.xml"


# ---- reading charts back -------------------------------------------------------------------------

def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def caches(data: bytes) -> dict[str, list[dict]]:
    """Each reference's copy of the data, by its formula text: format code, point count and
    points {index: text}, read with an XML parser."""
    out: dict[str, list[dict]] = {}
    for ref in ET.fromstring(data).iter():
        if ref.tag not in (f"{C}numRef", f"{C}strRef"):
            continue
        cache = ref.find(f"{C}numCache") if ref.tag == f"{C}numRef" else ref.find(f"{C}strCache")
        count = cache.find(f"{C}ptCount") if cache is not None else None
        out.setdefault(ref.findtext(f"{C}f"), []).append({
            "format": cache.findtext(f"{C}formatCode") if cache is not None else None,
            "count": int(count.get("val")) if count is not None else None,
            "points": {int(p.get("idx")): p.findtext(f"{C}v") for p in cache.iter(f"{C}pt")} if cache is not None else {},
        })
    return out


def cache(data: bytes, formula: str) -> dict:
    """The one copy of a reference (every copy of it in the part is the same)."""
    found = caches(data)[formula]
    assert all(c == found[0] for c in found), formula
    return found[0]


def numbers(c: dict) -> dict[int, float]:
    return {i: float(v) for i, v in c["points"].items()}


# ---- a workbook with charts, built by xlsxwriter -------------------------------------------------

def charted_workbook(path: Path) -> Path:
    """Data (inputs) and 'My sheet' (formulas with wrong cached values) and two charts: one on
    'My sheet' (series name, title, labels and values by formula, an error, a blank, a multi-area
    series, an empty text and a TRUE), one on Data plotting inputs only."""
    wb = xlsxwriter.Workbook(str(path))
    data = wb.add_worksheet("Data")
    data.write_column("A1", ["Item", "North", "South", "East"])
    data.write_column("B1", ["Cost", 1, 2, 3])
    sheet = wb.add_worksheet("My sheet")
    sheet.write_formula("A5", '="Cost of "&Data!A2', None, "old name")
    for col, src in zip("BCF", ("A2", "A3", "A4")):
        sheet.write_formula(f"{col}4", f'=Data!{src}&" & co"', None, "old label")
    sheet.write_formula("D4", "=1/0", None, "old label")
    sheet.write_formula("B5", "=Data!B2*10", None, 0)
    sheet.write_formula("C5", "=Data!B3*10", None, 0)
    sheet.write_formula("D5", "=1/0", None, 0)
    sheet.write_formula("F5", "=Data!B4*10.5", None, 0)  # E5 is blank
    sheet.write_formula("B6", '=""', None, 5)
    sheet.write_formula("C6", "=Data!B2>0", None, 5)
    sheet.write_formula("D6", "=Data!B4/4", None, 5)
    changed = wb.add_chart({"type": "column"})
    changed.add_series({"name": "='My sheet'!$A$5", "categories": "='My sheet'!$B$4:$F$4", "values": "='My sheet'!$B$5:$F$5",
                        "data_labels": {"value": True, "num_format": "#,##0.0"}})
    changed.add_series({"values": "=('My sheet'!$B$5,'My sheet'!$D$6)"})
    changed.add_series({"values": "='My sheet'!$B$6:$D$6"})
    changed.set_title({"name": "='My sheet'!$A$5"})
    sheet.insert_chart("H2", changed)
    plain = wb.add_chart({"type": "line"})
    plain.add_series({"name": "=Data!$B$1", "categories": "=Data!$A$2:$A$4", "values": "=Data!$B$2:$B$4"})
    data.insert_chart("D2", plain)
    wb.close()
    return path


@pytest.fixture(scope="module")
def charted(tmp_path_factory) -> tuple[Path, Path]:
    """The workbook and its regeneration (formulas engine)."""
    d = tmp_path_factory.mktemp("charted")
    src = charted_workbook(d / "charted.xlsx")
    r = regen_file(src, REGISTRY, out_dir=d / "out", engine="formulas")
    assert not r.failed, r.error
    assert r.charts == [CHANGED]  # the per-file report names the chart it brought up to date
    return src, Path(r.output)


def test_regen_puts_the_new_figures_in_the_chart_that_plots_them(charted):
    src, out = charted
    before, after = members(src)[CHANGED], members(out)[CHANGED]
    assert cache(before, "'My sheet'!$B$5:$F$5")["points"] == {0: "0", 1: "0", 2: "0", 4: "0"}
    values = cache(after, "'My sheet'!$B$5:$F$5")
    # the error (D5) and the blank (E5) are absent points; format code and point count are kept
    assert numbers(values) == {0: 10, 1: 20, 4: 31.5} and values["format"] == "General" and values["count"] == 5
    labels = cache(after, "'My sheet'!$B$4:$F$4")
    assert labels["points"] == {0: "North & co", 1: "South & co", 4: "East & co"} and labels["count"] == 5
    assert cache(after, "'My sheet'!$A$5")["points"] == {0: "Cost of North"}  # the series name and the title
    assert len(caches(after)["'My sheet'!$A$5"]) == 2
    # two areas (xlsxwriter left the copy empty, with a point count of 0): both points, counted
    assert numbers(cache(after, "('My sheet'!$B$5,'My sheet'!$D$6)")) == {0: 10, 1: 0.75}
    assert cache(after, "('My sheet'!$B$5,'My sheet'!$D$6)")["count"] == 2
    # an empty text plots as zero and TRUE as 1, as Excel plots them
    assert numbers(cache(after, "'My sheet'!$B$6:$D$6")) == {0: 0, 1: 1, 2: 0.75}


def test_everything_else_keeps_its_bytes(charted):
    """Only the worksheets and the chart that plots changed cells differ; the chart plotting
    inputs only, the drawings and every other part are byte for byte the same, in the same order."""
    src, out = charted
    a, b = members(src), members(out)
    assert list(a) == list(b)
    differ = {name for name in a if a[name] != b[name]}
    assert differ == {"xl/worksheets/sheet2.xml", CHANGED}
    # the chart's own bytes outside the copies of the data are unchanged
    strip = re.compile(rb"<c:(numCache|strCache)>.*?</c:\1>", re.S)
    assert strip.sub(b"", a[CHANGED]) == strip.sub(b"", b[CHANGED])


def test_regenerating_again_changes_nothing(charted, tmp_path):
    _src, out = charted
    again = regen_file(out, REGISTRY, out_dir=tmp_path, engine="formulas")
    assert again.values_changed == 0
    assert Path(again.output).read_bytes() == out.read_bytes()


def test_the_report_names_the_charts_and_unchanged_cells_keep_their_stored_figures(charted, tmp_path):
    """Through the write-back itself: one changed cell rewrites its chart, whose other points
    come from what the file stores; values equal to those stored rewrite no chart."""
    src, _out = charted
    report = patch(src, tmp_path / "one.xlsx", {"My sheet": {"B5": 99.5, "C5": 0}})
    assert report.charts == [CHANGED] and report.values_changed == 1
    after = members(tmp_path / "one.xlsx")[CHANGED]
    assert numbers(cache(after, "'My sheet'!$B$5:$F$5")) == {0: 99.5, 1: 0, 2: 0, 4: 0}
    assert numbers(cache(after, "('My sheet'!$B$5,'My sheet'!$D$6)")) == {0: 99.5, 1: 5}
    assert cache(after, "'My sheet'!$B$4:$F$4")["points"] == {0: "old label", 1: "old label", 2: "old label", 4: "old label"}
    assert cache(after, "'My sheet'!$A$5")["points"] == {0: "old name"}
    same = patch(src, tmp_path / "same.xlsx", {"My sheet": {"B5": 0, "A5": "old name"}})
    assert same.charts == [] and same.values_changed == 0
    assert members(tmp_path / "same.xlsx") == members(src)


@pytest.mark.libreoffice
@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed")
def test_libreoffice_opens_the_output_and_plots_the_same_numbers(charted, tmp_path):
    """LibreOffice, not recalculating, saves the regenerated workbook again; its chart holds the
    numbers our copy holds."""
    _src, out = charted
    profile = tmp_path / "profile" / "user"
    profile.mkdir(parents=True)
    (profile / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><oor:items xmlns:oor="http://openoffice.org/2001/registry">'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">'
        "<value>1</value></prop></item></oor:items>")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to", "xlsx",
                    "--outdir", str(tmp_path / "lo"), str(out)], check=True, capture_output=True, timeout=180)
    saved = members(tmp_path / "lo" / out.name)
    ours = members(out)[CHANGED]
    theirs = next(data for name, data in saved.items() if name.startswith("xl/charts/chart") and b"My sheet" in data)
    assert numbers(cache(theirs, "'My sheet'!$B$5:$F$5")) == numbers(cache(ours, "'My sheet'!$B$5:$F$5"))
    assert cache(theirs, "'My sheet'!$A$5")["points"] == {0: "Cost of North"}


# ---- the template, filled and regenerated ------------------------------------------------------------

def filled_template(path: Path) -> Path:
    """The template with the LLR workbook's input figures and names typed into its empty Inputs
    cells (the two share one layout), cell by cell in the worksheet XML so that the charts keep the
    template's bytes, zeros and all."""
    llr, template = openpyxl.load_workbook(LLR)["Inputs"], openpyxl.load_workbook(TEMPLATE)["Inputs"]
    figures = {c.coordinate: c.value for row in llr.iter_rows() for c in row
               if isinstance(c.value, (int, float, str)) and not isinstance(c.value, bool) and template[c.coordinate].value is None
               and not str(c.value).startswith("=")}
    part = f"xl/worksheets/sheet{openpyxl.load_workbook(TEMPLATE).sheetnames.index('Inputs') + 1}.xml"
    filled = 0

    def fill(m: re.Match) -> bytes:
        nonlocal filled
        ref = m.group(1).decode()
        if ref not in figures:
            return m.group(0)
        filled += 1
        value = figures[ref]
        if isinstance(value, str):  # names and labels: inline text, as a user's typing would be stored
            text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode()
            return b'<c r="%s"%s t="inlineStr"><is><t>%s</t></is></c>' % (m.group(1), m.group(2), text)
        return b'<c r="%s"%s><v>%s</v></c>' % (m.group(1), m.group(2), repr(value).encode())

    with zipfile.ZipFile(TEMPLATE) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                data = re.sub(rb'<c r="([A-Z]+[0-9]+)"((?: [a-z]+="[^"]*")*)/>', fill, data)
            zout.writestr(info, data)
    # the LLR workbook also has figures of its own (LLR-only checks) in cells the template leaves out
    assert filled > 300, f"filled {filled} of {len(figures)} input figures"
    return path


def plotted(book: openpyxl.Workbook, formula: str, numeric: bool) -> dict:
    """What a chart should show for ``Sheet!$A$1:$B$1``, from the cells as openpyxl reads them:
    {index: number or text}, blanks and errors left out; text plots as zero."""
    sheet, ref = formula.split("!")
    c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
    values = [c.value for row in book[sheet.strip("'")].iter_rows(min_row=r1, max_row=r2, min_col=c1, max_col=c2) for c in row]
    out = {}
    for i, v in enumerate(values):
        if v is None or isinstance(v, str) and (v.startswith("#") or not numeric and v == ""):
            continue
        out[i] = (0.0 if isinstance(v, str) else float(v)) if numeric else str(v)
    return out


def test_a_filled_template_shows_its_plan_in_the_charts(tmp_path):
    """The template's charts hold zeros; regenerated once filled, every copy of plotted data holds
    what the cells hold (read by openpyxl from the regenerated file), and the numbers are the LLR
    workbook's own."""
    src = filled_template(tmp_path / "filled.xlsx")
    # the inputs were typed into the file's XML, not in Excel, so no stored value follows them yet:
    # every formula is recomputed, as Excel would on opening a file that asks for it
    r = regen_file(src, REGISTRY, out_dir=tmp_path / "out", engine=BIG, full=True)
    assert not r.failed, r.error
    before, after, llr = members(src), members(Path(r.output)), members(LLR)
    charts = sorted(name for name in before if name.startswith("xl/charts/chart"))
    assert len(charts) >= 3
    zeros = [float(v) for name in charts for found in caches(before[name]).values() if found[0]["format"] is not None
             for v in found[0]["points"].values()]
    assert zeros and not any(zeros)
    book = openpyxl.load_workbook(r.output, data_only=True)
    shown = 0
    changed = [name for name in charts if after[name] != before[name]]
    assert len(changed) == len(charts), changed  # every chart plots figures or names the inputs moved
    for name in charts:
        for formula, found in caches(after[name]).items():
            numeric = found[0]["format"] is not None
            got = numbers(found[0]) if numeric else found[0]["points"]
            c1, r1, c2, r2 = range_boundaries(formula.split("!")[1].replace("$", ""))
            assert found[0]["count"] == (c2 - c1 + 1) * (r2 - r1 + 1), formula
            want = plotted(book, formula, numeric)
            if numeric:  # a formula giving "" (an unused row) plots as zero: Excel stores a 0 point for it
                got_, want = {k: v for k, v in got.items() if v}, {k: v for k, v in want.items() if v}
                assert got_ == pytest.approx(want), formula
            else:  # an empty label and an absent one show the same
                assert {k: v for k, v in got.items() if v != ""} == {k: v for k, v in want.items() if v != ""}, formula
            shown += sum(1 for v in got.values() if numeric and v)
            if formula in caches(llr[name]):  # the same figures as the reference workbook's own charts
                theirs = cache(llr[name], formula)
                mine = {k: v for k, v in got.items() if v not in ("", 0)}
                ref = {k: v for k, v in (numbers(theirs) if numeric else theirs["points"]).items() if v not in ("", 0)}
                assert mine == (pytest.approx(ref) if numeric else ref), formula
    assert shown > 20


def test_the_reference_workbook_regenerates_without_touching_its_charts(tmp_path):
    """Nothing the LLR charts plot changes: the chart parts keep their bytes."""
    r = regen_file(LLR, REGISTRY, out_dir=tmp_path, engine=BIG)
    a, b = members(LLR), members(Path(r.output))
    assert all(a[n] == b[n] for n in a if n.startswith("xl/charts/"))


# ---- the rewrite itself, on chart XML of every shape ----------------------------------------------

def test_references_a_chart_can_name():
    sheets = ["Data", "My sheet", "It's"]
    assert areas("Data!$B$5:$D$5", sheets) == [("Data", "B5"), ("Data", "C5"), ("Data", "D5")]
    assert areas("'My sheet'!$A$1:$A$2", sheets) == [("My sheet", "A1"), ("My sheet", "A2")]
    assert areas("'It''s'!B2", sheets) == [("It's", "B2")]
    assert areas("data!$b$2", sheets) == [("Data", "B2")]
    assert areas("(Data!$A$1,'My sheet'!$A$3:$A$4)", sheets) == [("Data", "A1"), ("My sheet", "A3"), ("My sheet", "A4")]
    assert areas("Data!$A$1,Data!$A$3", sheets) == [("Data", "A1"), ("Data", "A3")]  # as LibreOffice writes two areas
    for other in ("Data!Costs", "Costs", "[1]Data!$A$1", "'[Book2.xlsx]Data'!$A$1", "Book2.xlsx!Costs", "Nowhere!$A$1",
                  "Data!$A:$A", "Data!$A$1:$B$2", "#REF!", ""):
        assert areas(other, sheets) is None, other


CHART = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         b'<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
         b'xmlns:c16r2="http://schemas.microsoft.com/office/drawing/2015/06/chart"><c:chart><c:plotArea><c:barChart><c:ser>'
         b"<c:tx><c:strRef><c:f>Data!$A$1</c:f><c:strCache><c:ptCount val=\"1\"/><c:pt idx=\"0\"><c:v>Old</c:v></c:pt>"
         b"</c:strCache></c:strRef></c:tx>"
         b'<c:cat><c:numRef><c:f>Data!$B$1:$D$1</c:f><c:numCache><c:formatCode>0.0%</c:formatCode><c:ptCount val="3"/>'
         b'<c:pt idx="0" formatCode="0%"><c:v>0.1</c:v></c:pt><c:pt idx="1"><c:v>0.2</c:v></c:pt></c:numCache></c:numRef></c:cat>'
         b"<c:val><c:numRef><c:f>Data!$B$2:$D$2</c:f><c:numCache><c:formatCode>#,##0</c:formatCode><c:ptCount val=\"3\"/>"
         b'<c:pt idx="0"><c:v>1</c:v></c:pt><c:extLst><c:ext uri="{X}"/></c:extLst></c:numCache></c:numRef></c:val>'
         b"<c:xVal><c:numRef><c:f>Data!$B$3:$D$3</c:f></c:numRef></c:xVal>"
         b"<c:yVal><c:numRef><c:f>Data!$B$4:$D$4</c:f><c:numCache/></c:numRef></c:yVal>"
         b'<c:bubbleSize><c:numRef><c:f>Data!Costs</c:f><c:numCache><c:ptCount val="1"/><c:pt idx="0"><c:v>7</c:v></c:pt>'
         b"</c:numCache></c:numRef></c:bubbleSize>"
         b'<c:extLst><c:ext uri="{Y}"><c16r2:x><c:strRef><c:f>[1]Data!$A$1</c:f><c:strCache><c:ptCount val="1"/>'
         b'<c:pt idx="0"><c:v>kept</c:v></c:pt></c:strCache></c:strRef></c16r2:x></c:ext></c:extLst>'
         b"</c:ser></c:barChart></c:plotArea></c:chart></c:chartSpace>")


def test_only_the_copies_that_differ_are_rewritten_and_the_rest_is_kept():
    refs = chart_references(CHART, ["Data"])
    assert len(refs) == 7 and [r.cells is None for r in refs] == [False] * 5 + [True] * 2
    points = {("Data", "A1"): ("s", "R&D <new>"), ("Data", "B1"): ("n", 0.1), ("Data", "C1"): ("n", 0.2),
              ("Data", "B2"): ("n", 1.0), ("Data", "C2"): ("e", "#N/A"), ("Data", "D2"): ("n", 2.5),
              ("Data", "B3"): ("n", 3.0), ("Data", "D3"): ("b", True), ("Data", "B4"): ("s", "text")}
    out = rewrite_chart(CHART, refs, points, _same)
    assert out.startswith(CHART[:CHART.index(b"<c:ser>")])  # prolog, prefixes and namespaces as written
    assert cache(out, "Data!$A$1")["points"] == {0: "R&D <new>"} and b"R&amp;D &lt;new&gt;" in out
    assert cache(out, "Data!$B$2:$D$2") == {"format": "#,##0", "count": 3, "points": {0: "1", 2: "2.5"}}
    assert b'<c:pt idx="2"><c:v>2.5</c:v></c:pt><c:extLst><c:ext uri="{X}"/></c:extLst></c:numCache>' in out
    # a reference with no copy gets one; an empty copy is filled
    assert cache(out, "Data!$B$3:$D$3") == {"format": "General", "count": 3, "points": {0: "3", 2: "1"}}
    assert cache(out, "Data!$B$4:$D$4") == {"format": "General", "count": 3, "points": {0: "0"}}
    # the labels already held these numbers: that copy keeps its bytes, point formats and all
    assert b'<c:pt idx="0" formatCode="0%"><c:v>0.1</c:v></c:pt><c:pt idx="1"><c:v>0.2</c:v></c:pt>' in out
    # a defined name and another workbook: their copies are left alone
    assert cache(out, "Data!Costs")["points"] == {0: "7"} and cache(out, "[1]Data!$A$1")["points"] == {0: "kept"}
    assert rewrite_chart(out, chart_references(out, ["Data"]), points, _same) == out


def test_a_chart_in_the_default_namespace_or_another_prefix():
    for prefix in (b"", b"cx1:"):
        decl = b"xmlns" + (b":" + prefix[:-1] if prefix else b"") + b'="http://schemas.openxmlformats.org/drawingml/2006/chart"'
        data = (b"<" + prefix + b"chartSpace " + decl + b"><" + prefix + b"val><" + prefix + b"numRef><" + prefix
                + b"f>'My sheet'!$A$1</" + prefix + b"f><" + prefix + b"numCache><" + prefix + b"ptCount val='1'/></"
                + prefix + b"numCache></" + prefix + b"numRef></" + prefix + b"val></" + prefix + b"chartSpace>")
        out = rewrite_chart(data, chart_references(data, ["My sheet"]), {("My sheet", "A1"): ("n", 42.0)}, _same)
        assert out == data.replace(b"ptCount val='1'/>", b"ptCount val='1'/><" + prefix + b'pt idx="0"><' + prefix
                                   + b"v>42</" + prefix + b"v></" + prefix + b"pt>")
    commented = b"<!-- a comment -->" + CHART
    assert chart_references(commented, ["Data"]) == []


def test_stored_cells_of_every_shape_read_as_points():
    """What a chart shows of a cell the write-back does not change: the value stored, as Excel
    reads it (shared strings, inline rich text without its phonetic guide, booleans, errors)."""
    from xl_stp.batch.charts import _stored, stored_point

    def point(attrs: bytes, body: bytes):
        st = _stored(attrs, body)
        return stored_point(st.t, st.v, st.inline, ["first", "R&D"])

    assert point(b' r="A1"', b"<v>2.50</v>") == ("n", 2.5)
    assert point(b' r="A1" t="s"', b"<v>1</v>") == ("s", "R&D")
    assert point(b' r="A1" t="inlineStr"', b'<is><r><t>Cap</t></r><r><t xml:space="preserve">ital &amp; more</t></r>'
                                          b"<rPh><t>kana</t></rPh></is>") == ("s", "Capital & more")
    assert point(b' r="A1" t="b"', b"<f>1=1</f><v>1</v>") == ("b", True)
    assert point(b' r="A1" t="e"', b"<x:f>1/0</x:f><x:v>#DIV/0!</x:v>") == ("e", "#DIV/0!")
    assert point(b' r="A1" t="str"', b"<f>A2</f><v>a &lt; b</v>") == ("s", "a < b")
    assert point(b' r="A1" s="3"', b"") is None and point(b' r="A1"', b"<v></v>") is None

"""xl-stp scenarios on the LLR workbook: the shipped scenarios checked against xl_stp.core, both
engines, the comparison workbook, bad scenario lines refused with their line, and breakeven."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import openpyxl
import pytest
from typer.testing import CliRunner

from udfs import discover
from xl_stp.batch.engines.select import libreoffice_available
from xl_stp.scenarios import run
from xl_stp.scenarios.book import Book
from xl_stp.scenarios.changes import apply
from xl_stp.scenarios.definitions import ScenarioError, parse_change, read_csv
from xl_stp.scenarios.sensitivity import breakeven, parse_steps

from .llr_core import WORKBOOK, Inputs, dh_requirement, residual_gap

SCENARIOS = WORKBOOK.parent / "llr_scenarios.csv"
OUTPUTS = ["Outputs!{Capital funding by source > DH funding requirement}",
           "Outputs!{Capital funding by source > DH funding requirement @ Total}", "Outputs!{Gap bridge > Residual gap}"]
needs_lo = pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice is not installed")


@pytest.fixture(scope="module")
def book():
    return Book(WORKBOOK)


@pytest.fixture(scope="module")
def expected():
    """(DH requirement 2016/17..2020/21 + total, residual gap by plan year) per scenario, from the core."""
    x = Inputs()
    base_gap = residual_gap(x)
    return {"Base": (dh_requirement(x), base_gap),
            "no PF2": (dh_requirement(x, pf2_off=True), base_gap),
            "acute programme slips a year": (dh_requirement(x, slip_acute=1), base_gap),
            "disposals a year late": (dh_requirement(x, disposals_late=1), base_gap),
            "savings deliver 70%": (dh_requirement(x), residual_gap(x, delivery=0.7))}


def _check(cmp, expected):
    assert [r.name for r in cmp.results] == list(expected)
    for r in cmp.results:
        assert r.error is None
        dh, gap = expected[r.name]
        np.testing.assert_allclose(np.array(r.values[:6], dtype=float), dh, atol=1e-9, err_msg=r.name)
        np.testing.assert_allclose(np.array(r.values[6:], dtype=float), gap, atol=1e-9, err_msg=r.name)


def test_the_llr_figures_themselves(expected):
    """The worked example's numbers (£m): PF2's £97.4m falls to DH; slipping the acute programme
    moves £109.0m past 2020/21; late disposals add £43.2m; 70% delivery leaves a £115.6m gap."""
    np.testing.assert_allclose(expected["Base"][0], [16.0, 24.69, 57.904, 45.389, -15.7, 128.283], atol=1e-9)
    assert expected["no PF2"][0][-1] - expected["Base"][0][-1] == pytest.approx(97.4)
    assert expected["acute programme slips a year"][0][-1] == pytest.approx(19.283)
    assert expected["disposals a year late"][0][-1] - expected["Base"][0][-1] == pytest.approx(43.2)
    assert expected["savings deliver 70%"][1][-1] == pytest.approx(115.64)


@needs_lo
def test_loaded_workbook_matches_the_core(book, expected):
    cmp = run.run_loaded(book, read_csv(SCENARIOS, book), discover(), run.outputs(book, OUTPUTS))
    _check(cmp, expected)


@pytest.mark.parametrize("engine", ["formulas", pytest.param("libreoffice", marks=needs_lo)])
def test_regenerated_copies_match_the_core(book, expected, engine, tmp_path):
    """Every scenario with LibreOffice; with the formulas engine (about 35 s a workbook here) no PF2 alone."""
    scenarios = read_csv(SCENARIOS, book)[: 1 if engine == "formulas" else None]
    cmp = run.run_copies(book, scenarios, discover(), run.outputs(book, OUTPUTS), engine=engine, out_dir=tmp_path)
    expected = {k: v for k, v in expected.items() if k in ("Base",) + tuple(s.name for s in scenarios)}
    _check(cmp, expected)
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == sorted(f"llr_stp_2016-{run.slug(n)}.xlsx" for n in list(expected)[1:])
    wb = openpyxl.load_workbook(tmp_path / "llr_stp_2016-no-pf2.xlsx", data_only=True)
    row = next(r for r in wb["Outputs"].iter_rows() if str(r[0].value or "").startswith("DH funding requirement"))
    assert [c.value for c in row[2:8]] == pytest.approx(list(expected["no PF2"][0]))


def test_a_scenario_copy_changes_only_its_input_cells(book, tmp_path):
    sc = read_csv(SCENARIOS, book)[0]
    dst = tmp_path / "copy.xlsx"
    run.write_inputs(book, apply(book, sc).values, dst)
    a, b = zipfile.ZipFile(WORKBOOK), zipfile.ZipFile(dst)
    assert a.namelist() == b.namelist()
    differ = [n for n in a.namelist() if a.read(n) != b.read(n)]
    assert differ == ["xl/worksheets/sheet2.xml"]  # Inputs
    copy = Book(dst)
    pf2 = book.resolve("Inputs!{Funding waterfall 1 > PF2}").grid[0]
    assert [copy.value("Inputs", c) for c in pf2] == [0.0, None, None, 0.0, 0.0]


def test_changes_as_written():
    assert parse_change("off") == ("off", 0.0)
    assert parse_change("shift 1") == ("shift", 1.0)
    assert parse_change("x70%") == ("scale", pytest.approx(0.7))
    assert parse_change("-30%") == ("percent", pytest.approx(-0.3))
    assert parse_change("(27.2)") == ("value", -27.2)
    with pytest.raises(ValueError, match="whole number of years"):
        parse_change("shift 1.5")


BAD = """cell,no PF2,bad
"Inputs!{Funding waterfall 1 > PF2}",off,
"Inputs!{Funding waterfall 1 > Nonsense}",,off
"Calculations!B5",,0
"Outputs!{Capital funding by source > DH funding requirement}",,5
"Inputs!{Capital programme 1}",,shift 0.5
no_such_name,,1
"Inputs!{Funding waterfall 2 > PF2}",,sideways
"""


def test_bad_lines_are_named_with_their_line(book, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text(BAD)
    with pytest.raises(ScenarioError) as e:
        read_csv(f, book)
    got = e.value.problems
    assert len(got) == 6 and all("\n" not in p for p in got)
    assert got[0].startswith("bad.csv line 3: Inputs!{Funding waterfall 1 > Nonsense}: no row labelled 'Nonsense'")
    assert got[1].startswith("bad.csv line 4: Calculations!B5: Calculations!B5 is a formula cell (=STP_CAPITAL_NET(")
    assert got[2].startswith("bad.csv line 5:") and "is a formula cell" in got[2]
    assert got[3] == "bad.csv line 6: Inputs!{Capital programme 1} (bad): a shift must be a whole number of years, not 0.5"
    assert got[4].startswith("bad.csv line 7: no_such_name: ")
    assert got[5].startswith("bad.csv line 8: Inputs!{Funding waterfall 2 > PF2} (bad): 'sideways' is not a change")


def test_the_command_refuses_bad_lines_and_writes_nothing(tmp_path):
    import xl_stp.cli.scenarios  # noqa: F401  registers the command
    from xl_stp.cli.commands import app

    f = tmp_path / "bad.csv"
    f.write_text(BAD)
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["scenarios", str(WORKBOOK), "--scenarios", str(f), "--out", str(out)])
    assert r.exit_code == 2
    assert "bad.csv line 3" in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_the_command_writes_the_comparison_workbook(tmp_path):
    import xl_stp.cli.scenarios  # noqa: F401
    from xl_stp.cli.commands import app

    work = tmp_path / "wb"
    work.mkdir()
    shutil.copy(WORKBOOK, work / WORKBOOK.name)
    shutil.copy(SCENARIOS, work / SCENARIOS.name)  # found beside the workbook by its name
    before = (work / WORKBOOK.name).read_bytes()
    engine = "libreoffice" if libreoffice_available() else "formulas"
    r = CliRunner().invoke(app, ["scenarios", str(work / WORKBOOK.name), "--out", str(tmp_path / "out"), "--engine", engine])
    assert r.exit_code == 0, r.output
    assert "no PF2" in r.output and "225.7" in r.output and "109,000 moved past 2020/21" in r.output
    assert (work / WORKBOOK.name).read_bytes() == before
    out = tmp_path / "out" / "llr_stp_2016-scenarios.xlsx"
    with zipfile.ZipFile(out) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        kinds = {n: z.read(n).decode() for n in charts}
    assert len(charts) == 2
    assert any("<c:lineChart>" in x for x in kinds.values()) and any('<c:barDir val="bar"/>' in x for x in kinds.values())
    ws = openpyxl.load_workbook(out)["Comparison"]
    assert [c.value for c in ws[4]][:6] == ["Output", "Base", "no PF2", "acute programme slips a year",
                                           "disposals a year late", "savings deliver 70%"]


@needs_lo
def test_breakeven_delivery_for_a_nil_gap(book):
    """Every savings line delivering 97.1% of its gross leaves the 2020/21 gap nil: (399.3 + 15.1) / 426.8."""
    groups = run.outputs(book, ["Outputs!{Gap bridge > Residual gap @ 2020/21}"])
    evaluate = run.Evaluator(book, discover(), groups, "libreoffice")
    try:
        steps = parse_steps("x50%:100%:10%")
        found = breakeven(book, "Inputs!{Savings line}", steps, 0, "Residual gap 2020/21", evaluate)
        none = breakeven(book, "Inputs!{Savings line}", parse_steps("x50%:90%:10%"), 0, "Residual gap 2020/21", evaluate)
    finally:
        evaluate.close()
    assert found.found and round(found.value, 1) == pytest.approx(round(100 * 414.4 / 426.8, 1))
    assert found.text.endswith("scaled to 97.1%")
    assert not none.found and none.text.startswith("no value of Inputs!{Savings line} from x50% to x90% brings")


@needs_lo
def test_a_scenarios_sheet_reads_as_the_csv_does(tmp_path):
    """FAST-style, inside the workbook: one column a scenario, one row a change; the same scenarios
    as the CSV beside it, and a bad row named by its sheet and row. (openpyxl adds the sheet and
    drops the formulas' values, which the labels' year headings need: regenerated first.)"""
    import csv

    from xl_stp.batch.run import regen_file
    from xl_stp.scenarios.definitions import read_sheet

    rows = list(csv.reader(SCENARIOS.read_text(encoding="utf-8").splitlines()))
    wb = openpyxl.load_workbook(WORKBOOK)
    ws = wb.create_sheet("Scenarios")
    for row in rows:
        ws.append(row)
    books = {}
    for name, extra in (("with-sheet", []), ("bad-row", [["Inputs!{No such block}", "off"]])):
        for row in extra:
            ws.append(row)
        wb.save(tmp_path / f"{name}.xlsx")
        r = regen_file(tmp_path / f"{name}.xlsx", discover(), out_dir=tmp_path / "out", engine="libreoffice")
        assert r.status == "ok", r.error
        books[name] = Book(r.output)
    def written(scenarios):  # each change but where it was written
        return [(sc.name, [(c.ref, c.cells, c.kind, c.amount, c.text) for c in sc.changes]) for sc in scenarios]
    assert written(read_sheet(books["with-sheet"])) == written(read_csv(SCENARIOS, books["with-sheet"]))
    assert read_sheet(books["with-sheet"])[0].changes[0].where == "Scenarios row 4"  # as the CSV: two comment rows, the header
    with pytest.raises(ScenarioError) as e:
        read_sheet(books["bad-row"])
    assert f"Scenarios row {len(rows) + 1}: Inputs!{{No such block}}" in str(e.value)

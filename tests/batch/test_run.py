"""Regenerating workbooks: surgical write-back, the command line, many files, Dask, cross-check."""

from __future__ import annotations

import json
import pickle
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.batch.common import ENGINES, LLR, REGISTRY, sha
from tests.data.corpus import FIDELITY_EXPECTED, VBA_BYTES, finance_workbook
from xl_stp.batch import scan
from xl_stp.batch.engines.libreoffice import available as lo_available
from xl_stp.batch.patch import CELL
from xl_stp.batch.run import regen_file, run_batch
from xl_stp.cli.commands import app

#: The pool, Dask and the command line are about many files, not big ones: the LLR workbook as it
#: was before the template (1,161 formulas; tests/batch/golden), 5 s with the formulas engine, not 25.
SMALL_LLR = Path(__file__).with_name("golden") / "llr_stp_2016.xlsx"


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


# ---- write-back fidelity ---------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", ["xlsx", "xlsm"])
def test_regen_writes_new_values_and_changes_nothing_else(corpus, tmp_path, engine, kind):
    src = corpus[kind]
    before = sha(src)
    r = regen_file(src, REGISTRY, out_dir=tmp_path / "out", engine=engine)
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
    again = regen_file(out, REGISTRY, out_dir=tmp_path / "again", engine=engine)
    assert again.values_changed == 0 and sha(again.output) == sha(out)


def test_llr_workbook_regenerates_with_no_changes(tmp_path):
    """The reference workbook's stored values are what the engine computes from its formulas."""
    for engine in ["formulas"] + (["libreoffice"] if lo_available() else []):
        r = regen_file(LLR, REGISTRY, out_dir=tmp_path / engine, engine=engine)
        # the published tables have blanks between figures (City Hub): warnings, which keep "ok"
        assert r.status == "ok" and all(p["severity"] == "warning" for p in r.inputs), (engine, r.error, r.problems)
        assert r.problems == [p["line"] for p in r.inputs], (engine, r.problems)
        sc = scan(LLR)
        assert r.formula_cells == sc.formula_count > 1000 and r.stp_cells == len(sc.stp_cells()) > 180
        assert r.values_changed == 0, engine
        assert sha(r.output) == sha(LLR)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_workbook_is_opened_and_checked_once(corpus, tmp_path, monkeypatch, engine):
    """One regeneration opens the package once: its kind, sizes and prologs are checked once, and
    the scan, the engine's input cells and the write-back all read that one package."""
    from xl_stp.batch import package

    checks = {"kind": 0, "prologs": 0}
    kind, prolog = package.check_kind, package.Package._check_prolog

    def count_kind(path):
        checks["kind"] += 1
        return kind(path)

    def count_prolog(self, name):
        checks["prologs"] += 1
        return prolog(self, name)
    monkeypatch.setattr(package, "check_kind", count_kind)
    monkeypatch.setattr(package.Package, "_check_prolog", count_prolog)
    r = regen_file(corpus["xlsx"], REGISTRY, out_dir=tmp_path, engine=engine)
    assert r.status == "ok", r.error
    with zipfile.ZipFile(corpus["xlsx"]) as z:
        xml_parts = sum(n.lower().endswith((".xml", ".rels", ".vml")) for n in z.namelist())
    assert checks == {"kind": 1, "prologs": xml_parts}


def test_readers_see_the_new_values(corpus, tmp_path):
    r = regen_file(corpus["xlsx"], REGISTRY, out_dir=tmp_path, engine="formulas")
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(r.output).get_sheet_by_name("Data").to_python()
    assert sheet[4][4] == 1030 and sheet[1][5] == 200
    frame = pd.read_excel(r.output, sheet_name="Calc", header=None, engine="openpyxl")
    assert frame.iloc[4, 3] == 975 and frame.iloc[6, 0] == "OK"


@pytest.mark.libreoffice
@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed")
def test_libreoffice_reads_the_new_values_without_recalculating(corpus, tmp_path):
    r = regen_file(corpus["xlsx"], REGISTRY, out_dir=tmp_path / "out", engine="formulas")
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


# ---- command line, batch, Dask ---------------------------------------------------------------------

def test_cli_regen_batch_report_and_exit_status(corpus, tmp_path):
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"not a zip")
    report = tmp_path / "report.json"
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["regen", str(corpus["xlsx"]), str(bad), str(SMALL_LLR), "--out", str(out), "--engine", "formulas",
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


def test_the_registry_travels_to_worker_processes(corpus, tmp_path):
    """The registry is pickled to each process (its functions by name): two processes give what
    one gives."""
    again = pickle.loads(pickle.dumps(REGISTRY))
    assert sorted(again) == sorted(REGISTRY) and again.resolve("_xludf.stp_gap").name == "STP_GAP"
    files = [corpus["xlsx"], SMALL_LLR]
    one = run_batch(files, REGISTRY, out_dir=str(tmp_path / "one"), in_place=False, engine="formulas", jobs=1)
    two = run_batch(files, REGISTRY, out_dir=str(tmp_path / "two"), in_place=False, engine="formulas", jobs=2)
    assert [r.status for r in two] == ["ok", "ok"]
    assert [sha(r.output) for r in one] == [sha(r.output) for r in two]


def test_dask_scheduler_runs_the_same_job(corpus, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        results = run_batch([corpus["xlsx"], SMALL_LLR], REGISTRY, out_dir=str(tmp_path), in_place=False, engine="formulas",
                            scheduler=cluster.scheduler_address)
    assert [r.status for r in results] == ["ok", "ok"]
    assert results[0].values_changed == 30 and results[1].values_changed == 0


def test_cross_check_runs_the_other_engine_and_reports_disagreements(tmp_path):
    if not lo_available():
        pytest.skip("LibreOffice not installed")
    path, _ = finance_workbook(tmp_path / "x.xlsx", rows=30)
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="libreoffice", cross_check=True)
    assert r.status == "ok" and r.problems == [], r.problems  # the two engines agree on every cell
    import xlsxwriter

    odd = tmp_path / "odd.xlsx"  # ROUND(1.005, 2): Excel and LibreOffice give 1.01; plain float rounding gives 1.0
    wb = xlsxwriter.Workbook(str(odd))
    wb.add_worksheet("S").write_formula("A1", "=ROUND(1.005,2)", None, 0)
    wb.close()
    r = regen_file(odd, REGISTRY, out_dir=tmp_path / "out", engine="libreoffice", cross_check=True)
    assert r.problems == []  # our ROUND override makes the formulas engine agree


def test_the_garbage_collector_runs_less_often_while_workbooks_run_and_as_before_after(tmp_path):
    """Raised while any task runs (two threads overlapping included), put back when the last ends,
    also when a task fails."""
    import gc
    import threading

    from xl_stp.batch.parallel import FEWER_COLLECTIONS, failures_recorded

    class Result:
        error = None
        problems: list = []

    before = gc.get_threshold()
    inside, entered, leave = [], threading.Barrier(2), threading.Event()

    def task(fail: bool) -> None:
        with failures_recorded(Result()):
            entered.wait(10)
            inside.append(gc.get_threshold()[0])
            if fail:
                raise ValueError("a task that fails")
            leave.wait(10)
    threads = [threading.Thread(target=task, args=(fail,)) for fail in (True, False)]
    for t in threads:
        t.start()
    threads[0].join(10)
    assert gc.get_threshold()[0] == FEWER_COLLECTIONS  # the other task still runs
    leave.set()
    threads[1].join(10)
    assert inside == [FEWER_COLLECTIONS] * 2 and gc.get_threshold() == before

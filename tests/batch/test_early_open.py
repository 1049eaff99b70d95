"""The command line has LibreOffice open a one-shot run's workbook while Python imports the engine
(client.open_early); the engine adopts that opening only when it is the same file, unchanged and
opened the same way, and otherwise computes from its own opening: the outputs are the same."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
import sys

import pytest

from tests.batch.common import LO, REGISTRY, ROOT, sha
from tests.batch.test_recalc import excel_like, values
from xl_stp.batch.engines.libreoffice import client
from xl_stp.batch.run import regen_file

pytestmark = LO.marks

MODEL = {"A1": 100, "A2": 90, "C1": ("=STP_CHECK(A1,A2)", "stale"), "D1": ('=C1&"!"', "stale!")}


def _opened_early(path, recalc: bool) -> None:
    client.open_early(str(path.resolve()), recalc=recalc)
    assert client._early is not None


def test_an_early_opening_of_the_same_file_is_adopted(tmp_path):
    path = excel_like(tmp_path / "m.xlsx", MODEL)
    before = client.worker().opened
    _opened_early(path, recalc=False)  # default mode: the stored values are kept on load
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="libreoffice")
    assert client._early is None and r.status == "ok"
    assert client.worker().opened == before + 1  # one opening: the early one
    assert values(r.output) == {"A1": 100, "A2": 90, "C1": 10, "D1": "10!"}


@pytest.mark.parametrize("how", ["other recalc", "file changed", "another file"])
def test_an_early_opening_that_does_not_match_is_not_used(tmp_path, how):
    path = excel_like(tmp_path / "m.xlsx", MODEL)
    other = excel_like(tmp_path / "other.xlsx", {**MODEL, "A2": 100})
    _opened_early(other if how == "another file" else path, recalc=how == "other recalc")
    if how == "file changed":
        shutil.copyfile(other, path)  # replaced after LibreOffice copied it: the new content counts
    before = client.worker().opened
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="libreoffice")
    assert client.worker().opened == before + 1  # its own opening, besides the early one
    expected = ("OK", "OK!") if how == "file changed" else (10, "10!")
    assert (values(r.output)["C1"], values(r.output)["D1"]) == expected
    r2 = regen_file(other, REGISTRY, out_dir=tmp_path / "out2", engine="libreoffice")  # the worker is in step
    assert values(r2.output)["C1"] == "OK"


def test_the_command_gives_the_same_file_as_a_run_in_process(tmp_path):
    path = excel_like(tmp_path / "m.xlsx", MODEL)
    proc = subprocess.run([sys.executable, "-m", "xl_stp.cli", "regen", str(path), "--out", str(tmp_path / "cli"),
                           "--engine", "libreoffice"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "lib", engine="libreoffice")
    assert sha(tmp_path / "cli" / "m.xlsx") == sha(r.output)


def _spy_scan(monkeypatch) -> list[int]:
    """The worker's openings counted as the scan starts (what LibreOffice was asked to load by then)."""
    from xl_stp.batch import run, verify

    seen: list[int] = []
    for module, name in ((run, "scan"), (verify, "scan_workbook")):
        real = getattr(module, name)

        def spied(*a, real=real, **k):
            seen.append(client.worker().opened)
            return real(*a, **k)
        monkeypatch.setattr(module, name, spied)
    return seen


@pytest.mark.parametrize("how", ["asks", "--full", "verify"])
def test_a_workbook_recomputed_in_full_is_loaded_while_python_scans_it(tmp_path, monkeypatch, how):
    path = excel_like(tmp_path / "m.xlsx", MODEL, full_calc=how == "asks")
    seen = _spy_scan(monkeypatch)
    before = client.worker().opened
    if how == "verify":
        from xl_stp.batch.verify import verify_file
        r = verify_file(path, REGISTRY, engine="libreoffice")
        assert r.error is None and r.compared == 2
    else:
        r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="libreoffice", full=how == "--full")
        assert values(r.output) == {"A1": 100, "A2": 90, "C1": 10, "D1": "10!"}
    assert seen == [before + 1] and client.worker().opened == before + 1  # asked before the scan, and once


def test_in_default_mode_the_workbook_is_loaded_after_the_scan(tmp_path, monkeypatch):
    """Only the scan knows whether anything is dirty (and so whether LibreOffice is needed at all)."""
    path = excel_like(tmp_path / "m.xlsx", MODEL)
    seen = _spy_scan(monkeypatch)
    before = client.worker().opened
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="libreoffice")
    assert r.status == "ok" and seen == [before] and client.worker().opened == before + 1


@pytest.mark.parametrize("how", ["no formula", "a formula element of another prefix", "a formula on a later sheet"])
def test_a_workbook_with_no_formula_is_never_handed_to_libreoffice(tmp_path, how):
    """A data-only file that asks for a full recalculation (as pandas' and openpyxl's exports do)."""
    import openpyxl

    from xl_stp.batch.package import Package

    path = tmp_path / "data.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["<f>", "a <f/> in text", 1.5])
    wb.create_sheet("Later").append([1, 2, "=A1+B1" if how == "a formula on a later sheet" else 3])
    wb.save(path)
    if how == "a formula element of another prefix":
        with zipfile.ZipFile(path) as z:
            parts = {i.filename: z.read(i.filename) for i in z.infolist()}
        sheet = parts["xl/worksheets/sheet2.xml"]
        sheet = sheet.replace(b"<worksheet ", b'<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ')
        parts["xl/worksheets/sheet2.xml"] = sheet.replace(b'<c r="C1" t="n"><v>3</v></c>', b'<c r="C1"><x:f>A1+B1</x:f></c>')
        assert parts["xl/worksheets/sheet2.xml"] != sheet
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in parts.items():
                z.writestr(name, data)
    with Package(path) as pkg:
        assert pkg.asks_full_calc()
        assert pkg.has_formulas() == (how != "no formula")
    from xl_stp.cli import _open_early

    _open_early(["regen", str(path), "--out", str(tmp_path / "out")])  # the command line's own early opening
    assert (client._early is not None) == (how != "no formula")
    before = client.worker().opened
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="libreoffice")
    assert r.status == "ok", r.error
    if how == "no formula":
        assert client.worker().opened == before and r.recalc == "no formula cells: nothing to recompute"
    else:  # the early opening adopted: no other
        assert client.worker().opened == before and r.formula_cells == 1 and client._early is None

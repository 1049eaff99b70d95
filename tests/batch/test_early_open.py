"""The command line has LibreOffice open a one-shot run's workbook while Python imports the engine
(client.open_early); the engine adopts that opening only when it is the same file, unchanged and
opened the same way, and otherwise computes from its own opening: the outputs are the same."""

from __future__ import annotations

import shutil
import subprocess
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

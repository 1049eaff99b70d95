"""Hostile and broken input for the batch engine (issue 6): each case gets a one-line message that
names the file (and the sheet and cell where there is one), the batch goes on, the exit status
says something failed, and the original file is never changed — every test hashes it before and
after. The workbooks come from tests/data/hostile.py.
"""

from __future__ import annotations

import errno
import importlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tests.data import hostile
from tests.data.corpus import finance_workbook
from xl_stp.cli import STOPPED
from xl_stp.cli.commands import app
from xl_stp.batch import Limits
from xl_stp.batch.run import regen_file
from xl_stp.batch.engines.libreoffice import available as lo_available
from tests.batch.common import REGISTRY, copies

ROOT = Path(__file__).resolve().parents[2]
patch_module = importlib.import_module("xl_stp.batch.patch")  # the module (the package exports the function)
LO = pytest.param("libreoffice", marks=[pytest.mark.libreoffice, pytest.mark.skipif(not lo_available(), reason="LibreOffice not installed")])
ENGINES = ["formulas", LO]


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class Originals:
    """Hashes of the files a test hands to the engine; checked after the test."""

    def __init__(self) -> None:
        self.files: dict[Path, str] = {}

    def add(self, path: Path) -> Path:
        self.files[Path(path)] = sha(path)
        return Path(path)

    def changed(self) -> list[Path]:
        return [p for p, h in self.files.items() if not p.exists() or sha(p) != h]


@pytest.fixture
def originals():
    o = Originals()
    yield o
    assert o.changed() == [], "an original workbook was changed"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(".tmp")) if Path(folder).exists() else []


# ---- files -----------------------------------------------------------------------------------------

def _xxe(tmp: Path) -> Path:
    secret = tmp / "secret.txt"
    secret.write_text("TOPSECRET")
    return hostile.xxe(tmp / "xxe.xlsx", tmp, secret)


def _xxe_styles(tmp: Path) -> Path:
    secret = tmp / "secret.txt"
    secret.write_text("TOPSECRET")
    return hostile.xxe(tmp / "xxe_styles.xlsx", tmp, secret, part="xl/styles.xml")


def _folder(tmp: Path) -> Path:
    (tmp / "folder.xlsx").mkdir()
    return tmp / "folder.xlsx"


def _empty(tmp: Path) -> Path:
    (tmp / "empty.xlsx").write_bytes(b"")
    return tmp / "empty.xlsx"


def _xls_renamed(tmp: Path) -> Path:
    return hostile.legacy_xls(tmp / "renamed.xlsx")


FILE_CASES = {
    "not a zip (CSV renamed .xlsx)": (lambda t: hostile.not_a_zip(t / "prices.xlsx"),
                                      "is not an Excel workbook: expected an .xlsx/.xlsm file (a zip package), found a text file"),
    "empty file": (_empty, "found an empty file"),
    "truncated zip": (lambda t: hostile.truncated(t / "half.xlsx", t), "is truncated or damaged"),
    "password-protected": (lambda t: hostile.encrypted(t / "locked.xlsx", t), "is password-protected (encrypted)"),
    "legacy .xls": (lambda t: hostile.legacy_xls(t / "old.xls"), "is a legacy Excel 97-2003 workbook (.xls format)"),
    ".xls renamed .xlsx": (_xls_renamed, "is a legacy Excel 97-2003 workbook (.xls format)"),
    ".xlsb": (lambda t: hostile.xlsb(t / "binary.xlsb"), "is an Excel binary workbook (.xlsb)"),
    ".ods": (lambda t: hostile.ods(t / "calc.ods"), "is an OpenDocument spreadsheet (.ods)"),
    "XXE in a sheet": (_xxe, "part xl/worksheets/sheet1.xml declares a DTD or entities"),
    "XXE in styles": (_xxe_styles, "part xl/styles.xml declares a DTD or entities"),
    "billion laughs": (lambda t: hostile.billion_laughs(t / "laughs.xlsx", t), "declares a DTD or entities"),
    "zip bomb": (lambda t: hostile.zip_bomb(t / "bomb.xlsx", t, inflated_mb=64), "refused as a possible zip bomb"),
    "folder named .xlsx": (_folder, "is a folder, not a workbook"),
}


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_broken_files_are_refused_with_one_line(case, tmp_path, originals):
    build, expected = FILE_CASES[case]
    path = build(tmp_path)
    if path.is_file():
        originals.add(path)
    limits = Limits(member_bytes=16 * 1024 * 1024)  # a small limit: the bomb inflates to 64 MB
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="formulas", limits=limits)
    assert r.failed
    assert expected in r.error, r.error
    assert "\n" not in r.error and "Traceback" not in r.error
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_batch_of_broken_files_goes_on_and_fails_at_the_end(tmp_path, originals):
    folder = tmp_path / "in"
    folder.mkdir()
    good = originals.add(hostile.small_workbook(folder / "good.xlsx"))
    for case in ("not a zip (CSV renamed .xlsx)", "truncated zip", "password-protected", "XXE in a sheet", "zip bomb"):
        path = FILE_CASES[case][0](tmp_path)
        originals.add(shutil.copy(path, folder / path.name) if path.parent != folder else path)
    bad_name = folder / "old.xls"
    originals.add(hostile.legacy_xls(bad_name))
    result = CliRunner().invoke(app, ["regen", str(folder / "*"), "--out", str(tmp_path / "out"), "--engine", "formulas",
                                      "--max-part-mb", "16", "--jobs", "2"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ": " in ln and ".xls" in ln]
    for name in ("prices.xlsx", "half.xlsx", "locked.xlsx", "xxe.xlsx", "bomb.xlsx", "old.xls"):
        assert sum(ln.startswith(str(folder / name) + ": ") for ln in lines) == 1, (name, result.output)
    assert "TOPSECRET" not in result.output
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["good.xlsx"]
    assert openpyxl.load_workbook(tmp_path / "out" / "good.xlsx", data_only=True)["Model"]["B1"].value == 6
    assert good.exists()


def test_debug_shows_a_traceback_only_when_asked(tmp_path, monkeypatch, originals):
    path = originals.add(hostile.small_workbook(tmp_path / "ok.xlsx"))

    def boom(*a, **k):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(patch_module, "encode_cached", boom)
    quiet = regen_file(path, REGISTRY, out_dir=tmp_path / "o1", engine="formulas")
    loud = regen_file(path, REGISTRY, out_dir=tmp_path / "o2", engine="formulas", debug=True)
    assert quiet.error == "internal error (RuntimeError: simulated bug)"
    assert "Traceback" in loud.error


def test_million_formula_rows_stream_in_bounded_memory(tmp_path, originals):
    """1,000,000 rows of formulas: the scan streams the sheet (a DOM of it would need gigabytes);
    the formulas engine refuses the size, and --max-formulas refuses before reading it all."""
    path = originals.add(hostile.million_rows(tmp_path / "million.xlsx", tmp_path))
    code = ("import re, sys; from xl_stp.batch import scan; s = scan(sys.argv[1]); "  # VmHWM: this process's peak
            "print(s.formula_count, int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) // 1024)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    count, peak_mb = map(int, out.stdout.split())
    assert count == 1_000_000
    assert peak_mb < 700, peak_mb
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="formulas")
    assert r.failed and "has more than 100,000 formula cells, more than the formulas engine handles; use --engine libreoffice" in r.error
    t = time.perf_counter()
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="formulas", limits=Limits(formula_cells=50_000))
    assert r.failed and "has more than 50,000 formula cells; refused to keep memory bounded" in r.error
    assert time.perf_counter() - t < 10
    assert leftovers(tmp_path / "out") == []


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_sheet_is_reported_and_the_rest_computed(tmp_path, engine, originals):
    path = originals.add(hostile.missing_sheet(tmp_path / "missing.xlsx"))
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine=engine)
    assert r.status == "inputs need fixing", r.error  # D1's STP_CHECK was passed #REF!
    text = "\n".join(r.problems)
    assert "Model!C1: refers to a sheet that does not exist: Gone" in text
    assert "Model!D1: refers to a sheet that does not exist: Gone" in text
    assert r.problems[0] == "Model!D1: #STP! stated: expected a number, found the error #REF!"
    ws = openpyxl.load_workbook(r.output, data_only=True)["Model"]
    assert ws["B1"].value == 10
    assert ws["C1"].value in ("#REF!", "#NAME?")  # formulas says #REF!, LibreOffice #NAME?
    assert ws["D1"].value == "#VALUE!"


@pytest.mark.parametrize("engine", ENGINES)
def test_external_links_are_never_followed(tmp_path, engine, originals):
    path = originals.add(hostile.external_link(tmp_path / "linked.xlsx", tmp_path))
    other = tmp_path / "other.xlsx"  # the linked workbook exists, with a different value: not read
    wb = openpyxl.Workbook()
    wb.active.title = "Prices"
    wb.active["B2"] = 999
    wb.save(other)
    originals.add(other)
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine=engine)
    assert r.status == "ok", r.error
    assert any(p.startswith("Model!C1: refers to another workbook (other.xlsx) through external link [1]; links are never followed")
               for p in r.problems), r.problems
    ws = openpyxl.load_workbook(r.output, data_only=True)["Model"]
    assert ws["B1"].value == 10 and ws["C1"].value == 42  # kept as stored
    assert ws["D1"].value == 43  # computed from the stored 42, not from other.xlsx (999 * 2 + 1)


def test_workbook_cannot_make_us_run_code_or_open_connections(tmp_path, originals):
    """Functions that fetch URLs, DDE, and names that look like code resolve to nothing."""
    import xlsxwriter

    hits = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                hits.append(1)
                conn.close()
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Model")
    ws.write_formula("A1", f'=_xlfn.WEBSERVICE("http://127.0.0.1:{port}/leak")', None, 0)  # as Excel stores it
    ws.write_formula("A2", f"=cmd|' /C touch {marker}'!A0", None, 0)
    ws.write_formula("A3", f'=_xll.os.system("touch {marker}")', None, 0)
    ws.write_formula("A4", "=STP___import__(1)", None, 0)
    ws.write_formula("A5", f'=HYPERLINK("http://127.0.0.1:{port}/x","x")', None, 0)
    ws.write_formula("A6", "=1+1", None, 0)
    wb.close()
    originals.add(path)
    try:
        for engine in ["formulas"] + (["libreoffice"] if lo_available() else []):
            r = regen_file(path, REGISTRY, out_dir=tmp_path / engine, engine=engine)
            assert r.status == "ok", (engine, r.error)
            assert "computed with the formulas engine" not in " ".join(r.problems)  # each engine is tried for real
            assert "Model!A2: is a DDE link to another program (cmd); such links are never run" in " ".join(r.problems)
            assert openpyxl.load_workbook(r.output, data_only=True)["Model"]["A6"].value == 2
            time.sleep(0.3)
            assert hits == [] and not marker.exists(), engine
    finally:
        stop.set()
        server.close()


# ---- environment -----------------------------------------------------------------------------------

def test_output_folder_that_is_a_file(tmp_path, originals):
    path = originals.add(hostile.small_workbook(tmp_path / "ok.xlsx"))
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the output folder should be")
    r = regen_file(path, REGISTRY, out_dir=blocker, engine="formulas")
    assert r.failed and f"cannot create the output folder {blocker}" in r.error or "is a file, not a folder" in r.error, r.error


def test_output_folder_not_writable(tmp_path, monkeypatch, originals):
    path = originals.add(hostile.small_workbook(tmp_path / "ok.xlsx"))
    out = tmp_path / "locked"
    out.mkdir()
    if os.geteuid() != 0:  # a real read-only folder (root writes anywhere, so it is simulated below)
        out.chmod(0o500)
        r = regen_file(path, REGISTRY, out_dir=out, engine="formulas")
        out.chmod(0o700)
        assert r.failed and "permission denied" in r.error.lower(), r.error

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(patch_module.tempfile, "mkstemp", denied)
    r = regen_file(path, REGISTRY, out_dir=out, engine="formulas")
    assert r.failed and r.error == f"cannot write to the output folder {out} (Permission denied)"
    assert list(out.iterdir()) == []


class FullDisk:
    """A file that accepts ``room`` bytes and then fails as a full disk does."""

    def __init__(self, fd: int, room: int):
        self.f, self.room = os.fdopen(fd, "wb"), room

    def write(self, data) -> int:
        self.room -= len(data)
        if self.room < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


@pytest.mark.parametrize("in_place", [False, True])
def test_disk_fills_during_the_write(tmp_path, monkeypatch, in_place, originals):
    path = originals.add(hostile.small_workbook(tmp_path / "ok.xlsx"))
    monkeypatch.setattr(patch_module, "_open_output", lambda fd: FullDisk(fd, 2000))
    out = None if in_place else tmp_path / "out"
    r = regen_file(path, REGISTRY, out_dir=out, in_place=in_place, engine="formulas")
    assert r.failed and "the disk filled up while writing" in r.error, r.error
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "out") == []
    if not in_place:
        assert not (tmp_path / "out" / "ok.xlsx").exists()
    else:
        assert "the original is unchanged" in r.error


def test_in_place_waits_for_another_run_or_gives_up(tmp_path, originals):
    path = hostile.small_workbook(tmp_path / "shared.xlsx")
    before = sha(path)
    with open(path, "rb") as held:  # another run holds the lock
        fcntl.flock(held, fcntl.LOCK_EX)
        r = regen_file(path, REGISTRY, in_place=True, engine="formulas", lock_timeout=0.5)
        assert r.failed and "is being regenerated in place by another run; gave up after 0.5 s" in r.error
        assert sha(path) == before
    # two real runs at once: both succeed, one after the other, and the file is whole
    procs = [subprocess.Popen([sys.executable, "-m", "xl_stp.cli", "regen", str(path), "--in-place", "--engine", "formulas"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
    assert openpyxl.load_workbook(path, data_only=True)["Model"]["B1"].value == 6
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_mid_batch_leaves_only_whole_outputs(tmp_path, sig, originals):
    src = tmp_path / "in"
    model, _ = finance_workbook(tmp_path / "model.xlsx", rows=20)
    for p in copies(model, src, 16):
        originals.add(p)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "xl_stp.cli", "regen", str(src), "--out", str(out), "--engine", "formulas", "--jobs", "2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("*.xlsx"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGTERM:  # as Ctrl-C: the workbooks not started are not started, and it says so
        assert proc.returncode == 130 and STOPPED in err, err
    time.sleep(0.5)
    done = sorted(out.glob("*.xlsx"))
    assert 0 < len(done) < 16
    if sig == signal.SIGTERM:  # no workbook already queued to a pool process starts after the signal
        time.sleep(1.5)
        assert sorted(out.glob("*.xlsx")) == done
    reference = regen_file(model, REGISTRY, out_dir=tmp_path / "ref", engine="formulas")
    for p in done:  # every output there is complete: the same bytes as an undisturbed run
        assert sha(p) == sha(reference.output), p
    if sig == signal.SIGTERM:
        assert leftovers(out) == []
    # the next run finishes the job and clears what a killed run left behind
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=600)
    assert len(list(out.glob("*.xlsx"))) == 16 and leftovers(out) == []


# ---- cells -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_bad_stp_arguments_give_messages_in_cells_and_in_the_report(tmp_path, engine, originals):
    """Every failed call shows #VALUE! (a real error) and is in the report: on a line of its own
    (its cell and its #STP! message, or the input cell it refused), or counted under the input
    cell it shares with calls reported before it."""
    path, calls = hostile.bad_arguments(tmp_path / "bad.xlsx")
    originals.add(path)
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine=engine)
    assert r.status == "inputs need fixing", r.error
    with zipfile.ZipFile(r.output) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    ws = openpyxl.load_workbook(r.output, data_only=True)["Bad"]
    covered = {}  # failed STP_* cell -> the report line that covers it
    for p in r.inputs:
        if p["severity"] == "error":
            for cell in [p["formula_cell"]] + p["dependents"]:
                covered[cell] = p["line"]
    assert [p["line"] for p in r.inputs] == r.problems[:len(r.inputs)]
    failed = 0
    for cell, text in calls:
        v = ws[cell].value
        assert v is not None, (cell, text)
        assert isinstance(v, (int, float, str)) and "Traceback" not in str(v) and not str(v).startswith("#STP!"), (cell, text, v)
        if v == "#VALUE!":
            failed += 1
            assert f"Bad!{cell}" in covered, (cell, text)
            assert re.search(rf'<c r="{cell}"[^>]*\bt="e"[^>]*>.*?<v>#VALUE!</v>', sheet), cell  # a real error value
    assert failed > 100 and len(covered) == failed
    for line in covered.values():
        assert "Traceback" not in line and "\n" not in line
    last = {text: covered.get(f"Bad!{cell}") for cell, text in calls[-5:]}
    assert last["STP_CAPITAL_CHARGES(A4:C4,-5)"].startswith(f"Bad!{calls[-3][0]}: #STP! life")
    assert "#STP! profile" in last['STP_PHASE(1000,"zigzag",5)'] and "zigzag" in last['STP_PHASE(1000,"zigzag",5)']
    assert "#STP! delivery" in last["STP_SAVINGS(A4:C4,,,2.5)"]
    assert f"Bad!{calls[-4][0]}: #STP! " in last["STP_STF(A4:C5,A7:B7)"]

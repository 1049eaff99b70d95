"""The resident process (xl_stp.cli.resident): a command it runs gives the same files, output and
exit status as the command run on its own; signals reach it; killing the xl-stp process stops it
cleanly; it serves one environment, from a private folder, and stops when asked or when off."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.batch.common import LLR, LO, ROOT, copies, sha
from tests.batch.test_hostile import leftovers
from xl_stp.cli import STOPPED, resident

sys.path.insert(0, str(ROOT / "bench"))
from models import finance_workbook  # noqa: E402  bench/models.py


def _env(**extra) -> dict:
    return {**os.environ, "XL_STP_RESIDENT": "60", **extra}


def xlstp(*args, cwd=ROOT, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xl_stp.cli", *map(str, args)], cwd=cwd, env=env or _env(),
                          capture_output=True, text=True, timeout=300, **kw)


def _wait(condition, what: str, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def started():
    """A resident process for this environment, started by a first command; stopped afterwards."""
    resident.stop_all()
    yield lambda: _wait(lambda: [r for r in resident.running() if r["current"]], "the resident process")
    resident.stop_all()
    _wait(lambda: not resident.running(), "the resident processes to stop", 30)


def _served() -> int:
    return sum(r["served"] for r in resident.running() if r["current"])


def _table(text: str) -> list[str]:
    """The report's lines without the seconds column (timings differ from run to run)."""
    return [line.rsplit("│", 2)[0] if "│" in line else line for line in text.splitlines()]


@pytest.mark.parametrize("engine", ["formulas", LO])
def test_a_command_gives_the_same_files_output_and_status_in_the_resident_process(tmp_path, started, engine):
    model, _ = finance_workbook(tmp_path / "model.xlsx", rows=20)
    alone = xlstp("regen", "model.xlsx", "--out", "alone", "--engine", engine, cwd=tmp_path, env=_env(XL_STP_RESIDENT="0"))
    assert alone.returncode == 0, alone.stderr
    first = xlstp("regen", "model.xlsx", "--out", "first", "--engine", engine, cwd=tmp_path)  # starts one as it ends
    assert first.returncode == 0, first.stderr
    started()
    assert _served() == 0
    there = xlstp("regen", "model.xlsx", "--out", "there", "--engine", engine, cwd=tmp_path)  # relative paths: its folder
    assert there.returncode == 0, there.stderr
    assert _served() == 1  # it ran in the resident process
    assert sha(tmp_path / "there" / "model.xlsx") == sha(tmp_path / "alone" / "model.xlsx") == sha(tmp_path / "first" / "model.xlsx")
    assert _table(there.stdout) == _table(alone.stdout) and there.stderr == alone.stderr


def test_exit_statuses_and_messages_come_back(tmp_path, started):
    model, _ = finance_workbook(tmp_path / "model.xlsx", rows=5)
    xlstp("regen", model, "--out", tmp_path / "o", "--engine", "formulas")
    started()
    cases = [  # (arguments, exit status, words on standard error)
        (["regen", model, "--engine", "formulas"], 2, "say where to write"),
        (["regen", tmp_path / "missing.xlsx", "--out", tmp_path / "o2", "--engine", "formulas"], 1, "does not exist"),
        (["regen", LLR, "--out", tmp_path / "o3", "--engine", "formulas", "--report", tmp_path / "r.txt"], 2, ".json or .csv"),
    ]
    for args, status, words in cases:
        alone = xlstp(*args, env=_env(XL_STP_RESIDENT="0"))
        there = xlstp(*args)
        assert (there.returncode, alone.returncode) == (status, status), (args, there.stderr)
        assert words in there.stderr and _table(there.stdout) == _table(alone.stdout), args
    assert _served() == len(cases)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_stopping_the_command_stops_its_run_cleanly(tmp_path, started, sig):
    src = tmp_path / "in"
    model, _ = finance_workbook(tmp_path / "model.xlsx", rows=20)
    copies(model, src, 24)
    xlstp("regen", model, "--out", tmp_path / "warm", "--engine", "formulas")
    started()
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "xl_stp.cli", "regen", str(src), "--out", str(out), "--engine",
                             "formulas", "--jobs", "2"], cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    _wait(lambda: len(list(out.glob("*.xlsx"))) >= 3, "the first outputs")
    os.killpg(proc.pid, sig)  # SIGTERM is passed on; SIGKILL ends the xl-stp process, which the run notices
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGTERM:
        assert proc.returncode == 130 and STOPPED in err
    _wait(lambda: not any(r["running"] for r in resident.running()), "the run to stop", 60)
    done = sorted(out.glob("*.xlsx"))
    assert 0 < len(done) < 24
    reference = out.parent / "warm" / "model.xlsx"
    assert all(sha(p) == sha(reference) for p in done)  # every output there is whole
    assert leftovers(out) == []  # and the run cleaned up, even when the xl-stp process was killed


def test_one_environment_per_resident_process_in_a_private_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XL_STP_LO_TIMEOUT", "300")
    base = resident.key()
    monkeypatch.setenv("XL_STP_RESIDENT", "5")
    assert resident.key() == base  # how long it stays does not change what it computes
    monkeypatch.setenv("XL_STP_LO_TIMEOUT", "30")
    assert resident.key() != base
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    where = Path(resident.folder())
    assert stat.S_IMODE(where.stat().st_mode) == 0o700
    where.chmod(0o755)  # others allowed in: not used, and commands run on their own
    assert resident.folder() is None
    assert resident.forward(["regen", "x.xlsx", "--out", "o"]) is None
    where.chmod(0o700)
    monkeypatch.setenv("XL_STP_RESIDENT", "0")
    assert resident.forward(["regen", "x.xlsx", "--out", "o"]) is None
    assert resident.idle_seconds() == 0


def test_off_starts_none_and_stop_stops_them(tmp_path, started):
    model, _ = finance_workbook(tmp_path / "model.xlsx", rows=5)
    assert xlstp("regen", model, "--out", tmp_path / "a", "--engine", "formulas", env=_env(XL_STP_RESIDENT="0")).returncode == 0
    time.sleep(1)
    assert resident.running() == []
    assert xlstp("regen", model, "--out", tmp_path / "b", "--engine", "formulas").returncode == 0
    found = started()
    listed = xlstp("resident")
    assert str(found[0]["pid"]) in listed.stdout and "60 s without a command" in listed.stdout
    assert "1 resident process(es) stopped" in xlstp("resident", "--stop").stdout
    _wait(lambda: not resident.running(), "the resident process to stop", 30)
    assert not list(Path(resident.folder()).glob("*.sock"))


@pytest.mark.parametrize("how", ["alone", "resident"])
def test_a_batch_on_local_processes_with_libreoffice(tmp_path, started, how):
    """Each pool process starts a LibreOffice of its own: the worker the command started (or took
    over) before forking the pool stays the command's."""
    if not resident_lo():
        pytest.skip("LibreOffice not installed")
    src = tmp_path / "in"
    model, _ = finance_workbook(tmp_path / "model.xlsx", rows=5)
    copies(model, src, 4)
    env = _env(XL_STP_RESIDENT="0") if how == "alone" else _env()
    if how == "resident":
        xlstp("regen", model, "--out", tmp_path / "warm", "--engine", "libreoffice")
        started()
    res = xlstp("regen", src, "--out", tmp_path / "out", "--engine", "libreoffice", "--jobs", "2", env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert len(list((tmp_path / "out").glob("*.xlsx"))) == 4
    if how == "resident":
        assert _served() == 1


def resident_lo() -> bool:
    from xl_stp.batch.engines.libreoffice import available

    return available()


def test_closed_descriptors_and_ignored_hangups_are_as_without_it(tmp_path, started):
    model, _ = finance_workbook(tmp_path / "model.xlsx", rows=5)
    xlstp("regen", model, "--out", tmp_path / "warm", "--engine", "formulas")
    started()
    # standard output closed: the command runs in the xl-stp process itself (a socket would take its place)
    closed = subprocess.run([sys.executable, "-m", "xl_stp.cli", "regen", str(model), "--out", str(tmp_path / "c"),
                             "--engine", "formulas"], cwd=ROOT, env=_env(), stderr=subprocess.PIPE, text=True,
                            timeout=300, preexec_fn=lambda: os.close(1))
    assert closed.returncode == 0, closed.stderr
    assert _served() == 0
    # nohup: a hang-up the xl-stp process ignores does not stop its command
    src = tmp_path / "in"
    copies(model, src, 6)
    proc = subprocess.Popen([sys.executable, "-m", "xl_stp.cli", "regen", str(src), "--out", str(tmp_path / "h"),
                             "--engine", "formulas", "--jobs", "1"], cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    _wait(lambda: any(r["running"] for r in resident.running()), "the command to start")
    os.killpg(proc.pid, signal.SIGHUP)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert len(list((tmp_path / "h").glob("*.xlsx"))) == 6 and _served() == 1


def test_the_resident_process_holds_no_folder_and_imports_nothing_from_one(tmp_path, started):
    """It runs in /, with no folder in front of its import path: a module in a workbook's folder is
    never imported by it."""
    model, _ = finance_workbook(tmp_path / "model.xlsx", rows=5)
    (tmp_path / "openpyxl.py").write_text("raise SystemExit('imported from the workbook folder')\n")
    xlstp("regen", "model.xlsx", "--out", "a", "--engine", "formulas", cwd=tmp_path)
    found = started()
    assert os.readlink(f"/proc/{found[0]['pid']}/cwd") == "/"
    res = xlstp("regen", "model.xlsx", "--out", "b", "--engine", "formulas", cwd=tmp_path)
    assert res.returncode == 0 and _served() == 1, res.stderr


def test_a_file_added_or_removed_changes_what_is_served(tmp_path, monkeypatch):
    here = tmp_path / "xl_stp"
    (here / "cli").mkdir(parents=True)
    (tmp_path / "udfs").mkdir()
    (here / "a.py").write_text("A = 1\n")
    old = (here / "a.py").stat()
    monkeypatch.setattr(resident, "__file__", str(here / "cli" / "resident.py"))
    base = resident.key()
    (here / "b.py").write_text("B = 1\n")
    os.utime(here / "b.py", ns=(old.st_atime_ns, old.st_mtime_ns - 10**9))  # older than the newest file
    assert resident.key() != base
    (here / "b.py").unlink()
    assert resident.key() == base

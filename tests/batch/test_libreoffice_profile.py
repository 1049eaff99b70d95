"""The LibreOffice worker's prepared profile: made once per LibreOffice installation in the cache
(XL_STP_CACHE_DIR here, a folder of the test's own), copied for each worker so that LibreOffice
neither creates a profile nor restarts, made again when its stamp differs; each worker has its own
profile folder, removed when it quits."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from xl_stp.batch.engines.libreoffice import available as lo_available
from xl_stp.batch.engines.libreoffice.client import Worker

pytestmark = [pytest.mark.libreoffice, pytest.mark.skipif(not lo_available(), reason="LibreOffice not installed")]

STAMP = "xl-stp-profile.stamp"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("XL_STP_CACHE_DIR", str(folder))
    return folder


def _started(*workers: Worker) -> list[dict]:
    """Each worker's ready message (with its process id), once all have quit."""
    try:
        return [{**w.ready(), "pid": w.proc.pid} for w in workers]
    finally:
        for w in workers:
            w.quit()


def _sockets(started: dict) -> list[str]:
    """The sockets LibreOffice made in /tmp for a worker: its pipe and its single-instance pipe."""
    url = Path(started["profile"]).as_uri().encode("utf-16-le")
    names = [f"xlstp{started['pid']}", "SingleOfficeIPC_" + "".join(f"{b:x}" for b in hashlib.md5(url).digest())]
    return [f"/tmp/OSL_PIPE_{os.getuid()}_{name}" for name in names]


def _gone(folder: str, seconds: float = 20.0) -> bool:
    """The folder is removed (a quitting worker removes its profile after answering)."""
    deadline = time.monotonic() + seconds
    while os.path.exists(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not os.path.exists(folder)


def _prepared(cache: Path) -> list[Path]:
    return sorted(p for p in cache.iterdir() if p.name.startswith("libreoffice-profile-"))


def test_a_worker_starts_from_the_prepared_profile_without_a_restart(cache):
    """Two workers starting together on an empty cache each prepare the profile; one rename wins,
    nothing else is left; the next worker copies it and LibreOffice does not restart. Every
    worker has its own profile folder, in the system temp, removed when it quits."""
    first = _started(Worker(), Worker())
    assert [s["prepared"] for s in first] == ["built", "built"]
    (prepared,) = _prepared(cache)
    assert sorted(os.listdir(cache)) == [prepared.name]  # no build folder left behind
    assert "OOXMLRecalcMode" in (prepared / "user" / "registrymodifications.xcu").read_text()
    (again,) = _started(Worker())
    assert again["prepared"] == "cached" and again["restarts"] == 0
    profiles = [s["profile"] for s in (*first, again)]
    assert len(set(profiles)) == 3
    assert all(Path(p).parent == Path(os.environ["TMPDIR"]) for p in profiles)
    assert all(_gone(p) for p in profiles)
    assert not [s for started in (*first, again) for s in _sockets(started) if os.path.exists(s)]


def test_the_prepared_profile_is_made_again_when_its_stamp_differs(cache):
    """A prepared profile made for another LibreOffice (or other settings) is replaced."""
    _started(Worker())
    (prepared,) = _prepared(cache)
    stamp = (prepared / STAMP).read_text()
    (prepared / STAMP).write_text(stamp.replace("build ", "build older-"))
    (started,) = _started(Worker())
    assert started["prepared"] == "built"
    assert _prepared(cache) == [prepared] and (prepared / STAMP).read_text() == stamp
    (started,) = _started(Worker())
    assert started["prepared"] == "cached" and started["restarts"] == 0


def test_a_cache_that_cannot_be_written_gives_a_fresh_profile(tmp_path, monkeypatch):
    """The cache is a speed-up only: where it cannot be made, LibreOffice starts on a fresh profile
    (restarting once, as it asks) and the worker works."""
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("XL_STP_CACHE_DIR", str(blocked / "cache"))
    w = Worker()
    try:
        started = w.ready()
        assert started["prepared"] == "fresh" and started["restarts"] == 1
        assert w.call("close")["ok"]
    finally:
        w.quit()
    assert _gone(started["profile"])


def test_a_workbook_can_be_opened_keeping_its_stored_values(tmp_path):
    """open with recalc=false: LibreOffice keeps the values the file stored (whatever the file asks:
    the engine decides), and a calculation recomputes only what a write made dirty; the next open
    recalculates on load again."""
    import xlsxwriter

    path = tmp_path / "stored.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write_number("B1", 3)
    ws.write_formula("A1", "=1+1", None, 5)  # a stored value that is not the formula's
    ws.write_formula("A2", "=B1*2", None, 0)
    wb.close()
    w = Worker()
    try:
        seen = []
        for recalc in (False, True, False):
            w.call("open", path=str(path), recalc=recalc)
            seen.append(w.call("read", ranges=[["S", "A1:A2"]])["values"][0])
            w.call("write", ranges=[["S", "B1", [[4.0]], False]])
            w.call("calc", all=False)
            seen.append(w.call("read", ranges=[["S", "A1:A2"]])["values"][0])
            w.call("close")
    finally:
        w.quit()
    assert seen == [[[5.0], [0.0]], [[5.0], [8.0]], [[2.0], [6.0]], [[2.0], [8.0]], [[5.0], [0.0]], [[5.0], [8.0]]]

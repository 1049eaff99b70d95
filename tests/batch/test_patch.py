"""The write-back: the fast and the general path give the same bytes; values as Excel stores them."""

from __future__ import annotations

from tests.batch.common import LLR
from tests.data import hostile
from tests.data.corpus import finance_workbook
from udfs.excel import encode_cached
from xl_stp.batch import scan
from xl_stp.batch.package import Package
from xl_stp.batch.patch import Ahead, patch


def test_fast_and_general_write_back_give_the_same_bytes(corpus, tmp_path):
    """The write-back's fast path (formula cells as Excel writes them) and its general path give
    byte-identical files and the same list of changes, on every shape of cell we build."""
    files = [corpus["xlsx"], corpus["xlsm"], LLR, finance_workbook(tmp_path / "model.xlsx", rows=60, stp_every=3)[0],
             hostile.odd_shapes(tmp_path), hostile.prefixed(tmp_path), hostile.commented(tmp_path)]
    fast_used = 0
    kinds = [lambda i: i * 1.25 - 7, lambda i: f"<&'\"{i}", lambda i: i % 2 == 0, lambda i: "#N/A", lambda i: 1e20 / (i + 1),
             lambda i: float(i)]

    def value(i: int, stored: str | None):
        """Every kind; and, where the cell stores a number, that number again or with float noise
        (unchanged: the cell is left as it is)."""
        try:
            number = float(stored) if i % 4 == 0 else None
        except (TypeError, ValueError):
            number = None
        if number is not None:
            return number * (1 + 1e-14) if i % 8 else number
        return kinds[i % 6](i)

    for path in files:
        sc = scan(path)
        fast_used += len(sc.fast_sheets())
        stored = {(s.name, f.ref): f.cached for s in sc.sheets for f in s.formulas}
        values = {s.name: {c: value(i, stored.get((s.name, c))) for i, c in enumerate(sorted(s.result_cells()))}
                  for s in sc.sheets}
        general = patch(path, tmp_path / "general" / path.name, values)
        fast = patch(path, tmp_path / "fast" / path.name, values, fast_sheets=sc.fast_sheets())
        with Package(path) as pkg:  # the plain sheets read and split ahead, as while an engine computes
            ahead = Ahead(pkg, sc.fast_sheets())
            ahead()
            assert set(ahead.blocks) == {s.part for s in sc.sheets if s.name in sc.fast_sheets()}
            early = patch(pkg, tmp_path / "ahead" / path.name, values, fast_sheets=sc.fast_sheets(), ahead=ahead)
        assert (tmp_path / "general" / path.name).read_bytes() == (tmp_path / "fast" / path.name).read_bytes(), path.name
        assert (tmp_path / "ahead" / path.name).read_bytes() == (tmp_path / "fast" / path.name).read_bytes(), path.name
        assert general.changed == fast.changed == early.changed and general.values_changed > 0, path.name
    assert fast_used >= 5


def test_values_are_stored_as_excel_stores_them():
    encode = encode_cached
    assert encode(True) == ("b", "1") and encode(2.0) == (None, "2") and encode(float("nan")) == ("e", "#NUM!")
    assert encode("#N/A") == ("e", "#N/A") and encode("OK") == ("str", "OK") and encode(0.1) == (None, "0.1")


def test_a_killed_workers_temp_is_removed_even_while_it_is_a_zombie(tmp_path):
    """A pool worker killed with its parent can stay a zombie where nothing reaps orphans (some
    containers): it writes nothing any more, so its temporary file is stale; a live process's is not."""
    import os
    import time

    from xl_stp.batch.patch import remove_stale_temps

    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        time.sleep(0.2)  # the child has exited and is not reaped yet: a zombie
        (tmp_path / f".a.xlsx.xl-stp-{pid}-x1.tmp").write_bytes(b"partial")
        (tmp_path / f".b.xlsx.xl-stp-{os.getpid()}-x2.tmp").write_bytes(b"in progress")
        assert remove_stale_temps(tmp_path) == 1
        assert [p.name for p in tmp_path.iterdir()] == [f".b.xlsx.xl-stp-{os.getpid()}-x2.tmp"]
    finally:
        os.waitpid(pid, 0)


def test_a_large_rewritten_sheet_is_compressed_at_the_write_backs_level_and_the_rest_as_before(tmp_path):
    import zipfile
    import zlib

    from xl_stp.batch.patch import PATCHED_LEVEL, PATCHED_LEVEL_FROM

    path = finance_workbook(tmp_path / "model.xlsx", rows=1500, stp_every=3)[0]  # Calc: about 1.3 MB
    sc = scan(path)
    values = {s.name: {c: 1.5 for c in s.result_cells()} for s in sc.sheets}
    patch(path, tmp_path / "out" / path.name, values, fast_sheets=sc.fast_sheets())
    with zipfile.ZipFile(path) as z:
        large = {s.part for s in sc.sheets if s.formulas and z.getinfo(s.part).file_size > PATCHED_LEVEL_FROM}
    assert large == {"xl/worksheets/sheet2.xml"}  # Summary is rewritten too, but small
    with zipfile.ZipFile(tmp_path / "out" / path.name) as z:
        for info in z.infolist():
            level = PATCHED_LEVEL if info.filename in large else zlib.Z_DEFAULT_COMPRESSION
            c = zlib.compressobj(level, zlib.DEFLATED, -15)
            assert info.compress_size == len(c.compress(z.read(info.filename)) + c.flush()), info.filename

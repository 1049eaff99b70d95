"""Defect 8 of issue 15, in the opening of a workbook file, each reproduced by a small file made
here: a zip that stores a part twice, an Access database and a pre-97 Excel file renamed .xlsx,
and a package whose parts are stored under Windows backslash paths."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.batch.common import ENGINES, REGISTRY, sha
from tests.data import hostile
from xl_stp.batch import scan
from xl_stp.batch.engines import FormulasEngine
from xl_stp.batch.package import Package, WorkbookError, check_kind
from xl_stp.batch.run import regen_file


def _refused(path: Path, tmp_path: Path) -> str:
    """The one-line error regen gives, having written nothing and left the file as it was."""
    before = sha(path)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Duplicate name")  # what Python's zip module said on writing one
        r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="formulas")
    assert r.failed and sha(path) == before
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    assert "\n" not in r.error and "Traceback" not in r.error
    return r.error


# ---- a part stored twice ---------------------------------------------------------------------------

def _twice(tmp_path: Path, second_name: str) -> Path:
    """The small workbook with a second, different sheet1.xml appended under ``second_name``."""
    good = hostile.small_workbook(tmp_path / "good.xlsx")
    path = tmp_path / "twice.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
        other = zin.read(hostile.SHEET1).replace(b"<v>1</v>", b"<v>1000</v>")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the zip module warns of the duplicate it is told to write
            zout.writestr(second_name, other)
    return path


def test_a_zip_that_stores_a_part_twice_is_refused_as_damaged(tmp_path):
    error = _refused(_twice(tmp_path, hostile.SHEET1), tmp_path)
    assert error.startswith("is damaged: its zip package stores the part xl/worksheets/sheet1.xml twice "
                            "(two entries of that name)"), error
    assert "copy the file again from its source" in error


@pytest.mark.parametrize("second", ["XL/Worksheets/Sheet1.xml", "xl\\worksheets\\sheet1.xml"])
def test_part_names_that_differ_only_in_case_or_slashes_are_the_same_part(second, tmp_path):
    error = _refused(_twice(tmp_path, second), tmp_path)
    assert f"stores the part {second.replace(chr(92), '/')} twice (as xl/worksheets/sheet1.xml and as {second})" in error


# ---- what a file renamed .xlsx really is ------------------------------------------------------------------

def _access(path: Path, engine: bytes) -> Path:
    """The first page of an Access database: its signature, then the page's binary header."""
    path.write_bytes(b"\x00\x01\x00\x00" + engine + b"\x00" + bytes(range(256)) * 8)
    return path


def _biff(path: Path, bof: bytes) -> Path:
    """A BIFF2/3/4 worksheet as Excel 2-4 saved one: a BOF record, then a few records and EOF."""
    records = bof + b"\x0c\x00\x02\x00\x64\x00" + b"\x03\x02\x0e\x00" + bytes(14) + b"\x0a\x00\x00\x00"
    path.write_bytes(records)
    return path


def _excel95(path: Path) -> Path:
    """An OLE compound file whose workbook stream is 'Book', as Excel 5.0/95 names it: a real
    .xls with its 'Workbook' directory entry renamed."""
    data = bytearray(hostile.legacy_xls(path).read_bytes())
    entry = "Workbook".encode("utf-16-le") + b"\x00\x00"
    at = data.index(entry)
    data[at:at + 64] = ("Book".encode("utf-16-le") + b"\x00\x00").ljust(64, b"\x00")
    data[at + 64:at + 66] = (10).to_bytes(2, "little")  # the name's length in bytes, with its NUL
    path.write_bytes(bytes(data))
    return path


KINDS = {
    "Access .mdb": (lambda p: _access(p, b"Standard Jet DB"),
                    "is not an Excel workbook: expected an .xlsx/.xlsm file (a zip package), found a Microsoft Access "
                    "database (.mdb) renamed .xlsx"),
    "Access .accdb": (lambda p: _access(p, b"Standard ACE DB"), "found a Microsoft Access database (.accdb) renamed .xlsx"),
    "Excel 4.0": (lambda p: _biff(p, b"\x09\x04\x06\x00\x00\x00\x10\x00"),
                  "is a legacy Excel 4.0 worksheet or workbook (BIFF4 .xls/.xlw format); open it in Excel and save it as "
                  ".xlsx first"),
    "Excel 3.0": (lambda p: _biff(p, b"\x09\x02\x06\x00\x00\x00\x10\x00"), "is a legacy Excel 3.0 worksheet (BIFF3"),
    "Excel 2.x": (lambda p: _biff(p, b"\x09\x00\x04\x00\x02\x00\x10\x00"), "is a legacy Excel 2.x worksheet (BIFF2"),
    "Excel 5.0/95": (_excel95, "is a legacy Excel 5.0/95 workbook (.xls format); save it as .xlsx in Excel first"),
    "Excel 97-2003": (hostile.legacy_xls, "is a legacy Excel 97-2003 workbook (.xls format)"),
    "CSV": (hostile.not_a_zip, "found a text file (perhaps CSV) renamed .xlsx"),
    "CSV in Windows-1252": (lambda p: (p.write_bytes("Scheme,£000\nA,100\n".encode("cp1252")), p)[1],
                            "found a text file (perhaps CSV) renamed .xlsx"),
    "UTF-16 text": (lambda p: (p.write_bytes("\ufeffScheme\t2017/18\n".encode("utf-16-le")), p)[1],
                    "found a UTF-16 text file (perhaps Excel's 'Unicode Text' export) renamed .xlsx"),
    "binary": (lambda p: (p.write_bytes(bytes([1, 2, 3, 0, 250, 7]) * 50), p)[1], "found a file of another kind renamed .xlsx"),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_file_renamed_xlsx_is_called_what_it_is(kind, tmp_path):
    build, expected = KINDS[kind]
    path = build(tmp_path / "renamed.xlsx")
    error = _refused(path, tmp_path)
    assert expected in error, error
    assert kind.startswith("CSV") or "text file (perhaps CSV)" not in error


# ---- parts under Windows backslash paths -------------------------------------------------------------

def _backslashed(tmp_path: Path) -> Path:
    good = hostile.small_workbook(tmp_path / "good.xlsx")
    path = tmp_path / "backslash.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename.replace("/", "\\"), zin.read(info.filename))
    assert "xl\\workbook.xml" in zipfile.ZipFile(path).namelist()
    return path


@pytest.mark.parametrize("engine", ENGINES)
def test_parts_stored_under_backslash_paths_are_read_as_excel_reads_them(tmp_path, engine):
    """Excel opens such a package (some tools write one); it is read, recomputed, and written
    with its parts under their real names (LibreOffice, which cannot open it, is given a copy)."""
    path = _backslashed(tmp_path)
    check_kind(path)
    before = sha(path)
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine=engine)
    assert r.status == "ok", (r.error, r.problems)
    assert sha(path) == before
    names = zipfile.ZipFile(r.output).namelist()
    assert "xl/workbook.xml" in names and not any("\\" in n for n in names)
    ws = openpyxl.load_workbook(r.output, data_only=True)["Model"]
    assert ws["B1"].value == 6 and ws["C1"].value == "OK"


def test_the_engines_are_given_a_copy_they_can_open(tmp_path):
    path = _backslashed(tmp_path)
    with Package(path) as pkg:
        assert pkg.backslashed and "xl/worksheets/sheet1.xml" in pkg.names()
        readable = pkg.readable_path()
        assert readable != path and readable == pkg.readable_path()  # made once
        assert openpyxl.load_workbook(readable)["Model"]["B1"].value == "=SUM(A1:A3)"
        sc = scan(pkg)
        assert FormulasEngine().compute(path, REGISTRY, sc).values["Model"]["B1"] == 6
    assert not readable.exists()  # removed with the package
    with Package(hostile.small_workbook(tmp_path / "plain.xlsx")) as pkg:
        assert not pkg.backslashed and pkg.readable_path() == pkg.path


def test_a_zip_of_backslash_paths_without_a_workbook_is_still_not_a_workbook(tmp_path):
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("docs\\readme.txt", "hello")
    with pytest.raises(WorkbookError, match=r"is a zip file but not an Excel workbook \(no xl/workbook.xml\)"):
        check_kind(path)

"""Workbooks for the batch engine's tests and benchmarks, built by code (nothing binary is committed).

- :func:`fidelity_workbook`: one of everything a regenerated file must keep — a chart, an image, a
  comment, data validation, conditional formatting, merged cells, frozen panes, global and
  sheet-scoped names, an Excel table, shared formulas, an array formula, STP_* cells — with wrong
  cached values, so that regeneration has work to do. ``vba=True`` gives an .xlsm with a VBA project.
- :func:`finance_workbook`: the benchmarks' finance-style model (``bench/models.py``), re-exported.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from pathlib import Path

import xlsxwriter

from bench.models import finance_workbook  # noqa: F401  (the tests' models are the benchmarks')

#: Stands in for a VBA project: the engine must copy it byte for byte, whatever it holds.
VBA_BYTES = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG (red pixels)."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def fidelity_workbook(path: Path, vba: bool = False) -> Path:
    """See the module docstring. Expected values after regeneration: :data:`FIDELITY_EXPECTED`."""
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path))
    data = wb.add_worksheet("Data")
    calc = wb.add_worksheet("Calc")
    blue = wb.add_format({"font_color": "#0000FF", "num_format": "#,##0;(#,##0)"})
    data.write_row(0, 0, ["Scheme", "2017/18", "2018/19", "Disposals"])
    rows = [["A", 100, 200, -50], ["B", 300, 400, 0], ["C", 10, 20, -5]]
    for i, r in enumerate(rows, start=1):
        data.write_row(i, 0, r, blue)
    # formulas with wrong cached values (0) so that regeneration changes them
    for r in range(2, 5):
        data.write_formula(f"E{r}", f"=B{r}+C{r}", None, 0)  # becomes a shared formula below
    data.write_formula("E5", "=SUM(E2:E4)", None, 0)
    data.write_array_formula("F2:F4", "{=B2:B4*2}", None, 0)
    data.write_comment("A1", "Schemes as published")
    data.data_validation("B2:C4", {"validate": "decimal", "criteria": ">=", "value": 0})
    data.conditional_format("E2:E4", {"type": "cell", "criteria": ">", "value": 400, "format": wb.add_format({"bg_color": "#FFC7CE"})})
    data.merge_range("A7:C7", "Merged note", wb.add_format({"align": "center"}))
    data.freeze_panes(1, 1)
    data.insert_image("H2", "red.png", {"image_data": __import__("io").BytesIO(png_bytes())})
    wb.define_name("Costs", "=Data!$B$2:$C$4")
    wb.define_name("Calc!Local", "=Data!$D$2:$D$4")
    calc.add_table("A10:C13", {"name": "Lines", "columns": [{"header": "Line"}, {"header": "Amount"}, {"header": "Double"}],
                               "data": [["x", 1, None], ["y", 2, None], ["z", 3, None]]})
    for r in range(11, 14):
        calc.write_formula(f"C{r}", f"=B{r}*2", None, 0)
    calc.write_dynamic_array_formula("A2:D5", "=STP_CAPITAL_NET(Data!B2:C4,Data!D2:D4)", None, 0)
    calc.write_formula("A7", "=_xludf.STP_CHECK(Data!E5,C7)", None, 0)
    calc.write_formula("B7", "=stp_check(1,1)", None, "wrong")
    calc.write_formula("C7", "=SUM(Costs)", None, 0)
    calc.write_formula("D7", "=ROUND(2.385,2)", None, 0)
    calc.write_formula("E7", "=IF(C7>1000,\"big\",\"small\")", None, "")
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=Data!$B$2:$B$4", "categories": "=Data!$A$2:$A$4"})
    calc.insert_chart("G2", chart)
    if vba:
        vba_file = path.with_suffix(".vba.bin")
        vba_file.write_bytes(VBA_BYTES)
        wb.add_vba_project(str(vba_file))
    wb.close()
    if vba:
        path.with_suffix(".vba.bin").unlink()
    _make_shared(path, "xl/worksheets/sheet1.xml", "E", 2, 4, "B{r}+C{r}")
    return path


#: (sheet, cell) -> value every engine must give for :func:`fidelity_workbook`.
FIDELITY_EXPECTED = {
    ("Data", "E2"): 300, ("Data", "E3"): 700, ("Data", "E4"): 30, ("Data", "E5"): 1030,
    ("Data", "F2"): 200, ("Data", "F3"): 600, ("Data", "F4"): 20,
    ("Calc", "A2"): 100, ("Calc", "C2"): -50, ("Calc", "D2"): 250, ("Calc", "A5"): 410, ("Calc", "D5"): 975,
    ("Calc", "A7"): "OK", ("Calc", "B7"): "OK", ("Calc", "C7"): 1030, ("Calc", "D7"): 2.39, ("Calc", "E7"): "big",
    ("Calc", "C11"): 2, ("Calc", "C13"): 6,
}


def _make_shared(path: Path, part: str, col: str, first: int, last: int, template: str) -> None:
    """Rewrite a column of formulas as one shared formula, as Excel stores a filled-down formula."""
    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    out = []
    for info, data in items:
        if info.filename == part:
            text = data.decode()
            for r in range(first, last + 1):
                formula = template.format(r=r)
                attrs = f'<f t="shared" ref="{col}{first}:{col}{last}" si="0">{formula}</f>' if r == first else '<f t="shared" si="0"/>'
                text = re.sub(rf'(<c r="{col}{r}"[^>]*>)<f>[^<]*</f>', lambda m: m.group(1) + attrs, text)
            data = text.encode()
        out.append((info, data))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in out:
            z.writestr(info, data)

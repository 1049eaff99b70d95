"""Hostile and broken workbooks for tests/batch/test_hostile.py, built by code (nothing binary committed).

Each builder writes one file and returns its path. They start from a small valid workbook
(:func:`small_workbook`) and break it the way files arrive broken: renamed formats, truncation,
encryption, entity declarations, zip bombs, huge sheets, missing sheets, external links, and STP_*
calls with every kind of bad argument. The last few are valid workbooks written in shapes the fast
readers do not take (a namespace prefix, CDATA, comments).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import xlsxwriter

SHEET1 = "xl/worksheets/sheet1.xml"


def small_workbook(path: Path) -> Path:
    """Model!A1:A3 = 1, 2, 3; B1 = SUM(A1:A3) (stored 0, should be 6); C1 = STP_CHECK(B1, 6)."""
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Model")
    ws.write_column("A1", [1, 2, 3])
    ws.write_formula("B1", "=SUM(A1:A3)", None, 0)
    ws.write_formula("C1", "=STP_CHECK(B1,6)", None, "stale")
    wb.close()
    return path


def rewrite(src: Path, dst: Path, replace: dict[str, bytes | None], add: dict[str, bytes] | None = None,
            compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """Copy a package, replacing (or, with None, dropping) members and adding new ones."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression) as zout:
        for info in zin.infolist():
            if info.filename in replace:
                if replace[info.filename] is not None:
                    zout.writestr(info.filename, replace[info.filename])
            else:
                zout.writestr(info.filename, zin.read(info))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return Path(dst)


def not_a_zip(path: Path) -> Path:
    Path(path).write_text("Scheme,2017/18\nA,100\n")  # a CSV renamed .xlsx
    return Path(path)


def truncated(path: Path, tmp: Path) -> Path:
    data = small_workbook(tmp / "whole.xlsx").read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])  # half copied
    return Path(path)


def encrypted(path: Path, tmp: Path, password: str = "secret") -> Path:
    """A real password-protected workbook (OOXML agile encryption, as Excel writes it)."""
    import msoffcrypto.format.ooxml as ooxml

    plain = small_workbook(tmp / "plain.xlsx")
    with open(plain, "rb") as f, open(path, "wb") as out:
        ooxml.OOXMLFile(f).encrypt(password, out)
    return Path(path)


def legacy_xls(path: Path) -> Path:
    """A real Excel 97-2003 workbook."""
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet("Model")
    ws.write(0, 0, 1)
    ws.write(0, 1, xlwt.Formula("A1*2"))
    wb.save(str(path))
    return Path(path)


def xlsb(path: Path) -> Path:
    """The shape of an Excel binary workbook: a zip whose workbook part is xl/workbook.bin."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Override PartName="/xl/workbook.bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>')
        z.writestr("xl/workbook.bin", b"\x83\x01\x00\x80\x01\x00")
        z.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00")
    return Path(path)


def ods(path: Path) -> Path:
    """The shape of an OpenDocument spreadsheet: mimetype first, content.xml."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", '<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>')
        z.writestr("META-INF/manifest.xml", "<manifest/>")
    return Path(path)


def _with_prolog(src: Path, dst: Path, part: str, prolog: str) -> Path:
    with zipfile.ZipFile(src) as z:
        xml = z.read(part).decode()
    xml = re.sub(r"^<\?xml[^>]*\?>", "", xml.lstrip())
    root = re.match(r"\s*<([A-Za-z:]+)", xml).group(1)
    body = prolog.replace("ROOT", root) + xml
    return rewrite(src, dst, {part: ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + body).encode()})


def xxe(path: Path, tmp: Path, target: Path, part: str = SHEET1) -> Path:
    """A part that declares an external entity reading a local file, and uses it in a cell."""
    src = small_workbook(tmp / "base_xxe.xlsx")
    out = _with_prolog(src, Path(path), part, f'<!DOCTYPE ROOT [<!ENTITY leak SYSTEM "file://{target}">]>\n')
    with zipfile.ZipFile(out) as z:
        xml = z.read(part).decode()
    xml = xml.replace("<v>stale</v>", "<v>&leak;</v>")
    return rewrite(out, Path(str(path) + ".tmp.xlsx"), {part: xml.encode()}).replace(path)


def billion_laughs(path: Path, tmp: Path, part: str = SHEET1) -> Path:
    src = small_workbook(tmp / "base_laughs.xlsx")
    ents = ['<!ENTITY lol "lol">'] + [f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)]
    return _with_prolog(src, Path(path), part, "<!DOCTYPE ROOT [" + "".join(ents) + "]>\n")


def zip_bomb(path: Path, tmp: Path, inflated_mb: int = 64) -> Path:
    """A sheet that inflates to ``inflated_mb`` MB (padding the zip stores as ~1/1000 of that)."""
    src = small_workbook(tmp / "base_bomb.xlsx")
    with zipfile.ZipFile(src) as z:
        xml = z.read(SHEET1)
    pad = b" " * (inflated_mb * 1024 * 1024)
    bomb = xml.replace(b"<sheetData>", pad + b"<sheetData>", 1)
    return rewrite(src, Path(path), {SHEET1: bomb})


def million_rows(path: Path, tmp: Path, rows: int = 1_000_000) -> Path:
    """One sheet with ``rows`` rows of formulas (A = row number, B = A*2), streamed into the zip."""
    src = small_workbook(tmp / "base_rows.xlsx")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != SHEET1:
                zout.writestr(info.filename, zin.read(info))
                continue
            xml = zin.read(info).decode()
            head, tail = xml.split("<sheetData>")[0], xml.split("</sheetData>")[1]
            head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:B{rows}"/>', head)
            with zout.open(SHEET1, "w", force_zip64=True) as f:
                f.write(head.encode() + b"<sheetData>")
                buf = io.BytesIO()
                for r in range(1, rows + 1):
                    buf.write(b'<row r="%d"><c r="A%d"><v>%d</v></c><c r="B%d"><f>A%d*2</f><v>0</v></c></row>' % (r, r, r, r, r))
                    if r % 50_000 == 0:
                        f.write(buf.getvalue())
                        buf = io.BytesIO()
                f.write(buf.getvalue() + b"</sheetData>" + tail.encode())
    return Path(path)


def missing_sheet(path: Path) -> Path:
    """Formulas that refer to a sheet that is not in the workbook (deleted, or copied from elsewhere)."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Model")
    ws.write_number("A1", 5)
    ws.write_formula("B1", "=A1*2", None, 0)
    ws.write_formula("C1", "=Gone!A1*2", None, 0)
    ws.write_formula("D1", "=STP_CHECK(Gone!A1,1)", None, 0)
    wb.close()
    return Path(path)


def external_link(path: Path, tmp: Path) -> Path:
    """=[1]Prices!B2*2 with an external link to other.xlsx (cached value 21 in the link part)."""
    base = tmp / "base_link.xlsx"
    wb = xlsxwriter.Workbook(str(base))
    ws = wb.add_worksheet("Model")
    ws.write_number("A1", 5)
    ws.write_formula("B1", "=A1*2", None, 0)
    ws.write_formula("C1", "=[1]Prices!B2*2", None, 42)
    ws.write_formula("D1", "=C1+1", None, 43)
    wb.close()
    with zipfile.ZipFile(base) as z:
        wbxml = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        types = z.read("[Content_Types].xml").decode()
    wbxml = wbxml.replace("</sheets>", '</sheets><externalReferences><externalReference r:id="rId99"/></externalReferences>')
    rels = rels.replace("</Relationships>", '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                        'relationships/externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>')
    types = types.replace("</Types>", '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
                          'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>')
    link = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<externalLink xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<externalBook r:id="rId1"><sheetNames><sheetName val="Prices"/></sheetNames><sheetDataSet><sheetData sheetId="0">'
            '<row r="2"><cell r="B2"><v>21</v></cell></row></sheetData></sheetDataSet></externalBook></externalLink>')
    link_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/'
                 'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                 'relationships/externalLinkPath" Target="other.xlsx" TargetMode="External"/></Relationships>')
    return rewrite(base, Path(path), {"xl/workbook.xml": wbxml.encode(), "xl/_rels/workbook.xml.rels": rels.encode(),
                                      "[Content_Types].xml": types.encode()},
                   {"xl/externalLinks/externalLink1.xml": link.encode(), "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels.encode()})


#: What users type into STP_* arguments that is not what the function expects.
BAD_VALUES = {
    "text": "lots", "blank": None, "true": True, "date": dt.datetime(2017, 4, 1), "na": "=NA()", "ref_error": "=#REF!",
    "huge": 1e308, "nan": "=SQRT(-1)", "negative": -5,
}


def bad_arguments(path: Path) -> tuple[Path, list[tuple[str, str]]]:
    """STP_* calls fed every kind of bad value, mismatched shapes, a negative asset life, an
    unknown phasing profile and a delivery of 250%. Returns the path and the (cell, formula) list."""
    from udfs import discover

    REGISTRY = discover()
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Bad")
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    # row 1: the bad values, one per column (A..I); rows 3-4: a 2x3 block of numbers; row 6: a 1x2 row
    for j, (name, v) in enumerate(BAD_VALUES.items()):
        ws.write_string(0, j + 20, name)
        if v is None:
            continue
        if isinstance(v, dt.datetime):
            ws.write_datetime(1, j, v, date_fmt)
        elif isinstance(v, str) and v.startswith("="):
            ws.write_formula(1, j, v, None, "#N/A" if "NA" in v else ("#REF!" if "REF" in v else "#NUM!"))
        elif isinstance(v, bool):
            ws.write_boolean(1, j, v)
        elif isinstance(v, str):
            ws.write_string(1, j, v)
        else:
            ws.write_number(1, j, v)
    ws.write_row("A4", [100, 200, 300])
    ws.write_row("A5", [10, 20, 30])
    ws.write_row("A7", [1, 2])
    calls: list[tuple[str, str]] = []
    row = 10
    letters = "ABCDEFGHI"
    for fn in REGISTRY.values():
        for k, arg in enumerate(fn.args):
            for letter in letters:
                args = ["A4:C4" if a.range else "1" for a in fn.args if not a.optional]
                while len(args) <= k:
                    args.append("1")
                args[k] = f"{letter}2"
                calls.append((f"A{row}", f"{fn.name}({','.join(args)})"))
                row += 1
    calls += [
        (f"A{row}", "STP_CAPITAL_NET(A4:C5,A7:B7)"),  # disposals: 2 values for 2 schemes x 3 years? shapes differ
        (f"A{row + 1}", "STP_STF(A4:C5,A7:B7)"),  # mismatched shapes
        (f"A{row + 2}", "STP_CAPITAL_CHARGES(A4:C4,-5)"),  # negative asset life
        (f"A{row + 3}", 'STP_PHASE(1000,"zigzag",5)'),  # unknown phasing profile
        (f"A{row + 4}", "STP_SAVINGS(A4:C4,,,2.5)"),  # delivery 250%
    ]
    for cell, text in calls:
        ws.write_formula(cell, "=" + text, None, 0)
    wb.close()
    return Path(path), calls


# ---- valid workbooks in shapes the fast readers do not take ------------------------------------------

def odd_shapes(folder: Path) -> Path:
    """A sheet whose formula cells come in shapes the fast path does not take: attributes before
    r, an inline string after the formula, a formula in CDATA, a comment that looks like a cell."""
    src = small_workbook(Path(folder) / "plain.xlsx")
    with zipfile.ZipFile(src) as z:
        xml = z.read(SHEET1)
    xml = xml.replace(b'<c r="B1"', b'<c s="0" r="B1"', 1)
    xml = re.sub(rb'(<c r="C1"[^>]*>)(<f>[^<]*</f>)<v>[^<]*</v>', rb'\1\2<is><t>old</t></is>', xml, count=1)
    xml = xml.replace(b"<f>SUM(A1:A3)</f>", b"<f><![CDATA[SUM(A1:A3)]]></f>", 1)
    return rewrite(src, Path(folder) / "odd.xlsx", {SHEET1: xml})


def commented(folder: Path) -> Path:
    """The small workbook with an XML comment that looks like a formula cell."""
    src = small_workbook(Path(folder) / "plain-comment.xlsx")
    with zipfile.ZipFile(src) as z:
        xml = z.read(SHEET1)
    assert b"<sheetData>" in xml
    xml = xml.replace(b"<sheetData>", b'<sheetData><!-- <c r="Z9"><f>1+1</f></c> -->', 1)
    return rewrite(src, Path(folder) / "commented.xlsx", {SHEET1: xml})


def prefixed(folder: Path) -> Path:
    """The small workbook with its sheet written in a prefixed namespace (<x:c>, as some
    non-Excel producers write it)."""
    src = small_workbook(Path(folder) / "plain-ns.xlsx")
    with zipfile.ZipFile(src) as z:
        xml = z.read(SHEET1)
    xml = xml.replace(b'<worksheet xmlns="', b'<worksheet xmlns:x="', 1)
    xml = re.sub(rb"<(/?)(?=[A-Za-z])", rb"<\1x:", xml)
    return rewrite(src, Path(folder) / "prefixed.xlsx", {SHEET1: xml})

"""The print pack as LibreOffice shows it: the Cover and the Outputs (tables, charts, checks
summary) as a PDF and a PNG a page.

LibreOffice recomputes every array formula when it loads a workbook, whatever its recalculation
setting (it does not read their stored results), and it does not know the STP_* functions: the
spilled STP_* blocks came out as ``#NAME?`` (about 300 cells on Calculations). The pack is therefore
rendered from a copy that holds the workbook's stored values only — every formula taken out, its
value kept, text results as text — with the sheets outside the pack hidden: the PDF shows exactly
what the file stores, which is what Excel shows.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

#: The sheets of the print pack, in order.
PACK = ("Cover", "Outputs")
#: A LibreOffice profile that never recalculates on load.
NO_RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>1</value></prop></item>
</oor:items>
"""
_FORMULA = re.compile(rb"<f\b[^>]*/>|<f\b[^>]*>.*?</f>", re.S)
_TEXT_RESULT = re.compile(rb'<c ([^>]*?)t="str"([^>]*)><v>(.*?)</v></c>', re.S)
_EMPTY_TEXT = re.compile(rb'<c ([^>]*?)t="str"([^>]*)>(?:<v/>|<v></v>)?</c>')


def render(workbook: Path, out_dir: Path, dpi: int = 110) -> tuple[Path, list[Path]]:
    """The print pack of ``workbook``: ``<stem>-pack.pdf`` and ``<stem>-pack-N.png`` for each page,
    in ``out_dir``. Needs soffice and pdftoppm."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdftoppm"):
        raise RuntimeError("rendering needs LibreOffice (soffice) and poppler-utils (pdftoppm): run scripts/setup as root")
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{workbook.stem}-pack"
    with tempfile.TemporaryDirectory() as tmp:
        copy = stored_values(workbook, Path(tmp) / f"{stem}.xlsx", PACK)
        pdf = to_pdf(soffice, copy, out_dir)
    for old in out_dir.glob(f"{stem}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(out_dir / stem)], check=True, capture_output=True,
                   timeout=300)
    pages = sorted(out_dir.glob(f"{stem}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    named = []
    for p in pages:  # pdftoppm pads the page number to the page count's digits: pack-01.png; make it pack-1.png
        target = p.with_name(f"{stem}-{int(p.stem.rsplit('-', 1)[1])}.png")
        p.rename(target)
        named.append(target)
    return pdf, named


def stored_values(workbook: Path, dst: Path, visible: tuple[str, ...]) -> Path:
    """A copy of ``workbook`` holding only its stored values (formulas taken out; a text result
    becomes text), with every sheet outside ``visible`` hidden."""
    with zipfile.ZipFile(workbook) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = values_only(data)
            elif info.filename == "xl/workbook.xml":
                data = hide_sheets(data, visible)
            zout.writestr(info, data)
    return dst


def values_only(xml: bytes) -> bytes:
    """A worksheet's XML with its formulas taken out and each text result written as text."""
    xml = _FORMULA.sub(b"", xml)
    xml = _EMPTY_TEXT.sub(rb"<c \1\2/>", xml)
    return _TEXT_RESULT.sub(lambda m: b'<c ' + m[1] + b't="inlineStr"' + m[2] + b'><is><t xml:space="preserve">' + m[3]
                            + b"</t></is></c>", xml)


def hide_sheets(xml: bytes, visible: tuple[str, ...]) -> bytes:
    """workbook.xml with every sheet outside ``visible`` hidden (whatever state it had)."""
    def one(m: re.Match) -> bytes:
        tag = m[0]
        name = re.search(rb'\sname="([^"]*)"', tag)[1].decode()
        if name in {escape(v) for v in visible}:
            return tag
        tag = re.sub(rb'\sstate="[^"]*"', b"", tag)
        return tag.replace(b"<sheet ", b'<sheet state="hidden" ', 1)
    return re.sub(rb"<sheet\s[^>]*/>", one, xml)


def to_pdf(soffice: str, workbook: Path, out_dir: Path) -> Path:
    """The workbook as a PDF in ``out_dir``, converted with a private no-recalculation profile."""
    with tempfile.TemporaryDirectory() as profile:
        (Path(profile) / "user").mkdir()
        (Path(profile) / "user" / "registrymodifications.xcu").write_text(NO_RECALC_PROFILE)
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(out_dir), str(workbook)], check=True, capture_output=True, timeout=300)
    return out_dir / (workbook.stem + ".pdf")

"""The workbook as LibreOffice shows it: a PDF of every sheet and a PNG of the Outputs sheet."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .outputs import TITLE as OUTPUTS_TITLE

#: A LibreOffice profile that never recalculates on load: it shows the stored values.
NO_RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>1</value></prop></item>
</oor:items>
"""


def render(workbook: Path, out_dir: Path, sheet_title: str = OUTPUTS_TITLE, dpi: int = 100) -> tuple[Path, list[Path]]:
    """LibreOffice headless, recalculation on load off (it shows the stored values): the workbook
    as a PDF, and the pages of the Outputs sheet as PNGs. Needs soffice and pdftoppm."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdftoppm"):
        raise RuntimeError("rendering needs LibreOffice (soffice) and poppler-utils (pdftoppm): run scripts/setup as root")
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf = to_pdf(soffice, workbook, out_dir)
    pngs = []
    for p in pages_showing(pdf, sheet_title)[:1]:
        stem = out_dir / f"{workbook.stem}-outputs"
        subprocess.run(["pdftoppm", "-f", str(p), "-l", str(p), "-r", str(dpi), "-png", "-singlefile", str(pdf), str(stem)],
                       check=True, capture_output=True, timeout=120)
        pngs.append(stem.with_suffix(".png"))
    return pdf, pngs


def to_pdf(soffice: str, workbook: Path, out_dir: Path) -> Path:
    """The workbook as a PDF in ``out_dir``, converted with a private no-recalculation profile."""
    with tempfile.TemporaryDirectory() as profile:
        (Path(profile) / "user").mkdir()
        (Path(profile) / "user" / "registrymodifications.xcu").write_text(NO_RECALC_PROFILE)
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(out_dir), str(workbook)], check=True, capture_output=True, timeout=180)
    return out_dir / (workbook.stem + ".pdf")


def pages_showing(pdf: Path, text: str) -> list[int]:
    """The pages of a PDF whose text contains ``text`` (1-based)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return [p for p in range(1, pages + 1)
            if text in subprocess.run(["pdftotext", "-f", str(p), "-l", str(p), str(pdf), "-"], capture_output=True,
                                      text=True, check=True).stdout]

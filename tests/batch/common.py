"""What the batch tests share: the registry they pass in, the engines to run, reference files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from udfs import discover
from xl_stp.batch.engines.libreoffice import available as lo_available

ROOT = Path(__file__).resolve().parents[2]
LLR = ROOT / "workbooks" / "llr_stp_2016.xlsx"
SHARED = ROOT.parent / "shared" / "corpus" / "excel-saved"
#: The registry of STP_* functions, passed to the batch engine as the command line does.
REGISTRY = discover()
LO = pytest.param("libreoffice", marks=[pytest.mark.libreoffice, pytest.mark.skipif(not lo_available(), reason="LibreOffice not installed")])
ENGINES = ["formulas", LO]


def copies(model: Path, folder: Path, n: int, stem: str = "org") -> list[Path]:
    """``n`` copies of ``model`` in ``folder`` (made here): a batch for the command line."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{stem}_{i:02d}.xlsx" for i in range(n)]
    for p in paths:
        p.write_bytes(Path(model).read_bytes())
    return paths


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

"""The engines behind one interface (:mod:`.base`), and the one place an engine is chosen."""

from __future__ import annotations

from ..package import WorkbookError
from .base import Computed, Engine
from .formulas import FormulasEngine

# ---- choosing an engine -------------------------------------------------------------------------

def libreoffice_available() -> bool:
    from .libreoffice.engine import available
    return available()


def get_engine(name: str) -> Engine:
    if name == "auto":
        name = "libreoffice" if libreoffice_available() else "formulas"
    if name == "formulas":
        return FormulasEngine()
    if name == "libreoffice":
        from .libreoffice.engine import LibreOfficeEngine
        if not libreoffice_available():
            raise WorkbookError("LibreOffice is not installed (soffice and Debian's python3-uno); run scripts/setup as root, "
                                "or use --engine formulas")
        return LibreOfficeEngine()
    raise WorkbookError(f"unknown engine {name!r}: expected auto, libreoffice or formulas")


__all__ = ["Computed", "Engine", "FormulasEngine", "get_engine", "libreoffice_available"]

"""The one place an engine is chosen, and where the LibreOffice engine hands a workbook it cannot
compute (nested STP_* calls) to the formulas engine. Neither engine knows the other."""

from __future__ import annotations

from pathlib import Path

from ..package import WorkbookError
from ..scan import WorkbookScan
from .base import Computed, Engine, Registry, Unsupported
from .formulas import FormulasEngine


def libreoffice_available() -> bool:
    from .libreoffice.client import available
    return available()


class WithFallback(Engine):
    """An engine that hands a workbook it refuses as :class:`Unsupported` to the formulas engine,
    and says so first among the problems."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.name = engine.name
        self.max_formulas = engine.max_formulas

    def prepare(self, path: Path) -> None:
        self.engine.prepare(path)

    def release(self) -> None:
        self.engine.release()

    def trust_stored_values(self, yes: bool) -> None:
        self.engine.trust_stored_values(yes)

    def meanwhile(self, work) -> None:
        self.engine.meanwhile(work)

    def compute(self, path: Path, registry: Registry, scan: WorkbookScan) -> Computed:
        try:
            return self.engine.compute(path, registry, scan)
        except Unsupported as e:
            result = FormulasEngine().compute(path, registry, scan)
            result.problems.insert(0, WorkbookError(f"computed with the formulas engine: {e.message}"))
            result.engine = "formulas"
            return result


def get_engine(name: str) -> Engine:
    """The engine of this name (auto: the fused engine when LibreOffice is installed, else formulas)."""
    if name == "auto":
        name = "fused" if libreoffice_available() else "formulas"
    if name == "formulas":
        return FormulasEngine()
    if name in ("libreoffice", "fused"):
        if not libreoffice_available():
            raise WorkbookError("LibreOffice is not installed (soffice and Debian's python3-uno); run scripts/setup as root, "
                                "or use --engine formulas")
        from .libreoffice.engine import LibreOfficeEngine
        engine = WithFallback(LibreOfficeEngine())
        if name == "fused":
            from .fused import FusedEngine
            return FusedEngine(engine)
        return engine
    raise WorkbookError(f"unknown engine {name!r}: expected auto, fused, libreoffice or formulas")


def other_engine(used: str) -> str | None:
    """The engine that cross-checks ``used``: the other one, when it is installed."""
    return "formulas" if used in ("libreoffice", "fused") else ("libreoffice" if libreoffice_available() else None)

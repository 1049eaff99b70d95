"""The LibreOffice engine: LibreOffice headless over UNO, STP_* computed in Python and fed back."""

from .engine import LibreOfficeEngine, available, worker

__all__ = ["LibreOfficeEngine", "available", "worker"]

"""The engines behind one interface (:mod:`.base`): the formulas engine (:mod:`.formulas`) and the
LibreOffice engine (:mod:`.libreoffice`); the one place an engine is chosen is :mod:`.select`."""

from __future__ import annotations

from .base import Computed, Engine, EngineRefused, Registry, Unsupported
from .formulas import FormulasEngine
from .select import get_engine, libreoffice_available, other_engine

__all__ = ["Computed", "Engine", "EngineRefused", "FormulasEngine", "Registry", "Unsupported", "get_engine",
           "libreoffice_available", "other_engine"]

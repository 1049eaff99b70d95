"""The engines behind one interface (:mod:`.base`): the formulas engine (:mod:`.formulas`) and the
LibreOffice engine (:mod:`.libreoffice`); the one place an engine is chosen is :mod:`.select`."""

from __future__ import annotations

import importlib

#: What this package exports, and the module each comes from: imported when first used (PEP 562),
#: so that importing one module below (the LibreOffice client, started first by the command line)
#: does not import them all.
_EXPORTS = {
    "Computed": ".base",
    "Engine": ".base",
    "EngineRefused": ".base",
    "Registry": ".base",
    "Unsupported": ".base",
    "FormulasEngine": ".formulas",
    "get_engine": ".select",
    "libreoffice_available": ".select",
    "other_engine": ".select",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))

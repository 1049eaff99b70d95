"""The engines behind one interface (:mod:`.base`): the formulas engine (:mod:`.formulas`) and the
LibreOffice engine (:mod:`.libreoffice`); the one place an engine is chosen is :mod:`.select`."""

from ..exports import lazily

__all__ = lazily(__name__, {
    "Computed": ".base",
    "Engine": ".base",
    "EngineRefused": ".base",
    "Loading": ".base",
    "Registry": ".base",
    "Unsupported": ".base",
    "FormulasEngine": ".formulas",
    "get_engine": ".select",
    "libreoffice_available": ".select",
    "other_engine": ".select",
})

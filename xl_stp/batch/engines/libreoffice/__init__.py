"""The LibreOffice engine: LibreOffice headless over UNO, STP_* computed in Python and fed back.

``client`` (the warm worker process and the pipe to it), ``plan`` (the STP_* calls: arguments,
order, scratch cells, how results are written and read), ``engine`` (the fixed point, the
read-back, and overrides of a workbook kept open), ``worker`` (the script on the UNO side, run by
Debian's python3; values read as Excel holds them).
"""

import importlib

#: What this package exports, and the module each comes from: imported when first used (PEP 562),
#: so that importing one module below (the LibreOffice client, started first by the command line)
#: does not import them all.
_EXPORTS = {
    "available": ".client",
    "version": ".client",
    "worker": ".client",
    "LibreOfficeEngine": ".engine",
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

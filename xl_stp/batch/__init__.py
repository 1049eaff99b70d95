"""The batch engine: recalculate existing workbooks without Excel and write the values back.

``scan`` (formula cells, array ranges, STP_* spellings) -> ``Engine.compute`` (LibreOffice
headless or the pure-Python ``formulas`` package; STP_* through the registry of functions it is
given; a failed call's cells hold #VALUE!, and so does every figure computed from them) ->
``patch`` (only cached values change). ``diagnose`` turns the calls that failed or warned into
report lines at the input cells, with their labels. ``regen_file(path, registry)`` runs these for
one workbook, opening and checking it once; ``run_batch`` runs many, and ``xl-stp regen`` is the
command line (which passes ``udfs.discover()``).
"""

import importlib
import sys
import types

#: What this package exports, and the module each comes from: imported when first used (PEP 562),
#: so that importing one module below (the LibreOffice client, started first by the command line)
#: does not import them all.
_EXPORTS = {
    "Limits": ".package",
    "WorkbookError": ".package",
    "PatchReport": ".patch",
    "patch": ".patch",
    "FileResult": ".run",
    "expand_paths": ".run",
    "regen_file": ".run",
    "run_batch": ".run",
    "WorkbookScan": ".scan",
    "scan": ".scan",
}
__all__ = sorted(_EXPORTS)


class _Package(types.ModuleType):
    """This package, whose exports ``scan`` and ``patch`` share their names with the modules that
    define them: when Python binds such a module here on importing it, the function takes the
    name instead, as it did when this package imported its exports at once."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == "." + name and hasattr(value, name):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))

"""A package's exports, imported when first used (PEP 562), so that importing one module of the
package — the LibreOffice client, which the command line starts before anything else — does not
import them all.

    __all__ = lazily(__name__, {"scan": ".scan", "regen_file": ".run"})

An export that shares its name with the module defining it (``scan`` in ``.scan``) keeps that name
when Python binds the module to the package on importing it, as it did when packages imported
their exports at once.
"""

from __future__ import annotations

import importlib
import sys
import types


class _Exports(types.ModuleType):
    def __getattr__(self, name: str):
        exports = self.__dict__.get("_exports", {})
        if name not in exports:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name], self.__name__), name)
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and self.__dict__.get("_exports", {}).get(name) == "." + name \
                and hasattr(value, name):
            value = getattr(value, name)
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(self.__dict__) | set(self.__dict__.get("_exports", {})))


def lazily(module_name: str, exports: dict[str, str]) -> list[str]:
    """Have the package ``module_name`` export each name from its module (relative to the
    package), imported when first used; the package's ``__all__``."""
    module = sys.modules[module_name]
    module.__dict__["_exports"] = dict(exports)
    module.__class__ = _Exports
    return sorted(exports)

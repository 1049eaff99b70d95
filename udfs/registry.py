"""The one registry of STP_* functions.

Each Excel function is declared once, in :mod:`udfs.functions`, with :func:`udf`. That
declaration

- applies xlwings' ``@xw.func`` / ``@xw.arg`` decorators (category ``xl-stp``, argument help text
  for Excel's function wizard, ``ndim=2`` and ``err_to_str=True`` for range arguments), so the
  module is an ordinary xlwings UDF module;
- records the function here with its arguments' help text and conversion options, so that the
  batch engine (``xl-stp regen``), the README's function table and the tests all read the same
  list — there is no second list anywhere.

Nothing here depends on xlwings types; on Linux ``xw.func``/``xw.arg`` are no-ops and the
registry's own converter (:mod:`udfs.convert`) does the work, which is also what happens under
xlwings Server/Lite and in the batch engine.

Calling contract (Excel, batch engine, tests): pass each argument as Excel would — a scalar for a
single cell or literal, a list of rows for a range, ``None`` for a blank or an omitted optional
argument, error cells as their text (``'#N/A'``). The result is a scalar or a list of rows (which
spills); a problem comes back as a string starting ``#STP!`` that names the argument. A call never
raises.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from xl_stp.core.errors import STPError

from .excel import canonical_name

CATEGORY = "xl-stp"
ERROR_PREFIX = "#STP!"


@dataclass(frozen=True)
class Arg:
    """One argument: its name, help text, whether it may be omitted, and xlwings options."""

    name: str
    doc: str
    optional: bool = False
    range: bool = True  # a range argument: xlwings hands it over as a list of rows

    @property
    def xlwings_options(self) -> dict[str, Any]:
        """Options for ``@xw.arg``: ranges always 2-D (keeps row/column orientation) and error
        cells as text so we can name them."""
        return {"ndim": 2, "err_to_str": True} if self.range else {"err_to_str": True}


@dataclass(frozen=True)
class UDF:
    """A registered Excel function."""

    name: str
    func: Callable[..., Any] = field(repr=False)
    doc: str
    args: tuple[Arg, ...]
    returns: str
    category: str = CATEGORY

    def __call__(self, *values: Any) -> Any:
        return self.func(*values)

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0]

    @property
    def signature(self) -> str:
        """``STP_GAP(do_nothing, savings, [investment], [stf])``"""
        parts = [f"[{a.name}]" if a.optional else a.name for a in self.args]
        return f"{self.name}({', '.join(parts)})"


class Registry(Mapping[str, UDF]):
    """The STP_* functions by name, with look-up by any spelling found in a workbook."""

    def __init__(self) -> None:
        self._functions: dict[str, UDF] = {}

    def add(self, fn: UDF) -> None:
        if fn.name in self._functions:
            raise ValueError(f"{fn.name} is registered twice")
        self._functions[fn.name] = fn

    def __getitem__(self, name: str) -> UDF:
        return self._functions[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._functions)

    def __len__(self) -> int:
        return len(self._functions)

    def resolve(self, spelling: str) -> UDF | None:
        """The function a formula's name refers to, or None if it is not one of ours."""
        return self._functions.get(canonical_name(spelling))


REGISTRY = Registry()


def _xlwings():
    """xlwings' decorators, or None where xlwings is not installed (the batch engine does not
    need it)."""
    try:
        import xlwings as xw
    except Exception:  # pragma: no cover - xlwings is a dependency; stay usable without it
        return None
    return xw


def _blank(value: Any) -> bool:
    """An omitted or blank single cell, however it is wrapped (Office.js sends ``[[None]]``)."""
    while isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    return value is None or (isinstance(value, str) and not value.strip())


def udf(*args: Arg, returns: str, registry: Registry = REGISTRY) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an Excel function. The decorated body receives the raw Excel values (converted
    by the body itself with :mod:`udfs.convert`, one line per argument) and returns an Excel
    value; any :class:`STPError` becomes ``#STP! <argument>: <problem>`` and any other exception a
    ``#STP!`` message too — never a traceback in a cell."""

    def decorate(body: Callable[..., Any]) -> Callable[..., Any]:
        name = body.__name__
        if not name.startswith("STP_"):
            raise ValueError(f"Excel functions are named STP_*: {name}")
        params = list(body.__code__.co_varnames[: body.__code__.co_argcount])
        if params != [a.name for a in args]:
            raise ValueError(f"{name}: declared arguments {[a.name for a in args]} differ from {params}")

        @functools.wraps(body)
        def call(*values: Any) -> Any:
            if len(values) > len(args):
                return f"{ERROR_PREFIX} {name} takes at most {len(args)} arguments, got {len(values)}"
            required = sum(1 for a in args if not a.optional)
            if len(values) < required:
                return f"{ERROR_PREFIX} {args[len(values)].name}: is required"
            values = tuple(None if a.optional and _blank(v) else v for a, v in zip(args, values))
            values = values + (None,) * (len(args) - len(values))
            try:
                return body(*values)
            except STPError as exc:
                return f"{ERROR_PREFIX} {exc}"
            except Exception as exc:  # a bug of ours must still not show a traceback in Excel
                return f"{ERROR_PREFIX} {name} failed: {type(exc).__name__}: {exc}"

        xw = _xlwings()
        excel = call
        if xw is not None:
            for a in reversed(args):
                excel = xw.arg(a.name, doc=a.doc, **a.xlwings_options)(excel)
            excel = xw.func(category=CATEGORY)(excel)
        registry.add(UDF(name=name, func=excel, doc=body.__doc__ or name, args=tuple(args), returns=returns))
        return excel

    return decorate

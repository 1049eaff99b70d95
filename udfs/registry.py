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

:meth:`UDF.explain` is the same call with the reasons beside the result, for a caller that can
show more than a cell (the batch engine's report): an :class:`Explained` holding exactly what the
call returns, the structured :class:`~xl_stp.core.errors.STPError` when it failed (its ``at``: the
offending cell's (row, column) within that argument's range as it was passed; ``label``: the row's
name when the range carries names), and the warnings of :mod:`udfs.rules` — values that may be
meant, which never change the result.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from xl_stp.core.errors import STPError

from .excel import canonical_name

CATEGORY = "xl-stp"
ERROR_PREFIX = "#STP!"
#: The attribute of a declared function that runs it with its reasons (see UDF.explain).
RUN_ATTRIBUTE = "_stp_run"


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
class Explained:
    """A call with its reasons: ``result`` is exactly what the call returns (the ``#STP!`` text
    when it fails); ``error`` the problem that made it fail, with the offending cell (``at``) and
    row name (``label``) where known; ``warnings`` values that may be meant (a negative cost, a
    blank between figures...), each an STPError naming its argument and cell, none of which
    changed the result."""

    result: Any
    error: STPError | None
    warnings: tuple[STPError, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


#: A warning check: given the arguments by name (as the call received them, an omitted or blank
#: optional one as None), the warnings it finds. See :mod:`udfs.rules`.
Check = Callable[[Mapping[str, Any]], Iterable[STPError]]


@dataclass(frozen=True)
class UDF:
    """A registered Excel function."""

    name: str
    func: Callable[..., Any] = field(repr=False)
    doc: str
    args: tuple[Arg, ...]
    returns: str
    category: str = CATEGORY
    checks: tuple[Check, ...] = field(default=(), repr=False)

    def __call__(self, *values: Any) -> Any:
        return self.func(*values)

    def explain(self, *values: Any) -> Explained:
        """The call (same arguments, same result) with the structured error and the warnings.
        Never raises for a function declared with :func:`udf` (every STP_* function)."""
        run = getattr(self.func, RUN_ATTRIBUTE, None)
        if run is None:  # a function not declared with udf(): its text is all there is
            result = self.func(*values)
            failed = isinstance(result, str) and result.startswith(ERROR_PREFIX)
            return Explained(result, STPError(None, result[len(ERROR_PREFIX):].strip()) if failed else None)
        result, error, given = run(values)
        if given is None:
            return Explained(result, error)
        named = dict(zip((a.name for a in self.args), given))
        found: list[STPError] = []
        for check in self.checks:
            try:
                found.extend(check(named))
            except Exception:  # a warning must never cost the answer
                continue
        return Explained(result, error, tuple(found))

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
#: Apply xlwings' decorators to each function declared (``udfs.discover(excel=False)`` turns it off
#: for the one import of a process that runs the functions outside Excel).
DECORATE = True


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


def _extent(value: Any) -> tuple[int, int] | None:
    """(rows, columns) of an argument as it was passed: a scalar or blank is one cell, a flat list
    one row; None for what is not a rectangle."""
    if isinstance(value, (list, tuple)):
        if not value:
            return None
        if not any(isinstance(v, (list, tuple)) for v in value):
            return (1, len(value))
        widths = {len(r) if isinstance(r, (list, tuple)) else 1 for r in value}
        return (len(value), widths.pop()) if len(widths) == 1 else None
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) <= 2:
        return (1, 1) if len(shape) == 0 else (1, int(shape[0])) if len(shape) == 1 else (int(shape[0]), int(shape[1]))
    return (1, 1)


def locate(error: STPError, args: Sequence[Arg], values: Sequence[Any]) -> STPError:
    """``error.at`` within its argument's range as the caller passed it.

    The core reports a position in the array it was given; an adapter that flattened a range
    (a column of one value per scheme, say) hands it a 1-d array, whose k-th value the core
    reports as (0, k): that is the k-th cell of the range read row by row. A single cell is
    (0, 0) whenever the problem is that cell (an omitted argument has no cell). A position outside
    the range is dropped.
    """
    index = next((k for k, a in enumerate(args) if a.name == error.argument), None)
    if index is None or index >= len(values):
        return error
    extent = _extent(values[index])
    if extent is None:
        return error
    rows, columns = extent
    if error.at is None:  # a single cell given (not an omitted argument) is the cell to blame
        return error.moved(at=(0, 0)) if extent == (1, 1) and values[index] is not None and error.label is None else error
    r, c = error.at
    if r == 0 and c >= columns:
        r, c = divmod(c, columns)
    at = (r, c) if 0 <= r < rows and 0 <= c < columns else None
    return error if at == error.at else error.moved(at=at)


def udf(*args: Arg, returns: str, checks: Sequence[Check] = (), registry: Registry = REGISTRY) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an Excel function. The decorated body receives the raw Excel values (converted
    by the body itself with :mod:`udfs.convert`, one line per argument) and returns an Excel
    value; any :class:`STPError` becomes ``#STP! <argument>: <problem>`` and any other exception a
    ``#STP!`` message too — never a traceback in a cell. ``checks``: the warnings
    :meth:`UDF.explain` looks for (:mod:`udfs.rules`)."""

    def decorate(body: Callable[..., Any]) -> Callable[..., Any]:
        name = body.__name__
        if not name.startswith("STP_"):
            raise ValueError(f"Excel functions are named STP_*: {name}")
        params = list(body.__code__.co_varnames[: body.__code__.co_argcount])
        if params != [a.name for a in args]:
            raise ValueError(f"{name}: declared arguments {[a.name for a in args]} differ from {params}")
        n_args = len(args)
        required = sum(1 for a in args if not a.optional)
        optional = tuple(a.optional for a in args)

        def run(values: tuple[Any, ...]) -> tuple[Any, STPError | None, tuple[Any, ...] | None]:
            """(result, error, the arguments as the body got them — None if it was not called)."""
            if len(values) > n_args:
                error = STPError(None, f"{name} takes at most {n_args} arguments, got {len(values)}")
                return f"{ERROR_PREFIX} {error}", error, None
            if len(values) < required:
                error = STPError(args[len(values)].name, "is required")
                return f"{ERROR_PREFIX} {error}", error, None
            values = tuple(None if o and _blank(v) else v for o, v in zip(optional, values))
            values = values + (None,) * (n_args - len(values))
            try:
                return body(*values), None, values
            except STPError as exc:
                error = locate(exc, args, values)
            except Exception as exc:  # a bug of ours must still not show a traceback in Excel
                error = STPError(None, f"{name} failed: {type(exc).__name__}: {exc}")
            return f"{ERROR_PREFIX} {error}", error, values

        @functools.wraps(body)
        def call(*values: Any) -> Any:
            return run(values)[0]

        setattr(call, RUN_ATTRIBUTE, run)
        xw = _xlwings() if DECORATE else None
        excel = call
        if xw is not None:
            for a in reversed(args):
                excel = xw.arg(a.name, doc=a.doc, **a.xlwings_options)(excel)
            excel = xw.func(category=CATEGORY)(excel)
            if getattr(excel, RUN_ATTRIBUTE, None) is not run:
                setattr(excel, RUN_ATTRIBUTE, run)
        registry.add(UDF(name=name, func=excel, doc=body.__doc__ or name, args=tuple(args), returns=returns,
                         checks=tuple(checks)))
        return excel

    return decorate

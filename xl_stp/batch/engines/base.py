"""What every engine is: the interface regen_file calls, what it returns, how an engine says no,
and what the registry of functions it is given must offer."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ItemsView, Iterator, Protocol, Sequence

from ..diagnose import Call
from ..package import WorkbookError
from ..scan import FormulaCell, WorkbookScan


class Argument(Protocol):
    """One argument of a function: its name as in the function's signature (``costs``)."""

    name: str


class Problem(Protocol):
    """A problem with one argument (``udfs``' STPError): the argument's name, what is wrong, and
    optionally ``at`` (row, column; 0-based within the argument's range as passed) and ``label``
    (the row's name, such as PF2)."""

    argument: str | None
    problem: str


class Explained(Protocol):
    """What ``explain`` gives: ``result`` exactly what calling gives; ``error`` the problem behind
    a ``#STP!`` result (or None); ``warnings`` problems with values that may be meant."""

    result: Any
    error: Problem | None
    warnings: Sequence[Problem]


class Function(Protocol):
    """An Excel function of the registry: called with the arguments as Excel passes them (a
    scalar, a list of rows, None for a blank), it returns a scalar or a list of rows, or
    ``#STP! <message>`` text for a problem (it never raises). ``args`` names its arguments in order.
    A function may also have ``explain(*args) -> Explained``: the engines use it where it exists
    (:func:`xl_stp.batch.diagnose.evaluate`) to place a problem at the cell the user typed in."""

    name: str
    args: Sequence[Argument]

    def __call__(self, *args: Any) -> Any: ...


class Registry(Protocol):
    """The functions by name (a mapping), with look-up by any spelling a workbook may carry
    (``_xludf.STP_GAP``, ``[1]!STP_GAP``...). The command line passes ``udfs.discover()``; it is
    pickled to each process or Dask worker that regenerates a workbook."""

    def __getitem__(self, name: str) -> Function: ...

    def __iter__(self) -> Iterator[str]: ...

    def __len__(self) -> int: ...

    def items(self) -> ItemsView[str, Function]: ...

    def resolve(self, spelling: str) -> Function | None: ...


@dataclass
class Computed:
    """What an engine found: values by sheet and cell (a failed STP_* call's cells hold
    ``#VALUE!``), the problems, each with its cell, and the STP_* calls that failed or warned."""

    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[WorkbookError] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    #: The engine that computed the values ("" for the engine asked), and the cells another engine
    #: computed (the fused engine): (sheet, cell) -> engine name.
    engine: str = ""
    engines: dict[tuple[str, str], str] = field(default_factory=dict)


class EngineRefused(WorkbookError):
    """The engine will not compute this workbook: the message says why, ``problems`` lists every
    cell that made it refuse."""

    def __init__(self, message: str, problems: list[WorkbookError]):
        super().__init__(message)
        self.problems = problems


class Unsupported(WorkbookError):
    """The engine cannot compute this workbook as it is written, but the formulas engine can: the
    choice of engine (:mod:`.select`) hands it over and says why, naming ``cell``."""

    def __init__(self, message: str, cell: FormulaCell):
        super().__init__(message)
        self.cell = cell


class Engine(ABC):
    """Computes every formula-result cell of a workbook, STP_* through the registry it is given."""

    #: The engine's name, as --engine spells it.
    name: str = ""
    #: The most formula cells the engine takes (None: no limit of its own); the scan stops reading
    #: once it is passed.
    max_formulas: int | None = None

    def prepare(self, path: Path) -> None:
        """Start loading the workbook while Python scans it (only once the package has passed the
        safety checks); :meth:`compute` collects it, :meth:`release` drops it."""

    @abstractmethod
    def compute(self, path: Path, registry: Registry, scan: WorkbookScan) -> Computed:
        """Values of every formula-result cell; raises EngineRefused or Unsupported."""

    def release(self) -> None:
        """Drop whatever :meth:`prepare` started (a workbook that failed before it was computed)."""

    def trust_stored_values(self, yes: bool) -> None:
        """Told before :meth:`prepare`: the values the workbook stores are Excel's and only dirty
        cells will be written (default mode), so an engine may keep the stored values of the rest
        rather than recompute them. Engines that always compute everything ignore it."""

    def meanwhile(self, work: Callable[[], None]) -> None:
        """Offered before :meth:`compute`: ``work`` needs nothing the engine computes and must not
        raise. An engine that waits for another process (LibreOffice) may run it, once, while it
        waits; the others never do, and the caller's own later work must not depend on it."""


class Loading:
    """An engine's loading of one open package (:meth:`Engine.prepare`), started by the first call
    (before the scan, when it is known that the engine will be needed, or after it) and only once.
    ``path``: what the engine was given (the file itself, or a copy with its parts under their real
    names), None until then."""

    def __init__(self, engine: Engine, package: Any):
        self.engine, self.package = engine, package
        self.path: Path | None = None

    def __call__(self) -> Path:
        if self.path is None:
            self.path = self.package.readable_path()
            self.engine.prepare(self.path)
        return self.path

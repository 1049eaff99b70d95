"""What every engine is: the interface the batch engine calls, and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..package import WorkbookError
from ..scan import WorkbookScan


@dataclass
class Computed:
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[WorkbookError] = field(default_factory=list)


class Engine(Protocol):
    name: str

    def compute(self, path: Path, registry: Any, scan: WorkbookScan) -> Computed: ...

"""The fused engine: LibreOffice first, the formulas engine where it is the better judge.

LibreOffice computes the whole workbook (fast, broad). The formulas engine is asked only when a
cell that will be written needs it: the cell calls a function the policy (:mod:`.policy`, measured
on Excel-saved workbooks) gives to formulas, or LibreOffice does not know a function the cell calls
(``#NAME?``). Then the formulas engine computes the workbook too, and for those cells:

- where both agree, nothing changes;
- where they disagree, the policy's engine is written and the report lists the disagreement
  (cell, formula, both answers, which was written and why);
- a cell downstream of one whose value was taken from formulas takes formulas' value too, so that
  no figure is computed from an answer that was not written.

If the formulas engine cannot compute the workbook (a table reference, a sheet-scoped name…), the
LibreOffice answers stand and the report says which cells could not be checked.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from typing import Any

from ..package import WorkbookError
from ..recalc import Graph, _operands, agree, select
from ..scan import WorkbookScan
from .base import Computed, Engine, EngineRefused, Registry, Unsupported
from .formulas import FormulasEngine
from . import policy
from .policy import prefers_formulas

Key = tuple[str, str]


class FusedEngine(Engine):
    name = "fused"

    def __init__(self, first: Engine):
        self.first = first
        self.max_formulas = first.max_formulas
        #: Default mode (Excel's semantics): only cells whose value changed, and the seeds, are written.
        self.trusting = False

    def prepare(self, path: Path) -> None:
        self.first.prepare(path)

    def release(self) -> None:
        self.first.release()

    def trust_stored_values(self, yes: bool) -> None:
        self.trusting = yes
        self.first.trust_stored_values(yes)

    def meanwhile(self, work) -> None:
        self.first.meanwhile(work)

    def compute(self, path: Path, registry: Registry, scan: WorkbookScan) -> Computed:
        try:
            result = self.first.compute(path, registry, scan)
        except (EngineRefused, Unsupported):
            raise
        except WorkbookError as e:  # LibreOffice failed on this workbook (crashed): formulas alone, if it can
            try:
                result = FormulasEngine().compute(path, registry, scan)
            except WorkbookError:
                raise e from None
            result.problems.insert(0, WorkbookError(f"computed with the formulas engine: {e.message}"))
            result.engine = "formulas"
            return result
        if getattr(result, "engine", None) == "formulas":  # handed over already (nested STP_* calls)
            return result
        wanted = self._wanted(scan, result.values)
        if not wanted:
            return result
        try:
            second = FormulasEngine().compute(path, registry, scan)
        except (EngineRefused, Unsupported, WorkbookError) as e:
            cells = ", ".join(f"{s}!{c}" for s, c in sorted(wanted)[:3]) + (" …" if len(wanted) > 3 else "")
            result.problems.append(WorkbookError(f"{len(wanted):,} cells ({cells}) call functions the formulas engine "
                                                 f"checks better, but it could not compute this workbook ({e}); "
                                                 "LibreOffice's answers are written"))
            return result
        self._merge(scan, result, second, wanted)
        return result

    def _wanted(self, scan: WorkbookScan, first: dict[str, dict[str, Any]]) -> dict[Key, str]:
        """Cells the formulas engine should judge, each with the reason."""
        out: dict[Key, str] = {}
        written = {(sheet, c) for sheet, cells in select(scan, first).values.items() for c in cells} \
            if self.trusting else None  # default mode: only the cells Excel's semantics write
        # a call of a function the policy gives to formulas, as the text may spell it (then read properly)
        policy_call = re.compile("(?:%s)\\s*\\(" % "|".join(map(re.escape, sorted(policy.PREFER_FORMULAS))), re.IGNORECASE)
        for s in scan.sheets:
            got = first.get(s.name, {})
            unknown = {ref for ref, v in got.items() if isinstance(v, str) and v.upper() == "#NAME?"}
            if not unknown and not policy_call.search("\n".join(f.text for f in s.formulas if f.text)):
                continue  # no cell of the sheet is the formulas engine's to judge (read at once, cheaply)
            for f, text, _master in s.texts():
                if written is not None and (s.name, f.ref) not in written:
                    continue
                if f.ref in unknown:
                    out[(s.name, f.ref)] = "LibreOffice does not know a function it calls"
                    continue
                if not policy_call.search(text or ""):
                    continue  # calls no function the policy gives to formulas (read first, cheaply)
                found = _operands(text or "")
                names = {n.upper().removeprefix("_XLFN.") for n in (found[1] if found else ())}
                if names and prefers_formulas(names):
                    out[(s.name, f.ref)] = "the policy gives " + ", ".join(sorted(prefers_formulas(names))) + " to formulas"
        return out

    def _merge(self, scan: WorkbookScan, result: Computed, second: Computed, wanted: dict[Key, str]) -> None:
        taken: list[Key] = []
        engines: dict[Key, str] = {}
        for (sheet, cell), why in sorted(wanted.items()):
            mine, theirs = result.values.get(sheet, {}).get(cell), second.values.get(sheet, {}).get(cell)
            if theirs is None or agree(theirs, mine):
                continue
            result.values.setdefault(sheet, {})[cell] = theirs
            engines[(sheet, cell)] = "formulas"
            taken.append((sheet, cell))
            result.problems.append(WorkbookError(
                f"the engines disagree: LibreOffice gives {mine!r}, formulas {theirs!r}; formulas' answer is written ({why})",
                sheet, cell))
        for key in _downstream(Graph(scan), taken):
            sheet, cell = key
            theirs = second.values.get(sheet, {}).get(cell)
            if theirs is not None and key not in engines:
                result.values.setdefault(sheet, {})[cell] = theirs
                engines[key] = "formulas"
        result.engines = {**getattr(result, "engines", {}), **engines}


def _downstream(graph: Graph, start: list[Key]) -> set[Key]:
    seen: set[Key] = set()
    queue = deque(d for k in start if k in graph.nodes for d in graph.dependents(k))
    while queue:
        k = queue.popleft()
        if k not in seen:
            seen.add(k)
            queue.extend(graph.dependents(k))
    return seen

"""Excel's calculation semantics: which formula cells a regeneration recomputes, and why.

Excel trusts the values a workbook stores unless the file asks for a full recalculation
(``<calcPr fullCalcOnLoad="1"/>``); it recalculates what is dirty or volatile. A regeneration does
the same by default:

- **seeds**: STP_* cells (their function runs in Python, outside Excel's cache), volatile cells
  (NOW, TODAY, RAND, RANDBETWEEN, RANDARRAY, OFFSET, INDIRECT, CELL, INFO — called directly or
  through a defined name) and formula cells with no stored value;
- **downstream**: every formula cell that reads a cell whose value changed, and so on down the
  chain (a cell whose recomputed value equals the stored one changes nothing below it);
- every other formula cell keeps the value Excel stored, byte for byte.

``full`` (``--full``, or a file asking for it) recomputes every formula cell.

The dependency graph is built from the formula text: cell and range references (``$`` or not,
whole rows and columns), sheet-qualified or not, shared formulas shifted to each cell, array
formulas as one node, defined names (global or sheet-scoped) followed to what they refer to. A
reference that cannot be pinned down — a 3-D reference, a table's structured reference, a name
whose formula is not a plain reference — makes its cell depend on *every* change: recomputed
whenever anything changed (conservative: never a stale value).
"""

from __future__ import annotations

import functools
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from udfs.excel import decode_cached, is_error

from .cells import bounds, column_index, expand
from .formula import RANGE, function_names, stp_spellings, tokens, without_strings
from .scan import FormulaCell, WorkbookScan

#: Functions Excel recalculates at every recalculation, whatever changed.
VOLATILE = frozenset({"NOW", "TODAY", "RAND", "RANDBETWEEN", "RANDARRAY", "OFFSET", "INDIRECT", "CELL", "INFO"})

#: Why a cell is recomputed (the report counts cells by these).
STP = "STP_* function"
VOLATILE_CELL = "volatile function"
NO_VALUE = "no stored value"
DOWNSTREAM = "reads a changed cell"
FULL = "full recalculation"

MAX_ROW, MAX_COL = 1_048_576, 16_384
_SMALL = 256  # a box of at most this many cells is indexed cell by cell; larger ones are searched
_CELL = re.compile(r"^(\$?)([A-Z]{1,3})(\$?)([0-9]{1,7})$")
_COLS = re.compile(r"^(\$?)([A-Z]{1,3}):(\$?)([A-Z]{1,3})$")
_ROWS = re.compile(r"^(\$?)([0-9]{1,7}):(\$?)([0-9]{1,7})$")
_NAME = re.compile(r"^[A-Za-z_\\][\w.\\]*$")

Key = tuple[str, str]  # (sheet, anchor cell) of a node


@dataclass(frozen=True)
class _Ref:
    """A box as written in a formula: bounds, and whether each edge is fixed ($) or moves with the cell."""

    sheet: str
    c1: int
    r1: int
    c2: int
    r2: int
    fixed: tuple[bool, bool, bool, bool] = (True, True, True, True)  # c1, r1, c2, r2

    def shifted(self, dc: int, dr: int) -> tuple[str, int, int, int, int]:
        f = self.fixed
        return (self.sheet, self.c1 + (0 if f[0] else dc), self.r1 + (0 if f[1] else dr),
                self.c2 + (0 if f[2] else dc), self.r2 + (0 if f[3] else dr))


@dataclass
class _Reads:
    """What one formula reads: boxes, and whether something it reads cannot be pinned down."""

    refs: list[_Ref] = field(default_factory=list)
    unknown: bool = False
    volatile: bool = False


class Parser:
    """References of formula text, names followed (with a depth limit), sheets by their own names."""

    def __init__(self, scan: WorkbookScan):
        self.sheets = {n.upper(): n for n in scan.all_sheet_names}
        self.names = {k.upper(): v for k, v in scan.names.items()}
        self.scoped = {(s, k.upper()): v for (s, k), v in scan.sheet_names.items()}
        self._names_read: dict[tuple[str, str], _Reads] = {}  # what each name refers to, read once

    def reads(self, text: str, sheet: str, depth: int = 0) -> _Reads:
        out = _Reads()
        found = _operands(text) if depth <= 8 else None
        if found is None:
            out.unknown = True
            return out
        operands, functions = found
        out.volatile = any(fn.upper().removeprefix("_XLFN.") in VOLATILE for fn in functions)
        for operand in operands:
            self._operand(operand, sheet, depth, out)
        return out

    def _operand(self, token: str, sheet: str, depth: int, out: _Reads) -> None:
        where, body, box = _parsed_operand(token)
        if where is not None:
            if "[" in where:  # another workbook: never followed, never changes here
                return
            if ":" in where.strip("'"):  # 3-D: Sheet1:Sheet3!A1
                out.unknown = True
                return
            target = self.sheets.get(where.upper())
            if target is None:
                return  # a sheet the workbook does not have: #REF!, reported elsewhere
        else:
            target = sheet
        if body.upper() in ("TRUE", "FALSE"):
            return
        if box is not None:
            out.refs.append(_Ref(target, *box))
            return
        formula = self.scoped.get((target, body.upper()))
        if formula is None and where is None:
            formula = self.names.get(body.upper())
        if formula is None or not _NAME.match(body):
            out.unknown = True  # a structured reference, or a name the workbook does not define
            return
        key = (target, body.upper())
        inner = self._names_read.get(key)
        if inner is None:
            inner = self._names_read[key] = self.reads(formula.lstrip("="), target, depth + 1)
        out.refs.extend(inner.refs)
        out.unknown |= inner.unknown
        out.volatile |= inner.volatile


#: One pass over formula text with its strings emptied, for the common shape (no quoted sheet names,
#: brackets, array constants or error literals): a function call, an operand (a reference or a
#: name, with an optional sheet), or a number (skipped).
_FAST = re.compile(r"""
    (?P<func>[^\W\d][\w.]*)\s*\(
  | (?P<op>(?:[^\W\d][\w.]*(?::[^\W\d][\w.]*)?!)?
        (?:\$?[A-Z]{1,3}\$?[0-9]+(?::\$?[A-Z]{1,3}\$?[0-9]+)?(?![\w.(])
          | \$?[A-Z]{1,3}:\$?[A-Z]{1,3}(?![\w.(])
          | \$?[0-9]+:\$?[0-9]+(?![\w.(])
          | [^\W\d][\w.\\]*(?![\w.(])))
  | (?P<num>[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)
""", re.VERBOSE)
_LOGICAL = frozenset({"TRUE", "FALSE", "true", "false", "True", "False"})
_SLOW = re.compile(r"['\[{#]|[\w$]:[\w$]+:")  # quotes, brackets, arrays, errors, chained ranges (A1:B2:C3)


def _operands(text: str) -> tuple[list[str], list[str]] | None:
    """The operands (references and names, as written) and the functions a formula calls; None
    when it cannot be read. Most formulas take the one-pass expression; the others the tokenizer."""
    plain = without_strings(text) if '"' in text else text
    if not _SLOW.search(plain):
        operands, functions = [], []
        for func, op, _number in _FAST.findall(plain):
            if op:
                if op not in _LOGICAL:
                    operands.append(op)
            elif func:
                functions.append(func)
        return operands, functions
    toks = tokens(text)
    if toks is None:
        return None
    return [text[a:b] for a, b, _t, subtype in toks if subtype == RANGE], function_names(text)


def _split_sheet(token: str) -> tuple[str | None, str]:
    """'Sheet 1'!A1 -> ("Sheet 1", "A1"); A1 -> (None, "A1"); [1]Data!A1 -> ("[1]Data", "A1")."""
    if token.startswith("'"):
        end = token.find("'!")
        while end != -1 and token[end - 1:end + 1] == "''" and token.find("'!", end + 1) != -1:
            end = token.find("'!", end + 1)
        if end == -1:
            return None, token
        return token[1:end].replace("''", "'"), token[end + 2:]
    if "!" in token:
        where, _, body = token.rpartition("!")
        return where, body
    return None, token


@functools.lru_cache(maxsize=65536)
def _parsed_operand(token: str) -> tuple[str | None, str, tuple | None]:
    """An operand as (sheet as written or None, the rest, the box's bounds and fixed edges or None)."""
    where, body = _split_sheet(token)
    box = _box(body, "")
    return where, body, None if box is None else (box.c1, box.r1, box.c2, box.r2, box.fixed)


def _box(body: str, sheet: str) -> _Ref | None:
    """A1, $A$1:B2, A:C, 3:5 as a box on ``sheet``; None for anything else (a name)."""
    parts = body.split(":")
    if len(parts) == 2 and _COLS.match(body):
        m = _COLS.match(body)
        return _Ref(sheet, column_index(m[2]), 1, column_index(m[4]), MAX_ROW, (bool(m[1]), True, bool(m[3]), True))
    if len(parts) == 2 and _ROWS.match(body):
        m = _ROWS.match(body)
        return _Ref(sheet, 1, int(m[2]), MAX_COL, int(m[4]), (True, bool(m[1]), True, bool(m[3])))
    cells = [_CELL.match(p) for p in parts]
    if not parts or len(parts) > 2 or any(c is None for c in cells):
        return None
    a, b = cells[0], cells[-1]
    c1, r1, c2, r2 = column_index(a[2]), int(a[4]), column_index(b[2]), int(b[4])
    fixed = (bool(a[1]), bool(a[3]), bool(b[1]), bool(b[3]))
    if c1 > c2:
        c1, c2, fixed = c2, c1, (fixed[2], fixed[1], fixed[0], fixed[3])
    if r1 > r2:
        r1, r2, fixed = r2, r1, (fixed[0], fixed[3], fixed[2], fixed[1])
    return _Ref(sheet, c1, r1, c2, r2, fixed)


@dataclass
class _Node:
    """A formula cell, or an array formula with the cells it fills."""

    key: Key
    area: tuple[int, int, int, int]  # c1, r1, c2, r2
    cells: tuple[str, ...]
    reason: str | None = None  # why it is a seed, or None
    unknown: bool = False


class Graph:
    """Formula cells and what each reads; :meth:`dependents` of a node: the nodes that read any of its cells."""

    def __init__(self, scan: WorkbookScan, stp_spelled: Iterable[str] | None = None):
        parser = Parser(scan)
        self.nodes: dict[Key, _Node] = {}
        self._small: dict[tuple[str, int, int], list[Key]] = {}
        large: dict[str, list[tuple[int, int, int, int, Key]]] = {}
        self.everything: list[Key] = []  # nodes that read something not pinned down
        for s in scan.sheets:
            anchors: dict[str, tuple[FormulaCell, _Reads, int, int]] = {}
            for f in s.formulas:
                reads, dc, dr = self._reads(parser, f, anchors, s.name)
                node = self._node(s.name, f, reads)
                self.nodes[node.key] = node
                if reads.unknown:
                    self.everything.append(node.key)
                for ref in reads.refs:
                    box = ref.shifted(dc, dr)
                    self._index(box, node.key, large)
        self._large = {sheet: (np.array([b[:4] for b in boxes], dtype=np.int64), [b[4] for b in boxes])
                       for sheet, boxes in large.items()}

    @staticmethod
    def _reads(parser: Parser, f: FormulaCell, anchors: dict, sheet: str) -> tuple[_Reads, int, int]:
        """What ``f`` reads, and the shift from the formula as written (a shared formula's anchor)."""
        if f.kind == "shared" and f.si is not None:
            if f.text is not None:
                c, r = _coords(f.ref)
                anchors[f.si] = (f, parser.reads(f.text, sheet), c, r)
            if f.si in anchors:
                _anchor, reads, c0, r0 = anchors[f.si]
                c, r = _coords(f.ref)
                return reads, c - c0, r - r0
            return _Reads(unknown=True), 0, 0
        if f.text is None:
            return _Reads(unknown=True), 0, 0
        return parser.reads(f.text, sheet), 0, 0

    @staticmethod
    def _node(sheet: str, f: FormulaCell, reads: _Reads) -> _Node:
        target = f.array_ref if f.kind == "array" and f.array_ref else f.ref
        c1, r1, c2, r2 = bounds(target)
        text = f.text or ""
        reason = None
        if f.text is not None and stp_spellings(text):
            reason = STP
        elif reads.volatile:
            reason = VOLATILE_CELL
        elif f.cached is None:
            reason = NO_VALUE
        return _Node((sheet, f.ref), (c1, r1, c2, r2), expand(target) if ":" in target else (f.ref,), reason, reads.unknown)

    def _index(self, box: tuple[str, int, int, int, int], key: Key, large: dict) -> None:
        sheet, c1, r1, c2, r2 = box
        if (c2 - c1 + 1) * (r2 - r1 + 1) <= _SMALL:
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    self._small.setdefault((sheet, c, r), []).append(key)
        else:
            large.setdefault(sheet, []).append((c1, r1, c2, r2, key))

    def dependents(self, key: Key) -> set[Key]:
        node = self.nodes[key]
        sheet = key[0]
        c1, r1, c2, r2 = node.area
        out: set[Key] = set()
        if (c2 - c1 + 1) * (r2 - r1 + 1) <= 4 * _SMALL:
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    out.update(self._small.get((sheet, c, r), ()))
        else:
            for (s, c, r), keys in self._small.items():
                if s == sheet and c1 <= c <= c2 and r1 <= r <= r2:
                    out.update(keys)
        if sheet in self._large:
            boxes, keys = self._large[sheet]
            hit = (boxes[:, 0] <= c2) & (boxes[:, 2] >= c1) & (boxes[:, 1] <= r2) & (boxes[:, 3] >= r1)
            out.update(keys[i] for i in np.flatnonzero(hit))
        out.discard(key)
        return out

    def seeds(self) -> dict[Key, str]:
        return {k: n.reason for k, n in self.nodes.items() if n.reason}

    def reachable_from_seeds(self) -> set[Key]:
        """Every cell a default-mode regeneration may recompute: the seeds and all downstream of
        them (and, when there are seeds, the cells that read something not pinned down)."""
        seeds = list(self.seeds())
        return _reachable(self, seeds + (self.everything if seeds else []))


def _coords(ref: str) -> tuple[int, int]:
    c1, r1, _c2, _r2 = bounds(ref)
    return c1, r1


@dataclass
class Selection:
    """The values to write (the recomputed cells) and how many cells were recomputed for each reason."""

    values: dict[str, dict[str, Any]]
    reasons: Counter = field(default_factory=Counter)
    full: str | None = None  # why every formula cell was recomputed, or None
    stored: dict[Key, Any] | None = field(default=None, repr=False)  # the file's values, decoded

    @property
    def recomputed(self) -> int:
        return sum(self.reasons.values())

    def describe(self) -> str:
        if self.full:
            return f"{self.recomputed:,} formula cells recomputed ({self.full})"
        if not self.reasons:
            return "no formula cell needed recomputing: every cell keeps the value Excel stored"
        parts = ", ".join(f"{self.reasons[why]:,} {why}" for why in (STP, VOLATILE_CELL, NO_VALUE, DOWNSTREAM)
                          if self.reasons[why])
        return f"{self.recomputed:,} formula cells recomputed ({parts}); the others keep the values Excel stored"


def full_reason(scan: WorkbookScan, full: bool) -> str | None:
    """Why every formula cell is recomputed: asked for (--full), or the file asks for it."""
    if full:
        return "--full"
    if getattr(scan, "full_calc_on_load", False):
        return "the workbook asks for a full recalculation on load"
    return None


def select(scan: WorkbookScan, values: Mapping[str, Mapping[str, Any]], full: bool = False) -> Selection:
    """Of the ``values`` an engine computed, those Excel's semantics recompute (see the module): the
    seeds, and each cell whose value changed and that reads a cell whose value changed, down the
    chain from a seed. Only the formulas of cells whose value changed are read (and array formulas,
    which count as changed whenever they are recomputed): a workbook whose STP_* results stay as
    stored costs no dependency graph. A cell downstream whose value came out as stored is left as
    the file has it (the same value, its bytes untouched)."""
    why_full = full_reason(scan, full)
    if why_full:
        n = sum(len(v) for v in values.values())
        return Selection({s: dict(v) for s, v in values.items()}, Counter({FULL: n}), why_full)
    return _Changes(scan, values).selection()


class _Changes:
    """The seeds and the candidates (non-seed cells whose value changed, and array formulas) of one
    regeneration; the candidates' formulas are read to find which of them follow from a seed."""

    def __init__(self, scan: WorkbookScan, values: Mapping[str, Mapping[str, Any]]):
        self.scan, self.values, self.stored = scan, values, stored_values(scan)
        self.parser = Parser(scan)
        self.volatile_names = volatile_names(scan)
        self.seeds: dict[Key, str] = {}
        self.nodes: dict[Key, tuple[tuple[int, int, int, int], tuple[str, ...]]] = {}  # key -> area, cells
        self.candidates: dict[Key, _Reads] = {}
        self.shifts: dict[Key, tuple[int, int]] = {}
        for s in scan.sheets:
            self._sheet(s)

    def _sheet(self, s) -> None:
        for f, text, master in s.texts():
            key = (s.name, f.ref)
            array = f.kind == "array" and f.array_ref and ":" in f.array_ref
            reason = self._seed_reason(f, text, s.name)
            if reason is None and not array and not self._differs(key):
                continue
            target = f.array_ref if array else f.ref
            self.nodes[key] = (bounds(target), tuple(expand(target)) if array else (f.ref,))
            if reason is not None:
                self.seeds[key] = reason
                continue
            self.candidates[key] = self._reads(f, text, master, s.name)

    def _seed_reason(self, f: FormulaCell, text: str | None, sheet: str) -> str | None:
        if f.text is not None and f.stp_spellings:
            return STP
        if text is not None and self._volatile(text, sheet):
            return VOLATILE_CELL
        if f.cached is None:
            return NO_VALUE
        return None

    def _volatile(self, text: str, sheet: str) -> bool:
        """Calls a volatile function, directly or through a name (the text tells which to read)."""
        if not mentions_volatile(text, self.volatile_names):
            return False
        return self.parser.reads(text, sheet).volatile

    def _differs(self, key: Key) -> bool:
        got = self.values.get(key[0], {})
        if key[1] not in got:
            return False
        return key not in self.stored or not same_value(got[key[1]], self.stored[key])

    def _reads(self, f: FormulaCell, text: str | None, master: FormulaCell | None, sheet: str) -> _Reads:
        if text is None:
            return _Reads(unknown=True)
        reads = self.parser.reads(text, sheet)
        if master is not None and master is not f:
            (c0, r0), (c, r) = _coords(master.ref), _coords(f.ref)
            self.shifts[(sheet, f.ref)] = (c - c0, r - r0)
        return reads

    def _changed(self, key: Key) -> bool:
        cells = self.nodes[key][1]
        return len(cells) > 1 or self._differs(key)

    def selection(self) -> Selection:
        chosen: dict[Key, str] = dict(self.seeds)
        queue = deque(k for k in self.seeds if self._changed(k))
        if queue:  # something changed: what reads something not pinned down follows
            for k, reads in self.candidates.items():
                if reads.unknown:
                    chosen[k] = DOWNSTREAM
                    if self._changed(k):
                        queue.append(k)
        index = _Index(self)
        while queue:
            for k in index.readers(queue.popleft()):
                if k not in chosen:
                    chosen[k] = DOWNSTREAM
                    if self._changed(k):
                        queue.append(k)
        out: dict[str, dict[str, Any]] = {}
        reasons: Counter = Counter()
        for key, why in chosen.items():
            got = self.values.get(key[0], {})
            for cell in self.nodes[key][1]:
                if cell in got:
                    out.setdefault(key[0], {})[cell] = got[cell]
                    reasons[why] += 1
        return Selection(out, reasons, stored=self.stored)


class _Index:
    """The candidates by the cells they read: :meth:`readers` of a node, the candidates that read
    any cell of it."""

    def __init__(self, changes: _Changes):
        self.changes = changes
        self.small: dict[tuple[str, int, int], list[Key]] = {}
        self.large: dict[str, list[tuple[int, int, int, int, Key]]] = {}
        for key, reads in changes.candidates.items():
            dc, dr = changes.shifts.get(key, (0, 0))
            for ref in reads.refs:
                sheet, c1, r1, c2, r2 = ref.shifted(dc, dr)
                if (c2 - c1 + 1) * (r2 - r1 + 1) <= _SMALL:
                    for r in range(r1, r2 + 1):
                        for c in range(c1, c2 + 1):
                            self.small.setdefault((sheet, c, r), []).append(key)
                else:
                    self.large.setdefault(sheet, []).append((c1, r1, c2, r2, key))

    def readers(self, key: Key) -> set[Key]:
        (c1, r1, c2, r2), _cells = self.changes.nodes[key]
        sheet = key[0]
        out: set[Key] = set()
        if (c2 - c1 + 1) * (r2 - r1 + 1) <= 4 * _SMALL:
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    out.update(self.small.get((sheet, c, r), ()))
        else:
            for (s, c, r), keys in self.small.items():
                if s == sheet and c1 <= c <= c2 and r1 <= r <= r2:
                    out.update(keys)
        for b1, b2, b3, b4, k in self.large.get(sheet, ()):
            if b1 <= c2 and b3 >= c1 and b2 <= r2 and b4 >= r1:
                out.add(k)
        out.discard(key)
        return out


def volatile_names(scan: WorkbookScan) -> set[str]:
    """The defined names (upper case) whose formula calls a volatile function, directly or
    through another such name."""
    formulas: dict[str, str] = {k.upper(): v for k, v in scan.names.items()}
    for (_sheet, k), v in scan.sheet_names.items():
        formulas.setdefault(k.upper(), v)
    found = {k for k, v in formulas.items() if _VOLATILE_CALL.search(v or "")}
    for _ in range(8):
        more = {k for k, v in formulas.items() if k not in found and found.intersection(_WORD.findall((v or "").upper()))}
        if not more:
            break
        found |= more
    return found


_VOLATILE_CALL = re.compile(r"(?<![\w.])(?:_xlfn\.)?(?:%s)\s*\(" % "|".join(sorted(VOLATILE)), re.IGNORECASE)
_WORD = re.compile(r"[A-Z_\\][\w.\\]*")


def mentions_volatile(text: str, named: set[str]) -> bool:
    """The text may call a volatile function, directly or through one of the ``named`` names
    (:func:`volatile_names`); read it to be sure."""
    return bool(_VOLATILE_CALL.search(text) or (named and named.intersection(_WORD.findall(text.upper()))))


def stored_values(scan: WorkbookScan) -> dict[Key, Any]:
    """The value each formula cell stores, decoded (once per scan)."""
    if scan._stored is None:
        scan._stored = _decode_stored(scan)
    return scan._stored


def _decode_stored(scan: WorkbookScan) -> dict[Key, Any]:
    out: dict[Key, Any] = {}
    for s in scan.sheets:
        for f in s.formulas:
            if f.cached is None:
                continue
            try:
                out[(s.name, f.ref)] = decode_cached(f.cached_type, f.cached)
            except (ValueError, IndexError):
                continue  # a shared-string index (t="s"): compared as changed
    return out


def _changed(node: _Node, values: Mapping[str, Mapping[str, Any]], stored: Mapping[Key, Any]) -> bool:
    """Did the node's value change? An array formula counts as changed whenever it is recomputed
    (the values of the cells it fills other than the first are not read)."""
    if len(node.cells) > 1:
        return True
    got = values.get(node.key[0], {})
    if node.key[1] not in got:
        return False
    if node.key not in stored:
        return True
    return not same_value(got[node.key[1]], stored[node.key])


def same_value(a: Any, b: Any) -> bool:
    """Equal as Excel shows them: numbers to 15 significant figures, text exactly, errors by kind."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or abs(a - b) <= 1e-15 * max(abs(a), abs(b))
    if a is None or b is None:
        return (a in (None, "")) and (b in (None, ""))
    if is_error(a) or is_error(b):
        return str(a) == str(b)
    return a == b


@dataclass
class Meaning:
    """Cells whose stored value was a number, text or boolean and whose recomputed value is an
    error. ``kept``: those that keep their stored value — the engine does not know a function or
    name the cell uses (#NAME?), and the cells whose new error comes only from such a cell."""

    kept: dict[Key, str] = field(default_factory=dict)  # cell -> why
    errors: dict[Key, Any] = field(default_factory=dict)  # written: cell -> the new error


def guard_meaning(scan: WorkbookScan, selection: Selection, graph: Graph | None = None,
                  failed_calls: Iterable[Key] = (), reported: Iterable[Key] = (), kept: Iterable[Key] = ()) -> Meaning:
    """Never a silent change of meaning (see :class:`Meaning`); removes the kept cells from
    ``selection``. Errors that follow from an STP_* call refusing an input (``failed_calls``, the
    cells of the calls) are the diagnosis's to explain, and cells already ``reported`` (a sheet
    that does not exist) their own: neither is listed here. A file that asks for a full
    recalculation stores no values of its own (placeholders): only the kept cells are listed.
    ``kept``: cells that already keep their stored value (links to other workbooks): a cell whose
    new error comes only from them keeps its value too."""
    new = [((sheet, cell), v) for sheet, cells in selection.values.items() for cell, v in cells.items()
           if not isinstance(v, float) and is_error(v)]  # the new errors (the stored values only for those)
    if not new:
        return Meaning()
    stored = selection.stored if selection.stored is not None else stored_values(scan)
    turned = {k: v for k, v in new if k in stored and not is_error(stored[k]) and stored[k] not in (None, "")}
    out = Meaning()
    if not turned:
        return out
    graph = graph or Graph(scan)
    from_calls = _reachable(graph, [k for k in failed_calls if k in graph.nodes])
    skip = from_calls | set(reported)
    named = [k for k, v in turned.items() if str(v).upper() == "#NAME?" and k not in skip]
    kept = [k for k in kept if k in graph.nodes]
    behind = _descendants(graph, named + kept)
    unknown = [k for k in named if k not in behind]  # the cells where #NAME? starts
    for k in unknown:
        out.kept[k] = _unknown_why(scan, k)
    for k, v in turned.items():
        if k in out.kept:
            continue
        if k in behind:
            out.kept[k] = f"computed from {len(unknown) + len(kept)} cell(s) that keep their stored value"
        elif k not in skip and not scan.full_calc_on_load:
            out.errors[k] = v
    for (sheet, cell) in out.kept:
        selection.values.get(sheet, {}).pop(cell, None)
    return out


def _descendants(graph: Graph, start: list[Key]) -> set[Key]:
    """The cells downstream of any of ``start`` (a start cell only if it reads another)."""
    seen: set[Key] = set()
    queue = deque(d for k in start for d in graph.dependents(k))
    while queue:
        k = queue.popleft()
        if k not in seen:
            seen.add(k)
            queue.extend(graph.dependents(k))
    return seen


def _reachable(graph: Graph, start: list[Key]) -> set[Key]:
    seen, queue = set(start), deque(start)
    while queue:
        for d in graph.dependents(queue.popleft()):
            if d not in seen:
                seen.add(d)
                queue.append(d)
    return seen


def _unknown_why(scan: WorkbookScan, key: Key) -> str:
    """Why a #NAME? cell keeps its stored value, naming the functions Excel itself does not define
    (a VBA function, another add-in's), or else the names it uses."""
    from openpyxl.utils.formulas import FORMULAE

    text = next((f.text for s in scan.sheets if s.name == key[0] for f in s.formulas if f.ref == key[1]), None) or ""
    called = sorted(set(function_names(text)))
    foreign = [fn for fn in called if fn.upper() not in FORMULAE and not fn.upper().startswith(("_XLFN.", "_XLWS."))]
    if foreign:
        shown = ", ".join(f"{fn}()" for fn in foreign[:3])
        return f"calls {shown}, not a function the engines know (a VBA or add-in function?): keeps the value stored in the file"
    shown = ", ".join(f"{fn}()" for fn in called[:3]) or "a defined name"
    return f"evaluates to #NAME? here ({shown}): keeps the value stored in the file"


#: Numbers agree to nine significant figures (Excel stores seventeen; engines differ in the last bits).
REL_TOL = 1e-9


def agree(ours: Any, excel: Any) -> bool:
    """Does an engine's value show what Excel stored?"""
    if isinstance(excel, bool) or isinstance(ours, bool):
        return type(excel) is type(ours) and excel == ours
    if isinstance(excel, (int, float)) and isinstance(ours, (int, float)):
        return abs(ours - excel) <= REL_TOL * max(1.0, abs(excel), abs(ours))
    if excel in (None, "") or ours in (None, ""):
        return excel in (None, "") and ours in (None, "")
    if is_error(excel) or is_error(ours):
        return is_error(excel) and is_error(ours) and str(excel).strip().upper() == str(ours).strip().upper()
    return excel == ours

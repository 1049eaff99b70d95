"""Nothing to recompute: a workbook whose STP_* results come out as the file stores them.

By default a regeneration follows Excel's semantics (:mod:`.recalc`): the seeds are the STP_*
cells, volatile cells and formula cells with no stored value, and what is downstream of a seed
whose value changed. A workbook with no seed at all (one Excel saved, with nothing volatile) has
nothing to recompute. When the only seeds are STP_* cells, each call can be computed from what the
file stores — its input cells, and the stored values of the formula cells it reads, which Excel's
semantics trust as long as nothing upstream of them changed. If every call then gives the value
stored in its cells, no value changed, nothing downstream is dirty, and nothing else is recomputed:
no engine is needed, as Excel recomputes nothing on opening such a file. That is the case of a
workbook regenerated again with the same inputs (a nightly run over files nobody touched since).

The first call that gives another value hands the workbook to the engine as before, and so does
anything this cannot settle from the file alone: a volatile or unstored formula cell, a call that
is not the whole formula of its cell or has an expression argument, a range on a sheet the fast
reader did not take or larger than :data:`MAX_CELLS`, a call that fails or warns (the engine's
path reports it at the input cell).
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path
from typing import Any

from udfs.excel import as_argument

from .cells import bounds, column_letter, expand
from .diagnose import as_excel, evaluate, failed, fit_result
from .formula import RANGE, Token, parse_arg, split_call, tokens
from .engines.base import Registry
from .package import Package, WorkbookError
from .recalc import STP, Parser, Selection, mentions_volatile, same_value, stored_values, volatile_names
from .scan import FormulaCell, WorkbookScan, constants

#: The most cells one argument may span and still be read from the file.
MAX_CELLS = 100_000
#: What the report adds when no engine was needed.
SETTLED = "every STP_* result is the value stored, so nothing downstream changed and no engine was started"
#: ... and when the workbook has no STP_* cell either (a workbook Excel saved, with nothing volatile).
NOTHING = ("no formula cell needed recomputing (no STP_*, volatile or unstored cell): every cell keeps the value "
           "Excel stored, and no engine was started")


def described(selection: Selection) -> str:
    """The report's words for a regeneration :func:`settled` settled."""
    return f"{selection.describe()}: {SETTLED}" if selection.reasons else NOTHING


def settled(scan: WorkbookScan, registry: Registry, source: Package | Path | str) -> Selection | None:
    """The selection of a regeneration with nothing to recompute (every STP_* call gives the value
    stored: the values written are the stored ones), or None when the engine is needed."""
    if not _only_stp_seeds(scan):
        return None
    calls = _calls(scan, registry, scan.stp_cells())
    if calls is None:
        return None
    reader = _Reader(scan, source, calls)
    if not reader.ok:
        return None
    values: dict[str, dict[str, Any]] = {}
    for cell, fn, parsed in calls:
        args = reader.arguments(parsed)
        if args is None:
            return None
        outcome = evaluate(fn, args)
        if outcome.error is not None or outcome.warnings or failed(outcome.result):
            return None  # the engine's path says why, at the input cell
        target = cell.array_ref or cell.ref
        block = fit_result(as_excel(outcome.result), target, keep_types=True)
        for name, v in zip(expand(target), [v for row in block for v in row]):
            if v is None or not same_value(v, reader.value(cell.sheet, name)):
                return None
            values.setdefault(cell.sheet, {})[name] = v
    n = sum(len(v) for v in values.values())
    return Selection(values, Counter({STP: n} if n else {}), stored=stored_values(scan))


def _only_stp_seeds(scan: WorkbookScan) -> bool:
    """No formula cell without a stored value, and none that calls a volatile function."""
    parser, named = Parser(scan), volatile_names(scan)
    for s in scan.sheets:
        for f, text, _master in s.texts():
            if f.cached is None:
                return False
            if text is None or (mentions_volatile(text, named) and parser.reads(text, s.name).volatile):
                return False
    return True


def _calls(scan: WorkbookScan, registry: Registry, cells: list[FormulaCell]) -> list | None:
    """(cell, function, parsed arguments) of every STP_* cell; None when one is not a whole call
    of a registered function with references and literals as arguments."""
    out = []
    for cell in cells:
        split = split_call(cell.text or "")
        fn = registry.resolve(split[0]) if split else None
        if fn is None:
            return None
        parsed = [parse_arg(a, cell.sheet, scan.names) for a in split[1]]
        if cell.kind == "array" and any(k == "unsupported" for k, _v in parsed):
            return None  # an expression in an array formula is an array: the engine's
        parsed = [("sum", (cell.sheet, v)) if k == "unsupported" else (k, v) for k, v in parsed]
        out.append((cell, fn, parsed))
    return out


class _Reader:
    """The values the file stores for the cells the calls read (formula cells: their stored
    values; other cells: read from the sheet once per sheet) and for the cells the calls fill."""

    def __init__(self, scan: WorkbookScan, source: Package | Path | str, calls: list):
        self.stored = stored_values(scan)
        self.names = scan.names
        sheets = {s.name: s for s in scan.sheets}
        wanted: dict[str, set[str]] = {}
        self.ok = True
        for cell, _fn, parsed in calls:
            wanted.setdefault(cell.sheet, set()).update(expand(cell.array_ref or cell.ref))
            for k, v in parsed:
                if k == "sum":
                    refs = _arithmetic_refs(v[1], v[0], scan.names)
                    if refs is None:
                        self.ok = False
                        return
                    for sheet_name, ref in refs:
                        if sheet_name not in sheets:
                            self.ok = False
                            return
                        wanted.setdefault(sheet_name, set()).add(ref)
                    continue
                if k != "ref":
                    continue
                c1, r1, c2, r2 = bounds(v[1])
                if v[0] not in sheets or (c2 - c1 + 1) * (r2 - r1 + 1) > MAX_CELLS:
                    self.ok = False
                    return
                wanted.setdefault(v[0], set()).update(expand(v[1]))
        self.inputs: dict[str, dict[str, Any]] = {}
        for name, refs in wanted.items():
            refs = {r for r in refs if (name, r) not in self.stored}
            try:
                got = constants(source, sheets[name], refs, partial=True) if refs else {}
            except WorkbookError:
                got = None
            if got is None:
                self.ok = False
                return
            self.inputs[name] = got

    def value(self, sheet: str, ref: str) -> Any:
        key = (sheet, ref)
        return self.stored[key] if key in self.stored else self.inputs.get(sheet, {}).get(ref)

    def arguments(self, parsed: list) -> list[Any] | None:
        """The arguments as Excel passes them; None when an expression cannot be worked out here."""
        args: list[Any] = []
        for k, v in parsed:
            if k == "sum":
                got = _arithmetic(v[1], v[0], self.names, self.value)
                if got is None:
                    return None
                args.append(got)
                continue
            if k != "ref":
                args.append(v)
                continue
            c1, r1, c2, r2 = bounds(v[1])
            args.append(as_argument([[self.value(v[0], f"{column_letter(c)}{r}") for c in range(c1, c2 + 1)]
                                     for r in range(r1, r2 + 1)]))
        return args


# ---- arithmetic arguments ------------------------------------------------------------------------

#: Infix operators: precedence (higher binds tighter) and what they compute. Excel's prefix minus
#: binds tighter than ^ (-2^2 is 4), and ^ is left-associative (2^3^2 is 64).
_INFIX = {"+": (1, lambda a, b: a + b), "-": (1, lambda a, b: a - b), "*": (2, lambda a, b: a * b),
          "/": (2, lambda a, b: a / b), "^": (3, lambda a, b: a ** b)}


def _arithmetic_refs(text: str, sheet: str, names: dict[str, str]) -> list[tuple[str, str]] | None:
    """The single cells an arithmetic expression reads, (sheet, cell); None unless it is numbers
    and single-cell references (or names of one) joined by + - * / ^, prefix signs and brackets."""
    toks = tokens(text)
    if toks is None:
        return None
    out = []
    for start, end, type_, subtype in toks:
        token = text[start:end]
        if type_ == Token.OPERAND and subtype == RANGE:
            kind, ref = parse_arg(token, sheet, names)
            if kind != "ref" or ":" in ref[1]:
                return None
            out.append((ref[0], ref[1]))
        elif not ((type_ == Token.OPERAND and subtype == Token.NUMBER) or (type_ == Token.OP_IN and token in _INFIX)
                  or (type_ == Token.OP_PRE and token in "+-") or type_ == Token.PAREN):
            return None
    return out


def _apply(out: list[float], op: str) -> bool:
    """Apply ``op`` to the operands on top of ``out``; False where Excel's answer is not settled here."""
    if op == "neg":
        out.append(-out.pop())
        return True
    b, a = out.pop(), out.pop()
    if op == "^" and a == 0 and b == 0:
        return False  # Excel: #NUM!
    try:
        r = _INFIX[op][1](a, b)
    except (ZeroDivisionError, OverflowError):
        return False
    if not isinstance(r, float) or r != r or r in (float("inf"), float("-inf")):
        return False
    if op in "+-" and r != 0 and abs(r) <= 1e-14 * max(abs(a), abs(b)):
        return False
    out.append(r)
    return True


def _arithmetic(text: str, sheet: str, names: dict[str, str], value) -> float | None:
    """An arithmetic expression (see :func:`_arithmetic_refs`) worked out from the stored values as
    Excel would, or None for anything this does not settle: a cell that is not a number or blank,
    a division by zero, an overflow, a sum or difference within rounding of zero (Excel may show 0)."""
    out: list[float] = []
    ops: list[str] = []
    apply = functools.partial(_apply, out)
    toks = tokens(text)
    if toks is None:
        return None
    for start, end, type_, subtype in toks:
        token = text[start:end]
        if type_ == Token.OPERAND:
            if subtype == Token.NUMBER:
                out.append(float(token))
                continue
            kind, ref = parse_arg(token, sheet, names)
            v = value(*ref) if kind == "ref" and ":" not in ref[1] else "?"
            if v is None:
                v = 0.0
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return None
            out.append(float(v))
        elif type_ == Token.OP_PRE:
            if token == "-":
                ops.append("neg")
        elif type_ == Token.OP_IN:
            if token not in _INFIX:
                return None  # & or a comparison: not arithmetic
            level = _INFIX[token][0]
            while ops and ops[-1] != "(" and (ops[-1] == "neg" or _INFIX[ops[-1]][0] >= level):
                if not apply(ops.pop()):
                    return None
            ops.append(token)
        elif type_ == Token.PAREN and subtype == Token.OPEN:
            ops.append("(")
        elif type_ == Token.PAREN and subtype == Token.CLOSE:
            while ops and ops[-1] != "(":
                if not apply(ops.pop()):
                    return None
            if not ops:
                return None
            ops.pop()
        else:
            return None  # a function, a range, text…: not arithmetic
    while ops:
        op = ops.pop()
        if op == "(" or not apply(op):
            return None
    return out[0] if len(out) == 1 else None

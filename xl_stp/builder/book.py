"""The sheet writer every sheet module uses: a workbook whose cells keep their values.

:class:`Book` wraps an xlsxwriter workbook with the house formats (FAST / ICAEW: inputs blue,
formulas black, negatives in brackets) and :class:`Sheet` writes labels, inputs, ordinary formulas
and STP_* calls, each formula with its value, and remembers every value it wrote so that later
formulas can be given theirs. STP_* values come from the functions of the one registry, called with
the cells as Excel passes them (:func:`udfs.excel.as_argument`).

The workbooks guard themselves (FAST-style error checks). An STP_* call written with ``check=``
is a *block*: the builder knows the size of the table it spills, and the block's error check (a
cell named ``err_...``, :mod:`~xl_stp.builder.calculations` writes them) counts its cells that do
not hold a number: an error value, an ``#STP!`` message (text, as a failed call shows in classic
Excel) or a blank where the table did not spill. :meth:`Sheet.guarded` writes a formula that reads
cells of a block as ``=IF(err_...>0,NA(),...)``, so that a total over a failed block is ``#N/A``,
never a part-figure; formulas further down get the error as Excel passes errors on.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

from udfs.excel import as_argument, is_error
from udfs.registry import REGISTRY

from .arithmetic import any_blank, blank_test, text_formula

BLUE, BLACK, GREY, HEAD_FILL = "#0000FF", "#000000", "#595959", "#DCE6F1"
#: The fill of an input cell, so that an empty template shows where figures go.
INPUT_FILL = "#FFF9E5"
#: Number formats by units: negatives in brackets, nil as '-'.
FMT = {
    "£000": '#,##0;(#,##0);"-"',
    "£m": '#,##0.0;(#,##0.0);"-"',
    "%": '0.00"%";(0.00"%");"-"',
    "years": '0.00',
    "beds": '#,##0',
    "count": '#,##0',
    "unit": "General",
    "ratio": '0.00%;(0.00%);"-"',
}
#: Cell styles other than a number format (``total:<units>`` is a bold total over a rule).
STYLES: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 14},
    "heading": {"bold": True, "font_size": 11, "bottom": 1},
    "colhead": {"bold": True, "bg_color": HEAD_FILL, "align": "right", "text_wrap": True},
    "rowhead": {"bold": True, "bg_color": HEAD_FILL},
    "note": {"italic": True, "font_color": GREY},
    "source": {"font_color": GREY, "font_size": 8},
    "status": {"bold": True},
    "wrap": {"text_wrap": True, "valign": "top"},
    "key": {"bold": True, "valign": "top"},
    "colhead2": {"bold": True, "bg_color": HEAD_FILL, "align": "right", "valign": "bottom", "text_wrap": True},
    "text": {},
}
BUILT_BY = "xl-stp build (xl_stp/builder)"


#: The error value a guarded formula gives when a block it reads reports a problem (``NA()``).
NA = "#N/A"


def stored(v: Any) -> Any:
    """A value as the file stores it: floats to 15 significant digits, Excel's precision (so that
    -10.399999999999991 is -10.4 wherever it appears)."""
    return float(f"{v:.15g}") if isinstance(v, float) else v


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def excel_sum(values: Sequence[Any]) -> Any:
    """``SUM`` as Excel works it out: the first error value wins; text and blanks are ignored."""
    for v in values:
        if is_error(v):
            return v
    return sum((float(v) for v in values if is_number(v)), 0.0)


#: Text that arithmetic reads as a number without ambiguity (``'1.4'``); other text (``'12,000'``,
#: an ``#STP!`` message) gives ``#VALUE!``, as LibreOffice's default and the formulas package do.
PLAIN_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def excel_arithmetic(terms: Sequence[tuple[Any, float]]) -> Any:
    """``a*f + b*g + ...`` as Excel works it out: an error value passes on, text gives ``#VALUE!``
    unless it is a plain number (the first of them from the left), a blank is 0."""
    total = 0.0
    for v, factor in terms:
        if is_error(v):
            return v
        if isinstance(v, str):
            if not PLAIN_NUMBER.fullmatch(v):
                return "#VALUE!"
            v = float(v)
        total += factor * (v or 0.0)
    return total + 0.0


def excel_link(v: Any) -> Any:
    """``=A1`` as Excel shows it: a blank cell as 0."""
    return 0.0 if v is None else v


@dataclass(frozen=True)
class Block:
    """An STP_* call's spilled table and its error check.

    ``name`` is the defined name of the check's cell (``err_acute_funding``), ``label`` says what
    the call computes, ``anchor`` is its cell (``Calculations!B58``), ``cells`` the range it spills
    (``$B$58:$G$65``), ``problems`` its cells that do not hold a number as built (0 in the
    reference workbook)."""

    name: str
    label: str
    anchor: str
    cells: str
    problems: int
    parts: tuple = ()  # the label as parts of a text formula over the Inputs (a programme's name), if so


@dataclass
class Sheet:
    book: "Book"
    name: str
    ws: Any
    values: dict[tuple[int, int], Any] = field(default_factory=dict)

    def ref(self, row: int, col: int, absolute: bool = True, sheet: bool = True) -> str:
        cell = xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)
        return f"{self.name}!{cell}" if sheet else cell

    def rng(self, r1: int, c1: int, r2: int, c2: int) -> str:
        a = xl_rowcol_to_cell(r1, c1, row_abs=True, col_abs=True)
        b = xl_rowcol_to_cell(r2, c2, row_abs=True, col_abs=True)
        return f"{self.name}!{a}:{b}"

    def label(self, row: int, col: int, text: str, fmt: str = "label") -> None:
        self.ws.write_string(row, col, text, self.book.fmt(fmt))
        self.values[(row, col)] = text

    def value(self, row: int, col: int, value: Any, fmt: str, blue: bool = True) -> None:
        """A constant (an input: blue on a pale fill, so that an empty template shows where figures
        go; ``blue=False``: a fixed constant, black)."""
        f = self.book.fmt(fmt, colour=BLUE if blue else BLACK, fill=INPUT_FILL if blue else None)
        value = stored(value)
        if value is None:
            self.ws.write_blank(row, col, None, f)
        elif isinstance(value, str):
            self.ws.write_string(row, col, value, f)
        else:
            self.ws.write_number(row, col, value, f)
        self.values[(row, col)] = value

    def formula(self, row: int, col: int, formula: str, value: Any, fmt: str) -> Any:
        """An ordinary formula with its value."""
        value = stored(value)
        self.ws.write_formula(row, col, formula, self.book.fmt(fmt), value)
        self.values[(row, col)] = value
        return value

    def guarded(self, row: int, col: int, expression: str, reads: Sequence[str], value: Any, fmt: str,
                also: Sequence[str] = ()) -> Any:
        """``=expression``, or ``=IF(err_a+err_b>0,NA(),expression)`` when it reads cells of STP_*
        blocks (``reads``: the cells and ranges it refers to; ``also``: the error checks of blocks it
        depends on through other cells, such as a SUMIF over links to them): ``#N/A`` while a block
        reports a problem, never a part-figure. ``value`` is the expression's own value."""
        names = self.book.blocks_read(reads)
        names += [n for n in also if n not in names]
        if not names:
            return self.formula(row, col, f"={expression}", value, fmt)
        if any(self.book.blocks[n].problems for n in names):
            value = NA
        return self.formula(row, col, f"=IF({'+'.join(names)}>0,NA(),{expression})", value, fmt)

    def link(self, row: int, col: int, cell: str, fmt: str, unless: str | Sequence[str] | None = None) -> Any:
        """``=Sheet!$C$9`` (guarded when it reads a block): the cell's value, a blank as 0; with
        ``unless`` (a name cell, or several), nothing while a name is blank (an unused row of the
        template)."""
        value = excel_link(self.book.excel_value(cell))
        if unless is None:
            return self.guarded(row, col, cell, [cell], value, fmt)
        blank = any_blank(unless, self.book.excel_value)
        return self.guarded(row, col, f'IF({blank_test(unless)},"",{cell})', [cell], "" if blank else value, fmt)

    def text(self, row: int, col: int, parts: Sequence[str], fmt: str = "label", unless: str | Sequence[str] | None = None) -> Any:
        """A label or title worked out from Inputs: ``=Inputs!$A$9&" (£000)"`` (see
        :mod:`~xl_stp.builder.arithmetic`); blank while the name cell ``unless`` is blank."""
        formula, value = text_formula(parts, self.book.excel_value, unless)
        return self.formula(row, col, formula, value, fmt)

    def row_sum(self, row: int, first: int, last: int, fmt: str) -> Any:
        """``=SUM`` of columns first..last of a row, in the next column (guarded when the row is
        part of a block); returns its value."""
        cells = self.rng(row, first, row, last)
        value = excel_sum([self.values.get((row, j)) for j in range(first, last + 1)])
        return self.guarded(row, last + 1, f"SUM({cells.split('!')[1]})", [cells], value, fmt)

    def udf(self, row: int, col: int, name: str, args: Sequence[str | None], fmt: str,
            check: tuple[str, str, tuple[int, int]] | None = None, given: dict[int, Any] | None = None) -> list[list[Any]]:
        """``=STP_X(args)`` as the whole formula of its cell, spilling; the value computed by the
        registry's function from the argument cells as Excel passes them.

        ``check=(name, label, (rows, columns))`` makes it a block (:class:`Block`) of that size,
        with an error check named ``name``. A failed call (an ``#STP!`` message) is written as
        classic Excel shows it: the message in its cell, the rest of the block blank. ``given``: the
        values of arguments written as expressions (``IF(D7="",E7,D7)``), by position."""
        given = given or {}
        result = REGISTRY[name](*(given[i] if i in given else None if a is None else self.book.excel_value(a)
                                  for i, a in enumerate(args)))
        text = f"={name}({','.join('' if a is None else a for a in args)})"
        block = [[stored(v) for v in line] for line in result] if isinstance(result, list) else [[stored(result)]]
        failed = isinstance(result, str) and result.startswith("#STP!")
        if self.book.strict and failed:
            raise RuntimeError(f"{self.name}!{xl_rowcol_to_cell(row, col)}: {text} gave {result}")
        self._write_block(row, col, text, block, self.book.fmt(fmt))
        for i, line in enumerate(block):
            for j, v in enumerate(line):
                self.values[(row + i, col + j)] = v
        if check:
            flag, label, (n_rows, n_cols) = check
            parts = tuple(label) if isinstance(label, list) else ()
            label = text_formula(parts, self.book.excel_value)[1] if parts else label
            if not failed and (len(block), len(block[0])) != (n_rows, n_cols):
                raise RuntimeError(f"{self.name}!{xl_rowcol_to_cell(row, col)}: {text} spills {len(block)} x "
                                   f"{len(block[0])}, the layout expects {n_rows} x {n_cols}")
            footprint = [(row + i, col + j) for i in range(n_rows) for j in range(n_cols)]
            problems = sum(1 for cell in footprint if not is_number(self.values.get(cell)))
            self.book.add_block(Block(flag, label, f"{self.name}!{xl_rowcol_to_cell(row, col)}",
                                      self.rng(row, col, row + n_rows - 1, col + n_cols - 1).split("!")[1], problems,
                                      parts),
                                self.name, footprint)
        return block

    def _write_block(self, row: int, col: int, text: str, block: list[list[Any]], f: Any) -> None:
        """One cell's formula, or a dynamic array formula and the values it spills."""
        if len(block) == 1 and len(block[0]) == 1:
            self.ws.write_formula(row, col, text, f, block[0][0])
            return
        last_r, last_c = row + len(block) - 1, col + len(block[0]) - 1
        self.ws.write_dynamic_array_formula(row, col, last_r, last_c, text, f, block[0][0])
        for i, line in enumerate(block):
            for j, v in enumerate(line):
                if i or j:
                    (self.ws.write_string if isinstance(v, str) else self.ws.write_number)(row + i, col + j, v, f)


class Book:
    def __init__(self, path: Path, title: str, strict: bool = True):
        self.strict = strict  # a #STP! result is a bug in a workbook built from a plan's figures
        self.wb = xlsxwriter.Workbook(str(path))
        self.wb.calc_on_load = False  # the cached values are right; do not ask readers to recalculate
        self.wb.set_properties({"title": title, "author": "xl-stp",
                                "created": datetime(2016, 11, 21),  # the plan's date: rebuilds give the same bytes
                                "comments": f"Built by {BUILT_BY}"})
        self.sheets: dict[str, Sheet] = {}
        self._formats: dict[tuple, Any] = {}
        self.blocks: dict[str, Block] = {}  # by the name of its error check, in the order written
        self._block_of: dict[tuple[str, int, int], str] = {}  # (sheet, row, col) -> its block's name
        self.names: dict[str, str] = {}  # defined names of single cells -> the cell

    def add_block(self, block: Block, sheet: str, footprint: Sequence[tuple[int, int]]) -> None:
        if block.name in self.blocks:
            raise ValueError(f"two blocks named {block.name}")
        self.blocks[block.name] = block
        for r, c in footprint:
            self._block_of[(sheet, r, c)] = block.name

    def blocks_read(self, references: Sequence[str]) -> list[str]:
        """The names of the blocks whose cells these references (``Sheet!A1``, ``Sheet!A1:B2``)
        read, in the order the blocks were written."""
        hit = set()
        for reference in references:
            if "!" not in reference:
                continue
            name, cells = reference.split("!")
            parts = cells.replace("$", "").split(":")
            r1, c1 = xl_cell_to_rowcol(parts[0])
            r2, c2 = xl_cell_to_rowcol(parts[-1])
            hit.update(self._block_of[(name, r, c)] for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
                       if (name, r, c) in self._block_of)
        return [n for n in self.blocks if n in hit]

    def sheet(self, name: str) -> Sheet:
        s = Sheet(self, name, self.wb.add_worksheet(name))
        self.sheets[name] = s
        return s

    def fmt(self, kind: str, colour: str = BLACK, fill: str | None = None) -> Any:
        key = (kind, colour, fill)
        if key not in self._formats:
            props: dict[str, Any] = {"font_name": "Arial", "font_size": 10, "font_color": colour}
            if fill:
                props["bg_color"] = fill
            if kind in FMT:
                props["num_format"] = FMT[kind]
            elif kind in STYLES:
                props.update(STYLES[kind])
            elif kind.startswith("total"):
                base = kind.split(":")[1]
                props.update(bold=True, top=1, num_format=FMT[base])
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def excel_value(self, reference: str) -> Any:
        """A cell or range as xlwings hands it to a UDF with ndim=2: a list of rows, None for blanks;
        a single cell as a scalar. A literal argument ("text", TRUE, a number) as its value."""
        if reference in self.names:
            return self.excel_value(self.names[reference])
        if "!" not in reference:  # a literal argument
            if reference.startswith('"'):
                return reference.strip('"')
            if reference.upper() in ("TRUE", "FALSE"):
                return reference.upper() == "TRUE"
            return float(reference)
        name, cells = reference.split("!")
        sheet = self.sheets[name]
        parts = cells.replace("$", "").split(":")
        r1, c1 = xl_cell_to_rowcol(parts[0])
        r2, c2 = xl_cell_to_rowcol(parts[-1])
        return as_argument([[sheet.values.get((r, c)) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)])

    def define(self, name: str, cell: str) -> None:
        """A workbook-wide name for one cell (``unit_thousands`` -> ``Inputs!$C$11``)."""
        self.wb.define_name(name, f"={cell}")
        self.names[name] = cell

    def close(self) -> None:
        """Write the file; a formula whose text result is empty is marked as text (``t="str"``),
        as Excel and the batch engine store it (xlsxwriter leaves its type out)."""
        self.wb.close()
        mark_empty_text(Path(self.wb.filename))


_EMPTY_TEXT = re.compile(rb'<c r="([A-Z]+[0-9]+)"( s="[0-9]+")?><f>((?:(?!</f>).)*)</f><v></v></c>', re.S)


def mark_empty_text(path: Path) -> None:
    """Rewrite the worksheets of ``path``: ``<c r="A6"><f>...</f><v></v></c>`` gets ``t="str"``."""
    with zipfile.ZipFile(path) as z:
        members = [(info, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            if info.filename.startswith("xl/worksheets/sheet"):
                data = _EMPTY_TEXT.sub(rb'<c r="\1"\2 t="str"><f>\3</f><v></v></c>', data)
            z.writestr(info, data)

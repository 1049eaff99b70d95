"""The sheet writer every sheet module uses: a workbook whose cells keep their values.

:class:`Book` wraps an xlsxwriter workbook with the house formats (FAST / ICAEW: inputs blue,
formulas black, negatives in brackets) and :class:`Sheet` writes labels, inputs, ordinary formulas
and STP_* calls, each formula with its value, and remembers every value it wrote so that later
formulas can be given theirs. STP_* values come from the functions of the one registry, called with
the cells as Excel passes them (:func:`udfs.excel.as_argument`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

from udfs.excel import as_argument
from udfs.registry import REGISTRY

BLUE, BLACK, GREY, HEAD_FILL = "#0000FF", "#000000", "#595959", "#DCE6F1"
#: Number formats by units: negatives in brackets, nil as '-'.
FMT = {
    "£000": '#,##0;(#,##0);"-"',
    "£m": '#,##0.0;(#,##0.0);"-"',
    "%": '0.00"%";(0.00"%");"-"',
    "years": '0.00',
    "beds": '#,##0',
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
}
TITLE = "LLR STP 2016 finance and capital"
BUILT_BY = "xl-stp build (xl_stp/builder) from xl_stp/llr/data/llr_stp_2016.csv"


def stored(v: Any) -> Any:
    """A value as the file stores it: floats to 15 significant digits, Excel's precision (so that
    -10.399999999999991 is -10.4 wherever it appears)."""
    return float(f"{v:.15g}") if isinstance(v, float) else v


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

    def value(self, row: int, col: int, value: Any, fmt: str, blue: bool = True) -> None:
        """A constant (an input: blue)."""
        f = self.book.fmt(fmt, colour=BLUE if blue else BLACK)
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

    def row_sum(self, row: int, first: int, last: int, fmt: str) -> Any:
        """``=SUM`` of columns first..last of a row, in the next column; returns its value."""
        value = sum(self.values[(row, j)] for j in range(first, last + 1))
        return self.formula(row, last + 1, f"=SUM({self.rng(row, first, row, last).split('!')[1]})", value, fmt)

    def udf(self, row: int, col: int, name: str, args: Sequence[str | None], fmt: str) -> list[list[Any]]:
        """``=STP_X(args)`` as the whole formula of its cell, spilling; the value computed by the
        registry's function from the argument cells as Excel passes them."""
        result = REGISTRY[name](*(None if a is None else self.book.excel_value(a) for a in args))
        text = f"={name}({','.join('' if a is None else a for a in args)})"
        block = [[stored(v) for v in line] for line in result] if isinstance(result, list) else [[stored(result)]]
        if self.book.strict and isinstance(result, str) and result.startswith("#STP!"):
            raise RuntimeError(f"{self.name}!{xl_rowcol_to_cell(row, col)}: {text} gave {result}")
        self._write_block(row, col, text, block, self.book.fmt(fmt))
        for i, line in enumerate(block):
            for j, v in enumerate(line):
                self.values[(row + i, col + j)] = v
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
    def __init__(self, path: Path, strict: bool = True):
        self.strict = strict  # a #STP! result is a bug in the reference workbook (not in the empty template)
        self.wb = xlsxwriter.Workbook(str(path))
        self.wb.calc_on_load = False  # the cached values are right; do not ask readers to recalculate
        self.wb.set_properties({"title": TITLE, "author": "xl-stp",
                                "created": datetime(2016, 11, 21),  # the plan's date: rebuilds give the same bytes
                                "comments": f"Built by {BUILT_BY}"})
        self.sheets: dict[str, Sheet] = {}
        self._formats: dict[tuple, Any] = {}

    def sheet(self, name: str) -> Sheet:
        s = Sheet(self, name, self.wb.add_worksheet(name))
        self.sheets[name] = s
        return s

    def fmt(self, kind: str, colour: str = BLACK) -> Any:
        key = (kind, colour)
        if key not in self._formats:
            props: dict[str, Any] = {"font_name": "Arial", "font_size": 10, "font_color": colour}
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

    def num(self, reference: str) -> float:
        """A single cell's value as Excel's arithmetic sees it: a blank is 0."""
        v = self.excel_value(reference)
        return 0.0 if v is None else v

    def close(self) -> None:
        self.wb.close()

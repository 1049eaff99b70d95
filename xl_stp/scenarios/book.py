"""The workbook as a scenario sees it: every cell's stored value, which cells are inputs, and
references to cells written the ways a finance team writes them.

A reference is one of:

- ``Sheet!B5`` or ``Sheet!B5:E9`` (dollars allowed, quotes for a sheet name with spaces);
- a defined name (``footprint``) that refers to one range of one sheet;
- a **label reference** ``Sheet!{Block > Row @ Column}``, found by the texts in column A (and a
  header row), so that it still points at the same figures when rows are inserted:

  * ``Inputs!{Funding waterfall 1 > PF2}``: in the block whose title starts *Funding waterfall 1*,
    the row labelled *PF2*: its cells under the year headings (2016/17, 2017/18 ...);
  * ``Inputs!{Capital programme 1}``: every line of the block (the rows between its year headings
    and its first *Total* or *as stated* row), under the year headings;
  * ``@ Disposals`` / ``@ Total`` / ``@ 2019/20``: the column with that heading instead of the years.

  A label matches a cell's text exactly or as its beginning, ignoring case; labels that formulas
  compute (``=Inputs!$C$207&""``) match by the value stored with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from udfs.excel import decode_cached

from ..batch.cells import REF, bounds, column_letter, expand
from ..batch.package import NS, Package, WorkbookError, iter_xml
from ..batch.scan import WorkbookScan, scan

#: A financial-year heading: 2017/18 (the plan's years).
YEAR = re.compile(r"^\d{4}/\d{2}$")
LABEL_REF = re.compile(r"^(?P<sheet>'(?:[^']|'')+'|[^!{}]+)!\{(?P<path>[^{}@]*)(?:@(?P<column>[^{}]*))?\}$")
_ENDS_BLOCK = re.compile(r"^total\b|as stated", re.IGNORECASE)


class ReferenceError_(WorkbookError):
    """A reference that names no cells of the workbook (unknown sheet, name or label)."""


@dataclass(frozen=True)
class Cells:
    """Cells a reference names: ``grid`` rows x columns of cell names on ``sheet``, with the
    column headings (year labels where the reference runs by year) and the row labels."""

    sheet: str
    grid: tuple[tuple[str, ...], ...]
    headings: tuple[str, ...] = ()
    row_labels: tuple[str, ...] = ()
    by_year: bool = False

    @property
    def cells(self) -> list[str]:
        return [c for row in self.grid for c in row]


@dataclass
class Sheet:
    name: str
    values: dict[str, Any] = field(default_factory=dict)  # stored values: constants and formulas' cached values
    formulas: dict[str, str] = field(default_factory=dict)  # formula-result cell -> formula text ("" for array members)
    rows: dict[int, dict[int, Any]] = field(default_factory=dict)  # row -> column -> value, for labels


class Book:
    """A workbook read once: its sheets' stored values, formula cells and defined names."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with Package(self.path) as pkg:
            self.scan: WorkbookScan = scan(pkg)
            shared = pkg.shared_strings()
            self.sheets = {s.name: _read_sheet(pkg, s, shared) for s in self.scan.sheets}
            self.scan.package = None  # the package closes here; nothing keeps it
        self.names = {k.upper(): v for k, v in self.scan.names.items()}

    def sheet(self, name: str) -> Sheet:
        unquoted = name[1:-1].replace("''", "'") if name.startswith("'") else name
        for s in self.sheets:
            if s.upper() == unquoted.strip().upper():
                return self.sheets[s]
        raise ReferenceError_(f"no sheet named {unquoted.strip()!r} in the workbook (it has {', '.join(self.sheets)})")

    def value(self, sheet: str, cell: str) -> Any:
        return self.sheets[sheet].values.get(cell)

    def resolve(self, text: str) -> Cells:
        """The cells a reference names (see the module); ReferenceError_ saying why none."""
        text = text.strip()
        m = LABEL_REF.match(text)
        if m:
            return self._labelled(self.sheet(m["sheet"].strip()), m["path"], m["column"])
        m = REF.match(text.replace(" ", "") if "'" not in text else text)
        if m and m["sheet"]:
            return _box(self.sheet(m["sheet"]).name, m["a"], m["b"])
        if text.upper() in self.names:
            target = self.names[text.upper()].lstrip("=")
            m = REF.match(target)
            if not m or not m["sheet"]:
                raise ReferenceError_(f"the name {text} refers to {target}, not to one range of cells")
            return _box(self.sheet(m["sheet"]).name, m["a"], m["b"])
        if m:
            raise ReferenceError_(f"{text}: say which sheet (Inputs!{text})")
        raise ReferenceError_(f"{text!r} is not a cell (Inputs!C5), a range, a defined name or a label reference "
                              "(Inputs!{Block > Row})")

    def _labelled(self, sheet: Sheet, path: str, column: str | None) -> Cells:
        labels = [p.strip() for p in path.split(">") if p.strip()]
        if not labels:
            raise ReferenceError_("an empty label reference: write Sheet!{Block > Row}")
        start = _find_row(sheet, labels[0], 1)
        row = start
        for label in labels[1:]:
            row = _find_row(sheet, label, row + 1)
        header = _header_row(sheet, row, start)
        cols, headings = _columns(sheet, header, column)
        if len(labels) == 1 and header >= row and not _has_figures(sheet.rows.get(row, {})):  # a block title: its lines
            rows = _block_rows(sheet, header)
        else:
            rows = [row]
        grid = tuple(tuple(f"{column_letter(c)}{r}" for c in cols) for r in rows)
        row_labels = tuple(_text(sheet.rows.get(r, {}).get(1)) for r in rows)
        return Cells(sheet.name, grid, tuple(headings), row_labels, by_year=column is None)


def _box(sheet: str, a: str, b: str | None) -> Cells:
    ref = (a + (":" + b if b else "")).replace("$", "")
    c1, r1, c2, r2 = bounds(ref)
    grid = tuple(tuple(f"{column_letter(c)}{r}" for c in range(c1, c2 + 1)) for r in range(r1, r2 + 1))
    return Cells(sheet, grid)


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _find_row(sheet: Sheet, label: str, after: int) -> int:
    """The first row from ``after`` whose column-A text is ``label`` or begins with it."""
    want = label.casefold()
    for r in sorted(k for k in sheet.rows if k >= after):
        text = _text(sheet.rows[r].get(1)).casefold()
        if text == want or text.startswith(want):
            return r
    raise ReferenceError_(f"no row labelled {label!r} on {sheet.name}" + (f" below row {after - 1}" if after > 1 else ""))


def _has_figures(cells: dict[int, Any]) -> bool:
    return any(isinstance(v, (int, float)) and not isinstance(v, bool) for c, v in cells.items() if c > 1)


def _is_heading_row(cells: dict[int, Any]) -> bool:
    return any(YEAR.match(_text(v)) for c, v in cells.items() if c > 1)


def _header_row(sheet: Sheet, row: int, start: int) -> int:
    """The row of year headings for ``row``: the nearest above it (not above its block's title),
    or, for a block title, the first below it."""
    for r in range(row, max(start, row - 60) - 1, -1):
        if _is_heading_row(sheet.rows.get(r, {})):
            return r
    for r in range(row + 1, row + 6):
        if _is_heading_row(sheet.rows.get(r, {})):
            return r
    raise ReferenceError_(f"no row of year headings (2017/18 ...) above row {row} of {sheet.name}")


def _columns(sheet: Sheet, header: int, column: str | None) -> tuple[list[int], list[str]]:
    cells = sheet.rows.get(header, {})
    if column is None:
        cols = sorted(c for c, v in cells.items() if c > 1 and YEAR.match(_text(v)))
        return cols, [_text(cells[c]) for c in cols]
    want = column.strip().casefold()
    for c in sorted(cells):
        text = _text(cells[c]).casefold()
        if c > 1 and (text == want or text.startswith(want)):
            return [c], [_text(cells[c])]
    raise ReferenceError_(f"no column headed {column.strip()!r} in row {header} of {sheet.name}")


def _block_rows(sheet: Sheet, header: int) -> list[int]:
    """The lines of a block: below its headings, up to its first Total / 'as stated' row or an empty row."""
    rows = []
    r = header + 1
    while sheet.rows.get(r) and not _ENDS_BLOCK.search(_text(sheet.rows[r].get(1))):
        rows.append(r)
        r += 1
    if not rows:
        raise ReferenceError_(f"the block headed in row {header} of {sheet.name} has no lines")
    return rows


def _read_sheet(pkg: Package, s, shared: list[str]) -> Sheet:
    """Every cell's stored value of one worksheet (formula cells: the value stored with them)."""
    out = Sheet(s.name)
    for f in s.formulas:
        out.formulas[f.ref] = f.text or ""
    for cell in s.array_members:
        out.formulas.setdefault(cell, "")
    with pkg.open(s.part) as stream:
        for c in iter_xml(stream, s.part, f"{{{NS}}}c"):
            ref = c.get("r")
            if not ref:
                continue
            value = _cell_value(c, shared)
            if value is None:
                continue
            out.values[ref] = value
            col, row = _coords(ref)
            out.rows.setdefault(row, {})[col] = value
    return out


def _cell_value(c, shared: list[str]) -> Any:
    t = c.get("t")
    if t == "inlineStr":
        return "".join(x.text or "" for x in c.iter(f"{{{NS}}}t")) or None
    v = c.find(f"{{{NS}}}v")
    if v is None:
        return None
    try:
        return decode_cached(t, v.text, shared if t == "s" else None)
    except (ValueError, IndexError):
        return v.text


def _coords(ref: str) -> tuple[int, int]:
    c1, r1, _c2, _r2 = bounds(ref)
    return c1, r1


__all__ = ["Book", "Cells", "ReferenceError_", "YEAR", "expand"]

"""Scan: the formula cells of a workbook, read as a stream from its worksheet XML.

For each worksheet: every formula cell (its text as stored, shared / array kind, the array's
range), the cells an array formula fills, and the STP_* functions called in any spelling. Also
what an engine must know before it starts: defined names (global and sheet-scoped), tables,
external links and whether iterative calculation is on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils.cell import range_boundaries, get_column_letter

from .ooxml import NS, Limits, Package, WorkbookError, iter_xml, sheets

#: A function call in formula text: an optional add-in prefix, then NAME( .
CALL = re.compile(r"((?:_xludf\.|_xll\.|\[\d+\]!|'[^']*'!|_xldudf_[A-Za-z0-9]+_)?[A-Za-z_][A-Za-z0-9_.]*)\s*\(")
STP_CALL = re.compile(r"(?:_xludf\.|_xll\.|\[\d+\]!|'[^']*'!|_xldudf_[A-Za-z0-9]+_)?STP_[A-Za-z0-9_]+(?=\s*\()", re.IGNORECASE)
STRING = re.compile(r'"(?:[^"]|"")*"')
#: A sheet-qualified reference: 'My Sheet'!A1, Inputs!B2:C3, [1]Prices!B2, '[1]My Sheet'!A1 (not a 3-D
#: Sheet1:Sheet3!A1, and not an add-in function such as [1]!STP_GAP( or 'C:\addin.xlam'!STP_GAP( ).
SHEET_REF = re.compile(r"(?<![A-Za-z0-9_.:\]'#])(\[\d+\])?('(?:[^']|'')+'|[A-Za-z_\u00c0-\uffff][\w.]*)?!(?![A-Za-z_][\w.]*\s*\()")


@dataclass(slots=True)
class FormulaCell:
    sheet: str
    ref: str
    text: str | None  # as stored; None for a shared formula's dependent cell
    kind: str = "normal"  # normal | shared | array
    si: str | None = None
    array_ref: str | None = None
    cached: str | None = None
    cached_type: str | None = None

    @property
    def stp_spellings(self) -> list[str]:
        text = self.text
        if not text or "stp_" not in text.lower():
            return []
        return STP_CALL.findall(STRING.sub('""', text))


@dataclass
class SheetScan:
    name: str
    part: str
    formulas: list[FormulaCell] = field(default_factory=list)
    array_members: dict[str, str] = field(default_factory=dict)  # cell -> anchor

    def result_cells(self) -> set[str]:
        """Every cell whose value is a formula's result: formula cells and array members."""
        return {f.ref for f in self.formulas} | set(self.array_members)


@dataclass
class WorkbookScan:
    path: Path
    sheets: list[SheetScan]
    names: dict[str, str]  # global defined names
    sheet_names: dict[tuple[str, str], str]  # (sheet, name) -> formula, sheet-scoped
    tables: list[str]
    external_links: int
    iterative: bool
    has_vba: bool
    all_sheet_names: list[str] = field(default_factory=list)  # worksheets and chart sheets
    link_targets: dict[int, str] = field(default_factory=dict)  # external link number -> the file it points at
    _stp: list[FormulaCell] | None = field(default=None, repr=False)

    @property
    def formula_count(self) -> int:
        return sum(len(s.formulas) for s in self.sheets)

    def stp_cells(self) -> list[FormulaCell]:
        if self._stp is None:
            self._stp = [f for s in self.sheets for f in s.formulas if f.stp_spellings]
        return self._stp

    def spellings(self) -> set[str]:
        return {sp for f in self.stp_cells() for sp in f.stp_spellings}

    def sheet(self, name: str) -> SheetScan:
        return next(s for s in self.sheets if s.name == name)

    def reference_problems(self) -> tuple[list[WorkbookError], set[tuple[str, str]]]:
        """Formulas that refer to a sheet the workbook does not have, and formulas that refer to
        another workbook through an external link (never followed: those cells keep the value
        stored in the file). Returns the problems and the cells whose stored value is kept."""
        problems, keep = [], set()
        known = {n.upper() for n in self.all_sheet_names}
        for s in self.sheets:
            for f in s.formulas:
                text = STRING.sub('""', f.text or "")
                if "!" not in text:
                    continue
                for m in SHEET_REF.finditer(text):
                    ext, name = m.group(1), m.group(2) or ""
                    if m.start() > 0 and text[m.start() - 1] == "|":  # DDE: program|'topic'!item
                        program = re.findall(r"[A-Za-z0-9_.]+$", text[:m.start() - 1])
                        problems.append(WorkbookError(
                            f"is a DDE link to another program ({program[-1] if program else 'unknown'}); such links are never "
                            "run, so this cell keeps the value stored in the file", s.name, f.ref))
                        keep.add((s.name, f.ref))
                        break
                    if name.startswith("'"):
                        name = name[1:-1].replace("''", "'")
                        q = re.match(r"^\[(\d+)\](.*)$", name)
                        if q:
                            ext, name = f"[{q.group(1)}]", q.group(2)
                    if ext:
                        n = int(ext[1:-1])
                        target = self.link_targets.get(n, "a workbook that is not described in the file")
                        problems.append(WorkbookError(
                            f"refers to another workbook ({target}) through external link [{n}]; links are never followed, "
                            "so this cell keeps the value stored in the file", s.name, f.ref))
                        keep.add((s.name, f.ref))
                        break
                    if name and name.upper() not in known:
                        problems.append(WorkbookError(f"refers to a sheet that does not exist: {name} (the cell shows #REF!)",
                                                      s.name, f.ref))
                        break
        return problems, keep


def expand(ref: str) -> list[str]:
    """'B5:D6' -> ['B5', 'C5', 'D5', 'B6', ...]"""
    c1, r1, c2, r2 = range_boundaries(ref)
    return [f"{get_column_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def scan(path: Path | str, limits: Limits = Limits()) -> WorkbookScan:
    path = Path(path)
    with Package(path, limits) as pkg:
        pkg.check_prologs()
        names = pkg.names()
        wb = pkg.xml("xl/workbook.xml")
        parts = sheets(pkg)
        by_index = {p.index: p.name for p in parts}
        all_sheet_names = [s.get("name") for s in wb.iter(f"{{{NS}}}sheet")]
        glob: dict[str, str] = {}
        scoped: dict[tuple[str, str], str] = {}
        for dn in wb.iter(f"{{{NS}}}definedName"):
            name = dn.get("name") or ""
            if name.startswith("_xlnm."):
                continue
            if dn.get("localSheetId") is not None:
                idx = int(dn.get("localSheetId"))
                scoped[(all_sheet_names[idx] if idx < len(all_sheet_names) else by_index.get(idx, "?"), name)] = dn.text or ""
            else:
                glob[name] = dn.text or ""
        calc = wb.find(f"{{{NS}}}calcPr")
        iterative = calc is not None and calc.get("iterate") in ("1", "true")
        out = []
        count = 0
        for p in parts:
            s = SheetScan(p.name, p.part)
            with pkg.open(p.part) as stream:
                for c in iter_xml(stream, p.part, f"{{{NS}}}c"):
                    f = c.find(f"{{{NS}}}f")
                    if f is None:
                        continue
                    ref = c.get("r")
                    if not ref:
                        raise WorkbookError("has a formula cell without a cell reference; the file is damaged", sheet=p.name)
                    v = c.find(f"{{{NS}}}v")
                    kind = f.get("t") or "normal"
                    if kind not in ("shared", "array", "normal", "dataTable"):
                        kind = "normal"
                    fc = FormulaCell(p.name, ref, f.text, kind, f.get("si"), f.get("ref") if kind == "array" else None,
                                     v.text if v is not None else None, c.get("t"))
                    s.formulas.append(fc)
                    count += 1
                    if count > limits.formula_cells:
                        raise WorkbookError(f"has more than {limits.formula_cells:,} formula cells; refused to keep memory bounded "
                                            "(raise the limit with --max-formulas if the workbook is genuine)", sheet=p.name)
                    if kind == "array" and fc.array_ref and ":" in fc.array_ref:
                        for cell in expand(fc.array_ref):
                            if cell != ref:
                                s.array_members[cell] = ref
            out.append(s)
        return WorkbookScan(
            path=path, sheets=out, names=glob, sheet_names=scoped,
            tables=[n for n in names if n.startswith("xl/tables/")],
            external_links=sum(1 for n in names if n.startswith("xl/externalLinks/") and n.endswith(".xml")),
            iterative=iterative, has_vba="xl/vbaProject.bin" in names,
            all_sheet_names=all_sheet_names, link_targets=_link_targets(pkg),
        )


def _link_targets(pkg: Package) -> dict[int, str]:
    """External link number (as in [1]Sheet!A1) -> the path it points at, from the workbook's
    externalReferences in order."""
    from .ooxml import PKG_REL_NS, REL_NS, parse_xml

    names = set(pkg.names())
    if "xl/_rels/workbook.xml.rels" not in names:
        return {}
    wb = pkg.xml("xl/workbook.xml")
    rels = {r.get("Id"): r.get("Target") for r in pkg.xml("xl/_rels/workbook.xml.rels").iter(f"{{{PKG_REL_NS}}}Relationship")}
    out = {}
    for i, ref in enumerate(wb.iter(f"{{{NS}}}externalReference"), start=1):
        target = rels.get(ref.get(f"{{{REL_NS}}}id"), "")
        part = "xl/" + target.lstrip("/").removeprefix("xl/") if target else ""
        rel_part = part.rsplit("/", 1)[0] + "/_rels/" + part.rsplit("/", 1)[-1] + ".rels" if part else ""
        where = "an unnamed workbook"
        if rel_part in names:
            for r in parse_xml(pkg.read(rel_part), rel_part).iter(f"{{{PKG_REL_NS}}}Relationship"):
                where = r.get("Target") or where
        out[i] = where
    return out

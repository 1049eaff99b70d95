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
from collections.abc import Iterator
from typing import Any

from udfs.excel import decode_cached

from .cells import expand
from .formula import stp_spellings, without_strings
from .package import (NS, PKG_REL_NS, REL_NS, Limits, Package, SheetPart, TooManyFormulas, WorkbookError, iter_xml, opened,
                      parse_xml, row_blocks, xml_text)

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
        return stp_spellings(self.text)


@dataclass
class SheetScan:
    name: str
    part: str
    formulas: list[FormulaCell] = field(default_factory=list)
    array_members: dict[str, str] = field(default_factory=dict)  # cell -> anchor
    plain: bool = False  # read by the fast reader: unprefixed main namespace, no comments or CDATA

    def result_cells(self) -> set[str]:
        """Every cell whose value is a formula's result: formula cells and array members."""
        return {f.ref for f in self.formulas} | set(self.array_members)

    def texts(self) -> Iterator[tuple[FormulaCell, str | None, FormulaCell | None]]:
        """Each formula cell with its formula as written and the shared formula's master cell it is
        written in (itself for the master; None for a cell that is not part of a shared formula):
        a shared formula's other cells store no text of their own. The text is None for a cell
        whose master the sheet does not hold."""
        masters: dict[str, FormulaCell] = {}
        for f in self.formulas:
            if f.kind != "shared" or f.si is None:
                yield f, f.text, None
                continue
            if f.text is not None:
                masters[f.si] = f
            master = masters.get(f.si)
            yield f, (f.text if f.text is not None else getattr(master, "text", None)), master


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
    #: The file asks for every formula to be recalculated when it is opened (calcPr fullCalcOnLoad),
    #: as files written by programs that do not compute their formulas do (XlsxWriter).
    full_calc_on_load: bool = False
    all_sheet_names: list[str] = field(default_factory=list)  # worksheets and chart sheets
    link_targets: dict[int, str] = field(default_factory=dict)  # external link number -> the file it points at
    _stp: list[FormulaCell] | None = field(default=None, repr=False)
    #: (sheet, cell) -> the value each formula cell stores, decoded once (:func:`..recalc.stored_values`).
    _stored: dict | None = field(default=None, repr=False, compare=False)
    #: The open package the scan read, while its reader (regen_file) holds it open; None when the
    #: scan opened the file itself. Engines read input cells through it (:func:`constants`).
    package: Package | None = field(default=None, repr=False, compare=False)

    @property
    def formula_count(self) -> int:
        return sum(len(s.formulas) for s in self.sheets)

    def stp_cells(self) -> list[FormulaCell]:
        if self._stp is None:
            self._stp = [f for s in self.sheets for f in s.formulas if f.stp_spellings]
        return self._stp

    def fast_sheets(self) -> set[str]:
        """Sheets the fast reader took that have no cells filled by an array formula: the
        write-back finds their formula cells with FORMULA_CELL too."""
        return {s.name for s in self.sheets if s.plain and not s.array_members}

    def spellings(self) -> set[str]:
        return {sp for f in self.stp_cells() for sp in f.stp_spellings}

    def sheet(self, name: str) -> SheetScan:
        return next(s for s in self.sheets if s.name == name)

    def reference_problems(self) -> tuple[list[WorkbookError], set[tuple[str, str]]]:
        """Formulas that refer to a sheet the workbook does not have, and formulas that refer to
        another workbook — through an external link ([1]Data!A1), a path written out
        ('C:\\plans\\[book.xlsx]Data'!A1), a defined name that points there, or a function of another
        workbook or add-in ([1]!RATE_TABLE(…)) — which are never followed: those cells keep the value
        stored in the file. Returns the problems and the cells whose stored value is kept."""
        problems, keep = [], set()
        known = {n.upper() for n in self.all_sheet_names}
        linked_names = self._linked_names()
        if not linked_names and self._references_all_known(known):
            return problems, keep
        for s in self.sheets:
            for f in s.formulas:
                problem = self._reference_problem(without_strings(f.text or ""), known, linked_names)
                if problem is not None:
                    message, kept = problem
                    problems.append(WorkbookError(message, s.name, f.ref))
                    if kept:
                        keep.add((s.name, f.ref))
        return problems, keep

    def _reference_problem(self, text: str, known: set[str], linked_names: dict[str, str]) -> tuple[str, bool] | None:
        """The first reference problem of one formula's text (strings emptied): (message, whether
        the cell keeps its stored value), or None."""
        kept = "never followed, so this cell keeps the value stored in the file"
        call = _LINKED_CALL.search(text)
        if call and not stp_spellings(call.group(0) + ")"):
            n = int(call.group(1))
            target = self.link_targets.get(n, "a workbook that is not described in the file")
            return f"calls {call.group(2)}() from another workbook or add-in ({target}, link [{n}]); such calls are {kept}", True
        if linked_names:
            for token in _NAME_TOKEN.findall(text):
                if token.upper() in linked_names:
                    return (f"uses the name {token}, which refers to another workbook ({linked_names[token.upper()]}); "
                            f"links are {kept}", True)
        if "!" not in text:
            return None
        for m in SHEET_REF.finditer(text):
            ext, name = _target(m.group(1), m.group(2))
            if m.start() > 0 and text[m.start() - 1] == "|":  # DDE: program|'topic'!item
                program = re.findall(r"[A-Za-z0-9_.]+$", text[:m.start() - 1])
                return (f"is a DDE link to another program ({program[-1] if program else 'unknown'}); such links are never "
                        "run, so this cell keeps the value stored in the file"), True
            if ext:
                target = self.link_targets.get(int(ext[1:-1]), "a workbook that is not described in the file") \
                    if ext[1:-1].isdigit() else ext[1:-1]
                how = f"external link {ext}" if ext[1:-1].isdigit() else "a path written in the formula"
                return f"refers to another workbook ({target}) through {how}; links are {kept}", True
            if name and name.upper() not in known and not _three_d(name, known):
                return f"refers to a sheet that does not exist: {name} (the cell shows #REF!)", False
        return None

    def _linked_names(self) -> dict[str, str]:
        """Defined names whose formula refers to another workbook: NAME -> the workbook."""
        out = {}
        for name, text in list(self.names.items()) + [(n, t) for (_s, n), t in self.sheet_names.items()]:
            m = _LINK_IN_NAME.search(text or "")
            if m:
                n = m.group(1)
                out[name.upper()] = self.link_targets.get(int(n), "another workbook") if n.isdigit() else n
        return out

    def _references_all_known(self, known: set[str]) -> bool:
        """The common case in one sweep over all formula text: every sheet-qualified reference
        names a sheet of this workbook, with no external link and no DDE. False means "look formula
        by formula" (also whenever a formula's quotes do not pair up, so strings cannot run on)."""
        texts = [f.text for s in self.sheets for f in s.formulas if f.text and "!" in f.text]
        if not texts:
            return True
        if any(t.count('"') % 2 or "\n" in t for t in texts):
            return False
        joined = "\n".join(without_strings(t) for t in texts)
        if "|" in joined:
            return False
        if _LINKED_CALL.search(joined):
            return False
        if _only_sheets_of(joined, self.all_sheet_names):
            return True
        for ext, name in (_target(*pair) for pair in set(SHEET_REF.findall(joined))):
            if ext or name and name.upper() not in known and not _three_d(name, known):
                return False
        return True


def _only_sheets_of(text: str, sheets: list[str]) -> bool:
    """Every ``!`` of the text (formulas with their strings emptied) follows one of these sheet
    names exactly as the workbook spells it (bare or quoted), from the start of a reference: the
    usual case, told quickly (False sends the text to SHEET_REF, which also reads other spellings)."""
    for name in sorted(sheets, key=len, reverse=True):  # Calc! inside MyCalc! is not Calc's
        text = text.replace(name + "!", "\0")
        quoted = "'" + name.replace("'", "''") + "'!"
        if quoted in text:
            text = text.replace(quoted, "\0")
    if "!" in text:
        return False
    before = {piece[-1:] for piece in text.split("\0")[:-1]}  # what each reference follows
    return not any(c and (c.isalnum() or c in "_.:]'#\\[") for c in before)


#: A function of another workbook or add-in: [1]!RATE_TABLE( — groups link number, function.
_LINKED_CALL = re.compile(r"\[(\d+)\]!([A-Za-z_][\w.]*)\s*\(")
#: In a defined name's formula: a link number [1], or a path written out ...\[book.xlsx]...
_LINK_IN_NAME = re.compile(r"\[(\d+|[^\]]*\.xl\w*)\]", re.IGNORECASE)
_NAME_TOKEN = re.compile(r"(?<![\w.!'\]\[])([A-Za-z_\\][\w.]*)(?![\w.]*\s*[(!])")


def _three_d(name: str, known: set[str]) -> bool:
    """A 3-D reference's sheets, 'Jan:Mar' or 'Feb 2:Mar': both ends are sheets of the workbook."""
    first, sep, last = name.partition(":")
    return bool(sep) and first.upper() in known and last.upper() in known


def _target(ext: str | None, name: str | None) -> tuple[str | None, str]:
    """A SHEET_REF match as (external workbook or None, sheet name unquoted): '[1]My Sheet'!A1 is
    link [1], sheet My Sheet; 'C:\\plans\\[book.xlsx]Data'!A1 is [C:\\plans\\book.xlsx], sheet Data."""
    name = name or ""
    if name.startswith("'"):
        name = name[1:-1].replace("''", "'")
        q = re.match(r"^\[(\d+)\](.*)$", name)
        if q:
            ext, name = f"[{q.group(1)}]", q.group(2)
        else:
            path = re.match(r"^(.*)\[([^\]]+)\](.*)$", name)
            if path:
                ext, name = f"[{path.group(1)}{path.group(2)}]", path.group(3)
    return ext or None, name


def scan(source: Package | Path | str, limits: Limits | None = None) -> WorkbookScan:
    """What is in a workbook (see the module's docstring). ``source`` is an open, checked package
    (the scan keeps it as ``WorkbookScan.package``) or a file, opened here and closed after.
    ``limits``: the file's limits when it is opened here, and the most formula cells to read
    (default: the package's)."""
    if isinstance(source, Package):
        return _scan(source, limits or source.limits, keep=True)
    with opened(source, limits or Limits()) as pkg:
        return _scan(pkg, limits or Limits(), keep=False)


def _scan(pkg: Package, limits: Limits, keep: bool) -> WorkbookScan:
    pkg.check_prologs()
    pkg.begin_pass()
    names = pkg.names()
    wb = pkg.workbook()
    parts = pkg.sheet_parts()
    all_sheet_names = [s.get("name") for s in wb.iter(f"{{{NS}}}sheet")]
    glob, scoped = _defined_names(wb, parts, all_sheet_names)
    calc = wb.find(f"{{{NS}}}calcPr")
    out, count = [], 0
    for p in parts:
        s = _sheet(pkg, p, limits.formula_cells, count)
        count += len(s.formulas)
        out.append(s)
    return WorkbookScan(
        path=pkg.path, sheets=out, names=glob, sheet_names=scoped,
        tables=[n for n in names if n.startswith("xl/tables/")],
        external_links=sum(1 for n in names if n.startswith("xl/externalLinks/") and n.endswith(".xml")),
        iterative=calc is not None and calc.get("iterate") in ("1", "true"), has_vba="xl/vbaProject.bin" in names,
        all_sheet_names=all_sheet_names, link_targets=_link_targets(pkg), package=pkg if keep else None,
        full_calc_on_load=pkg.asks_full_calc(),
    )


def _defined_names(wb, parts: list[SheetPart], all_sheet_names: list[str]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Defined names: the global ones, and the sheet-scoped ones by (sheet, name)."""
    by_index = {p.index: p.name for p in parts}
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
    return glob, scoped


def _sheet(pkg: Package, part: SheetPart, limit: int, before: int) -> SheetScan:
    """One worksheet's formula cells (by the fast reader where it takes the sheet) and the cells
    its array formulas fill."""
    s = SheetScan(part.name, part.part)
    fast = _fast_sheet(pkg, part, limit, before) if FAST else None
    if fast is not None:
        s.formulas, s.plain = fast, True
    else:
        s.formulas = _parsed_sheet(pkg, part, limit, before)
    for fc in s.formulas:
        if fc.kind == "array" and fc.array_ref and ":" in fc.array_ref:
            for cell in expand(fc.array_ref):
                if cell != fc.ref:
                    s.array_members[cell] = fc.ref
    return s


FAST = True  # tests switch the fast reader off to compare it with the general parser

#: A formula cell as Excel, XlsxWriter and LibreOffice write it (no namespace prefix, r first,
#: the <f> then an optional <v>, nothing else); groups: r, cell attributes, the whole <f>, its
#: attributes, the formula text, the value, an empty <v/>. The scan reads these cells with it and
#: the write-back rewrites them with it, on sheets the scan found plain.
FORMULA_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"([^>]*)>'
                          rb'(<f\b([^>]*?)(?:/>|>([^<]*)</f>))(?:<v>([^<]*)</v>|(<v/>))?</c>')
#: Every formula element of the main namespace (unprefixed, once no prefix is bound to it): a block
#: where their count differs from FORMULA_CELL's matches has a cell of another shape.
F_OPEN = re.compile(rb"<f[\s/>]")
_MAIN_PREFIX = re.compile(rb'xmlns:[A-Za-z_][\w.-]*="' + re.escape(NS.encode()) + rb'"')
_ATTR = re.compile(rb'([A-Za-z_:][\w.:-]*)="([^"]*)"')
_DEFAULT_NS = re.compile(rb'<worksheet\b[^>]*\sxmlns="' + re.escape(NS.encode()) + rb'"')


def _parsed_sheet(pkg: Package, part, limit: int, before: int) -> list[FormulaCell]:
    """The formula cells of one worksheet, read by the XML parser (any shape, any prefix)."""
    cells: list[FormulaCell] = []
    with pkg.open(part.part) as stream:
        for c in iter_xml(stream, part.part, f"{{{NS}}}c"):
            f = c.find(f"{{{NS}}}f")
            if f is None:
                continue
            ref = c.get("r")
            if not ref:
                raise WorkbookError("has a formula cell without a cell reference; the file is damaged", sheet=part.name)
            v = c.find(f"{{{NS}}}v")
            kind = _kind(f.get("t"))
            cells.append(FormulaCell(part.name, ref, f.text, kind, f.get("si"), f.get("ref") if kind == "array" else None,
                                     v.text if v is not None else None, c.get("t")))
            if before + len(cells) > limit:
                raise _too_many(limit, part.name)
    return cells


def _kind(t: str | None) -> str:
    return t if t in ("shared", "array", "dataTable") else "normal"


def _too_many(limit: int, sheet: str) -> TooManyFormulas:
    return TooManyFormulas(limit, sheet)


class _NotFast(Exception):
    """A sheet the fast reader does not take: the general parser reads it."""


def _fast_sheet(pkg: Package, part: SheetPart, limit: int, before: int) -> list[FormulaCell] | None:
    """The formula cells of one worksheet read with an expression over its bytes, while expat
    (with no handlers, so at C speed) checks the whole part is well-formed XML. None when the sheet
    has anything of another shape (a namespace prefix, CDATA, comments, single-quoted attributes, a
    formula cell the expression does not match): the general parser then reads it, with the bytes
    this attempt read given back to the package's size budget."""
    cells: list[FormulaCell] = []
    stream = pkg.open(part.part)
    try:
        first = True
        for block in row_blocks(stream, _well_formed(part)):
            _plain_block(block, first)
            first = False
            cells += _fast_cells(block, part.name)
            if before + len(cells) > limit:
                raise _too_many(limit, part.name)
        return cells
    except _NotFast:
        pkg.give_back(stream)
        return None
    finally:
        stream.close()


def _well_formed(part: SheetPart):
    """A ``check(chunk, last)`` for :func:`row_blocks`: expat, with no handlers, parses each chunk
    and refuses a DTD or entity declaration."""
    import pyexpat

    def refuse(*_a):
        raise WorkbookError(f"part {part.part} declares a DTD or entities (possible XXE or 'billion laughs' attack): refused")

    checker = pyexpat.ParserCreate()
    checker.StartDoctypeDeclHandler = refuse
    checker.EntityDeclHandler = refuse
    checker.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)

    def check(chunk: bytes, last: bool) -> None:
        try:
            checker.Parse(chunk, last)
        except pyexpat.ExpatError as e:
            raise WorkbookError(f"part {part.part} is not well-formed XML ({e})") from None

    return check


def _plain_block(block: bytes, first: bool) -> None:
    """Raise _NotFast unless the block is in the unprefixed main namespace (declared once, in the
    first block) without comments or CDATA."""
    if first:
        if not _DEFAULT_NS.search(block):
            raise _NotFast
        if block.count(b"xmlns=") != 1:
            raise _NotFast
    elif b"xmlns=" in block:
        raise _NotFast
    if b"xmlns:" in block and _MAIN_PREFIX.search(block):
        raise _NotFast
    if b"<!" in block:  # comments, CDATA
        raise _NotFast


def _fast_cells(block: bytes, sheet: str) -> list[FormulaCell]:
    """The formula cells of a block of whole rows; _NotFast where one has another shape."""
    cells = []
    for m in FORMULA_CELL.finditer(block):
        ref, attrs, _f, fattrs, text, v, _empty = m.groups()
        t = None
        if attrs:  # (most cells have none: a test of b"..." in b"" costs as much as in a long one)
            if b"'" in attrs:
                raise _NotFast
            if b't="' in attrs:
                t = dict(_ATTR.findall(attrs)).get(b"t")
                t = t.decode() if t is not None else None
        kind, si, array_ref = "normal", None, None
        if fattrs and b"'" in fattrs:
            raise _NotFast
        if fattrs and fattrs.strip():
            fa = {k.decode(): xml_text(x) for k, x in _ATTR.findall(fattrs)}
            kind = _kind(fa.get("t"))
            si = fa.get("si")
            array_ref = fa.get("ref") if kind == "array" else None
        if text:  # xml_text, without its call where there is nothing to resolve (the usual case)
            text = text.decode()
            if "&" in text or "\r" in text:
                text = xml_text(text)
        if v:
            v = v.decode()
            if "&" in v or "\r" in v:
                v = xml_text(v)
        cells.append(FormulaCell(sheet, ref.decode(), text or None, kind, si, array_ref, v or None, t))
    if len(cells) != len(F_OPEN.findall(block)):
        raise _NotFast
    return cells


_ANY_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_C_OPEN = re.compile(rb"<c[\s/>]")
_V_ONLY = re.compile(rb"<v>([^<]*)</v>")
_INLINE = re.compile(rb'<is>(?:<t(?: xml:space="preserve")?>([^<]*)</t>|<t(?: xml:space="preserve")?/>)</is>')


def constants(source: Package | Path | str, sheet: SheetScan, wanted: set[str], limits: Limits = Limits(),
              partial: bool = False) -> dict[str, Any] | None:
    """The values stored in the ``wanted`` cells of a sheet, read straight from the file (an open
    package, or a path opened with ``limits``): for cells that are not formula results (inputs),
    whose values no recalculation changes. Numbers come as floats, shared and inline strings as
    text, booleans as True/False (as Excel hands them to a function), errors as their text, absent
    or empty cells as None. None — read them some other way — unless the fast reader took the sheet
    and every wanted cell has a shape read here (with ``partial``, a cell of another shape, such as
    a formula cell, is left out instead)."""
    if not sheet.plain:
        return None
    with opened(source, limits) as pkg:
        pkg.begin_pass()
        raw = _stored(pkg, sheet.part, {w.encode() for w in wanted})
        if raw is None:
            return None
        out: dict[str, Any] = {}
        for ref in wanted:
            t, body = raw.get(ref, (None, None))
            value = _input_value(pkg, t, body) if body else None
            if value is _UNREAD:
                if partial:
                    continue
                return None
            out[ref] = value
        return out


def _stored(pkg: Package, part: str, todo: set[bytes]) -> dict[str, tuple[str | None, bytes | None]] | None:
    """The ``t`` attribute and the body of each wanted cell of a worksheet part; None where a cell
    has a shape read elsewhere (single-quoted attributes, a cell the expression does not match)."""
    raw: dict[str, tuple[str | None, bytes | None]] = {}
    with pkg.open(part) as stream:
        for block in row_blocks(stream):
            found = 0
            for m in _ANY_CELL.finditer(block):
                found += 1
                if m.group(1) in todo:
                    attrs = m.group(2)
                    t = dict(_ATTR.findall(attrs)).get(b"t") if attrs and b"t=" in attrs else None
                    if attrs and b"'" in attrs:
                        return None
                    raw[m.group(1).decode()] = (t.decode() if t is not None else None, m.group(3))
            if found != len(_C_OPEN.findall(block)):
                return None
    return raw


_UNREAD = object()  # a cell whose value is not read here


def _input_value(pkg: Package, t: str | None, body: bytes) -> Any:
    """A stored cell's value as Excel hands it to a function (see :func:`udfs.excel.decode_cached`),
    or _UNREAD: rich text, phonetic guides, ISO dates (t="d") and anything unknown."""
    if t == "inlineStr":
        m = _INLINE.fullmatch(body)
        return xml_text(m.group(1) or b"") if m else _UNREAD
    m = _V_ONLY.fullmatch(body)
    if not m:
        return _UNREAD
    try:
        value = decode_cached(t, xml_text(m.group(1)), pkg.shared_strings() if t == "s" else None)
    except (ValueError, IndexError):
        return _UNREAD
    return _UNREAD if value is None else value  # an empty text result is "", an empty number unread


def _link_targets(pkg: Package) -> dict[int, str]:
    """External link number (as in [1]Sheet!A1) -> the path it points at, from the workbook's
    externalReferences in order."""
    names = set(pkg.names())
    if "xl/_rels/workbook.xml.rels" not in names:
        return {}
    wb = pkg.workbook()
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

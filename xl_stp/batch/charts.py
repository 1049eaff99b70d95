"""Charts: the data a chart part keeps for viewers that do not recalculate, brought up to date.

A chart part (``xl/charts/chartN.xml``) names the cells it plots in ``<c:f>`` (series values,
category labels, series names, titles) and keeps a copy of their values next to each one: a
``<c:numCache>`` under a ``<c:numRef>``, a ``<c:strCache>`` under a ``<c:strRef>``. Excel and
LibreOffice redraw from the cells, but previews, file browsers and web viewers draw the copy. When
the write-back changes a cell a chart plots, the copies in that chart are rewritten from the cells'
final values (the new ones where the write-back changes them, the stored ones elsewhere).

The rewrite is made on the part's bytes: only the points (``<c:pt>``) of a copy that differs are
replaced; ``<c:formatCode>``, ``<c:ptCount>`` (corrected only where it disagrees with the reference),
each kept point's attributes, extensions, prefixes and everything else stay as written (a reference
without a copy gets one, as Excel writes it). A chart none of whose plotted cells changes is not
touched. Blanks and errors are absent points, as Excel writes them; in a value series text counts
as zero and TRUE/FALSE as 1/0, as Excel plots them.
Left alone: references to a defined name or to another workbook, a block of several rows and
several columns (multi-level labels, ``multiLvlStrRef``), references of more than
:data:`MAX_POINTS` cells, data-label ranges of the c15 extension, and parts with XML comments or
CDATA. Numbers in a text copy (a label cell holding a number) are written plainly, not in the
cell's number format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Collection, Mapping, Optional
from xml.sax.saxutils import escape

from udfs.excel import encode_cached

from .cells import column_index, column_letter
from .package import Package, WorkbookError, row_blocks, xml_text

CHART_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CHART_NS = b"http://schemas.openxmlformats.org/drawingml/2006/chart"
TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
#: A reference of more cells than this is left alone (no chart plots that many points usefully).
MAX_POINTS = 100_000

#: A point's value: ("n", number), ("s", text), ("b", True/False), ("e", error text), or None (blank).
Point = Optional[tuple[str, Any]]
#: ``same(old_t, old_v, new_t, new_v, shared)``: the write-back's own test of "the stored value is
#: the new one" (patch._same), so that a chart changes exactly when a cell it plots changes.
Same = Callable[[Any, Any, Any, Any, Any], bool]

_PREFIX = re.compile(rb'xmlns(?::([A-Za-z_][\w.-]*))?\s*=\s*["\']' + re.escape(CHART_NS) + rb'["\']')
_AREA = re.compile(r"^(?:'(?P<q>(?:[^']|'')+)'|(?P<u>[^'!()\[\],\s:]+))!"
                   r"\$?(?P<c1>[A-Za-z]{1,3})\$?(?P<r1>[0-9]{1,7})(?::\$?(?P<c2>[A-Za-z]{1,3})\$?(?P<r2>[0-9]{1,7}))?$")
_ATTR_IDX = re.compile(rb"""\bidx\s*=\s*["'](\d+)["']""")
_ATTR_VAL = re.compile(rb"""(\bval\s*=\s*["'])(\d+)(["'])""")


@dataclass(frozen=True)
class ChartReference:
    """One ``numRef`` or ``strRef`` of a chart part: where its element's content lies in the
    part's bytes, the namespace prefix it is written with, and the cells it names in order
    ((sheet, cell) pairs; None where it is left alone)."""

    start: int
    end: int
    prefix: bytes
    numeric: bool
    cells: tuple[tuple[str, str], ...] | None


# ---- references ---------------------------------------------------------------------------------

def areas(formula: str, sheets: Collection[str]) -> list[tuple[str, str]] | None:
    """The cells a chart's ``<c:f>`` names, in order, as (sheet, cell) with the sheet's own
    spelling: ``Outputs!$B$60:$E$60``, ``'My sheet'!$B$5``, ``(Data!$A$1,Data!$A$3:$A$4)``. None for
    anything else (a defined name, another workbook, an unknown sheet, a block of several rows and
    several columns, more than MAX_POINTS cells)."""
    by_upper = {s.upper(): s for s in sheets}
    text = formula.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    out: list[tuple[str, str]] = []
    for piece in _split_areas(text):
        m = _AREA.match(piece.strip())
        if not m:
            return None
        name = m.group("q").replace("''", "'") if m.group("q") is not None else m.group("u")
        sheet = by_upper.get(name.upper())
        if sheet is None or "[" in name:
            return None
        c1, r1 = column_index(m.group("c1").upper()), int(m.group("r1"))
        c2, r2 = (column_index(m.group("c2").upper()), int(m.group("r2"))) if m.group("c2") else (c1, r1)
        (c1, c2), (r1, r2) = sorted((c1, c2)), sorted((r1, r2))
        if c1 != c2 and r1 != r2 or len(out) + (c2 - c1 + 1) * (r2 - r1 + 1) > MAX_POINTS:
            return None
        out += [(sheet, f"{column_letter(c)}{r}") for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
    return out or None


def _split_areas(text: str) -> list[str]:
    """'A!$A$1,'B,c'!$A$2' -> the pieces between commas outside quoted sheet names."""
    pieces, current, quoted = [], [], False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        if ch == "," and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current))
    return pieces


def chart_references(data: bytes, sheets: Collection[str]) -> list[ChartReference]:
    """Every ``numRef``/``strRef`` of a chart part, in order. Empty for a part this module leaves
    alone (no chart namespace, XML comments or CDATA)."""
    if b"<!--" in data or b"<![CDATA[" in data:
        return []
    prefixes = {(m.group(1) + b":") if m.group(1) else b"" for m in _PREFIX.finditer(data)}
    out = []
    for prefix in prefixes:
        p = re.escape(prefix)
        element = re.compile(rb"<" + p + rb"(numRef|strRef)(?:\s[^>]*)?(?<!/)>(.*?)</" + p + rb"\1\s*>", re.S)
        formula = re.compile(rb"<" + p + rb"f(?:\s[^>]*)?(?<!/)>([^<]*)</" + p + rb"f\s*>")
        for m in element.finditer(data):
            f = formula.search(m.group(2))
            cells = areas(xml_text(f.group(1)), sheets) if f else None
            out.append(ChartReference(m.start(2), m.end(2), prefix, m.group(1) == b"numRef",
                                      tuple(cells) if cells else None))
    return sorted(out, key=lambda r: r.start)


def chart_parts(pkg: Package) -> list[str]:
    """The chart parts of a package, by their content type (none where the list of content types
    does not read: the write-back copies such a package as it is, charts and all)."""
    names = set(pkg.names())
    if "[Content_Types].xml" not in names:
        return []
    try:
        types = pkg.xml("[Content_Types].xml")
    except WorkbookError:
        return []
    parts = (o.get("PartName", "").lstrip("/") for o in types.iter(f"{{{TYPES_NS}}}Override")
             if o.get("ContentType") == CHART_TYPE)
    return [p for p in parts if p in names]


# ---- points -------------------------------------------------------------------------------------

def new_point(value: Any) -> Point:
    """A computed value as a point, by Excel's conventions (an error literal is an error)."""
    if value is None:
        return None
    t, v = encode_cached(value)
    if t is None:
        return ("n", float(v))
    return {"b": ("b", v == "1"), "e": ("e", v)}.get(t, ("s", v))


def stored_point(t: str | None, raw_v: str | None, inline: str | None, shared: list[str] | None) -> Point:
    """A worksheet cell's stored value as a point: ``t`` attribute, ``<v>`` as written (escaped),
    inline string text; None for a blank or a value that does not read."""
    if t == "inlineStr" and inline is not None:
        return ("s", inline)
    if raw_v is None:
        return None
    text = xml_text(raw_v)
    try:
        if t in (None, "n"):
            return ("n", float(text)) if text else None
        if t == "s":
            return ("s", (shared or [])[int(text)])
    except (ValueError, IndexError):
        return None
    return {"b": ("b", text == "1"), "e": ("e", text)}.get(t, ("s", text))


def point_text(point: Point, numeric: bool) -> str | None:
    """The text of a point in a number copy (``numCache``) or a text copy (``strCache``); None
    where the point is absent (a blank, an error, an empty text label)."""
    if point is None or point[0] == "e":
        return None
    kind, value = point
    if numeric:
        if kind == "b":
            return "1" if value else "0"  # TRUE plots as 1, FALSE as 0
        if kind == "s":
            return "0"  # Excel plots text (an empty text result too) as zero
        t, v = encode_cached(value)
        return None if t else v
    if kind == "n":
        t, v = encode_cached(value)
        return None if t else v
    if kind == "b":
        return "TRUE" if value else "FALSE"
    return value or None


# ---- the copy of one reference --------------------------------------------------------------------

def new_cache(body: bytes, ref: ChartReference, texts: list[str | None], same: Same) -> bytes | None:
    """The content of a ``numRef``/``strRef`` element with its copy holding ``texts`` (one per
    cell, None for an absent point), or None where the copy already holds them."""
    p = re.escape(ref.prefix)
    tag = b"numCache" if ref.numeric else b"strCache"
    cache = re.compile(rb"<" + p + tag + rb"(?:\s[^>]*?)?(?:/>|>(.*?)</" + p + tag + rb"\s*>)", re.S).search(body)
    if cache is None:
        f_end = re.compile(rb"</" + p + rb"f\s*>").search(body)
        if f_end is None:
            return None
        inner = _cache_element(ref, b"", texts, same)
        return body[:f_end.end()] + inner + body[f_end.end():] if inner else None
    inner = _cache_element(ref, cache.group(1) or b"", texts, same)
    if not inner:
        return None
    return body[:cache.start()] + inner + body[cache.end():]


def _cache_element(ref: ChartReference, inner: bytes, texts: list[str | None], same: Same) -> bytes:
    """A whole ``numCache``/``strCache`` element from the old one's content, or b"" where the
    old one already holds ``texts``."""
    P = ref.prefix
    p = re.escape(P)
    pts = list(re.compile(rb"<" + p + rb"pt(?:\s[^>]*)?(?<!/)>(.*?)</" + p + rb"pt\s*>", re.S).finditer(inner))
    value = re.compile(rb"<" + p + rb"v(?:\s[^>]*)?(?<!/)>([^<]*)</" + p + rb"v\s*>")
    old: dict[int, tuple[bytes, str]] = {}
    for m in pts:
        idx, v = _ATTR_IDX.search(m.group(0)[:m.start(1) - m.start(0)]), value.search(m.group(1))
        if idx is not None:
            old[int(idx.group(1))] = (m.group(0)[:m.start(1) - m.start(0)], v.group(1).decode("utf-8") if v else "")
    new = {i: t for i, t in enumerate(texts) if t is not None}
    count = re.compile(rb"<" + p + rb"ptCount\b[^>]*>").search(inner)
    val = _ATTR_VAL.search(count.group(0)) if count is not None else None
    counted = count is None or val is not None and int(val.group(2)) == len(texts)
    kind = None if ref.numeric else "str"
    if counted and old.keys() == new.keys() and len(pts) == len(old) and \
            all(same(kind, old[i][1], kind, new[i], None) for i in new):
        return b""
    if pts:
        head, tail = inner[:pts[0].start()], inner[pts[-1].end():]
    else:
        ext = re.compile(rb"<" + p + rb"extLst\b").search(inner)
        head, tail = (inner[:ext.start()], inner[ext.start():]) if ext else (inner, b"")
    if not inner and ref.numeric:  # a new copy, as Excel writes one
        head = b"<" + P + b"formatCode>General</" + P + b"formatCode>"
    n = str(len(texts)).encode()
    if not inner:
        head += b"<" + P + b'ptCount val="' + n + b'"/>'
    elif not counted:
        head = head.replace(count.group(0), _ATTR_VAL.sub(lambda m: m.group(1) + n + m.group(3), count.group(0), 1), 1)
    points = b"".join((old[i][0] if i in old else b"<" + P + b'pt idx="' + str(i).encode() + b'">')
                      + b"<" + P + b"v>" + escape(t).encode("utf-8") + b"</" + P + b"v></" + P + b"pt>"
                      for i, t in new.items())
    tag = b"numCache" if ref.numeric else b"strCache"
    return b"<" + P + tag + b">" + head + points + tail + b"</" + P + tag + b">"


def rewrite_chart(data: bytes, refs: list[ChartReference], points: Mapping[tuple[str, str], Point], same: Same) -> bytes:
    """The chart part with the copy of each reference rewritten from ``points`` ((sheet, cell) ->
    point; a cell not given is blank) where it differs; the same bytes where none does."""
    out, at = [], 0
    for ref in refs:
        if ref.cells is None or ref.start < at:
            continue
        texts = [point_text(points.get(cell), ref.numeric) for cell in ref.cells]
        body = new_cache(data[ref.start:ref.end], ref, texts, same)
        if body is None:
            continue
        out += [data[at:ref.start], body]
        at = ref.end
    return b"".join(out) + data[at:] if out else data


# ---- the package ------------------------------------------------------------------------------------

_CELL = re.compile(rb"<(?P<p>(?:[A-Za-z_][\w.-]*:)?)c\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</(?P=p)c>)", re.S)
_ATTR_R = re.compile(rb"""\br\s*=\s*["']([A-Z]+[0-9]+)["']""")
_ATTR_T = re.compile(rb"""\bt\s*=\s*["']([^"']*)["']""")
_V = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v\b[^>]*?(?:/>|>([^<]*)</(?:[A-Za-z_][\w.-]*:)?v>)")
_PHONETIC = re.compile(rb"<(?P<p>(?:[A-Za-z_][\w.-]*:)?)rPh\b.*?</(?P=p)rPh>", re.S)
_T = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?t\b[^>]*?(?:/>|>([^<]*)</(?:[A-Za-z_][\w.-]*:)?t>)")
_ROW = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?row\b[^>]*?\br\s*=\s*["'](\d+)["']""")


#: A cell the worksheet does not hold: blank, and never changed by the write-back.
BLANK = (None, False)


@dataclass(frozen=True)
class Stored:
    """A worksheet cell as stored: its ``t`` attribute, its ``<v>`` as written, its inline text."""

    t: str | None
    v: str | None
    inline: str | None


def stored_cells(pkg: Package, part: str, wanted: Collection[str]) -> dict[str, Stored]:
    """The ``wanted`` cells of a worksheet part as stored (a cell the part does not hold is
    absent). Reads a block of rows at a time, and stops once every wanted cell is found or the
    rows pass the last wanted one (rows are in order, as Excel requires); what it read is given
    back to the package's size budget, since the write-back reads the part again."""
    todo = set(wanted)
    last = max((int(re.sub(r"[A-Z]+", "", c)) for c in todo), default=0)
    out: dict[str, Stored] = {}
    stream = pkg.open(part)
    try:
        for block in row_blocks(stream):
            for m in _CELL.finditer(block):
                r = _ATTR_R.search(m.group("attrs"))
                if r is None or r.group(1).decode() not in todo:
                    continue
                out[r.group(1).decode()] = _stored(m.group("attrs"), m.group("body") or b"")
            rows = _ROW.findall(block)
            if len(out) == len(todo) or rows and int(rows[-1]) > last:
                break
    finally:
        pkg.give_back(stream)
        stream.close()
    return out


def _stored(attrs: bytes, body: bytes) -> Stored:
    t = _ATTR_T.search(attrs)
    v = _V.search(body)
    inline = None
    if b"is>" in body:
        inline = "".join(xml_text(m.group(1) or b"") for m in _T.finditer(_PHONETIC.sub(b"", body)))
    return Stored(t.group(1).decode() if t else None, (v.group(1) or b"").decode("utf-8") if v else None, inline)


def new_chart_parts(pkg: Package, values: Mapping[str, Mapping[str, Any]], same: Same) -> dict[str, bytes]:
    """The chart parts whose plotted cells the write-back changes, each with its copies of the
    plotted data rewritten from the cells' final values: {part name: new bytes}. ``values`` are the
    write-back's new values {sheet: {cell: value}}; ``same`` its test of an unchanged value. A part
    not in the answer is copied as it is."""
    parts = {p.name: p.part for p in pkg.sheet_parts()}
    if not any(values.get(name) for name in parts):
        return {}
    charts = {}
    for name in chart_parts(pkg):
        data = pkg.read(name)
        refs = [r for r in chart_references(data, parts) if r.cells]
        if any(cell in values.get(sheet, ()) for r in refs for sheet, cell in r.cells):
            charts[name] = (data, refs)
    if not charts:
        return {}
    wanted: dict[str, set[str]] = {}
    for _data, refs in charts.values():
        for r in refs:
            for sheet, cell in r.cells:
                wanted.setdefault(sheet, set()).add(cell)
    stored = {sheet: stored_cells(pkg, parts[sheet], cells) for sheet, cells in wanted.items()}
    shared = pkg.shared_strings() if any(c.t == "s" for s in stored.values() for c in s.values()) else None
    final = _final_points(stored, values, same, shared)
    out = {}
    for name, (data, refs) in charts.items():
        cells = {cell for r in refs for cell in r.cells}
        if not any(final.get(cell, BLANK)[1] for cell in cells):
            continue  # none of its cells changes: the chart stays as it is
        new = rewrite_chart(data, refs, {cell: final.get(cell, BLANK)[0] for cell in cells}, same)
        if new != data:
            out[name] = new
    return out


def _final_points(stored: Mapping[str, Mapping[str, Stored]], values: Mapping[str, Mapping[str, Any]], same: Same,
                  shared: list[str] | None) -> dict[tuple[str, str], tuple[Point, bool]]:
    """(sheet, cell) -> (the point the cell holds once written, whether the write-back changes
    it), for every cell read. A cell the sheet does not hold is never written: it stays blank."""
    out: dict[tuple[str, str], tuple[Point, bool]] = {}
    for sheet, cells in stored.items():
        for cell, st in cells.items():
            new = values.get(sheet, {}).get(cell)
            changes = False
            if new is not None:
                new_t, new_v = encode_cached(new)
                changes = not same(st.t, st.v, new_t, new_v, shared)
            out[(sheet, cell)] = (new_point(new), True) if changes else (stored_point(st.t, st.v, st.inline, shared), False)
    return out

"""Patch: write new cached values into a copy of a workbook, changing nothing else.

Only the ``<v>`` and the ``t`` attribute of formula-result cells (formula cells and the cells an
array formula fills) inside worksheet parts change; the formula text stays as stored, every other
part is copied byte for byte in the same order, ``calcPr`` is left alone. A cell whose stored value
already equals the new one (to 12 significant digits: float noise is not a change) is not touched, so regenerating a
regenerated file gives identical bytes. Worksheets are patched as a stream, a row block at a time.

The output is written to a temporary file in the destination folder and renamed into place, so
a reader never sees a half-written workbook, and the source is never opened for writing.
"""

from __future__ import annotations

import errno
import math
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping
from xml.sax.saxutils import escape

from .ooxml import NS, Limits, Package, WorkbookError, sheets

EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"})
CELL = re.compile(rb"<(?P<p>(?:[A-Za-z_][\w.-]*:)?)c\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</(?P=p)c>)", re.S)
ATTR_R = re.compile(rb'\br="([A-Z]+[0-9]+)"')
ATTR_T = re.compile(rb'\s+t="[^"]*"')
ATTR_T_VALUE = re.compile(rb'\bt="([^"]*)"')
F_ELEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f\b[^>]*?(?:/>|>.*?</(?:[A-Za-z_][\w.-]*:)?f>)", re.S)
V_ELEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v\b[^>]*?(?:/>|>(.*?)</(?:[A-Za-z_][\w.-]*:)?v>)", re.S)
IS_ELEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?is\b.*?</(?:[A-Za-z_][\w.-]*:)?is>", re.S)
ROW_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?row>")
#: A formula cell as Excel, XlsxWriter and LibreOffice write it: no namespace prefix, ``r`` first,
#: then the ``<f>`` and an optional ``<v>``, nothing else. Matched without a callback per other cell.
FORMULA_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"([^>]*)>(<f\b[^>]*?(?:/>|>[^<]*</f>))(?:<v>([^<]*)</v>|(<v/>))?</c>')
#: Every formula element, whatever its prefix: a block where their number differs from the number
#: of FORMULA_CELL matches has a cell of another shape and is patched by the general expression.
F_OPEN = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
CHUNK = 1 << 20
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Two numbers that differ by less than this, relatively, are the same value: float noise from a
#: different order of additions (-7.7 against -7.699999999999992), far below Excel's 15 digits.
SAME = 1e-12


@dataclass
class PatchReport:
    changed: list[tuple[str, str, Any, Any]] = field(default_factory=list)  # sheet, cell, old, new
    written: Path | None = None

    @property
    def values_changed(self) -> int:
        return len(self.changed)


def encode(value: Any) -> tuple[str | None, str]:
    """(t attribute or None, <v> text) as Excel writes a formula's cached value."""
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        v = float(value)
        if not math.isfinite(v):
            return "e", "#NUM!"
        if v == int(v) and abs(v) < 1e15:
            return None, str(int(v))
        return None, repr(v)
    text = str(value)
    if text in EXCEL_ERRORS:
        return "e", text
    return "str", XML_INVALID.sub("", text)  # control characters cannot be stored in XML


def _same(old_t: str | None, old_v: str | None, new_t: str | None, new_v: str, shared: list[str] | None) -> bool:
    if old_v is None:
        return False
    if old_t in (None, "n") and new_t is None:
        try:
            a, b = float(old_v), float(new_v)
        except ValueError:
            return False
        return a == b or abs(a - b) <= SAME * max(abs(a), abs(b))
    if old_t == "s" and new_t == "str" and shared is not None:
        try:
            return shared[int(old_v)] == new_v
        except (ValueError, IndexError):
            return False
    return old_t == new_t and _unescape(old_v) == new_v


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


def _shared_strings(pkg: Package) -> list[str]:
    name = "xl/sharedStrings.xml"
    if name not in pkg.names():
        return []
    root = pkg.xml(name)
    out = []
    for si in root.iter(f"{{{NS}}}si"):
        out.append("".join(t.text or "" for t in si.iter(f"{{{NS}}}t")))
    return out


class _SheetPatcher:
    def __init__(self, sheet: str, values: Mapping[str, Any], shared: list[str] | None, report: PatchReport,
                 formula_refs_only: bool = False):
        self.sheet, self.values, self.shared, self.report = sheet, values, shared, report
        # The fast path serves sheets whose new values all belong to formula cells (cells an array
        # formula fills have no <f> of their own, so only the general expression finds them).
        self.by_bytes = {k.encode(): v for k, v in values.items()} if formula_refs_only else None

    def fast(self, m: re.Match) -> bytes:
        """FORMULA_CELL's cell: the same result as :meth:`cell`, in fewer steps."""
        new = self.by_bytes.get(m.group(1))
        if new is None:
            return m.group(0)
        attrs = m.group(2)
        tm = ATTR_T_VALUE.search(attrs) if b't="' in attrs else None
        old_t = tm.group(1).decode() if tm else None
        raw = m.group(4)
        old_v = raw.decode("utf-8") if raw is not None else ("" if m.group(5) else None)
        new_t, new_v = encode(new)
        if _same(old_t, old_v, new_t, new_v, self.shared):
            return m.group(0)
        new_attrs = ATTR_T.sub(b"", attrs) if tm else attrs
        if new_t:
            new_attrs = new_attrs.rstrip() + b' t="' + new_t.encode() + b'"'
        ref = m.group(1)
        self.report.changed.append((self.sheet, ref.decode(), old_v, new))
        return (b'<c r="' + ref + b'"' + new_attrs + b">" + m.group(3) + b"<v>"
                + (escape(new_v).encode("utf-8") if new_t == "str" else new_v.encode()) + b"</v></c>")

    def block(self, data: bytes) -> bytes:
        if self.by_bytes is not None:
            mark = len(self.report.changed)
            out, n = FORMULA_CELL.subn(self.fast, data)
            if n == len(F_OPEN.findall(data)):
                return out
            del self.report.changed[mark:]  # a cell of another shape: the whole block the general way
        return CELL.sub(self.cell, data)

    def cell(self, m: re.Match) -> bytes:
        attrs = m.group("attrs")
        r = ATTR_R.search(attrs)
        if not r:
            return m.group(0)
        ref = r.group(1).decode()
        if ref not in self.values:
            return m.group(0)
        new = self.values[ref]
        if new is None:
            return m.group(0)
        new_t, new_v = encode(new)
        body = m.group("body") or b""
        tm = ATTR_T_VALUE.search(attrs)
        old_t = tm.group(1).decode() if tm else None
        vm = V_ELEM.search(body)
        old_v = vm.group(1).decode("utf-8") if vm and vm.group(1) is not None else ("" if vm else None)
        if _same(old_t, old_v, new_t, new_v, self.shared):
            return m.group(0)
        p = m.group("p")
        new_attrs = ATTR_T.sub(b"", attrs) if tm else attrs
        if new_t:
            new_attrs = new_attrs.rstrip() + b' t="' + new_t.encode() + b'"'
        f = F_ELEM.search(body)
        # the <f> goes in front, the old <v> is dropped, anything else (<extLst>) stays after them
        if f is not None and vm is not None:
            (a1, b1), (a2, b2) = sorted((f.span(), vm.span()))
            rest = body[:a1] + body[b1:a2] + body[b2:]
        elif f is not None or vm is not None:
            a1, b1 = (f or vm).span()
            rest = body[:a1] + body[b1:]
        else:
            rest = body
        if b"is>" in rest:
            rest = IS_ELEM.sub(b"", rest)
        v_xml = b"<" + p + b"v>" + (escape(new_v).encode("utf-8") if new_t == "str" else new_v.encode()) + b"</" + p + b"v>"
        self.report.changed.append((self.sheet, ref, old_v, new))  # old value as stored (XML-escaped text)
        return b"<" + p + b"c" + new_attrs + b">" + (f.group(0) if f else b"") + v_xml + rest + b"</" + p + b"c>"

    def stream(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        buf = b""
        for chunk in chunks:
            buf += chunk
            ends = list(ROW_END.finditer(buf))
            if not ends:
                if len(buf) > 64 * CHUNK:  # no row end in 64 MB: patch what is complete so far
                    cut = buf.rfind(b"</c>")
                    if cut > 0:
                        cut += 4
                        yield self.block(buf[:cut])
                        buf = buf[cut:]
                continue
            cut = ends[-1].end()
            yield self.block(buf[:cut])
            buf = buf[cut:]
        if buf:
            yield self.block(buf)


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(info.filename, info.date_time)
    zi.compress_type = info.compress_type
    zi.external_attr = info.external_attr
    zi.create_system = info.create_system
    zi.comment = info.comment
    return zi


TEMP = re.compile(r"^\..+\.xl-stp-(\d+)-[^/]*\.tmp$")


def _open_output(fd: int):
    """The temporary output file (a seam for tests that simulate a full disk)."""
    return os.fdopen(fd, "wb")


def remove_stale_temps(folder: Path | str) -> int:
    """Delete temporary files left in ``folder`` by a run that was killed (its process is gone).
    Returns how many were removed."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for e in entries:
        m = TEMP.match(e.name)
        if not m:
            continue
        try:
            os.kill(int(m.group(1)), 0)
            continue  # still running: its file
        except ProcessLookupError:
            pass
        except (PermissionError, OverflowError, ValueError):
            continue
        try:
            os.unlink(e.path)
            removed += 1
        except OSError:
            pass
    return removed


def patch(src: Path | str, dst: Path | str, values: Mapping[str, Mapping[str, Any]], limits: Limits = Limits(),
          array_members: Mapping[str, Any] | None = None) -> PatchReport:
    """Write ``src`` to ``dst`` with the cached values ``{sheet: {cell: value}}``; atomically.

    ``array_members`` ({sheet: cells an array formula fills}, from the scan) lets sheets without
    such cells take the fast path; without it every sheet goes the general way."""
    src, dst = Path(src), Path(dst)
    report = PatchReport()
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WorkbookError(f"cannot create the output folder {dst.parent} ({e.strerror or e})") from None
    if not dst.parent.is_dir():
        raise WorkbookError(f"cannot write into {dst.parent}: it is a file, not a folder")
    if not os.access(dst.parent, os.W_OK):
        raise WorkbookError(f"cannot write to the output folder {dst.parent} (permission denied)")
    with Package(src, limits) as pkg:
        parts = {p.part: p.name for p in sheets(pkg)}
        needs_shared = any(values.get(name) for name in parts.values())
        shared = _shared_strings(pkg) if needs_shared else None
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.xl-stp-{os.getpid()}-", suffix=".tmp", dir=dst.parent)
        except OSError as e:
            raise WorkbookError(f"cannot write to the output folder {dst.parent} ({e.strerror or e})") from None
        try:
            with _open_output(fd) as raw:
                with zipfile.ZipFile(raw, "w", allowZip64=True) as zout:
                    for info in pkg.zip.infolist():
                        zi = _copy_info(info)
                        sheet = parts.get(info.filename)
                        with pkg.open(info.filename) as fin, zout.open(zi, "w", force_zip64=info.file_size > 2**31) as fout:
                            if sheet is not None and values.get(sheet):
                                fast = array_members is not None and not array_members.get(sheet)
                                patcher = _SheetPatcher(sheet, values[sheet], shared, report, fast)
                                for piece in patcher.stream(iter(lambda: fin.read(CHUNK), b"")):
                                    fout.write(piece)
                            else:
                                shutil.copyfileobj(fin, fout, CHUNK)
                raw.flush()
                os.fsync(raw.fileno())
            mode = os.stat(src).st_mode & 0o777 if dst.exists() or dst == src else 0o666 & ~_umask()
            os.chmod(tmp, mode)
            os.replace(tmp, dst)
        except OSError as e:
            Path(tmp).unlink(missing_ok=True)
            if e.errno == errno.ENOSPC:
                raise WorkbookError(f"the disk filled up while writing {dst}; nothing was written"
                                    + (" and the original is unchanged" if dst == src else "")) from None
            raise WorkbookError(f"cannot write {dst} ({e.strerror or e}); nothing was written") from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    report.written = dst
    return report


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

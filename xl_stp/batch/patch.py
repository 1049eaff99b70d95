"""Patch: write new cached values into a copy of a workbook, changing nothing else.

Only the ``<v>`` and the ``t`` attribute of formula-result cells (formula cells and the cells an
array formula fills) inside worksheet parts change, and the copy of the plotted data inside a chart
part that plots a changed cell (:mod:`.charts`); the formula text stays as stored, every other
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
import queue
import re
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection, Mapping
from xml.sax.saxutils import escape

from udfs.excel import encode_cached

from .charts import new_chart_parts
from .package import Limits, Package, WorkbookError, opened, row_blocks, xml_text
from .scan import F_OPEN, FORMULA_CELL

CELL = re.compile(rb"<(?P<p>(?:[A-Za-z_][\w.-]*:)?)c\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</(?P=p)c>)", re.S)
ATTR_R = re.compile(rb'\br="([A-Z]+[0-9]+)"')
ATTR_T = re.compile(rb'\s+t="[^"]*"')
ATTR_T_VALUE = re.compile(rb'\bt="([^"]*)"')
F_ELEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f\b[^>]*?(?:/>|>.*?</(?:[A-Za-z_][\w.-]*:)?f>)", re.S)
V_ELEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v\b[^>]*?(?:/>|>(.*?)</(?:[A-Za-z_][\w.-]*:)?v>)", re.S)
IS_ELEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?is\b.*?</(?:[A-Za-z_][\w.-]*:)?is>", re.S)
#: Two numbers that differ by less than this, relatively, are the same value: float noise from a
#: different order of additions (-7.7 against -7.699999999999992), far below Excel's 15 digits.
SAME = 1e-12


@dataclass
class PatchReport:
    changed: list[tuple[str, str, Any, Any]] = field(default_factory=list)  # sheet, cell, old, new
    written: Path | None = None
    charts: list[str] = field(default_factory=list)  # chart parts whose copy of the plotted data was rewritten

    @property
    def values_changed(self) -> int:
        return len(self.changed)


def _same(old_t: str | None, old_v: str | None, new_t: str | None, new_v: str, shared: list[str] | None) -> bool:
    if old_v is None:
        return False
    if old_t in (None, "n") and new_t is None:
        try:
            return _same_number(old_v, float(new_v))
        except ValueError:
            return False
    if old_t == "s" and new_t == "str" and shared is not None:
        try:
            return shared[int(old_v)] == new_v
        except (ValueError, IndexError):
            return False
    return old_t == new_t and xml_text(old_v) == new_v


def split(data: bytes) -> list | None:
    """A block of rows as FORMULA_CELL splits it (the text between cells, then each cell's eight
    groups); None when a formula cell of another shape is in it."""
    pieces = FORMULA_CELL.split(data)
    return pieces if (len(pieces) - 1) // 8 == len(F_OPEN.findall(data)) else None


#: Plain sheets are split ahead (:class:`Ahead`) only up to this many bytes in all: the blocks are held in memory.
AHEAD_MAX_BYTES = 64 << 20


class Ahead:
    """The write-back's work that needs no value, done ahead, while an engine computes (its
    ``meanwhile``): the plain sheets to patch, read and split into formula cells (:func:`split`).
    Calling it does that once; :func:`patch` given it uses what it holds. It never raises: a
    sheet it could not read is read again by the write-back, which then says why."""

    def __init__(self, pkg: Package, sheets: Collection[str]):
        self.pkg, self.sheets = pkg, set(sheets)
        self.blocks: dict[str, list[tuple[bytes, list | None]]] = {}  # part -> (block, its pieces)
        self.done = False

    def __call__(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            parts = [p.part for p in self.pkg.sheet_parts() if p.name in self.sheets]
            if sum(self.pkg.zip.getinfo(part).file_size for part in parts) > AHEAD_MAX_BYTES:
                return
            self.pkg.begin_pass()  # a reading of its own (the write-back begins another)
            for part in parts:
                with self.pkg.open(part) as stream:
                    # a block of another shape: [], so that the write-back goes the general way at once
                    self.blocks[part] = [(block, split(block) or []) for block in row_blocks(stream, size=BLOCK)]
        except Exception:  # noqa: BLE001 - the write-back reads the part itself and reports the problem
            self.blocks.clear()


BLOCK = 1 << 18  # bytes of a worksheet patched at a time: small, so that compressing one overlaps patching the next


def _same_number(old_v: str | bytes, b: float) -> bool:
    """The number stored (as written in the file) and ``b`` are the same value, float noise aside."""
    try:
        a = float(old_v)
    except ValueError:
        return False
    return a == b or abs(a - b) <= SAME * max(abs(a), abs(b))


class _SheetPatcher:
    """Rewrites the cached values of one worksheet's cells, a block of rows at a time."""

    def __init__(self, sheet: str, values: Mapping[str, Any], shared: list[str] | None, report: PatchReport,
                 fast: bool = False):
        self.sheet, self.values, self.shared, self.report, self.fast = sheet, values, shared, report, fast

    def block(self, data: bytes, pieces: list | None = None) -> bytes:
        """A block of whole rows, patched. On a sheet the scan found plain (and with no cells filled
        by an array formula, which have no <f> of their own) the formula cells are found by the
        scan's own FORMULA_CELL; a block holding a formula cell of another shape goes the general way.
        ``pieces``: the block as :func:`split` gave it, when that was done ahead ([]: another shape)."""
        if self.fast:
            out = self._plain(pieces if pieces is not None else split(data))
            if out is not None:
                return out
        return CELL.sub(self.cell, data)

    def _plain(self, pieces: list | None) -> bytes | None:
        """The block patched cell by cell from FORMULA_CELL's pieces of it (no prefix, r first, then
        <f> and an optional <v>: each cell rebuilt from its pieces is the cell as it was); None when
        it holds a formula cell of another shape."""
        if not pieces:
            return None
        values, changed, sheet = self.values, self.report.changed, self.sheet
        out = [pieces[0]]
        extend = out.extend  # a cell goes out as its pieces, joined once at the end
        for ref, attrs, f_xml, v, empty, after in zip(pieces[1::8], pieces[2::8], pieces[3::8], pieces[6::8],
                                                     pieces[7::8], pieces[8::8]):
            name = ref.decode()
            new = values.get(name)
            if new is None:
                pass
            elif type(new) is float and v is not None and (not attrs or b't="' not in attrs) and math.isfinite(new):
                # a number where a number was (the commonest case), as _rewrite would write it
                text = (str(int(new)) if new == int(new) and abs(new) < 1e15 else repr(new)).encode()
                if text != v:  # another text may still be the same number (_same_number, inline)
                    try:
                        old = float(v)
                    except ValueError:
                        old = math.nan
                    if not (old == new or (old and new and abs(old - new) <= SAME * max(abs(old), abs(new)))):
                        changed.append((sheet, name, v.decode("utf-8"), new))
                        extend((b'<c r="', ref, b'"', attrs, b">", f_xml, b"<v>", text, b"</v></c>", after))
                        continue
            else:
                old_v = v.decode("utf-8") if v is not None else ("" if empty else None)
                cell = self._rewrite(name, b"", b' r="' + ref + b'"' + attrs, f_xml, old_v, b"")
                if cell is not None:
                    extend((cell, after))
                    continue
            extend((b'<c r="', ref, b'"', attrs, b">", f_xml,  # the cell as it was
                    b"<v>" + v + b"</v>" if v is not None else (b"<v/>" if empty else b""), b"</c>", after))
        return b"".join(out)

    def cell(self, m: re.Match) -> bytes:
        """A CELL match: any prefix, any attribute order, <f>, <v>, <is> and <extLst> in any order."""
        attrs = m.group("attrs")
        r = ATTR_R.search(attrs)
        if not r or self.values.get(r.group(1).decode()) is None:
            return m.group(0)
        body = m.group("body") or b""
        vm = V_ELEM.search(body)
        old_v = vm.group(1).decode("utf-8") if vm and vm.group(1) is not None else ("" if vm else None)
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
        out = self._rewrite(r.group(1).decode(), m.group("p"), attrs, f.group(0) if f else b"", old_v, rest)
        return m.group(0) if out is None else out

    def _rewrite(self, ref: str, p: bytes, attrs: bytes, f_xml: bytes, old_v: str | None, rest: bytes) -> bytes | None:
        """The cell with its new cached value and type, or None where the stored value is the same."""
        new = self.values[ref]
        tm = ATTR_T_VALUE.search(attrs) if b't="' in attrs else None
        old_t = tm.group(1).decode() if tm else None
        new_t, new_v = encode_cached(new)
        if _same(old_t, old_v, new_t, new_v, self.shared):
            return None
        new_attrs = ATTR_T.sub(b"", attrs) if tm else attrs
        if new_t:
            new_attrs = new_attrs.rstrip() + b' t="' + new_t.encode() + b'"'
        v_xml = b"<" + p + b"v>" + (escape(new_v).encode("utf-8") if new_t == "str" else new_v.encode()) + b"</" + p + b"v>"
        self.report.changed.append((self.sheet, ref, old_v, new))  # old value as stored (XML-escaped text)
        return b"<" + p + b"c" + new_attrs + b">" + f_xml + v_xml + rest + b"</" + p + b"c>"


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


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (a killed worker whose parent died first can stay a
    zombie where nothing reaps orphans, as in some containers: it writes nothing any more)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process, or not a pid: leave its file alone
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


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
        if _running(int(m.group(1))):
            continue  # its file
        try:
            os.unlink(e.path)
            removed += 1
        except OSError:
            pass
    return removed


def patch(src: Package | Path | str, dst: Path | str, values: Mapping[str, Mapping[str, Any]], limits: Limits = Limits(),
          fast_sheets: Collection[str] = (), ahead: Ahead | None = None) -> PatchReport:
    """Write ``src`` (an open package, or a file opened with ``limits``) to ``dst`` with the cached
    values ``{sheet: {cell: value}}``; atomically.

    ``fast_sheets``: sheets the scan found plain and without cells filled by an array formula
    (:meth:`WorkbookScan.fast_sheets`), whose formula cells are found by FORMULA_CELL; ``ahead``:
    those sheets read and split while an engine computed (:class:`Ahead`)."""
    dst = Path(dst)
    report = PatchReport()
    _check_folder(dst.parent)
    with opened(src, limits) as pkg:
        pkg.begin_pass()
        tmp = None
        try:
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.xl-stp-{os.getpid()}-", suffix=".tmp", dir=dst.parent)
            except OSError as e:
                raise WorkbookError(f"cannot write to the output folder {dst.parent} ({e.strerror or e})") from None
            with _open_output(fd) as raw:
                _write_package(pkg, raw, values, fast_sheets, report, ahead.blocks if ahead is not None else {})
                raw.flush()
                os.fsync(raw.fileno())
            mode = os.stat(pkg.path).st_mode & 0o777 if dst.exists() or dst == pkg.path else 0o666 & ~_umask()
            os.chmod(tmp, mode)
            os.replace(tmp, dst)
        except OSError as e:
            Path(tmp).unlink(missing_ok=True)  # (tmp is set: mkstemp's own OSError is a WorkbookError above)
            if e.errno == errno.ENOSPC:
                raise WorkbookError(f"the disk filled up while writing {dst}; nothing was written"
                                    + (" and the original is unchanged" if dst == pkg.path else "")) from None
            raise WorkbookError(f"cannot write {dst} ({e.strerror or e}); nothing was written") from None
        except BaseException:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            raise
    report.written = dst
    return report


def _check_folder(folder: Path) -> None:
    """The output folder exists (made if need be), is a folder and may be written to."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WorkbookError(f"cannot create the output folder {folder} ({e.strerror or e})") from None
    if not folder.is_dir():
        raise WorkbookError(f"cannot write into {folder}: it is a file, not a folder")
    if not os.access(folder, os.W_OK):
        raise WorkbookError(f"cannot write to the output folder {folder} (permission denied)")


def _write_package(pkg: Package, raw, values: Mapping[str, Mapping[str, Any]], fast_sheets: Collection[str],
                   report: PatchReport, ahead: Mapping[str, list[tuple[bytes, list | None]]]) -> None:
    """Every part in its order: worksheets with new values patched a block of rows at a time,
    charts that plot a changed cell with their copy of the data rewritten, everything else copied
    byte for byte."""
    parts = {p.part: p.name for p in pkg.sheet_parts()}
    needs_shared = any(values.get(name) for name in parts.values())
    shared = _SharedStrings(pkg) if needs_shared else None
    charts = new_chart_parts(pkg, values, _same) if needs_shared else {}
    with zipfile.ZipFile(raw, "w", allowZip64=True) as zout:
        for info in pkg.zip.infolist():
            zi = _copy_info(info)
            if info.filename in charts:
                with zout.open(zi, "w") as fout:
                    fout.write(charts[info.filename])
                report.charts.append(info.filename)
                continue
            sheet = parts.get(info.filename)
            if sheet is not None and values.get(sheet) and info.file_size > PATCHED_LEVEL_FROM:
                _compress_level(zi, PATCHED_LEVEL)
            with pkg.open(info.filename) as fin, zout.open(zi, "w", force_zip64=info.file_size > 2**31) as fout:
                if sheet is not None and values.get(sheet):
                    patcher = _SheetPatcher(sheet, values[sheet], shared, report, sheet in fast_sheets)
                    blocks = ahead.get(info.filename) if sheet in fast_sheets else None
                    with _Behind(fout) as behind:
                        for block, pieces in blocks if blocks is not None else ((b, None) for b in row_blocks(fin, size=BLOCK)):
                            behind.write(patcher.block(block, pieces))
                else:
                    shutil.copyfileobj(fin, fout, 1 << 20)


#: zlib's level for a large worksheet the write-back rewrites (over PATCHED_LEVEL_FROM bytes; its bytes
#: change anyway): 4 compresses a sheet of 24,000 formula cells (1.7 MB) 2.3 times as fast as the
#: default 6, into 6% more bytes, and keeps its compressing (in a thread of its own) from being what
#: the write-back waits for at the end. Smaller sheets, quick to compress either way, keep the default.
PATCHED_LEVEL = 4
PATCHED_LEVEL_FROM = 1 << 20


def _compress_level(zi: zipfile.ZipInfo, level: int) -> None:
    """Set the level an entry opened for writing is compressed with (``compress_level`` from
    Python 3.13; ``_compresslevel`` before)."""
    setattr(zi, "compress_level" if "compress_level" in zipfile.ZipInfo.__slots__ else "_compresslevel", level)


class _SharedStrings:
    """The workbook's shared strings, read the first time one is asked for: only a formula cell
    that stores its text as a shared string needs them here, which few files have."""

    def __init__(self, pkg: Package):
        self.pkg = pkg

    def __getitem__(self, i: int) -> str:
        return self.pkg.shared_strings()[i]


class _Behind:
    """Writes blocks into a part of the output in a thread of its own: zlib compresses (and the
    file is written) without holding Python's lock, so one block is compressed while the next is
    patched. An error there is raised here, at the next write or at the end."""

    def __init__(self, out) -> None:
        self.out, self.error = out, None
        self.queue: queue.Queue = queue.Queue(maxsize=4)
        self.thread = threading.Thread(target=self._run, name="xl-stp-write", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (block := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.out.write(block)
                except BaseException as e:  # noqa: BLE001 - handed to the patching thread
                    self.error = e

    def write(self, block: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(block)

    def __enter__(self) -> "_Behind":
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and exc_type is None:
            raise self.error


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

"""Opening a workbook safely: what kind of file it is, bounded decompression, XML without DTDs.

A workbook is untrusted input. Nothing here follows a DTD, resolves an entity or touches the
network; every zip member is decompressed through a counter that stops at a limit (a zip bomb is
refused, not inflated); worksheets are read as a stream, never as one DOM.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Iterator
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring, iterparse

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ANY_F = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")  # a formula element, any prefix
ROOT_START = re.compile(rb"<[A-Za-z_]")  # the first start tag: the prolog (where a DTD would be) is over

#: Default limits: well under this machine's memory, far above any real workbook.
MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_RATIO = 1000  # a member may inflate to at most 1000x its compressed size (real xlsx: ~5-20x)
MAX_FORMULA_CELLS = 2_000_000  # formula cells in one workbook (a full 1,048,576-row sheet of two columns)


class WorkbookError(Exception):
    """A problem with a workbook file, stated for a finance user: what and where."""

    def __init__(self, message: str, sheet: str | None = None, cell: str | None = None):
        super().__init__(message)
        self.message, self.sheet, self.cell = message, sheet, cell

    def where(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}: "
        return f"{self.sheet}: " if self.sheet else ""

    def __str__(self) -> str:
        return self.where() + self.message


class TooManyFormulas(WorkbookError):
    """A workbook with more formula cells than the limit: refused before it fills the memory."""

    def __init__(self, limit: int, sheet: str | None = None):
        super().__init__(f"has more than {limit:,} formula cells; refused to keep memory bounded "
                         "(raise the limit with --max-formulas if the workbook is genuine)", sheet=sheet)
        self.limit = limit


@dataclass(frozen=True)
class Limits:
    member_bytes: int = MAX_MEMBER_BYTES
    total_bytes: int = MAX_TOTAL_BYTES
    ratio: int = MAX_RATIO
    formula_cells: int = MAX_FORMULA_CELLS


def check_kind(path: Path) -> None:
    """Refuse, with the reason, anything that is not an .xlsx/.xlsm package."""
    suffix = path.suffix.lower()
    head = _head(path)
    if head.startswith(OLE_MAGIC):
        _refuse_compound_file(path, suffix)
    legacy = _kind(head, _BIFF_KINDS)
    if legacy:
        raise WorkbookError(f"is {legacy}; open it in Excel and save it as .xlsx first")
    if suffix == ".xls":
        raise WorkbookError("has the legacy .xls extension; only .xlsx and .xlsm workbooks are recalculated")
    if not zipfile.is_zipfile(path):
        if head.startswith(b"PK\x03\x04"):
            raise WorkbookError("is truncated or damaged: it starts like an .xlsx package but its end (the zip directory) "
                                "is missing; copy the file again from its source")
        raise WorkbookError("is not an Excel workbook: expected an .xlsx/.xlsm file (a zip package), found "
                            f"{_sniff(head)} renamed {suffix or 'without an extension'}")
    names = _package_names(path)
    if "mimetype" in names and "content.xml" in names:
        raise WorkbookError("is an OpenDocument spreadsheet (.ods); save it as .xlsx first")
    if "xl/workbook.bin" in names:
        raise WorkbookError("is an Excel binary workbook (.xlsb); save it as .xlsx or .xlsm in Excel first")
    if "xl/workbook.xml" not in names:
        raise WorkbookError("is a zip file but not an Excel workbook (no xl/workbook.xml)")
    if suffix not in (".xlsx", ".xlsm"):
        raise WorkbookError(f"has the extension {suffix or '(none)'}; expected .xlsx or .xlsm")


def _head(path: Path, size: int = 512) -> bytes:
    """The file's first bytes, enough to tell what kind of file it is."""
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except IsADirectoryError:
        raise WorkbookError("is a folder, not a workbook") from None
    except OSError as e:
        raise WorkbookError(f"cannot be read ({e.strerror})") from None


#: OLE compound files (Office 97-2003 and friends) by a stream their directory names, in this order.
_COMPOUND_KINDS = (
    ("Workbook", "is a legacy Excel 97-2003 workbook (.xls format); save it as .xlsx in Excel first"),
    ("Book", "is a legacy Excel 5.0/95 workbook (.xls format); save it as .xlsx in Excel first"),
    ("WordDocument", "is a Word 97-2003 document (.doc), not a workbook"),
    ("PowerPoint Document", "is a PowerPoint 97-2003 presentation (.ppt), not a workbook"),
)


def _refuse_compound_file(path: Path, suffix: str) -> None:
    """An OLE compound file: an encrypted package, a legacy Excel workbook or another Office file."""
    with open(path, "rb") as f:
        directory = f.read(1 << 20)
    if "EncryptedPackage".encode("utf-16-le") in directory or "EncryptionInfo".encode("utf-16-le") in directory:
        raise WorkbookError("is password-protected (encrypted); save a copy without a password in Excel first "
                            "(File > Info > Protect Workbook > Encrypt with Password, clear the password)")
    for stream, message in _COMPOUND_KINDS:
        if stream.encode("utf-16-le") + b"\x00\x00" in directory:  # a directory entry's name ends with a NUL
            raise WorkbookError(message)
    if suffix == ".xls":
        raise WorkbookError("is a legacy Excel 97-2003 workbook (.xls format); save it as .xlsx in Excel first")
    raise WorkbookError("is an OLE compound file, not an .xlsx/.xlsm package; save it as .xlsx in Excel first")


#: Excel's files before Excel 97 that are not compound files: a BIFF record stream, which starts
#: with its BOF record (record number 0x0009/0x0209/0x0409/0x0809, then its length).
_BIFF_KINDS = (
    (b"\x09\x00\x04\x00", "a legacy Excel 2.x worksheet (BIFF2 .xls format)"),
    (b"\x09\x02\x06\x00", "a legacy Excel 3.0 worksheet (BIFF3 .xls format)"),
    (b"\x09\x04\x06\x00", "a legacy Excel 4.0 worksheet or workbook (BIFF4 .xls/.xlw format)"),
    (b"\x09\x08\x08\x00", "a legacy Excel 5.0/95 worksheet stream (BIFF5 .xls format)"),
    (b"\x09\x08\x10\x00", "a legacy Excel 97-2003 worksheet stream (BIFF8 .xls format)"),
)

#: Other files that get renamed .xlsx by mistake, by the bytes they start with.
_OTHER_KINDS = (
    (b"\x00\x01\x00\x00Standard Jet DB", "a Microsoft Access database (.mdb)"),
    (b"\x00\x01\x00\x00Standard ACE DB", "a Microsoft Access database (.accdb)"),
    (b"%PDF", "a PDF"),
    (b"{\\rtf", "an RTF document"),
    (b"\xff\xfe", "a UTF-16 text file (perhaps Excel's 'Unicode Text' export)"),
    (b"\xfe\xff", "a UTF-16 text file"),
)


def _kind(head: bytes, kinds: tuple[tuple[bytes, str], ...]) -> str | None:
    return next((name for start, name in kinds if head.startswith(start)), None)


def _sniff(head: bytes) -> str:
    """What a file that is not a zip package is, from its first bytes."""
    if not head:
        return "an empty file"
    known = _kind(head, _OTHER_KINDS)
    if known:
        return known
    if head.lstrip().startswith((b"<", b"\xef\xbb\xbf<")):
        return "an XML or HTML file (perhaps a web page or an Excel 2003 XML spreadsheet)"
    return "a text file (perhaps CSV)" if _is_text(head) else "a file of another kind"


#: Bytes no text file holds (tab, line ends, form feed and ^Z are text); a binary file has some
#: within its first few hundred bytes.
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f\x7f]")


def _is_text(head: bytes) -> bool:
    """Text in any 8-bit encoding (UTF-8, or Windows-1252 with its £ signs): no control characters."""
    return not _CONTROL.search(head)


def _package_names(path: Path) -> set[str]:
    """The part names of a zip package, each checked: every member intact (its checksum), and no
    part stored twice (under the same name, or names that differ only in case or slashes)."""
    try:
        with zipfile.ZipFile(path) as z:
            stored = z.namelist()
            bad = z.testzip() if len(stored) < 10_000 else None
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise WorkbookError(f"is a damaged zip package ({e})") from None
    except Exception as e:  # zlib.error and friends on a corrupt member
        raise WorkbookError(f"is a damaged zip package ({type(e).__name__}: {e})") from None
    if bad is not None:
        raise WorkbookError(f"is damaged: its part {bad} fails its checksum")
    seen: dict[str, str] = {}
    for name in stored:
        part = part_name(name)
        if part.lower() in seen:
            raise WorkbookError(f"is damaged: its zip package stores the part {part} twice ({_twice(seen[part.lower()], name)}); "
                                "a part may be stored only once, so which one is meant cannot be told; "
                                "copy the file again from its source")
        seen[part.lower()] = name
    return {part_name(n) for n in stored}


def _twice(first: str, second: str) -> str:
    return "two entries of that name" if first == second else f"as {first} and as {second}"


def part_name(stored: str) -> str:
    """A zip member's part name: some tools store parts under Windows backslash paths
    (xl\\workbook.xml), which Excel opens as if written xl/workbook.xml."""
    return stored.replace("\\", "/")


class BoundedReader(io.RawIOBase):
    """A zip member's decompressed stream that raises once it passes its limit."""

    def __init__(self, raw: IO[bytes], name: str, limit: int, budget: list[int]):
        self.raw, self.name, self.limit, self.budget, self.count = raw, name, limit, budget, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        data = self.raw.read(len(b))
        n = len(data)
        self.count += n
        self.budget[0] -= n
        if self.count > self.limit:
            raise WorkbookError(f"part {self.name} inflates past {self.limit:,} bytes: refused as a possible zip bomb "
                                "(raise the limit with --max-part-mb if the workbook is genuine)")
        if self.budget[0] < 0:
            raise WorkbookError("inflates past the total size limit: refused as a possible zip bomb")
        b[:n] = data
        return n


class Package:
    """An open .xlsx/.xlsm with bounded access to its parts, checked once when opened (what kind
    of file, sizes and ratios of its parts) and once for DTDs (:meth:`check_prologs`). A
    regeneration opens it once and hands it to the scan, the engines and the write-back; what
    several of them read (the sheet list, the shared strings) is read once."""

    def __init__(self, path: Path, limits: Limits = Limits()):
        self.path = Path(path)
        check_kind(self.path)
        self.limits = limits
        self.zip = zipfile.ZipFile(self.path)
        #: Whether the file stores its parts under Windows backslash paths (read under their part names).
        self.backslashed = _rename_parts(self.zip)
        self._budget = [limits.total_bytes]
        self._prologs_checked = False
        self._cache: dict[str, object] = {}
        self._copy: tempfile.TemporaryDirectory | None = None
        for info in self.zip.infolist():
            if info.flag_bits & 0x1:
                self.zip.close()
                raise WorkbookError("has encrypted parts; save an unencrypted copy in Excel first")
            if info.file_size > limits.member_bytes or (info.compress_size and info.file_size > limits.ratio * max(info.compress_size, 1024)):
                self.zip.close()
                raise WorkbookError(f"part {info.filename} would inflate to {info.file_size:,} bytes from {info.compress_size:,}: "
                                    "refused as a possible zip bomb")

    def close(self) -> None:
        self.zip.close()
        if self._copy is not None:
            self._copy.cleanup()
            self._copy = None

    def readable_path(self) -> Path:
        """A file the engines' own readers (openpyxl, LibreOffice) can open: the workbook itself, or,
        when its parts are stored under backslash paths (which they do not read), a private copy
        with each part under its real name, made once and removed when the package is closed."""
        if not self.backslashed:
            return self.path
        if self._copy is None:
            self._copy = tempfile.TemporaryDirectory(prefix="xl-stp-")
            copy = Path(self._copy.name) / self.path.name
            saved = self._budget[0]
            self.begin_pass()
            try:
                with zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zout:
                    for info in self.zip.infolist():
                        big = info.file_size > 2**31
                        with self.open(info.filename) as fin, zout.open(_renamed(info), "w", force_zip64=big) as fout:
                            shutil.copyfileobj(fin, fout, 1 << 20)
            finally:
                self._budget[0] = saved
        return Path(self._copy.name) / self.path.name

    def __enter__(self) -> "Package":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def begin_pass(self) -> None:
        """A new reading of the package (the scan, the write-back): the total it may inflate to
        starts again, as if the file had been opened anew (each part's own limit always applies)."""
        self._budget[0] = self.limits.total_bytes

    def open(self, name: str) -> IO[bytes]:
        info = self.zip.getinfo(name)
        limit = min(self.limits.member_bytes, max(self.limits.ratio * max(info.compress_size, 1024), 1024 * 1024))
        return io.BufferedReader(BoundedReader(self.zip.open(info), name, limit, self._budget), 1 << 16)

    def give_back(self, stream: IO[bytes]) -> None:
        """A part that will be read again from its start: what this reading of it inflated no
        longer counts against the package's total (the part's own limit still applies)."""
        self._budget[0] += stream.raw.count

    def read(self, name: str) -> bytes:
        with self.open(name) as f:
            return f.read()

    def xml(self, name: str) -> Element:
        return parse_xml(self.read(name), name)

    def names(self) -> list[str]:
        return self.zip.namelist()

    def _cached(self, key: str, read):
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    def asks_full_calc(self) -> bool:
        """The workbook asks for every formula to be recalculated when it is opened (calcPr
        fullCalcOnLoad), as files written by programs that do not compute their formulas do."""
        calc = self.workbook().find(f"{{{NS}}}calcPr")
        return calc is not None and calc.get("fullCalcOnLoad") in ("1", "true")

    def has_formulas(self) -> bool:
        """Some worksheet has a formula element: read only as far as the first one, so that an
        engine is handed a workbook early (to load it while Python imports and scans) only when it
        will have something to compute — a data-only file, as pandas and openpyxl export them with
        fullCalcOnLoad, never is. Something that only looks like one (in a comment) makes it True:
        the scan has the last word."""
        self.begin_pass()
        for part in self.sheet_parts():
            with self.open(part.part) as stream:
                tail = b""
                while chunk := stream.read(1 << 20):
                    if _ANY_F.search(tail + chunk):
                        return True
                    tail = chunk[-64:]
        return False

    def workbook(self) -> Element:
        """xl/workbook.xml, parsed (read once)."""
        return self._cached("workbook", lambda: self.xml("xl/workbook.xml"))

    def sheet_parts(self) -> list["SheetPart"]:
        """Worksheets in workbook order with their part names (read once)."""
        return self._cached("sheets", lambda: _sheet_parts(self))

    def shared_strings(self) -> list[str]:
        """The shared strings (read once): see :func:`shared_strings`."""
        return self._cached("shared_strings", lambda: _shared_strings(self))

    def check_prologs(self) -> None:
        """Refuse a package any of whose XML parts declares a DTD or entities, before anything (our
        parser, the formulas engine's openpyxl, LibreOffice) reads it. Only each part's prolog is
        read: everything before its root element. Done once per package."""
        if self._prologs_checked:
            return
        for info in self.zip.infolist():
            if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                self._check_prolog(info.filename)
        self._prologs_checked = True

    def _check_prolog(self, name: str) -> None:
        with self.open(name) as f:
            seen = b""
            while True:
                chunk = f.read(1 << 16)
                if not chunk:
                    break
                seen = seen[-16:] + chunk
                root = ROOT_START.search(seen)
                prolog = seen[:root.start()] if root else seen
                if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
                    raise WorkbookError(f"part {name} declares a DTD or entities (possible XXE or 'billion laughs' "
                                        "attack): refused")
                if root:
                    break


def _rename_parts(z: zipfile.ZipFile) -> bool:
    """Each member stored under a backslash path (xl\\workbook.xml) found by its part name
    (xl/workbook.xml), as Excel reads it; True when there was one. (Its stored name stays the
    member's ``orig_filename``, which the zip module checks against the member's own header.)"""
    renamed = False
    for info in z.infolist():
        if "\\" in info.filename:
            info.filename = part_name(info.filename)
            renamed = True
    if renamed:
        z.NameToInfo = {info.filename: info for info in z.infolist()}
    return renamed


def _renamed(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    out = zipfile.ZipInfo(info.filename, info.date_time)
    out.compress_type, out.external_attr = info.compress_type, info.external_attr
    return out


@contextlib.contextmanager
def opened(source: "Package | Path | str", limits: Limits = Limits()) -> Iterator[Package]:
    """The package itself when given one (left open), else the file opened (and closed after)."""
    if isinstance(source, Package):
        yield source
        return
    with Package(Path(source), limits) as pkg:
        yield pkg


def parse_xml(data: bytes, name: str) -> Element:
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise WorkbookError(f"part {name} declares a DTD or entities (possible XXE or 'billion laughs' attack): refused") from None
    except Exception as e:
        raise WorkbookError(f"part {name} is not well-formed XML ({e})") from None


def iter_xml(stream: IO[bytes], name: str, tag: str) -> Iterator[Element]:
    """Stream the elements ``tag`` (qualified) of a part, clearing each row as it goes."""
    try:
        for _event, el in iterparse(stream, events=("end",), forbid_dtd=True, forbid_entities=True, forbid_external=True):
            if el.tag == tag:
                yield el
            elif el.tag == f"{{{NS}}}row":
                el.clear()
    except DefusedXmlException:
        raise WorkbookError(f"part {name} declares a DTD or entities (possible XXE or 'billion laughs' attack): refused") from None
    except WorkbookError:
        raise
    except Exception as e:
        raise WorkbookError(f"part {name} is not well-formed XML ({e})") from None


@dataclass(frozen=True)
class SheetPart:
    name: str
    part: str
    index: int


def sheets(pkg: Package) -> list[SheetPart]:
    """Worksheets in workbook order with their part names."""
    return pkg.sheet_parts()


def _sheet_parts(pkg: Package) -> list[SheetPart]:
    wb = pkg.workbook()
    rels = pkg.xml("xl/_rels/workbook.xml.rels")
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{PKG_REL_NS}}}Relationship")}
    out = []
    for i, s in enumerate(wb.iter(f"{{{NS}}}sheet")):
        target = targets.get(s.get(f"{{{REL_NS}}}id"), "")
        if not target:
            continue
        part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        part = re.sub(r"[^/]+/\.\./", "", part)
        if part in pkg.names() and "worksheets/" in part:
            out.append(SheetPart(s.get("name"), part, i))
    return out


ROW_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?row>")
_REFERENCE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def row_blocks(stream: IO[bytes], check=None, size: int = 1 << 20) -> Iterator[bytes]:
    """A worksheet part's bytes in blocks of whole rows (``size`` bytes or so each: a megabyte), for
    expressions that must never see half a cell; where no row ends within 64 MB, the block ends
    after the last whole cell. Each chunk read is also given to ``check(chunk, last)``."""
    buf = b""
    while True:
        chunk = stream.read(size)
        if not chunk:
            if check is not None:
                check(b"", True)
            if buf:
                yield buf
            return
        if check is not None:
            check(chunk, False)
        buf += chunk
        cut = 0
        ends = list(ROW_END.finditer(buf))
        if ends:
            cut = ends[-1].end()
        elif len(buf) >= 64 << 20:
            cut = buf.rfind(b"</c>") + 4 if buf.rfind(b"</c>") >= 0 else 0
        if cut:
            yield buf[:cut]
            buf = buf[cut:]


def xml_text(raw: bytes | str) -> str:
    """Element text taken from the bytes as an XML parser gives it: entity and character
    references resolved, line ends normalised."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        text = _REFERENCE.sub(lambda m: _NAMED.get(m.group(1)) or chr(int(m.group(1)[2:], 16) if m.group(1)[1] == "x"
                                                                      else int(m.group(1)[1:])), text)
    return text


def shared_strings(pkg: "Package") -> list[str]:
    """The workbook's shared strings as cells show them: a plain string, or its rich-text runs
    joined (phonetic guides, rPh, are not part of the text)."""
    return pkg.shared_strings()


def _shared_strings(pkg: "Package") -> list[str]:
    name = "xl/sharedStrings.xml"
    if name not in pkg.names():
        return []
    out = []
    for si in pkg.xml(name).iter(f"{{{NS}}}si"):
        t = si.find(f"{{{NS}}}t")
        out.append((t.text or "") if t is not None else "".join(x.text or "" for x in si.iterfind(f"{{{NS}}}r/{{{NS}}}t")))
    return out

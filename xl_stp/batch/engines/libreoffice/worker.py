"""A warm LibreOffice worker: run by Debian's /usr/bin/python3 (which has the UNO bridge), it starts
soffice headless, talks to it over a private pipe, and answers JSON-line requests on stdin.

Requests: {"op": "open", "path"(, "recalc": false: keep the stored values, see ``Office.open``)}, {"op": "sheets", "names"} (the workbook's sheet names in its
own order: sheets are then found by position, whatever LibreOffice renamed), {"op": "calc", "all": true},
{"op": "read", "ranges": [[sheet, "A1:C9"], ...]},
{"op": "write", "ranges": [[sheet, "B5:G19", rows, clear(, formulas)], ...]}, {"op": "formulas", "cells": [[sheet, "A9", "B1+C1"]]}
(Excel syntax, one cell at a time), {"op": "get_formulas", "ranges": [[sheet, ref], ...]} and
{"op": "set_formulas", "ranges": [[sheet, ref, rows], ...]} (LibreOffice's API syntax, a range at a
time), {"op": "array_sizes", "items": [[sheet, "A9", text, api], ...]} (rows and columns of each
expression evaluated as an array) and {"op": "array_formulas", "items": [[sheet, "A9:B12", text, api], ...]}
(each expression as one array formula over its range; ``api``: the text is in LibreOffice's API
syntax, else Excel's), {"op": "touch", "ranges": [[sheet, ref], ...]} (array formulas entered again,
to be recomputed), {"op": "store", "path"} (LibreOffice's own save as .xlsx, for the benchmark's
native-only baseline), {"op": "close"}, {"op": "quit"} (answered {"stopped": true} once LibreOffice
is stopped; the profile is removed after, the client not waiting). Each gets one JSON line back:
{"ok": true, ...} or {"ok": false, "error": "..."}; if LibreOffice crashed, the answer says so
("crashed": true) and the worker ends (the client kills it, since Python's UNO bridge can hang on
the way out when LibreOffice is gone, and starts a new one for the next workbook).

The profile: each worker has its own, a new folder of the system temp removed when it quits: a copy
of the prepared profile of this LibreOffice installation, kept in the cache ($XL_STP_CACHE_DIR, else
$XDG_CACHE_HOME/xl-stp, else ~/.cache/xl-stp; see ``private_profile``), so that LibreOffice neither
creates a profile nor restarts on a one-shot run. The first line the worker prints says it is ready:
{"ok": true, "ready": true, "profile", "prepared": "cached" | "built" | "fresh", "restarts"}.

Values read come back as Excel would hold them: a numeric result that LibreOffice formats as a
logical (=1=1, =ISERROR(x)) as true/false, an error as Excel's own literal for it (see ``ERRORS``
and ``RAISED``: LibreOffice has one code, Err:502, for what Excel calls #NUM!, #VALUE! or #REF!
depending on the function, so an error is traced to the cell that raised it).

Workbooks are untrusted: they are opened hidden, with macros never executed and links never
updated, and never stored by LibreOffice (the batch engine writes its own output).
This file imports nothing from the project: it runs outside the project's virtual environment.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

import uno
from com.sun.star.beans import PropertyValue

#: LibreOffice's error codes (its FormulaError) as Excel's literals: what Excel gives in the cases
#: that raise each code. 502 (invalid argument) is what SQRT(-1), LN(0), ACOSH(0), DATE(-1,1,1),
#: DEC2BIN(1000) give, all #NUM! in Excel (1,138 cells of the Excel-saved corpus, none otherwise);
#: 503 is an overflow or ASIN(2): #NUM!; 523 no convergence (IRR, RATE): #NUM!, unless the
#: workbook iterates, where it is a circular reference that did not settle. 522 is a circular
#: reference (the engine leaves those cells as they were).
ERRORS = {502: "#NUM!", 503: "#NUM!", 504: "#VALUE!", 508: "#VALUE!", 509: "#VALUE!", 510: "#VALUE!",
          511: "#VALUE!", 519: "#VALUE!", 521: "#NULL!", 522: "#CIRC!", 523: "#NUM!", 524: "#REF!",
          525: "#NAME?", 530: "#NAME?", 531: "#NAME?", 532: "#DIV/0!", 32767: "#N/A"}
#: Where Excel's kind depends on the function that raised the code: code -> {function as
#: LibreOffice spells it: Excel's literal}. A text or lookup function's invalid argument is #VALUE!
#: (MID("abc",0,1), CHOOSE(5,1,2)) or #REF! (INDEX or VLOOKUP past the range's end) in Excel;
#: LARGE/SMALL's k out of range is #NUM!, MODE without a repeat #N/A.
RAISED = {
    502: {**dict.fromkeys(("MID", "MIDB", "LEFT", "LEFTB", "RIGHT", "RIGHTB", "REPT", "SUBSTITUTE", "REPLACE",
                           "REPLACEB", "DATEVALUE", "TIMEVALUE", "VALUE", "NUMBERVALUE", "CHOOSE", "ROMAN", "ARABIC",
                           "MDETERM", "MMULT", "FIXED", "DOLLAR"), "#VALUE!"),
          **dict.fromkeys(("INDEX", "VLOOKUP", "HLOOKUP", "OFFSET"), "#REF!")},
    519: {**dict.fromkeys(("LARGE", "SMALL"), "#NUM!"),
          **dict.fromkeys(("MODE", "COM.MICROSOFT.MODE.SNGL", "COM.MICROSOFT.MODE.MULT"), "#N/A")},
}
#: Codes whose kind Excel decides by the formula's text: a reference to a deleted range
#: (Data!#REF!, which LibreOffice reads as an unknown name) is #REF!; an empty intersection (A1:A2 B3:B4,
#: LibreOffice's A1:A2!B3:B4) #NULL!.
MARKED = {
    509: (re.compile(r"#REF!"), "#REF!"),
    524: (re.compile(r"[\w$)]!\s*[\w$(]"), "#NULL!"),
    525: (re.compile(r"#REF!"), "#REF!"),
}
FUNCTION = re.compile(r"([A-Z][A-Z0-9._]*)\(")
STRING = re.compile(r'"(?:[^"]|"")*"')
#: A unary minus of a parenthesis, a logical or another minus (=--(A1>0), =-TRUE).
NEGATED = re.compile(r"(?:^=|[(;=<>&*/^+-])\s*-\s*(?:[(-]|TRUE\b|FALSE\b)")
LOGICAL = 1024  # com.sun.star.util.NumberFormat.LOGICAL
#: com.sun.star.sheet.ReferenceFlags
COLUMN_RELATIVE, ROW_RELATIVE, SHEET_RELATIVE, DELETED = 1, 4, 16, 2 | 8 | 32
CONTENTS = 1 | 2 | 4 | 16  # com.sun.star.sheet.CellFlags VALUE | DATETIME | STRING | FORMULA
TRACE_CHECKS = 64  # error cells of one referenced range looked at for the error's source


def _die_with_parent():
    """soffice is killed when this worker dies, however it dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except Exception:
        pass


#: The settings of every profile this worker makes: recalculate .xlsx files on load (so that loading,
#: which runs while the batch engine scans the file, also computes every native formula).
SETTINGS = ('<?xml version="1.0" encoding="UTF-8"?><oor:items xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">'
            '<value>0</value></prop></item></oor:items>')
PROFILE_FORMAT = 1  # raised when what a prepared profile holds changes: older ones are then rebuilt
STAMP = "xl-stp-profile.stamp"  # in a prepared profile: what it was made for (see ``installation``)
LEFTOVER_SECONDS = 3600  # a build or stale folder this old was left by a run that was killed


class ProfileError(Exception):
    """The prepared profile could not be made or used (LibreOffice then starts on a fresh one)."""


def _soffice():
    """soffice.bin itself (not the soffice script, whose launcher would leave it orphaned), so that it
    dies with this worker."""
    soffice = shutil.which("soffice") or "/usr/bin/soffice"
    binary = os.path.join(os.path.dirname(os.path.realpath(soffice)), "soffice.bin")
    return binary if os.path.exists(binary) else soffice


def cache_dir():
    """Where xl-stp keeps what outlives a run: $XL_STP_CACHE_DIR, else $XDG_CACHE_HOME/xl-stp, else
    ~/.cache/xl-stp."""
    if os.environ.get("XL_STP_CACHE_DIR"):
        return os.environ["XL_STP_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "xl-stp")


def installation(binary):
    """(name, stamp) of this LibreOffice installation: the folder name of its prepared profile
    ('libreoffice-profile-25.2-520-build-2', from its bootstraprc and versionrc: no process started)
    and what the profile must have been made for to be used: this format, these settings, the
    product, build, folder, and the size and time of its programs."""
    program = os.path.dirname(os.path.realpath(binary))
    keys = {}
    for rc in ("bootstraprc", "versionrc"):
        try:
            with open(os.path.join(program, rc), encoding="utf-8", errors="replace") as f:
                keys.update(line.strip().split("=", 1) for line in f if line.startswith(("ProductKey=", "buildid=")))
        except OSError:
            pass
    files = []
    for name in ("soffice.bin", "libmergedlo.so"):
        try:
            st = os.stat(os.path.join(program, name))
            files.append(f"{name} {st.st_size} {st.st_mtime_ns}")
        except OSError:
            pass
    product = keys.get("ProductKey", "").split()[-1:] or ["unknown"]
    build = re.sub(r"[^A-Za-z0-9.]+", "-", keys.get("buildid", "")).strip("-").lower()
    name = "-".join(["libreoffice-profile", product[0]] + ([build] if build else []))
    settings = hashlib.sha256(SETTINGS.encode()).hexdigest()[:16]
    stamp = "\n".join([f"format {PROFILE_FORMAT}", f"settings {settings}", f"program {program}",
                       f"product {keys.get('ProductKey', '')}", f"build {keys.get('buildid', '')}", *files]) + "\n"
    return name, stamp


def private_profile(binary):
    """(folder, how) of this worker's own profile, a new folder of the system temp: a copy of the
    prepared profile of this LibreOffice (how: 'cached'; 'built' when it had to be prepared first),
    so that LibreOffice neither creates a profile nor restarts; if the cache cannot be used, a
    fresh profile holding only our settings (how: 'fresh'; LibreOffice then creates the rest, and
    restarts once)."""
    mine = tempfile.mkdtemp(prefix="xl-stp-lo-")
    try:
        try:
            prepared, how = prepared_profile(binary)
            shutil.copytree(os.path.join(prepared, "user"), os.path.join(mine, "user"), symlinks=True)
            return mine, how
        except (OSError, shutil.Error, ProfileError):  # LibreOffice failing to start is not one of these
            shutil.rmtree(os.path.join(mine, "user"), ignore_errors=True)
            _write_settings(mine)
            return mine, "fresh"
    except BaseException:
        shutil.rmtree(mine, ignore_errors=True)
        raise


def prepared_profile(binary):
    """(folder, how) of the prepared profile of this LibreOffice in the cache: 'cached' when it was
    there with the right stamp, 'built' when this call prepared it."""
    name, stamp = installation(binary)
    final = os.path.join(cache_dir(), name)
    if _stamp(final) == stamp:
        return final, "cached"
    build_profile(binary, final, stamp)
    if _stamp(final) != stamp:
        raise ProfileError("the prepared profile was replaced while in use")
    return final, "built"


def build_profile(binary, final, stamp):
    """Prepare a profile: LibreOffice started once in a new folder beside ``final`` (creating its
    profile and restarting as it asks), quit cleanly, the folder stamped and renamed to ``final``.
    A rename is atomic, so no worker ever copies half a profile; when two prepare one at once, the
    first rename wins and the other's folder is dropped. A profile with another stamp is replaced;
    those of other LibreOffice versions, and folders left by killed runs, are removed."""
    root = os.path.dirname(final)
    os.makedirs(root, exist_ok=True)
    build = tempfile.mkdtemp(prefix=".build-", dir=root)
    try:
        _write_settings(build)
        pipe = f"xlstpbuild{os.getpid()}"
        proc, ctx, _restarts = start_office(binary, build, pipe)
        _terminate(ctx, proc)
        _remove_sockets(build, pipe)
        with open(os.path.join(build, STAMP), "w") as f:
            f.write(stamp)
        _publish(build, final, stamp)
    finally:
        if os.path.isdir(build):  # not published: another worker's came first
            shutil.rmtree(build, ignore_errors=True)
    _remove_stale(root, os.path.basename(final))


def _publish(build, final, stamp):
    """Rename ``build`` to ``final``, moving aside a profile there with another stamp."""
    for _attempt in range(3):
        try:
            os.rename(build, final)  # fails when ``final`` exists (it is never empty)
            return
        except OSError:
            pass
        if _stamp(final) == stamp:
            return  # another worker prepared the same
        _discard(final)


def _discard(folder):
    """Rename ``folder`` out of the way (workers copying from it at that moment fall back to a fresh
    profile), then remove it."""
    stale = os.path.join(os.path.dirname(folder), f".stale-{os.getpid()}-{time.monotonic_ns()}")
    try:
        os.rename(folder, stale)
    except OSError:
        return
    shutil.rmtree(stale, ignore_errors=True)


def _remove_stale(root, keep):
    """Prepared profiles in ``root`` other than ``keep``, and leftovers of killed runs."""
    now = time.time()
    for entry in os.listdir(root):
        path = os.path.join(root, entry)
        if entry.startswith("libreoffice-profile-") and entry != keep:
            _discard(path)
        elif entry.startswith((".build-", ".stale-")):
            try:
                if now - os.stat(path).st_mtime > LEFTOVER_SECONDS:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass


def _stamp(folder):
    try:
        with open(os.path.join(folder, STAMP)) as f:
            return f.read()
    except OSError:
        return None


def _write_settings(profile):
    os.makedirs(os.path.join(profile, "user"), exist_ok=True)
    with open(os.path.join(profile, "user", "registrymodifications.xcu"), "w") as f:
        f.write(SETTINGS)


def start_office(binary, profile, pipe):
    """(process, component context, restarts) of soffice started headless on ``profile``, listening
    on ``pipe``. A new profile makes it ask to be restarted (exit status 81) once, after creating it."""
    command = [binary, "--headless", "--invisible", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
               f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}", f"--accept=pipe,name={pipe};urp;"]

    scratch = os.path.join(profile, "tmp")  # LibreOffice's temporary files, removed with the profile
    os.makedirs(scratch, exist_ok=True)
    env = {**os.environ, "SAL_ENABLE_FILE_LOCKING": "0", "TMPDIR": scratch}

    def launch():
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env, preexec_fn=_die_with_parent)

    proc = launch()
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline, restarts = time.time() + 60, 0
    while True:
        try:
            return proc, resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"), restarts
        except Exception:
            status = proc.poll()
            if status == 81 and restarts < 3:
                restarts += 1
                proc = launch()
            elif time.time() > deadline or status is not None:
                if status is None:
                    proc.kill()
                raise RuntimeError("LibreOffice did not start")
            time.sleep(0.02)


def _remove_sockets(profile, pipe):
    """Remove the sockets a stopped LibreOffice leaves in /tmp (where its pipes always are): the one
    it listened on, and its single-instance one, named by the MD5 of the profile's URL in UTF-16
    (each byte in hex without padding, as LibreOffice writes it)."""
    digest = hashlib.md5(uno.systemPathToFileUrl(profile).encode("utf-16-le"), usedforsecurity=False).digest()
    for name in (pipe, "SingleOfficeIPC_" + "".join(f"{b:x}" for b in digest)):
        try:
            os.unlink(f"/tmp/OSL_PIPE_{os.getuid()}_{name}")
        except OSError:
            pass


def _terminate(ctx, proc):
    """Quit LibreOffice cleanly (it writes its profile on the way out)."""
    try:
        ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx).terminate()
    except Exception:
        pass  # the bridge closes as LibreOffice quits
    try:
        status = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise ProfileError("LibreOffice did not quit") from None
    if status != 0:
        raise ProfileError(f"LibreOffice quit with status {status}")


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


class Office:
    def __init__(self):
        binary = _soffice()
        self.profile, self.prepared = private_profile(binary)
        self.pipe = f"xlstp{os.getpid()}"
        try:
            self.proc, ctx, self.restarts = start_office(binary, self.profile, self.pipe)
        except BaseException:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self.ctx = ctx
        self.desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        self.recalc_mode = 0  # OOXMLRecalcMode of the profile: recalculate on load
        self.doc = None
        self.copy = None
        self.default_sheet = None
        self.sheets, self.index, self.logical, self.traced = {}, {}, {}, {}

    def open(self, path, recalc=True):
        """Open a private copy: LibreOffice never touches the user's file or its folder. ``recalc``:
        every formula is recalculated as the workbook loads; else LibreOffice keeps the values the
        file stored (computing the formulas that have none), and ``calc`` with all=false then
        recomputes only what writes made dirty."""
        self.close()
        self._recalc_on_load(recalc)
        self.copy = os.path.join(self.profile, "work" + os.path.splitext(path)[1].lower())
        shutil.copyfile(path, self.copy)
        return self._load(self.copy)

    def _recalc_on_load(self, on):
        """LibreOffice's own setting, read as each .xlsx file loads: OOXMLRecalcMode always (0) or never (1)."""
        mode = 0 if on else 1
        if mode != self.recalc_mode:
            provider = self.ctx.ServiceManager.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider",
                                                                         self.ctx)
            access = provider.createInstanceWithArguments("com.sun.star.configuration.ConfigurationUpdateAccess",
                                                          (prop("nodepath", "/org.openoffice.Office.Calc/Formula/Load"),))
            access.setPropertyValue("OOXMLRecalcMode", mode)
            access.commitChanges()
            self.recalc_mode = mode

    def _load(self, copy):
        url = uno.systemPathToFileUrl(copy)
        self.doc = self.desktop.loadComponentFromURL(url, "_blank", 0, (
            prop("Hidden", True), prop("MacroExecutionMode", 0),  # NEVER_EXECUTE (never stored: not read-only, so values can be set)
            prop("UpdateDocMode", 0),  # NO_UPDATE: external links are not followed
        ))
        if self.doc is None:
            raise RuntimeError("LibreOffice could not open the workbook")
        self.doc.lockControllers()
        self.doc.enableAutomaticCalculation(False)  # recalculate when asked, not on every write
        self.sheets, self.index, self.logical, self.traced = {}, {}, {}, {}
        return {"sheets": list(self.doc.Sheets.ElementNames)}

    def close(self):
        if self.doc is not None:
            try:
                self.doc.close(True)
            except Exception:
                pass
            self.doc = None
            self.sheets, self.index, self.logical, self.traced = {}, {}, {}, {}

    def map_sheets(self, names):
        """From now on find each sheet by its position in the workbook (``names``: the file's own,
        in its order), whatever LibreOffice called it. LibreOffice renames a first sheet whose name
        is its default sheet name in another case ('sheet1', 'SHEET1' -> 'sheet1 -1') and then reads
        every reference to it as an unknown name: such a workbook is loaded again from a copy whose
        first sheet has the default's own spelling (references ignore case, so they all resolve)."""
        here = list(self.doc.Sheets.ElementNames)
        if len(here) == len(names) and names and here[0] != names[0] and self._clashes(names[0]):
            renamed = self.copy + ".renamed" + os.path.splitext(self.copy)[1]
            _rename_first_sheet(self.copy, renamed, names[0], self._default_sheet_name())
            self.close()
            here = self._load(renamed)["sheets"]
        if len(here) != len(names):  # sheets LibreOffice did not load as sheets: look names up
            return {"sheets": here}
        self.sheets, self.index = {}, {name: i for i, name in enumerate(names)}
        return {"sheets": list(names)}

    def _clashes(self, name):
        default = self._default_sheet_name()
        return name != default and name.lower() == default.lower()

    def _default_sheet_name(self):
        """The name LibreOffice gives the sheet of a new document ('Sheet1' in English)."""
        if self.default_sheet is None:
            blank = self.desktop.loadComponentFromURL("private:factory/scalc", "_blank", 0, (prop("Hidden", True),))
            try:
                self.default_sheet = blank.Sheets.ElementNames[0]
            finally:
                blank.close(True)
        return self.default_sheet

    def sheet(self, name):
        if name not in self.sheets:
            i = self.index.get(name)
            self.sheets[name] = self.doc.Sheets.getByIndex(i) if i is not None else self.doc.Sheets.getByName(name)
        return self.sheets[name]

    def read(self, ranges, exact=True, empty=True):
        """Values of each range in bulk: the data, the empty cells (None; with empty=False not
        looked for, when only formula cells are wanted, which are never empty), the numeric results
        LibreOffice formats as logical (True/False, as Excel holds them) and the cells whose formula
        gives an error (Excel's literal for it; with exact=False all of them #VALUE!, without asking
        each cell which error it holds, which costs a call per cell)."""
        kinds = _ErrorKinds(self.doc, self.traced) if exact else None
        out = []
        for sheet, ref in ranges:
            rng = self.sheet(sheet).getCellRangeByName(ref)
            top = rng.getRangeAddress()
            data = [list(r) for r in rng.getDataArray()]
            for r, c in _cells(rng.queryEmptyCells(), top) if empty else ():
                data[r][c] = None
            for r, c in self._logical_cells(rng, top):
                if isinstance(data[r][c], float) and data[r][c] in (0.0, 1.0):
                    data[r][c] = data[r][c] == 1.0
            for r, c in _cells(rng.queryFormulaCells(4), top):  # FormulaResult.ERROR
                data[r][c] = kinds.of(rng.getCellByPosition(c, r)) if kinds else "#VALUE!"
            out.append(data)
        return {"values": out}

    def _logical_cells(self, rng, top):
        """The formula cells of a range with a numeric result in a logical number format: LibreOffice
        has no boolean type, and marks a formula's logical result (=1=1) by formatting it so. It
        also keeps that format through a unary minus, where Excel's result is a number
        (=--(A1>0), =--TRUE): a formula with one is taken as a number."""
        cells = []
        groups = rng.getUniqueCellFormatRanges()
        for i in range(groups.Count):
            group = groups.getByIndex(i)
            key = group.NumberFormat
            if key not in self.logical:
                try:
                    self.logical[key] = bool(self.doc.NumberFormats.getByKey(key).Type & LOGICAL)
                except Exception:
                    self.logical[key] = False
            if self.logical[key]:
                cells.extend(_cells(group.queryFormulaCells(1), top))  # FormulaResult.VALUE
        if not cells:
            return []
        r1, c1 = min(r for r, _c in cells), min(c for _r, c in cells)
        box = rng.getCellRangeByPosition(c1, r1, max(c for _r, c in cells), max(r for r, _c in cells)).getFormulaArray()
        return [(r, c) for r, c in cells if not NEGATED.search(STRING.sub('""', box[r - r1][c - c1]).upper())]

    def array_sizes(self, items):
        """Rows and columns of each expression evaluated as an array (1 x 1 where that is an
        error), found by ROWS() and COLUMNS() entered as array formulas in two probe cells
        (``ref``, A9:B9), which are emptied again."""
        probes = []
        for sheet, ref, text, api in items:
            cells = self.sheet(sheet).getCellRangeByName(ref)
            for col, fn in enumerate(("ROWS", "COLUMNS")):
                self._set_array(cells.getCellByPosition(col, 0), f"{fn}({text.lstrip('=')})", api)
            probes.append(cells)
        self.doc.calculate()
        sizes = []
        for cells in probes:
            ok = not cells.queryFormulaCells(4).getRangeAddresses()
            row = cells.getDataArray()[0]
            sizes.append([max(1, int(row[0])), max(1, int(row[1]))] if ok and all(isinstance(v, float) for v in row) else [1, 1])
            cells.clearContents(CONTENTS)
        return {"sizes": sizes}

    def array_formulas(self, items):
        """Each expression as one array formula over its range."""
        for sheet, ref, text, api in items:
            rng = self.sheet(sheet).getCellRangeByName(ref)
            rng.clearContents(CONTENTS)
            self._set_array(rng, text.lstrip("="), api)
        return {}

    def touch(self, ranges):
        """Array formulas entered again as they are (from their own tokens), so that the next
        calculation recomputes them: LibreOffice does not tell a multi-cell array formula that a
        range write changed cells it reads. A range that no longer holds an array formula is left."""
        for sheet, ref in ranges:
            rng = self.sheet(sheet).getCellRangeByName(ref)
            tokens = rng.getArrayTokens()
            if tokens:
                rng.setArrayTokens(tokens)
        return {}

    def _set_array(self, rng, text, api):
        """An array formula (``text`` without '=') in LibreOffice's API syntax, or in Excel's."""
        if api:
            rng.setArrayFormula("=" + text)
        else:
            rng.setArrayTokens(self._parser().parseFormula(text, rng.getCellByPosition(0, 0).getCellAddress()))

    def _parser(self):
        parser = self.doc.createInstance("com.sun.star.sheet.FormulaParser")
        parser.setPropertyValue("FormulaConvention", 3)  # XL_OOX: Excel A1 references, as in the file
        parser.setPropertyValue("CompileEnglish", True)
        return parser

    def write(self, ranges):
        """Values into ranges; an item [sheet, ref, rows, clear, True] holds formulas in API syntax
        instead (constant formulas such as =#VALUE!, for cells that must hold an error)."""
        for item in ranges:
            sheet, ref, rows, clear = item[:4]
            rng = self.sheet(sheet).getCellRangeByName(ref)
            if clear:
                rng.clearContents(16)  # FORMULA: an array formula must go as a whole before values are set
            if len(item) > 4 and item[4]:
                rng.setFormulaArray(tuple(tuple(r) for r in rows))
            else:
                rng.setDataArray(tuple(tuple(r) for r in rows))
        return {}

    def calc(self, everything=True):
        if everything:
            self.doc.calculateAll()
        else:
            self.doc.calculate()  # the cells made dirty by writes, and what depends on them
        return {}

    def get_formulas(self, ranges):
        return {"formulas": [[list(r) for r in self.sheet(sheet).getCellRangeByName(ref).getFormulaArray()]
                             for sheet, ref in ranges]}

    def set_formulas(self, ranges):
        for sheet, ref, rows in ranges:
            self.sheet(sheet).getCellRangeByName(ref).setFormulaArray(tuple(tuple(r) for r in rows))
        return {}

    def store(self, path):
        self.doc.storeToURL(uno.systemPathToFileUrl(path), (prop("FilterName", "Calc Office Open XML"),))
        return {}

    def formulas(self, cells):
        """Set formulas written in Excel's own syntax (as stored in .xlsx files) into cells."""
        parser = self._parser()
        for sheet, ref, text in cells:
            cell = self.sheet(sheet).getCellRangeByName(ref)
            cell.setTokens(parser.parseFormula(text, cell.getCellAddress()))
        return {}

    def stop(self):
        """Stop LibreOffice: killed, not asked to quit, since nothing it holds is kept (the workbook
        is a private copy, never stored; its profile and temporary files are removed next), and
        quitting cleanly takes a noticeable part of a second, which a one-shot command would wait
        for. Nothing the second time."""
        if self.proc is not None:
            self.doc = None
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def quit(self):
        """Stop LibreOffice and remove this worker's profile, with LibreOffice's temporary files
        (kept inside it) and the sockets of its pipes (which LibreOffice leaves in /tmp)."""
        self.stop()
        if self.profile is not None:
            shutil.rmtree(self.profile, ignore_errors=True)
            _remove_sockets(self.profile, self.pipe)
            self.profile = None


class _ErrorKinds:
    """Excel's literal for each error cell of one read. A code whose kind depends on the function
    that raised it (``RAISED``) is traced back through the cells each reads that hold the same
    error (an error passes unchanged from cell to cell) to the cell that raised it; that cell's
    own formula decides."""

    def __init__(self, doc, traced):
        self.doc = doc
        self.traced = traced  # code -> the workbook has a formula that may raise it as another kind
        self.iterative = bool(doc.IsIterationEnabled)
        self.memo = {}

    def of(self, cell):
        code = cell.getError()
        if code == 523 and self.iterative:
            return "#CIRC!"  # a circular reference that did not settle
        if code not in RAISED and code not in MARKED or not self._traced(code):
            return ERRORS.get(code, "#VALUE!")
        a = cell.getCellAddress()
        key, path, kind = (a.Sheet, a.Column, a.Row), [], None
        while key not in self.memo:
            self.memo[key] = None  # being traced: a cycle ends here
            path.append(key)
            source = self._source(cell, code)
            if source is None:
                kind = _raised(cell.getFormula(), code)
                break
            key, cell = source
        else:
            kind = self.memo[key] or ERRORS[code]
        for k in path:
            self.memo[k] = kind
        return kind

    def _traced(self, code):
        """Some formula of the workbook calls a function (or has the text) that may raise ``code``
        as another kind than its usual one: one search of each sheet's formulas, the first time."""
        if code not in self.traced:
            search = _trace_pattern(code)
            self.traced[code] = False
            for i in range(self.doc.Sheets.Count):
                sheet = self.doc.Sheets.getByIndex(i)
                found = sheet.findFirst(search(sheet.createSearchDescriptor()))
                if found is not None:
                    self.traced[code] = True
                    break
        return self.traced[code]

    def _source(self, cell, code):
        """(key, cell) of a cell the formula reads that holds the same error, or None."""
        at = cell.getCellAddress()
        for token in cell.getTokens():
            data = token.Data
            kind = getattr(data, "typeName", "")
            if kind == "com.sun.star.sheet.SingleReference":
                found = self._error_in(_absolute(data, at), _absolute(data, at), code)
            elif kind == "com.sun.star.sheet.ComplexReference":
                found = self._error_in(_absolute(data.Reference1, at), _absolute(data.Reference2, at), code)
            else:
                continue
            if found is not None:
                return found
        return None

    def _error_in(self, first, last, code):
        if first is None or last is None:
            return None
        s, c1, r1 = first
        c1, c2 = sorted((c1, last[1]))
        r1, r2 = sorted((r1, last[2]))
        try:
            sheet = self.doc.Sheets.getByIndex(s)
            if (c1, r1) == (c2, r2):
                cell = sheet.getCellByPosition(c1, r1)
                return ((s, c1, r1), cell) if cell.getError() == code else None
            errors = sheet.getCellRangeByPosition(c1, r1, c2, r2).queryFormulaCells(4).getRangeAddresses()
        except Exception:  # a reference off the sheet
            return None
        positions = ((r, c) for a in errors for r in range(a.StartRow, a.EndRow + 1)
                     for c in range(a.StartColumn, a.EndColumn + 1))
        for _n, (r, c) in zip(range(TRACE_CHECKS), positions):
            cell = sheet.getCellByPosition(c, r)
            if cell.getError() == code:
                return (s, c, r), cell
        return None


def _absolute(ref, at):
    """(sheet, column, row) of a token's reference made in the cell at ``at``; None if deleted."""
    if ref.Flags & DELETED:
        return None
    col = at.Column + ref.RelativeColumn if ref.Flags & COLUMN_RELATIVE else ref.Column
    row = at.Row + ref.RelativeRow if ref.Flags & ROW_RELATIVE else ref.Row
    sheet = at.Sheet + ref.RelativeSheet if ref.Flags & SHEET_RELATIVE else ref.Sheet
    return sheet, col, row


def _trace_pattern(code):
    """A function that sets a search descriptor to find the formulas that may raise ``code`` as
    another kind (a regular expression on formulas as LibreOffice shows them: MODE.SNGL, not
    COM.MICROSOFT.MODE.SNGL)."""
    parts = [MARKED[code][0].pattern] if code in MARKED else []
    if code in RAISED:
        names = sorted({name.replace("COM.MICROSOFT.", "") for name in RAISED[code]})
        parts.append(r"(^|[^A-Z0-9_.])(" + "|".join(re.escape(n) for n in names) + r")\(")

    def setup(descriptor):
        descriptor.SearchString = "|".join(parts)
        descriptor.SearchRegularExpression = True
        descriptor.SearchCaseSensitive = False
        descriptor.setPropertyValue("SearchType", 0)  # formulas
        return descriptor
    return setup


def _raised(formula, code):
    """Excel's literal for ``code`` raised by a cell whose formula (API syntax) is ``formula``: by
    its text (``MARKED``), or the first function it calls that ``RAISED`` names, else the code's
    usual literal."""
    text = STRING.sub('""', formula.upper())
    if code in MARKED and MARKED[code][0].search(text):
        return MARKED[code][1]
    table = RAISED.get(code, {})
    for name in FUNCTION.findall(text):
        if name in table:
            return table[name]
    return ERRORS[code]


def _cells(ranges, top):
    """(row, column) within the range whose address is ``top`` of each cell of ``ranges``."""
    for a in ranges.getRangeAddresses():
        for r in range(a.StartRow, a.EndRow + 1):
            for c in range(a.StartColumn, a.EndColumn + 1):
                yield r - top.StartRow, c - top.StartColumn


def _rename_first_sheet(src, dst, old, new):
    """A copy of the package ``src`` whose workbook part calls its first sheet ``new``, not ``old``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        rels = zin.read("_rels/.rels").decode("utf-8") if "_rels/.rels" in zin.namelist() else ""
        part = next((m.group(2).lstrip("/") for m in re.finditer(r'<(?:\w+:)?Relationship\b([^>]*?)Target="([^"]+)"[^>]*>', rels)
                     if "officeDocument" in m.group(0)), "xl/workbook.xml")
        first = re.compile(r'(<(?:\w+:)?sheet\b[^>]*?\bname=")' + re.escape(old) + '"')
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                data = first.sub(lambda m: m.group(1) + new + '"', data.decode("utf-8"), count=1).encode("utf-8")
            zout.writestr(info, data)


def main():
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped: quit soffice on the way out
    try:
        office = Office()
    except Exception as e:
        error = str(e) if isinstance(e, RuntimeError) else f"LibreOffice did not start ({type(e).__name__}: {e})"
        print(json.dumps({"ok": False, "error": error}), flush=True)
        sys.exit(1)
    try:
        print(json.dumps({"ok": True, "ready": True, "profile": office.profile, "prepared": office.prepared,
                          "restarts": office.restarts}), flush=True)
        serve(office)
    except OSError:
        pass  # nobody reads the answers any more
    finally:
        office.quit()


#: Each request's handler: (office, request) -> the answer's fields.
OPS = {
    "open": lambda o, r: o.open(r["path"], r.get("recalc", True)),
    "sheets": lambda o, r: o.map_sheets(r["names"]),
    "calc": lambda o, r: o.calc(r.get("all", True)),
    "read": lambda o, r: o.read(r["ranges"], r.get("exact", True), r.get("empty", True)),
    "write": lambda o, r: o.write(r["ranges"]),
    "formulas": lambda o, r: o.formulas(r["cells"]),
    "get_formulas": lambda o, r: o.get_formulas(r["ranges"]),
    "set_formulas": lambda o, r: o.set_formulas(r["ranges"]),
    "array_sizes": lambda o, r: o.array_sizes(r["items"]),
    "array_formulas": lambda o, r: o.array_formulas(r["items"]),
    "touch": lambda o, r: o.touch(r["ranges"]),
    "store": lambda o, r: o.store(r["path"]),
    "close": lambda o, r: o.close() or {},
}


def serve(office):
    for line in sys.stdin:
        try:
            req = json.loads(line)
            op = req["op"]
            started = time.perf_counter()
            if op == "quit":  # answered once LibreOffice is stopped; the profile is removed after
                office.stop()
                try:
                    print(json.dumps({"ok": True, "stopped": True}), flush=True)
                except OSError:
                    pass  # nobody waits for this answer any more
                office.quit()
                return
            if op not in OPS:
                raise ValueError(f"unknown op {op}")
            res = OPS[op](office, req)
            res["ok"] = True
            res["seconds"] = time.perf_counter() - started
        except Exception as e:
            res = {"ok": False, "error": f"{type(e).__name__}: {e}"}
            if office.proc is not None and office.proc.poll() is not None:  # it crashed: this worker ends,
                res["error"], res["crashed"] = "crashed on this workbook", True  # the next workbook gets a new one
                print(json.dumps(res), flush=True)
                return
        print(json.dumps(res), flush=True)
    office.quit()


if __name__ == "__main__":
    main()

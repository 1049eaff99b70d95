"""A warm LibreOffice worker: run by Debian's /usr/bin/python3 (which has the UNO bridge), it starts
soffice headless, talks to it over a private pipe, and answers JSON-line requests on stdin.

Requests: {"op": "open", "path"}, {"op": "calc", "all": true}, {"op": "read", "ranges": [[sheet, "A1:C9"], ...]},
{"op": "write", "ranges": [[sheet, "B5:G19", rows, clear(, formulas)], ...]}, {"op": "formulas", "cells": [[sheet, "A9", "B1+C1"]]}
(Excel syntax, one cell at a time), {"op": "get_formulas", "ranges": [[sheet, ref], ...]} and
{"op": "set_formulas", "ranges": [[sheet, ref, rows], ...]} (LibreOffice's API syntax, a range at a
time), {"op": "store", "path"} (LibreOffice's own save as .xlsx, for the benchmark's native-only
baseline), {"op": "close"}, {"op": "quit"}.
Each gets one JSON line back: {"ok": true, ...} or {"ok": false, "error": "..."}.

Workbooks are untrusted: they are opened hidden, with macros never executed and links never
updated, and never stored by LibreOffice (the batch engine writes its own output).
This file imports nothing from the project: it runs outside the project's virtual environment.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue

ERRORS = {502: "#VALUE!", 503: "#NUM!", 504: "#VALUE!", 519: "#VALUE!", 524: "#REF!", 525: "#NAME?",
          532: "#DIV/0!", 32767: "#N/A", 522: "#CIRC!", 523: "#CIRC!"}


def _die_with_parent():
    """soffice is killed when this worker dies, however it dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except Exception:
        pass


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


class Office:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="xl-stp-lo-")
        # This worker's own profile: recalculate .xlsx files on load (so that loading, which runs
        # while the batch engine scans the file, also computes every native formula).
        os.makedirs(os.path.join(self.profile, "user"), exist_ok=True)
        with open(os.path.join(self.profile, "user", "registrymodifications.xcu"), "w") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?><oor:items xmlns:oor="http://openoffice.org/2001/registry" '
                    'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                    '<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">'
                    '<value>0</value></prop></item></oor:items>')
        self.pipe = f"xlstp{os.getpid()}"
        soffice = shutil.which("soffice") or "/usr/bin/soffice"
        # soffice.bin itself (not the soffice script, whose launcher would leave it orphaned), so that it
        # dies with this worker; it asks to be restarted (exit status 81) once, after creating the profile.
        binary = os.path.join(os.path.dirname(os.path.realpath(soffice)), "soffice.bin")
        command = [binary if os.path.exists(binary) else soffice, "--headless", "--invisible", "--norestore", "--nologo",
                   "--nodefault", "--nolockcheck", f"-env:UserInstallation=file://{self.profile}",
                   f"--accept=pipe,name={self.pipe};urp;"]

        def launch():
            return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env={**os.environ, "SAL_ENABLE_FILE_LOCKING": "0"}, preexec_fn=_die_with_parent)

        self.proc = launch()
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        deadline, restarts = time.time() + 60, 0
        while True:
            try:
                ctx = resolver.resolve(f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                status = self.proc.poll()
                if status == 81 and restarts < 3:
                    restarts += 1
                    self.proc = launch()
                elif time.time() > deadline or status is not None:
                    raise RuntimeError("LibreOffice did not start")
                time.sleep(0.1)
        self.desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        self.doc = None
        self.sheets = {}

    def open(self, path):
        """Open a private copy: LibreOffice never touches the user's file or its folder."""
        self.close()
        copy = os.path.join(self.profile, "work" + os.path.splitext(path)[1].lower())
        shutil.copyfile(path, copy)
        url = uno.systemPathToFileUrl(copy)
        self.doc = self.desktop.loadComponentFromURL(url, "_blank", 0, (
            prop("Hidden", True), prop("MacroExecutionMode", 0),  # NEVER_EXECUTE (never stored: not read-only, so values can be set)
            prop("UpdateDocMode", 0),  # NO_UPDATE: external links are not followed
        ))
        if self.doc is None:
            raise RuntimeError("LibreOffice could not open the workbook")
        self.doc.lockControllers()
        self.doc.enableAutomaticCalculation(False)  # recalculate when asked, not on every write
        self.sheets = {}
        return {"sheets": list(self.doc.Sheets.ElementNames)}

    def close(self):
        if self.doc is not None:
            try:
                self.doc.close(True)
            except Exception:
                pass
            self.doc = None
            self.sheets = {}

    def sheet(self, name):
        if name not in self.sheets:
            self.sheets[name] = self.doc.Sheets.getByName(name)
        return self.sheets[name]

    def read(self, ranges, exact=True):
        """Values of each range in three bulk calls: the data, the empty cells (None) and the
        cells whose formula gives an error (their Excel error text; with exact=False all of them
        #VALUE!, without asking each cell which error it holds, which costs a call per cell)."""
        out = []
        for sheet, ref in ranges:
            rng = self.sheet(sheet).getCellRangeByName(ref)
            top = rng.getRangeAddress()
            data = [list(r) for r in rng.getDataArray()]
            for addr in rng.queryEmptyCells().getRangeAddresses():
                for r in range(addr.StartRow, addr.EndRow + 1):
                    for c in range(addr.StartColumn, addr.EndColumn + 1):
                        data[r - top.StartRow][c - top.StartColumn] = None
            for addr in rng.queryFormulaCells(4).getRangeAddresses():  # FormulaResult.ERROR
                for r in range(addr.StartRow, addr.EndRow + 1):
                    for c in range(addr.StartColumn, addr.EndColumn + 1):
                        if exact:
                            err = rng.getCellByPosition(c - top.StartColumn, r - top.StartRow).getError()
                            data[r - top.StartRow][c - top.StartColumn] = ERRORS.get(err, "#VALUE!")
                        else:
                            data[r - top.StartRow][c - top.StartColumn] = "#VALUE!"
            out.append(data)
        return {"values": out}

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
        parser = self.doc.createInstance("com.sun.star.sheet.FormulaParser")
        parser.setPropertyValue("FormulaConvention", 3)  # XL_OOX: Excel A1 references, as in the file
        parser.setPropertyValue("CompileEnglish", True)
        for sheet, ref, text in cells:
            cell = self.sheet(sheet).getCellRangeByName(ref)
            cell.setTokens(parser.parseFormula(text, cell.getCellAddress()))
        return {}

    def quit(self):
        self.close()
        try:
            self.desktop.terminate()
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped: quit soffice on the way out
    office = Office()
    print(json.dumps({"ok": True, "ready": True}), flush=True)
    try:
        serve(office)
    finally:
        office.quit()


def serve(office):
    for line in sys.stdin:
        try:
            req = json.loads(line)
            op = req["op"]
            started = time.perf_counter()
            if op == "quit":
                office.quit()
                print(json.dumps({"ok": True}), flush=True)
                return
            if op == "open":
                res = office.open(req["path"])
            elif op == "calc":
                if req.get("all", True):
                    office.doc.calculateAll()
                else:
                    office.doc.calculate()  # the cells made dirty by writes, and what depends on them
                res = {}
            elif op == "read":
                res = office.read(req["ranges"], req.get("exact", True))
            elif op == "write":
                res = office.write(req["ranges"])
            elif op == "formulas":
                res = office.formulas(req["cells"])
            elif op == "get_formulas":
                res = office.get_formulas(req["ranges"])
            elif op == "set_formulas":
                res = office.set_formulas(req["ranges"])
            elif op == "store":
                res = office.store(req["path"])
            elif op == "close":
                office.close()
                res = {}
            else:
                raise ValueError(f"unknown op {op}")
            res["ok"] = True
            res["seconds"] = time.perf_counter() - started
        except Exception as e:
            res = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(res), flush=True)
    office.quit()


if __name__ == "__main__":
    main()

"""A warm LibreOffice worker: run by Debian's /usr/bin/python3 (which has the UNO bridge), it starts
soffice headless, talks to it over a private pipe, and answers JSON-line requests on stdin.

Requests: {"op": "open", "path"}, {"op": "calc"}, {"op": "read", "ranges": [[sheet, "A1:C9"], ...]},
{"op": "write", "ranges": [[sheet, "B5:G19", rows], ...]}, {"op": "formulas", "cells": [[sheet, "A9", "B1+C1"]]},
{"op": "close"}, {"op": "quit"}.
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


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


class Office:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="xl-stp-lo-")
        self.pipe = f"xlstp{os.getpid()}"
        soffice = shutil.which("soffice") or "/usr/bin/soffice"
        self.proc = subprocess.Popen(
            [soffice, "--headless", "--invisible", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
             f"-env:UserInstallation=file://{self.profile}", f"--accept=pipe,name={self.pipe};urp;"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "SAL_ENABLE_FILE_LOCKING": "0"})
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.time() + 60
        while True:
            try:
                ctx = resolver.resolve(f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("LibreOffice did not start")
                time.sleep(0.1)
        self.desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        self.doc = None

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
        return {"sheets": list(self.doc.Sheets.ElementNames)}

    def close(self):
        if self.doc is not None:
            try:
                self.doc.close(True)
            except Exception:
                pass
            self.doc = None

    def read(self, ranges):
        """Values of each range in three bulk calls: the data, the empty cells (None) and the
        cells whose formula gives an error (their Excel error text)."""
        out = []
        for sheet, ref in ranges:
            rng = self.doc.Sheets.getByName(sheet).getCellRangeByName(ref)
            top = rng.getRangeAddress()
            data = [list(r) for r in rng.getDataArray()]
            for addr in rng.queryEmptyCells().getRangeAddresses():
                for r in range(addr.StartRow, addr.EndRow + 1):
                    for c in range(addr.StartColumn, addr.EndColumn + 1):
                        data[r - top.StartRow][c - top.StartColumn] = None
            for addr in rng.queryFormulaCells(4).getRangeAddresses():  # FormulaResult.ERROR
                for r in range(addr.StartRow, addr.EndRow + 1):
                    for c in range(addr.StartColumn, addr.EndColumn + 1):
                        err = rng.getCellByPosition(c - top.StartColumn, r - top.StartRow).getError()
                        data[r - top.StartRow][c - top.StartColumn] = ERRORS.get(err, "#VALUE!")
            out.append(data)
        return {"values": out}

    def write(self, ranges):
        for sheet, ref, rows in ranges:
            rng = self.doc.Sheets.getByName(sheet).getCellRangeByName(ref)
            rng.clearContents(16)  # FORMULA: an array formula must go as a whole before values are set
            rng.setDataArray(tuple(tuple(r) for r in rows))
        return {}

    def formulas(self, cells):
        """Set formulas written in Excel's own syntax (as stored in .xlsx files) into cells."""
        parser = self.doc.createInstance("com.sun.star.sheet.FormulaParser")
        parser.setPropertyValue("FormulaConvention", 3)  # XL_OOX: Excel A1 references, as in the file
        parser.setPropertyValue("CompileEnglish", True)
        for sheet, ref, text in cells:
            cell = self.doc.Sheets.getByName(sheet).getCellRangeByName(ref)
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
    office = Office()
    print(json.dumps({"ok": True, "ready": True}), flush=True)
    for line in sys.stdin:
        try:
            req = json.loads(line)
            op = req["op"]
            if op == "quit":
                office.quit()
                print(json.dumps({"ok": True}), flush=True)
                return
            if op == "open":
                res = office.open(req["path"])
            elif op == "calc":
                office.doc.calculateAll()
                res = {}
            elif op == "read":
                res = office.read(req["ranges"])
            elif op == "write":
                res = office.write(req["ranges"])
            elif op == "formulas":
                res = office.formulas(req["cells"])
            elif op == "close":
                office.close()
                res = {}
            else:
                raise ValueError(f"unknown op {op}")
            res["ok"] = True
        except Exception as e:
            res = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(res), flush=True)
    office.quit()


if __name__ == "__main__":
    main()

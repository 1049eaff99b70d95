"""xlwings' own code for each Excel route, run on Linux in a fresh interpreter (not a test module).

    python tests/udfs/xlwings_routes.py ROUTE < cases.json > results.json

Each route is a separate process because what xlwings is depends on the process: its decorators
are chosen at import time (``XLWINGS_ON_SERVER``), the classic route needs stand-ins for pywin32
installed before xlwings is imported, and the registry is global.

Routes:

- ``classic``: the Windows add-in. Stand-ins for pywin32 and the Windows DLLs let the real
  ``xlwings.udfs`` (VBA generator, ``import_udfs``, ``call_udf``), ``xlwings.com_server`` (the COM
  entry point ``XLPython.CallUDF``) and ``xlwings._xlwindows`` (range reading and value cleaning)
  run. Reports the VBA module, the ``MacroOptions`` calls, and each case's ``CallUDF`` result.
- ``officejs``: xlwings Lite / Server. Needs ``XLWINGS_ON_SERVER=true`` and a licence key in the
  environment (the tests use xlwings' ``noncommercial`` key). Imports ``lite/main.py`` as a module
  and reports ``custom_functions_meta`` and each case's ``custom_functions_call`` result.
- ``plain``: ``lite/main.py`` imported with ``from xlwings import func, arg`` as they are off the
  server (no-ops); reports each wrapper's signature and each case's result.

Cases (stdin, JSON): ``[[function, [argument, ...]], ...]`` where an argument is a literal typed in
the formula (a number, text or TRUE/FALSE), ``{"range": rows}`` for a cell reference (cells:
None for a blank, ``{"error": "#N/A"}`` for an error cell, else the value), or ``{"omitted": true}``.

If a piece is unavailable here (xlwings not importable, its Office.js code without a licence, the
stand-ins no longer enough for a new xlwings), the output is ``{"skip": reason}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib
import importlib.util
import inspect
import io
import json
import os
import sys
import tempfile
import traceback
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LITE_MAIN = ROOT / "lite" / "main.py"

#: Windows COM codes of the classic error values, as a Range's .Value hands them over.
COM_ERRORS = {"#NULL!": -2146826288, "#DIV/0!": -2146826281, "#VALUE!": -2146826273, "#REF!": -2146826265,
              "#NAME?": -2146826259, "#NUM!": -2146826252, "#N/A": -2146826246}
#: What VBA passes for an omitted Optional argument (DISP_E_PARAMNOTFOUND).
COM_MISSING = -2147352572
#: Office.js error types (Excel.ErrorCellValueType) by the error's text.
OFFICEJS_ERROR_TYPES = {
    "#BLOCKED!": "Blocked", "#BUSY!": "Busy", "#CALC!": "Calc", "#CONNECT!": "Connect", "#DIV/0!": "Div0",
    "#EXTERNAL!": "External", "#FIELD!": "Field", "#GETTING_DATA": "GettingData", "#N/A": "NotAvailable",
    "#NAME?": "Name", "#NULL!": "Null", "#NUM!": "Num", "#REF!": "Ref", "#SPILL!": "Spill", "#VALUE!": "Value",
}


def officejs_error(text: str) -> dict:
    """An error cell as Office.js hands it to a custom function (Excel.ErrorCellValue)."""
    return {"type": "Error", "basicType": "Error", "basicValue": text, "errorType": OFFICEJS_ERROR_TYPES[text]}


class Skip(Exception):
    pass


def _cells(rows, error):
    return [[error(c["error"]) if isinstance(c, dict) else c for c in r] for r in rows]


# ---- classic: the Windows add-in on stand-ins ------------------------------------------------

class _Stub(types.ModuleType):
    """A pywin32 module on Linux: any attribute not set explicitly is a no-op function."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *a, **kw: None


class _Anything:
    """ctypes.windll / oledll: any attribute, any call."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Anything()

    def __call__(self, *a, **kw):
        return _Anything()


class _Node(types.SimpleNamespace):
    pass


RANGE_IID = "{00020846-0000-0000-C000-000000000046}"


class PyIDispatch:
    """A Range argument as it reaches Python through COM (an IDispatch pointer), before
    xlwings' ``FromVariant`` wraps it with ``win32com.client.Dispatch``."""

    def __init__(self, rows):
        self.rows = rows

    def GetTypeInfo(self):
        return _Node(GetDocumentation=lambda i: ("Range", None, None, None))


class ComRange:
    """Excel's Range object as win32com exposes it: ``.Value`` is the value for one cell, else a
    tuple of row tuples; blank cells None, error cells their COM code."""

    reads = 0

    def __init__(self, disp: PyIDispatch, sheet):
        self._rows = disp.rows
        self.Worksheet, self.Row, self.Column = sheet, 1, 1
        self.Rows, self.Columns = _Node(Count=len(disp.rows)), _Node(Count=len(disp.rows[0]))
        self._oleobj_ = _Node(GetTypeInfo=lambda: _Node(GetTypeAttr=lambda: _Node(iid=RANGE_IID)))

    @property
    def Value(self):
        ComRange.reads += 1
        rows = self._rows
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else tuple(tuple(r) for r in rows)


def _install_pywin32_standins():
    for real in ("numpy", "pandas", "dateutil.tz"):  # what xlwings may import, before any stand-in
        try:
            importlib.import_module(real)
        except ImportError:
            pass

    names = ("pythoncom", "pywintypes", "win32api", "win32con", "win32event", "win32gui", "win32process",
             "win32timezone", "win32com", "win32com.client", "win32com.client.gencache", "win32com.server",
             "win32com.server.dispatcher", "win32com.server.policy", "win32com.server.util",
             "win32com.server.exception")
    m = {n: _Stub(n) for n in names}
    sys.modules.update(m)
    com_error = type("com_error", (Exception,), {})
    m["pywintypes"].com_error = m["pywintypes"].error = com_error
    m["pywintypes"].TimeType = type("TimeType", (), {})  # COM dates: never produced here
    m["pywintypes"].IID = str
    m["pythoncom"].IID_IDispatch = "{00020400-0000-0000-C000-000000000046}"
    m["pythoncom"].TypeIIDs = {m["pythoncom"].IID_IDispatch: PyIDispatch}
    m["pythoncom"].__file__ = "pythoncom.pyd"

    def unwrap(obj):  # only Python-implemented COM objects unwrap; a Range is Excel's
        raise ValueError("not a Python COM object")

    m["win32com.server.util"].unwrap = unwrap
    m["win32process"].GetWindowThreadProcessId = lambda hwnd: (1, 4242)
    for n in ("CDispatch", "CoClassBaseClass", "DispatchBaseClass"):
        setattr(m["win32com.client"], n, type(n, (), {}))
    m["win32com"].client, m["win32com"].server = m["win32com.client"], m["win32com.server"]
    m["win32com.server"].util = m["win32com.server.util"]

    sheet = _Node(Name="Sheet1", Parent=_Node(Name="Book1.xlsm", Application=_Node(Hwnd=1, Version="16.0")))
    m["win32com.client"].Dispatch = lambda obj, userName=None, **kw: ComRange(obj, sheet) if isinstance(obj, PyIDispatch) else obj


def classic(cases):
    for var in ("XLWINGS_ON_SERVER", "XLWINGS_LICENSE_KEY"):
        os.environ.pop(var, None)  # the classic add-in as a user has it: no PRO, not a server
    try:
        _install_pywin32_standins()
        ctypes.windll = ctypes.oledll = _Anything()
        saved = ctypes.PyDLL
        ctypes.PyDLL = lambda *a, **kw: _Node(PyCom_PyObjectFromIUnknown=_Node())
        try:
            import xlwings
            import xlwings._xlwindows as xlwindows
        finally:
            ctypes.PyDLL = saved
        import xlwings.com_server as com_server
        import xlwings.udfs as xlu

        xlwings.engines.add(xlwings.main.Engine(impl=xlwindows.engine))
        xlwings.func, xlwings.arg = xlu.xlfunc, xlu.xlarg  # what xlwings binds them to on Windows
    except Exception as exc:  # pragma: no cover - depends on the xlwings release
        raise Skip(f"xlwings' Windows code does not load on the pywin32 stand-ins: {type(exc).__name__}: {exc}")

    import udfs.functions as module  # now decorated by xlwings' classic xlfunc/xlarg

    out = {"xlwings": xlwings.__version__, "vba": {}}
    for book in ("xl_stp.xlam", "Book1.xlsm"):
        buf = io.StringIO()
        xlu.generate_vba_wrapper("udfs.functions", module, buf, _Node(Name=book))
        out["vba"][book] = buf.getvalue()

    recorded = []

    class VBComponents:
        def __call__(self, name):
            return name

        def Remove(self, component):
            recorded.append(["Remove", component])

        def Import(self, path):
            recorded.append(["Import", Path(path).read_text()])

    app = _Node(Version="16.0", MacroOptions=lambda *a, **kw: recorded.append(["MacroOptions", list(a), kw]))
    workbook = _Node(Name="xl_stp.xlam", Application=app, VBProject=_Node(VBComponents=VBComponents()))
    xlu.get_udf_module("udfs.functions", None)  # as the add-in has it loaded (skips embedded-code lookup)
    with tempfile.TemporaryDirectory() as tmp:
        tempfile.tempdir, saved_tmp = tmp, tempfile.tempdir
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                xlu.import_udfs("udfs.functions", workbook)
        finally:
            tempfile.tempdir = saved_tmp
    out["import_udfs"] = recorded

    def argument(a):
        if isinstance(a, dict) and a.get("omitted"):
            return COM_MISSING
        if isinstance(a, dict):
            return PyIDispatch(_cells(a["range"], COM_ERRORS.__getitem__))
        return a

    server = com_server.XLPython()
    results = []
    for name, args in cases:
        before = ComRange.reads
        value = server.CallUDF("udfs.functions", name, tuple(argument(a) for a in args), None, None)
        ranges = sum(1 for a in args if isinstance(a, dict) and "range" in a)
        results.append({"value": value, "ranges_read": ComRange.reads - before, "ranges": ranges})
    out["calls"] = results
    return out


# ---- Office.js: xlwings Lite / Server --------------------------------------------------------

def _import_lite_main():
    spec = importlib.util.spec_from_file_location("xl_stp_lite_main", LITE_MAIN)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def officejs(cases):
    if os.environ.get("XLWINGS_ON_SERVER") != "true":
        raise Skip("XLWINGS_ON_SERVER=true is not set")
    try:
        import xlwings
        import xlwings.conversion as conversion
        from xlwings.server import custom_functions_call, custom_functions_meta
    except Exception as exc:
        raise Skip(f"xlwings' Office.js code is not available: {type(exc).__name__}: {exc}")
    main = _import_lite_main()
    out = {"xlwings": xlwings.__version__, "meta": custom_functions_meta(main)}

    def payload(a):
        if isinstance(a, dict) and a.get("omitted"):
            return None
        if isinstance(a, dict):
            return _cells(a["range"], officejs_error)
        return [[a]]  # a literal: Office.js sends every argument as a 2-D matrix

    def call(name, args):
        data = {"func_name": name, "args": args, "client": "Office.js", "version": xlwings.__version__,
                "runtime": "1.4", "culture_info_name": "en-GB", "date_format": "dd/mm/yyyy"}
        return asyncio.run(custom_functions_call(data, main))

    out["calls"] = [call(name, [payload(a) for a in args]) for name, args in cases]
    # Blank cells inside a range as "" rather than null (xlwings reads both as a blank).
    out["calls_empty_strings"] = [
        call(name, [[["" if c is None else c for c in r] for r in p] if isinstance(p, list) and isinstance(a, dict) else p
                    for a, p in zip(args, (payload(a) for a in args))])
        for name, args in cases]
    # Omitted trailing arguments may also be left out of the payload altogether.
    out["calls_short"] = [call(name, [payload(a) for a in _strip_omitted(args)]) for name, args in cases]
    # Each Office.js error object reaches our converter as its text with err_to_str=True, and as
    # a blank (None) without it: the reason every generated @arg carries err_to_str=True.
    out["errors"] = {
        text: [conversion.read(None, [[1.0, officejs_error(text)]], {"ndim": 2, "err_to_str": True}, engine_name="officejs"),
               conversion.read(None, [[1.0, officejs_error(text)]], {"ndim": 2}, engine_name="officejs"),
               call("STP_CAPITAL_NET", [[[1.0, officejs_error(text)]], [[0.0]]])]
        for text in OFFICEJS_ERROR_TYPES
    }
    return out


def _strip_omitted(args):
    args = list(args)
    while args and isinstance(args[-1], dict) and args[-1].get("omitted"):
        args.pop()
    return args


# ---- plain: lite/main.py off the server --------------------------------------------------------

def plain(cases):
    os.environ.pop("XLWINGS_ON_SERVER", None)
    try:
        import xlwings  # noqa: F401
    except Exception as exc:
        raise Skip(f"xlwings is not importable: {type(exc).__name__}: {exc}")
    main = _import_lite_main()
    signatures = {}
    for name, fn in inspect.getmembers(main, inspect.isfunction):
        if name.startswith("STP_"):
            params = inspect.signature(fn).parameters.values()
            signatures[name] = [[p.name, p.default is None if p.default is not p.empty else "required"] for p in params]

    def argument(a):
        if isinstance(a, dict) and a.get("omitted"):
            return None
        if isinstance(a, dict):
            rows = _cells(a["range"], lambda e: e)
            return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows
        return a

    calls = [getattr(main, name)(*[argument(a) for a in _strip_omitted(args)]) for name, args in cases]
    return {"signatures": signatures, "calls": calls, "decorated": sorted(n for n in signatures if hasattr(getattr(main, n), "__xlfunc__"))}


ROUTES = {"classic": classic, "officejs": officejs, "plain": plain}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    cases = json.loads(sys.stdin.read() or "[]")
    try:
        result = ROUTES[sys.argv[1]](cases)
    except Skip as exc:
        result = {"skip": str(exc)}
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    sys.stdout.write(json.dumps(result))

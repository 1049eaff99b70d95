"""The STP_* functions through xlwings' own code for each Excel route, on Linux.

Excel is not on this machine, so the tests run the parts of xlwings that sit between Excel and our
functions, each in a fresh interpreter (``xlwings_routes.py``; the registry is global and what
``xw.func`` is depends on the process):

- **classic add-in, definition side**: xlwings' VBA generator (``generate_vba_wrapper``) and
  ``import_udfs`` over ``udfs.functions``, on stand-ins for pywin32 — the VBA module "Import
  Functions" writes into the workbook and the ``Application.MacroOptions`` calls it makes;
- **classic add-in, call side**: the COM entry point the VBA wrappers call
  (``xlwings.com_server.XLPython().CallUDF``) with stand-in COM ranges, through xlwings' real
  ``call_udf`` and ``_xlwindows`` range reading and value cleaning;
- **xlwings Lite / Office.js**: ``custom_functions_meta`` and ``custom_functions_call`` over the
  generated ``lite/main.py``, with Office.js payloads (every argument a 2-D matrix, blanks as null
  or "", error cells as Office.js error objects). This needs ``XLWINGS_ON_SERVER=true`` and
  xlwings' ``noncommercial`` licence key, set for the test process only — the product never
  requires either;
- ``lite/main.py`` imported off the server (``from xlwings import func, arg`` as no-ops): still a
  module of plain, callable functions.

Every route must give, for the LLR worked examples below (blank cells, #N/A cells, omitted
optional arguments included), exactly what calling the registry gives. A route whose xlwings piece
is unavailable here is skipped with the reason, never failed for that.

What stays unverified without Excel: Excel's own side of each route — VBA compiling and running
the generated module, COM marshalling of real ranges (dates, currency, very large ranges), the
Office.js runtime's payloads as Excel builds them and Lite's JavaScript/Pyodide bridge, Lite's
requirements parser and micropip install.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from udfs import discover
from udfs.excel import ERRORS, as_argument

R = discover()
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "xlwings_routes.py"


# ---- the cases: LLR worked examples as Excel passes them -----------------------------------------

def rng(*rows):
    """A cell reference: rows of cells (None blank, NA an error cell)."""
    return {"range": [list(r) for r in rows]}


NA = {"error": "#N/A"}
DIV0 = {"error": "#DIV/0!"}
OMIT = {"omitted": True}

HINCKLEY = rng([None, 4236.0, None, None], [None, 300.0, None, None], [None, 3165.0, None, None], [None, None, None, None])
HINCKLEY_DISPOSALS = rng([None], [None], [None], [-2000.0])
OAKHAM_LUTTERWORTH = rng([None, None, 1000.0, None], [None, None, 350.0, None], [None, None, None, None], [None, None, None, 1000.0])
ACUTE_PROGRAMME = rng([62.9, 20.5, 29.4, 52.2, 89.0, 109.0])
ACUTE_SOURCES = rng(["Site disposal", 0.0, 0.0, 0.0, 0.0, 0.0, -28.4],
                    ["PF2", 0.0, 0.0, None, None, -27.2, -70.2],
                    ["Welcome Centre", 0.0, 0.0, None, None, -2.0, -10.0])
ACUTE_APPROVED = rng([-50.7, 0.0, 0.0, 0.0, 0.0, 0.0])
ACUTE_INTERNAL = rng([-12.2, -4.5, -4.7, -9.2, -18.6, -10.8])
STF_NON_RECURRENT = rng(*[[v] for v in (None, None, None, None, 500.0, 300.0, None, 2000.0, 200.0, None, 500.0, 200.0, 250.0, None, 1000.0, 3000.0)])
STF_RECURRENT = rng(*[[v] for v in (3500.0, 4000.0, 750.0, 500.0, 1000.0, 700.0, 1750.0, None, 1500.0, 2000.0, None, None, None, 1000.0, None, None)])

approx = pytest.approx

#: id: (function, arguments, check of the registry's result against the published figure)
CASES = {
    "capital_net_hinckley_table": ("STP_CAPITAL_NET", [HINCKLEY, HINCKLEY_DISPOSALS, OMIT],
                                   lambda v: v[-1] == [0.0, 7701.0, 0.0, 0.0, -2000.0, 5701.0]),
    "capital_net_hinckley_total": ("STP_CAPITAL_NET", [HINCKLEY, HINCKLEY_DISPOSALS, "total"], lambda v: v == 5701.0),
    "capital_net_blank_result_cell": ("STP_CAPITAL_NET", [HINCKLEY, HINCKLEY_DISPOSALS, rng([None])],
                                      lambda v: v[-1][-1] == 5701.0),
    "capital_net_oakham_lutterworth": ("STP_CAPITAL_NET", [OAKHAM_LUTTERWORTH, rng([None], [None], [-4758.0], [None]), "total"],
                                       lambda v: v == -2408.0),
    "capital_net_na_cell": ("STP_CAPITAL_NET", [rng([1.0, NA]), 0.0],
                            lambda v: v.startswith("#STP! costs: expected a number in cell 2 of the row, found the error #N/A")),
    "funding_split_acute": ("STP_FUNDING_SPLIT", [ACUTE_PROGRAMME, ACUTE_SOURCES, OMIT, ACUTE_APPROVED, ACUTE_INTERNAL],
                            lambda v: len(v) == 8 and v[-1] == approx([0, 16.0, 24.7, 43.0, 41.2, -10.4])),
    "funding_split_order_na": ("STP_FUNDING_SPLIT", [ACUTE_PROGRAMME, ACUTE_SOURCES, rng(["PF2", NA])],
                               lambda v: v.startswith("#STP! order: expected names, found the error #N/A")),
    "dh_requirement_community": ("STP_DH_REQUIREMENT", [rng([0.0, 2.0, 16.3, 5.3, 18.5]),
                                                        rng([None, None, -6.0, None, -14.8], [None, None, None, -1.0, None], [None, -2.0, -3.4, None, -1.0])],
                                 lambda v: v == [approx([0.0, 0.0, 6.9, 4.3, 2.7])]),
    "stf_2017_18": ("STP_STF", [STF_NON_RECURRENT, STF_RECURRENT], lambda v: v == [[7950.0], [16700.0], [24650.0]]),
    "gap_net_gap_after_stf": ("STP_GAP", [399.3, 0.0, OMIT, 66.0], lambda v: v == [[approx(333.3)]]),
    "gap_bridge": ("STP_GAP", [rng([100.0, 200.0]), rng([30.0, 60.0], [20.0, 40.0]), rng([5.0, 5.0]), rng([10.0, 10.0]), True],
                   lambda v: v[-1] == [45.0, 95.0]),
    "gap_na_in_savings": ("STP_GAP", [rng([100.0, 200.0]), rng([30.0, NA])],
                          lambda v: v.startswith("#STP! savings: expected a number in cell 2 of the row, found the error #N/A")),
    "savings_strand_2": ("STP_SAVINGS", [rng([25600.0], [8600.0]), OMIT, rng([15100.0], [None])],
                         lambda v: v == [[10500.0], [8600.0]]),
    "do_nothing": ("STP_DO_NOTHING", [rng([1000.0], [500.0]), rng([0.02], [0.0]), 0.04, rng(["2017/18", "2018/19"])],
                   lambda v: v == [approx([20.0, 41.2]), approx([20.0, 40.8])]),
    "phase_market_harborough": ("STP_PHASE", [8600.0, "straight", 2.0, 1.0, 4.0], lambda v: v == [[0.0, 4300.0, 4300.0, 0.0]]),
    "phase_weights": ("STP_PHASE", [100.0, rng([0.2, 0.5, 0.3]), OMIT, OMIT, OMIT], lambda v: v == [[20.0, 50.0, 30.0]]),
    "fy": ("STP_FY", ["2017/18", 4.0], lambda v: v == [["2017/18", "2018/19", "2019/20", "2020/21"]]),
    "fy_from_cell": ("STP_FY", [rng(["FY18"]), rng([4.0])], lambda v: v[0][0] == "2017/18"),
    "roi_acute_net": ("STP_ROI", [25600.0, 279581.0, -28350.0, "net"], lambda v: round(v, 3) == 0.102),
    "payback": ("STP_PAYBACK", [1000.0, 250.0, OMIT, OMIT, OMIT], lambda v: v == 4.0),
    "payback_not_repaid": ("STP_PAYBACK", [1000.0, rng([10.0, 10.0])], lambda v: v == "not repaid within 2 years"),
    "npv_green_book": ("STP_NPV", [rng([-100.0, 50.0, 60.0]), OMIT], lambda v: v == approx(-100 + 50 / 1.035 + 60 / 1.035 ** 2)),
    "npv_div0_cell": ("STP_NPV", [rng([-100.0, DIV0])], lambda v: v.startswith("#STP! cashflows: expected a number in cell 2 of the row, found the error #DIV/0!")),
    "capital_charges": ("STP_CAPITAL_CHARGES", [rng([100.0, 0.0, 0.0, 0.0]), 2.0],
                        lambda v: v[0] == [0.0, 50.0, 50.0, 0.0] and v[1] == approx([1.75, 2.625, 0.875, 0.0])),
    "check_difference": ("STP_CHECK", [279581.0, 279582.0], lambda v: v == -1.0),
    "check_ok_with_tolerance": ("STP_CHECK", [rng([114.6]), rng([114.5]), 0.15], lambda v: v == "OK"),
    "check_na_cell": ("STP_CHECK", [rng([NA]), 1.0], lambda v: v.startswith("#STP! stated: expected a number, found the error #N/A")),
    "check_range_for_a_cell": ("STP_CHECK", [rng([1.0, 2.0]), 1.0],
                               lambda v: v.startswith("#STP! stated: expected a single cell, got a range of 1 x 2")),
}
IDS = list(CASES)
PAYLOAD = [[name, args] for name, args, _ in CASES.values()]


def direct(name, args):
    """The registry called as its contract says: a scalar for a single cell or literal, a list of
    rows for a range, '#N/A' for an error cell, None for an omitted argument."""
    values = []
    for a in args:
        if isinstance(a, dict) and a.get("omitted"):
            values.append(None)
        elif isinstance(a, dict):
            values.append(as_argument([[c["error"] if isinstance(c, dict) else c for c in r] for r in a["range"]]))
        else:
            values.append(a)
    return R[name](*values)


EXPECTED = {case: direct(name, args) for case, (name, args, _) in CASES.items()}


def as_classic(value):
    """What xlwings' CallUDF hands back to VBA for a result: one cell as its value, one row as a
    flat list, otherwise the rows."""
    if not isinstance(value, list):
        return value
    if len(value) == 1 and len(value[0]) == 1:
        return value[0][0]
    return value[0] if len(value) == 1 else value


def as_officejs(value):
    """What custom_functions_call returns to Office.js: always a matrix."""
    return value if isinstance(value, list) else [[value]]


def run_route(route: str, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("XLWINGS_")}
    environ.update(env)
    proc = subprocess.run([sys.executable, str(SCRIPT), route], input=json.dumps(PAYLOAD), capture_output=True,
                          text=True, env=environ, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout)
    if "skip" in out:
        pytest.skip(out["skip"])
    return out


@pytest.fixture(scope="module")
def classic():
    return run_route("classic")


@pytest.fixture(scope="module")
def officejs():
    return run_route("officejs", XLWINGS_LICENSE_KEY="noncommercial", XLWINGS_ON_SERVER="true")


@pytest.fixture(scope="module")
def plain():
    return run_route("plain")


@pytest.mark.parametrize("case", IDS)
def test_the_examples_are_the_published_llr_figures(case):
    check = CASES[case][2]
    assert check(EXPECTED[case]), EXPECTED[case]


def test_the_examples_cover_every_function():
    assert {name for name, _, _ in CASES.values()} == set(R)


# ---- classic add-in: definition side ------------------------------------------------------------

#: VBA keywords and statements that cannot name an argument, and the names the generated
#: wrapper's body itself uses (an argument called ``array`` would shadow ``Array(...)``).
VBA_RESERVED = {w.lower() for w in """
    AddressOf Alias And Any Append As Attribute Base Binary Boolean ByRef Byte ByVal Call Case CBool
    CByte CCur CDate CDbl CDec CInt CLng CLngLng CLngPtr Close Compare Const CSng CStr Currency CVar
    CVErr Date Debug Decimal Declare DefBool DefByte DefCur DefDate DefDbl DefDec DefInt DefLng
    DefLngLng DefLngPtr DefObj DefSng DefStr DefVar Dim Do DoEvents Double Each Else ElseIf Empty End
    EndIf Enum Eqv Erase Error Event Exit Explicit False Fix For Friend Function Get Global GoSub GoTo
    If Imp Implements In Input InputB Int Integer Is LBound Len LenB Let Lib Like Line Lock Long
    LongLong LongPtr Loop LSet Me Mid MidB Mod Module Name New Next Not Nothing Null Object On Open
    Option Optional Or Output ParamArray Preserve Print Private Property PtrSafe Public Put
    RaiseEvent Random Read ReDim Rem Reset Resume Return RSet Seek Select Set Shared Single Spc
    Static Step Stop String Sub Tab Text Then To True Type TypeOf UBound Unlock Until Variant Wend
    While Width With WithEvents Write Xor
    Application ActiveWorkbook ThisWorkbook Array Err Range XLPy Caller failed
""".split()}
VBA_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,254}")
FUNCTION_LINE = re.compile(r"^Function (\w+)\((.*)\)$", re.MULTILINE)


def _vba_functions(vba: str) -> dict[str, list[str]]:
    return {name: [p.strip() for p in params.split(",")] if params else [] for name, params in FUNCTION_LINE.findall(vba)}


def test_vba_generator_gives_one_function_per_registered_function(classic):
    for book, vba in classic["vba"].items():
        functions = _vba_functions(vba)
        assert len(FUNCTION_LINE.findall(vba)) == len(R) == 14, book
        assert set(functions) == set(R), book
        assert vba.count("End Function") == len(R)
        for name, fn in R.items():
            assert functions[name] == [("Optional " if a.optional else "") + a.name for a in fn.args], name
            call = f'XLPy.CallUDF("udfs.functions", "{name}", Array({", ".join(a.name for a in fn.args)})'
            assert vba.count(call) == 2, name  # with and without Application.Caller


def test_vba_argument_names_are_not_reserved_words():
    for name, fn in R.items():
        for a in fn.args:
            assert VBA_IDENTIFIER.fullmatch(a.name), (name, a.name)
            assert a.name.lower() not in VBA_RESERVED, (name, a.name)
            assert a.name.lower() != name.lower()


def test_vba_module_is_ascii_and_uses_the_right_workbook(classic):
    xlam, xlsm = classic["vba"]["xl_stp.xlam"], classic["vba"]["Book1.xlsm"]
    assert xlam.isascii() and xlsm.isascii()  # a VBA module file is read in the ANSI code page
    assert xlam.count("ActiveWorkbook, Application.Caller") == len(R) and "ThisWorkbook" not in xlam  # add-in
    assert xlsm.count("ThisWorkbook, Application.Caller") == len(R) and "ActiveWorkbook" not in xlsm


def test_import_functions_writes_the_module_and_the_function_wizard_help(classic):
    recorded = classic["import_udfs"]
    assert recorded[0] == ["Remove", "xlwings_udfs"]
    assert recorded[1][0] == "Import"
    module = recorded[1][1]
    assert module.startswith('Attribute VB_Name = "xlwings_udfs"') and module.isascii()
    assert set(_vba_functions(module)) == set(R)
    options = {a[0]: kw for kind, a, kw in recorded[2:] if kind == "MacroOptions"}
    assert len(recorded[2:]) == len(options) == len(R)
    for name, fn in R.items():
        kw = options[f"'xl_stp.xlam'!{name}"]
        assert kw["Category"] == "xl-stp"
        # xlwings cuts each text at 255 characters (Excel's limit): nothing of ours may be cut
        assert kw["Description"] == fn.doc and len(fn.doc) <= 255
        assert kw["ArgumentDescriptions"] == [a.doc for a in fn.args]
        assert all(len(a.doc) <= 255 for a in fn.args)


# ---- classic add-in: call side --------------------------------------------------------------------

@pytest.mark.parametrize("case", IDS)
def test_classic_com_call_gives_the_registry_result(classic, case):
    got = classic["calls"][IDS.index(case)]
    assert got["value"] == as_classic(EXPECTED[case])
    assert got["ranges_read"] == got["ranges"]  # every cell reference went through xlwings' COM range reading


# ---- xlwings Lite / Office.js ----------------------------------------------------------------------

def test_officejs_metadata_lists_every_function_under_its_own_name(officejs):
    functions = {f["id"]: f for f in officejs["meta"]["functions"]}
    assert set(functions) == set(R) and len(officejs["meta"]["functions"]) == 14
    assert officejs["meta"]["allowErrorForDataTypeAny"] is True  # error cells reach the function
    for name, fn in R.items():
        meta = functions[name]
        assert meta["name"] == name  # no namespace: =STP_CAPITAL_NET(...) as in the classic add-in
        assert meta["description"] == fn.doc
        assert meta["result"] == {"dimensionality": "matrix", "type": "any"}  # results spill
        assert [p["name"] for p in meta["parameters"]] == [a.name for a in fn.args]
        assert [p["description"] for p in meta["parameters"]] == [a.doc for a in fn.args]
        assert [p.get("optional", False) for p in meta["parameters"]] == [a.optional for a in fn.args]
        assert all(p["dimensionality"] == "matrix" and p["type"] == "any" for p in meta["parameters"])


@pytest.mark.parametrize("case", IDS)
def test_officejs_call_gives_the_registry_result(officejs, case):
    i = IDS.index(case)
    expected = as_officejs(EXPECTED[case])
    assert officejs["calls"][i] == expected  # blanks as null, omitted arguments as null
    assert officejs["calls_short"][i] == expected  # omitted trailing arguments left out
    assert officejs["calls_empty_strings"][i] == expected  # blanks as ""


def test_officejs_error_objects_reach_our_converter_as_their_text(officejs):
    for text, (with_err_to_str, without, result) in officejs["errors"].items():
        assert text in ERRORS
        assert with_err_to_str == [[1.0, text]]
        assert without == [[1.0, None]]  # without err_to_str an error cell would count as a blank: 0
        assert result == [[f"#STP! costs: expected a number in cell 2 of the row, found the error {text}"]]


# ---- lite/main.py off the server ------------------------------------------------------------------

def test_lite_main_without_the_server_is_plain_callable_functions(plain):
    assert plain["decorated"] == []  # xlwings' off-server func/arg leave the functions untouched
    assert set(plain["signatures"]) == set(R)
    for name, fn in R.items():
        assert plain["signatures"][name] == [[a.name, True if a.optional else "required"] for a in fn.args]


@pytest.mark.parametrize("case", IDS)
def test_lite_main_without_the_server_gives_the_registry_result(plain, case):
    assert plain["calls"][IDS.index(case)] == EXPECTED[case]

"""Our converter against xlwings' own (run under xlwings' PolyForm-Noncommercial key, which the
product never requires; skipped where it is unavailable).

xlwings' Office.js converter reads every argument with the options our registry declares; the
result, fed to our functions, must give the same answer as the raw Excel payload does — i.e.
our functions behave the same whether or not xlwings converted first (classic Windows Excel
converts before calling us; the batch engine and xlwings Server payloads do not)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(r"""
    import json, sys
    import xlwings.conversion as conversion
    from udfs import discover
    R = discover()
    cases = json.loads(sys.stdin.read())
    out = []
    for name, args in cases:
        fn = R[name]
        converted = [None if a is None else conversion.read(None, a, dict(arg.xlwings_options), engine_name="officejs")
                     for arg, a in zip(fn.args, args)]
        out.append([fn(*args), fn(*converted), converted])
    print(json.dumps(out))
""")

# Office.js sends every argument as a 2-D matrix, even a single cell.
CASES = [
    ["STP_CAPITAL_NET", [[[None, 4236.0, None], [None, 300.0, None]], [[0.0], [-2000.0]], [["total"]]]],
    ["STP_CAPITAL_NET", [[[1.0, 2.0]], [[None]], [["table"]]]],
    ["STP_CAPITAL_NET", [[[1.0, "#N/A"]], [[0.0]]]],
    ["STP_FUNDING_SPLIT", [[[0.0, 16.0, 24.7]], [["PF2", None, -5.0, -7.0], ["LA", -1.0, None, None]]]],
    ["STP_PHASE", [[[8600.0]], [["straight"]], [[2.0]], [[1.0]], [[4.0]]]],
    ["STP_FY", [[["2017/18"]], [[4.0]]]],
    ["STP_CHECK", [[[279581.0]], [[279582.0]], [[None]]]],
    ["STP_SAVINGS", [[[100.0, 200.0], [50.0, None]], [[None]], [[None]], [[0.5]]]],
    ["STP_STF", [[[500.0], [None]], [[1000.0], [3500.0]]]],
    ["STP_NPV", [[[-100.0, 50.0, 60.0]], [[None]]]],
]


def test_our_functions_agree_with_xlwings_conversion():
    env = dict(os.environ, XLWINGS_LICENSE_KEY="noncommercial")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], input=json.dumps(CASES), capture_output=True, text=True, env=env, timeout=120)
    if proc.returncode != 0 or not proc.stdout.strip():
        pytest.skip(f"xlwings' converter is not available here: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
    results = json.loads(proc.stdout)
    for (name, _), (raw, converted, payload) in zip(CASES, results):
        assert raw == converted, (name, payload)
    # and the shapes xlwings produced are the ones our docs promise: ranges stay 2-D
    assert results[0][2][0] == [[None, 4236.0, None], [None, 300.0, None]]
    assert results[0][0] == 2536.0
    assert results[2][0].startswith("#STP! costs: expected a number in cell 2 of the row, found the error #N/A")

"""``udfs.discover(excel=False)``: the command line's registry, without xlwings' decorators (and
without importing xlwings and pandas), computing exactly what Excel's functions compute."""

from __future__ import annotations

import json
import subprocess
import sys

from udfs import discover

CALLS = {"STP_CHECK": [100.0, 100.4], "STP_DO_NOTHING": [[[1000.0], [2000.0]], 0.02, 0.04, 3],
         "STP_CAPITAL_NET": [[[300.0, 500.0]], 120.0, "total"]}

PROBE = f"""
import json, sys
from udfs import discover
registry = discover(excel=False)
out = {{"modules": sorted(m for m in ("xlwings", "pandas") if m in sys.modules),
        "results": {{name: registry[name](*args) for name, args in {CALLS!r}.items()}},
        "names": sorted(registry)}}
print(json.dumps(out))
"""


def test_the_command_lines_registry_imports_no_xlwings_and_computes_the_same():
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["modules"] == []
    excel = discover()  # this process: the module as Excel imports it
    assert got["names"] == sorted(excel)
    assert got["results"] == json.loads(json.dumps({name: excel[name](*args) for name, args in CALLS.items()}))
    assert "xlwings" in sys.modules  # here the module was imported as Excel imports it, through xlwings

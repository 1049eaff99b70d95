"""Nothing to recompute (xl_stp/batch/settled.py): a workbook whose STP_* results, computed from
what the file stores, are the values it stores needs no engine, and comes back byte for byte;
anything else goes to the engine as before."""

from __future__ import annotations

import pytest

from tests.batch.common import ENGINES, REGISTRY, sha
from tests.batch.test_recalc import excel_like, values
from xl_stp.batch.run import regen_file
from xl_stp.batch.scan import scan
from xl_stp.batch.settled import NOTHING, SETTLED, _arithmetic, settled

#: C1 reads two inputs, E1 a literal and (through an expression) the stored value of the formula
#: cell D1; F1 reads both. The STP_* results are the values stored.
CURRENT = {"A1": 100, "A2": 100, "B1": 40,
           "C1": ("=STP_CHECK(A1,A2)", "OK"),
           "D1": ("=B1*2", 80),
           "E1": ("=STP_CHECK(160,D1*2)", "OK"),
           "F1": ('=C1&E1', "OKOK")}


@pytest.mark.parametrize("engine", ENGINES)
def test_results_as_stored_need_no_engine_and_change_no_byte(tmp_path, engine):
    path = excel_like(tmp_path / "current.xlsx", CURRENT)
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine=engine)
    assert r.status == "ok" and r.values_changed == 0
    assert r.recalc.endswith(SETTLED) and r.recomputed == 2
    assert sha(tmp_path / "out" / "current.xlsx") == sha(path)
    checked = regen_file(path, REGISTRY, out_dir=tmp_path / "checked", engine=engine, cross_check=True)
    assert any(p.startswith("cross-check skipped: nothing needed recomputing") for p in checked.problems)


def test_a_result_that_changed_goes_to_the_engine_with_what_is_downstream(tmp_path):
    cells = dict(CURRENT, A2=90)  # C1 now gives 10: F1 below it must be recomputed
    path = excel_like(tmp_path / "changed.xlsx", cells)
    assert settled(scan(path), REGISTRY, path) is None
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="formulas")
    got = values(r.output)
    assert got["C1"] == 10 and got["F1"] == "10OK" and got["D1"] == 80
    assert SETTLED not in r.recalc


@pytest.mark.parametrize("extra", [
    {"G1": ("=NOW()", 1)},  # a volatile cell is a seed of its own
    {"G1": ("=STP_CHECK(A1,SUM(A1:A2)/2)", "OK")},  # an expression this cannot work out
    {"G1": ("=STP_CHECK(A1,100)", "stale")},  # a result that is not the one stored
    {"G1": ("=STP_CHECK(A1,G2)", "OK"), "G2": ("=TEXT(1,\"0\")", "1")},  # reads text: the function warns or fails
])
def test_what_the_file_alone_cannot_settle_goes_to_the_engine(tmp_path, extra):
    path = excel_like(tmp_path / "m.xlsx", {**CURRENT, **extra})
    assert settled(scan(path), REGISTRY, path) is None


@pytest.mark.parametrize("engine", ENGINES)
def test_a_workbook_with_no_seed_at_all_needs_no_engine(tmp_path, engine):
    """As Excel saved it, no STP_*, volatile or unstored cell: nothing to recompute, even where a
    stored value is not what an engine would compute now."""
    path = excel_like(tmp_path / "plain.xlsx", {"A1": 2, "B1": ("=A1*3", 999), "C1": ('=B1&"!"', "999!")})
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine=engine)
    assert r.status == "ok" and r.recalc == NOTHING and r.recomputed == 0
    assert sha(tmp_path / "out" / "plain.xlsx") == sha(path)
    volatile = excel_like(tmp_path / "volatile.xlsx", {"A1": 2, "B1": ("=A1*3", 999), "C1": ("=NOW()*0", 0)})
    assert settled(scan(volatile), REGISTRY, volatile) is None


def test_an_unstored_formula_cell_is_a_seed(tmp_path):
    path = excel_like(tmp_path / "m.xlsx", CURRENT, unstored=("D1",))
    assert settled(scan(path), REGISTRY, path) is None


@pytest.mark.parametrize("text, expected", [
    ("A1+B1*2", 8.0), ("-A1^2", 4.0), ("2^3^2", 64.0), ("(A1+B1)*Other!E5", 50.0), ("-(A1-B1)*2", 2.0),
    ("A1-C1", 2.0), ("1E+3+A1", 1002.0), ("A1/B1", 2 / 3),
    ("A1/C1", None), ("C1^0", None), ("0^0", None), ("(-8)^0.5", None),  # #DIV/0!, #NUM!, #NUM!
    ("0.3-0.2-0.1", None),  # within rounding of zero: Excel may show 0
    ("D1+1", None), ("E1*2", None),  # a logical, a text
    ("A1&B1", None), ("A1%", None), ("A1>1", None), ("SUM(A1)", None), ("A1+B1:B2", None),
])
def test_arithmetic_arguments_are_worked_out_as_excel_does_or_not_at_all(text, expected):
    stored = {("S", "A1"): 2.0, ("S", "B1"): 3.0, ("S", "C1"): None, ("S", "D1"): True, ("S", "E1"): "x",
              ("Other", "E5"): 10.0}
    got = _arithmetic(text, "S", {}, lambda sheet, ref: stored.get((sheet, ref)))
    assert got == pytest.approx(expected) if expected is not None else got is None

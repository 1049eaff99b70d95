"""Overrides asking for some cells only (``LibreOfficeEngine.override(values, only=...)``, what
``xl-stp scenarios`` does): the same values as overrides returning every cell, through chains of
STP_* calls and native formulas, formula and array cells overridden, typed values, and the calls
no asked-for cell needs brought up to date by the next override that asks for every cell."""

from __future__ import annotations

import pytest
import xlsxwriter

from tests.batch.common import REGISTRY
from udfs import discover
from xl_stp.batch.engines.select import libreoffice_available
from xl_stp.batch.scan import scan
from xl_stp.scenarios import run
from xl_stp.scenarios.book import Book
from xl_stp.scenarios.changes import apply
from xl_stp.scenarios.definitions import read_csv

from .test_scenarios import OUTPUTS, SCENARIOS

pytestmark = pytest.mark.skipif(not libreoffice_available(), reason="LibreOffice is not installed")

ONLY = [("M", "A6"), ("M", "D2"), ("M", "E1")]
STEPS = [{"A1": 150.0}, {"B1": 20.0}, {"A2": 500.0}, {"C1": 7.0}, {"A1": True}, {"A1": 120.0}, {"A2": "#N/A"},
         {"A2": 400.0, "B1": 10.0}]


def _chain(path):
    """A6 follows two STP_* calls, the second reading the first through a native formula (two
    passes); D2 an array formula; E1 reads A3 itself; B2 (an expression argument) feeds none of them."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("M")
    ws.write_number("A1", 100)
    ws.write_formula("A2", "=A1*2", None, 0)
    ws.write_formula("A3", "=STP_CHECK(A2,200)", None, 0)
    ws.write_formula("A4", '=IF(A3="OK",0,A3)+1', None, 0)
    ws.write_formula("A5", "=STP_CHECK(A4,1)", None, 0)
    ws.write_formula("A6", '=IF(A5="OK",A4,A5)', None, 0)
    ws.write_number("B1", 10)
    ws.write_formula("B2", "=STP_CHECK(B1+A1,110)", None, 0)
    ws.write_formula("B3", "=B2", None, 0)
    ws.write_array_formula("C1:C2", "{=A1:A2*3}")
    ws.write_formula("D1", "=C1+C2", None, 0)
    ws.write_formula("D2", "=STP_CHECK(D1,900)", None, 0)
    ws.write_formula("E1", "=STP_CHECK(A3,100)", None, 0)  # reads an STP_* call's cell directly
    wb.close()
    return path


def _run(path, only):
    """Each step's values ({sheet: {cell: value}}); B3's value, asked for alone after the steps;
    every cell's value after a last override without ``only``."""
    from xl_stp.batch.engines.libreoffice.engine import LibreOfficeEngine

    eng = LibreOfficeEngine(keep_open=True)
    eng.compute(path, REGISTRY, scan(path))
    try:
        steps = [eng.override({"M": step}, only) for step in STEPS]
        return steps, eng.override({}, [("M", "B3")])["M"]["B3"], eng.override({})
    finally:
        eng.close()


def test_only_the_cells_asked_for_with_the_values_of_every_cell(tmp_path):
    path = _chain(tmp_path / "chain.xlsx")
    some, b3, after = _run(path, ONLY)
    every, _b3, last = _run(path, None)
    for step, got, full in zip(STEPS, some, every):
        assert got == {"M": {name: full["M"][name] for _s, name in ONLY}}, step
    assert b3 == last["M"]["B3"]  # B2, left behind while nothing asked for it, computed once something does
    assert after == last
    assert every[0]["M"]["A6"] == 100.0 and every[0]["M"]["B3"] == 50.0  # (300 - 200 + 1) - 1; 10 + 150 - 110
    assert every[5]["M"]["B3"] == 30.0  # a number written over the constant formula =TRUE(): 20 + 120 - 110


def test_scenarios_on_one_loaded_workbook_with_and_without_only():
    """The LLR scenarios, then back to the base case: the outputs as when every cell is read back."""
    book = Book(SCENARIOS.parent / "llr_stp_2016.xlsx")
    groups = run.outputs(book, OUTPUTS)
    cells = run.Comparison(groups, []).cells()
    found = read_csv(SCENARIOS, book)
    values = [apply(book, sc).values for sc in found] + [{}]
    results = []
    for only in (cells, None):
        session = run.Session(book, discover(), only)
        try:
            results.append([run._pick(book, session.run(v), v, cells) for v in values])
            base = run._pick(book, session.base, {}, cells)
        finally:
            session.close()
    assert results[0] == results[1]
    assert results[0][-1] == base

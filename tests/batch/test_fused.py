"""The fused engine: LibreOffice first, formulas where the policy says it is the better judge, every
disagreement reported, and nothing computed from an answer that was not written."""

from __future__ import annotations


from tests.batch.common import LO, REGISTRY
from tests.batch.test_recalc import excel_like, values
from xl_stp.batch.engines import get_engine, policy
from xl_stp.batch.run import regen_file
from xl_stp.batch.verify import verify_file

pytestmark = LO.marks

#: DATE(1,1,1) is 1 January 1901 in Excel (a year below 1900 counts from 1900): formulas says so
#: (367); LibreOffice reads the year 1 as 2001 (36892). DEC2BIN(-1,3) ignores 'places' for a negative in Excel and
#: LibreOffice ("1111111111"); formulas says #NUM!. B1/B2 read them.
CELLS = {"A1": ("=DATE(1,1,1)", 367), "B1": ("=A1+1", 368),
         "A2": ("=DEC2BIN(-1,3)", "1111111111"), "B2": ("=LEN(A2)", 10),
         "A3": ("=1+1", 2)}


def test_auto_is_the_fused_engine_where_libreoffice_is_installed():
    assert get_engine("auto").name == "fused"


def test_policy_sends_each_cell_to_the_engine_that_matches_excel(tmp_path):
    path = excel_like(tmp_path / "m.xlsx", CELLS, full_calc=True)
    fused = regen_file(path, REGISTRY, out_dir=tmp_path / "fused", engine="fused")
    lo = regen_file(path, REGISTRY, out_dir=tmp_path / "lo", engine="libreoffice")
    got, alone = values(fused.output), values(lo.output)
    assert alone["A1"] == 36892 and alone["B1"] == 36893  # LibreOffice alone: 1 January 2001
    assert got["A1"] == 367 and got["B1"] == 368  # formulas' answer, and the cell that reads it computed from it
    assert got["A2"] == "1111111111" and got["B2"] == 10  # LibreOffice's, which the policy keeps
    line = next(p for p in fused.problems if p.startswith("Model!A1:"))
    assert "the engines disagree: LibreOffice gives 36892" in line and "formulas 367" in line and "DATE" in line
    assert not any(p.startswith("Model!A2:") for p in fused.problems)


def test_a_policy_entry_decides_whose_answer_is_written(tmp_path, monkeypatch):
    """With DEC2BIN given to formulas (as a policy measured otherwise would), its #NUM! is written,
    the disagreement reported, and LEN(A2) computed from it, not from LibreOffice's answer."""
    monkeypatch.setattr(policy, "PREFER_LIBREOFFICE", frozenset())
    monkeypatch.setattr(policy, "PREFER_FORMULAS", frozenset({"DEC2BIN"}))
    path = excel_like(tmp_path / "m.xlsx", CELLS, full_calc=True)
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="fused")
    got = values(r.output)
    assert got["A2"] == "#NUM!" and got["B2"] == "#NUM!"
    assert any(p.startswith("Model!A2: the engines disagree") for p in r.problems)


def test_formulas_is_not_started_when_no_cell_needs_it(tmp_path, monkeypatch):
    import xl_stp.batch.engines.fused as fused_module

    def boom(*a, **k):
        raise AssertionError("the formulas engine should not run")
    monkeypatch.setattr(fused_module.FormulasEngine, "compute", boom)
    path = excel_like(tmp_path / "plain.xlsx", {"A1": 2, "B1": ("=A1*3", 6), "C1": ("=SUM(A1:B1)", 8)}, full_calc=True)
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="fused")
    assert r.status == "ok" and values(r.output)["C1"] == 8


def test_default_mode_asks_formulas_only_about_cells_it_may_write(tmp_path, monkeypatch):
    """An Excel-saved file: the DATE cell is not recomputed (nothing it reads changed), so the
    formulas engine is not needed, and its stored value stays."""
    import xl_stp.batch.engines.fused as fused_module

    def boom(*a, **k):
        raise AssertionError("the formulas engine should not run")
    monkeypatch.setattr(fused_module.FormulasEngine, "compute", boom)
    path = excel_like(tmp_path / "saved.xlsx", {**CELLS, "C1": 100, "C2": 100, "C3": ("=STP_CHECK(C1,C2)", "stale")})
    r = regen_file(path, REGISTRY, out_dir=tmp_path / "out", engine="fused")
    got = values(r.output)
    assert got["C3"] == "OK" and got["A1"] == 367 and r.recomputed == 1


def test_verify_names_the_engine_of_each_cell(tmp_path):
    path = excel_like(tmp_path / "m.xlsx", {**CELLS, "A4": ("=DATE(1,1,1)", 1)})
    r = verify_file(path, REGISTRY, engine="fused")
    wrong = {d["cell"]: d for d in r.disagreements}
    assert wrong["Model!A4"]["engine"] == "formulas" and wrong["Model!A4"]["ours"] == 367
    assert r.compared == 6 and r.agreed == 5

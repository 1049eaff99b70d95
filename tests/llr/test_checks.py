"""The checks of the LLR STP 2016 (xl_stp.llr.checks): every stated total against its computed value."""

from __future__ import annotations

import pytest

from xl_stp.core.reconcile import MISMATCH, NIL, ROUNDING
from xl_stp.llr import Figures, check_results, checks
from xl_stp.llr.checks import (SECTIONS, hundredths_against_whole_percents, m_against_thousands,
                               m_total_against_thousand_totals, roi_rounding, rounding, same_figure, total_of_items,
                               whole_m_against)


@pytest.fixture(scope="module")
def figures() -> Figures:
    return Figures.load()


def test_every_stated_total_has_a_check(figures):
    covered = {c.stated for c in checks(figures)}
    covered |= {tuple(t.split("|")[1:]) for c in checks(figures) for t, _ in c.computed if t.startswith("figure|")}
    totals = figures.frame[figures.frame["kind"] == "total"]
    assert [k for k in zip(totals["table"], totals["row"], totals["column"]) if k not in covered] == []


def test_checks_find_where_the_document_disagrees_with_itself(figures):
    results = check_results(figures)
    assert len(results) >= 170
    beyond = {(r.check.description, r.difference) for r in results if r.status == "exceeds rounding"}
    assert beyond == {
        ("CAMHS, 2018/19: = capital tables (£000)", -8.0),  # other schemes: 2018/19; community summary: 2020/21
        ("CAMHS, 2020/21: = capital tables (£000)", 8.0),
        ("2018/19: external requirement = community, Hinckley, Oakham & Lutterworth and other schemes tables (£000)", -8.001),
        ("2020/21: external requirement = community, Hinckley, Oakham & Lutterworth and other schemes tables (£000)", 8.0),
        ("STF requested over five years (plan on a page, £m) = investment table total (£000)", -41.8),
        ("Strand 2 net: heading = text (same figure, two places)", -0.3),
        ("Savings across the five strands = sum of strand net savings", 1.4),
        ("Net saving after STF = strand net savings less STF investment 2020/21", -2.5),
        ("Spend on health and social care 2016/17: plan on a page = finance section (same figure, two places)", -299.0),
    }
    within = {r.check.description: r.difference for r in results if r.status == "within rounding"}
    assert within["Summary box: total capital cost = sum of scheme costs"] == -1  # 279,581 vs 279,582
    assert within["PF2: total = sum of years"] == pytest.approx(0.1)  # (97.3) vs (97.4)
    assert within["Total UHL DH requirement = the acute table's DH total (same figure, two tables)"] == pytest.approx(0.1)
    assert within["Strand 2 net (heading) = gross (acute + community) less capital charges"] == pytest.approx(-0.2)
    assert len(within) == 34


def test_a_changed_input_changes_the_checks(tmp_path, figures):
    """The checks compare; they are not a list of expected answers: fix the CAMHS year in a copy of
    the data and its four checks agree."""
    frame = figures.frame.copy()
    at = (frame["table"] == "other_schemes") & (frame["row"] == "CAMHS relocation") & (frame["column"] == "2018/19")
    frame.loc[at, "column"] = "2020/21"
    frame.loc[at, "source"] = frame.loc[at, "source"].str.replace("2018/19", "2020/21")
    path = tmp_path / "llr.csv"
    frame.to_csv(path, index=False)
    moved = Figures.load(path)
    results = check_results(moved)
    assert not [r for r in results if r.status == "exceeds rounding" and "CAMHS" in r.check.description]
    assert len([r for r in results if r.status == "exceeds rounding"]) == 5


def test_sections_come_in_the_order_of_the_checks_sheet(figures):
    """175 checks; each section's checks together, sections in the published order."""
    found = checks(figures)
    assert len(found) == 175
    order = list(dict.fromkeys(c.section for c in found))
    assert order[:6] == ["Acute hospitals reconfiguration",
                         "Community hospital inpatient services and planned care reconfiguration",
                         "Hinckley and District ambulatory care and diagnostics",
                         "Oakham and Lutterworth ambulatory care and diagnostics", "Electronic patient records (UHL)",
                         "Other capital schemes"]
    assert order[6:] == ["Acute configuration funding (£m)", "Community configuration funding (£m)",
                         "Summary of total requirement (£m)", "STF investment (£000)", "Savings and gap (£m)",
                         "Organisational growth (%)"]
    runs = [c.section for i, c in enumerate(found) if i == 0 or found[i - 1].section != c.section]
    assert runs == order  # no section comes back after another
    assert sum(len([c for c in section(figures) if c.stated in figures]) for section in SECTIONS) == len(found)


def test_status_words_are_the_cores(figures):
    assert {r.status for r in check_results(figures)} == {NIL, ROUNDING, MISMATCH}


def test_tolerance_rules():
    # half a unit for the stated figure plus half a unit per printed figure behind it
    assert total_of_items("£000", 11) == 6.0 and total_of_items("£000", 0) == 0.5
    assert total_of_items("£m", 3) == pytest.approx(0.2) and same_figure("£m") == pytest.approx(0.1)
    assert rounding("£m", "£000", 4) == m_against_thousands(4) == pytest.approx(0.05 + 4 * 0.0005)
    assert rounding("%", "%") == pytest.approx(0.01)
    assert m_total_against_thousand_totals(8, 4) == pytest.approx(0.45 + 0.0025)
    # figures the text prints in whole £m
    assert whole_m_against(tenths=3) == pytest.approx(0.65) and whole_m_against(whole=1) == 1.0
    assert whole_m_against(thousands=6) == pytest.approx(0.503)
    assert roi_rounding() == pytest.approx(0.005 + 5_000 / 251_232)
    assert hundredths_against_whole_percents(2) == pytest.approx(1.005)

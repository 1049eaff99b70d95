"""The transcribed figures of the LLR STP 2016 (xl_stp/llr/data/llr_stp_2016.csv) and the layout of
their tables."""

from __future__ import annotations

import pytest

from xl_stp import STPError
from xl_stp.llr.figures import (CAPITAL_TABLES, COMMUNITY_FUNDING_COLUMNS, YEARS, Figures, data_path, has_disposals,
                                item_rows, stf_lines)


@pytest.fixture(scope="module")
def figures() -> Figures:
    return Figures.load()


def test_every_figure_has_a_source_tag_naming_its_table_and_row(figures):
    f = figures.frame
    assert len(f) > 350
    assert set(f["kind"]) == {"item", "total", "stated"}
    assert set(f["units"]) <= {"£000", "£m", "%", "years", "beds"}
    for row in f.itertuples():
        assert row.source.count(" / ") == 2 and row.row in row.source, row
    assert data_path().name == "llr_stp_2016.csv"


def test_capital_tables_cover_the_published_programmes():
    assert list(CAPITAL_TABLES) == ["acute_reconfiguration", "community_hospitals", "hinckley", "oakham_lutterworth",
                                    "epr", "other_schemes"]
    assert YEARS == ("2017/18", "2018/19", "2019/20", "2020/21") and COMMUNITY_FUNDING_COLUMNS[0] == "2016/17"


def test_item_rows_leave_out_the_stated_totals(figures):
    for table, (total_row, _summary, _title) in CAPITAL_TABLES.items():
        assert total_row not in item_rows(figures, table)
    assert [t for t in CAPITAL_TABLES if not has_disposals(t)] == ["epr", "other_schemes"]
    lines = stf_lines(figures)
    assert len(lines) == 17 and "Total" not in lines and "Total Non Recurrent and Recurrent" not in lines


def test_a_figure_transcribed_twice_is_refused(tmp_path, figures):
    path = tmp_path / "llr.csv"
    figures.frame.iloc[[0, 0]].to_csv(path, index=False)
    with pytest.raises(STPError, match="appears twice"):
        Figures.load(path)

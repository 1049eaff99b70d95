import datetime as dt

import numpy as np
import pytest

from xl_stp import STPError, Timeline, fy_label, fy_labels, parse_fy


@pytest.mark.parametrize("text", ["2017/18", "17/18", "2017-18", "2017/2018", "FY18", "FY2018", "fy 18", 2017, 2017.0, dt.date(2017, 4, 1), dt.date(2018, 3, 31)])
def test_parse_fy_spellings_of_2017_18(text):
    assert parse_fy(text) == 2017


def test_century_and_labels():
    assert fy_label(1999) == "1999/00"
    assert parse_fy("1999/00") == 1999
    assert parse_fy("99/00") == 1999
    assert fy_labels("2016/17", 5) == ("2016/17", "2017/18", "2018/19", "2019/20", "2020/21")


@pytest.mark.parametrize("bad", ["2017/19", "17/19", "next year", "", True, 17, None, 3.5])
def test_parse_fy_rejects(bad):
    with pytest.raises(STPError, match="year"):
        parse_fy(bad)


def test_timeline_from_labels_and_index():
    t = Timeline.from_labels(["2017/18", "18/19", "2019-20", "FY21"])
    assert t == Timeline(2017, 4)
    assert t.index("2019/20") == 2
    with pytest.raises(STPError, match="outside 2017/18 to 2020/21"):
        t.index("2021/22")


def test_timeline_rejects_gaps_and_misaligned_ranges():
    with pytest.raises(STPError, match="consecutive: 2017/18 is followed by 2019/20"):
        Timeline.from_labels(["2017/18", "2019/20"])
    t = Timeline.of(2017, 4)
    with pytest.raises(STPError, match="costs: has 5 years; the timeline 2017/18 to 2020/21 has 4"):
        t.check(np.zeros((3, 5)), "costs")
    assert t.check(np.zeros((3, 4)), "costs").shape == (3, 4)

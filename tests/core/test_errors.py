"""Where the core says a problem is: STPError's ``at`` (row, column of the offending value within
the argument as the caller passed it; a 1-d sequence is one row) and ``label`` (a named row)."""

import pickle

import numpy as np
import pytest

from xl_stp import STPError, Timeline, capital_net, capital_charges, do_nothing_gap, funding_waterfall, net_savings, phase
from xl_stp.core import _arrays


def test_fields_pickle_and_message():
    e = STPError("sources", "has 3 years, programme has 2", at=(np.int64(1), 2), label="PF2")
    assert e.at == (1, 2) and type(e.at[0]) is int
    assert str(e) == "sources 'PF2': has 3 years, programme has 2"
    again = pickle.loads(pickle.dumps(e))
    assert (again.argument, again.problem, again.at, again.label, str(again)) == (e.argument, e.problem, e.at, e.label, str(e))
    assert STPError("costs", "x").at is None and STPError("costs", "x").label is None  # the old two-argument form


@pytest.mark.parametrize("call, at", [
    (lambda: _arrays.amounts([[1, 2], ["x", 3]], "costs"), (1, 0)),
    (lambda: _arrays.amounts([1, None, 3], "costs"), (0, 1)),
    (lambda: _arrays.amounts(float("nan"), "costs"), (0, 0)),
    (lambda: _arrays.amounts([[1, -2]], "costs", allow_negative=False), (0, 1)),
    (lambda: capital_net([[1, 2], [3, 4], [5, 6]], [[-1], [2], [-3]]), (1, 0)),
    (lambda: capital_net([[1, 2], [3, 4], [5, 6]], [-1, 2, -3]), (0, 1)),
    (lambda: capital_net([[1, 2], [3, 4], [5, 6]], [1, -2, 3]), (0, 1)),  # the minority sign: brackets here
    (lambda: capital_net([[1, 2], [3, 4]], [1, -2]), (0, 0)),  # as many of each: the positive one
    (lambda: capital_net([[1, 2], [3, 4]], [[0, 0, -5], [0, 0, 0]]), (0, 2)),  # a third year beside two
    (lambda: net_savings([[1, 2], [3, 4]], delivery=[[0.5, 0.5], [0.5, 50]]), (1, 1)),
    (lambda: do_nothing_gap([100, 50], [0.02, 4], 0.02, 3), (0, 1)),
    (lambda: capital_charges([[1, 2], [3, 4]], [5, -1]), (0, 1)),
    (lambda: phase(100, [0.5, -0.2, 0.7]), (0, 1)),
    (lambda: Timeline.from_labels(["2017/18", "2018/19", "2020/21"]), (0, 2)),
    (lambda: Timeline.from_labels(["2017/18", "soon"]), (0, 1)),
    (lambda: Timeline(2017, 4).check(np.zeros((2, 5)), "costs"), (0, 4)),
    (lambda: funding_waterfall([10, 10], {"LA": [0, 0], "PF2": [-1, 1]}), (1, 1)),
    (lambda: funding_waterfall([10, 10], [[0, 0], [-1, 1]], order=["PF2", "Nope"]), (0, 1)),
])
def test_the_core_names_the_offending_value(call, at):
    with pytest.raises(STPError) as e:
        call()
    assert e.value.at == at, str(e.value)


def test_a_source_is_named_by_its_name_or_its_row():
    with pytest.raises(STPError) as e:
        funding_waterfall([10, 10], [[0, 0], [-1, 1]], names=["LA", "PF2"])
    assert (e.value.argument, e.value.label) == ("sources", "PF2") and str(e.value).startswith("sources 'PF2': mixes")
    with pytest.raises(STPError) as e:
        funding_waterfall([10, 10], [[0, 0], [-1, 1]])
    assert e.value.label is None and str(e.value).startswith("sources: row 2 mixes positive and negative amounts")

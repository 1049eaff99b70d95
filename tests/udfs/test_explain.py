"""UDF.explain: the call's own result, the structured error (argument, the offending cell within
the range as it was passed, the row's name) and the warnings; and the usual mistakes of a new user,
each named at its cell with what to type."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest

from udfs import discover
from udfs.registry import ERROR_PREFIX, UDF, Arg, Explained, locate
from xl_stp.core.errors import STPError

R = discover()

LLR_COSTS = [[None, 4236.0, None, None], [None, 300.0, None, None], [None, 3165.0, None, None], [None, None, None, None]]


def test_a_good_call_explained():
    e = R["STP_CAPITAL_NET"].explain(LLR_COSTS, [[None], [None], [None], [-2000.0]], "total")
    assert e == Explained(5701.0, None, ()) and e.ok


def test_a_failed_call_explained_is_the_same_text_with_its_reasons():
    args = ([[1000.0, "12,000"], [0.0, 500.0]], 0.0)
    e = R["STP_CAPITAL_NET"].explain(*args)
    assert e.result == R["STP_CAPITAL_NET"](*args) == "#STP! costs: '12,000' is text at row 1, column 2; type it as a number"
    assert (e.error.argument, e.error.at, e.error.label) == ("costs", (0, 1), None) and not e.ok


# ---- the usual mistakes (issue 14), each at its cell ---------------------------------------------

@pytest.mark.parametrize("name, arguments, message, at, label", [
    # text in a money cell
    ("STP_CAPITAL_NET", ([[None, "12,000", None, None], [None, 300.0, None, None]], 0.0),
     "costs: '12,000' is text at row 1, column 2; type it as a number", (0, 1), None),
    # a disposal positive in one cell and in brackets in another
    ("STP_CAPITAL_NET", (LLR_COSTS, [[-1000.0], [None], [-500.0], [2000.0]]),
     "disposals: mixes positive and negative amounts: 2,000 in scheme 4 is positive, the other 2 are in brackets; "
     "type them all in brackets (or all as positive amounts)", (3, 0), None),
    ("STP_CAPITAL_NET", (LLR_COSTS, [[-1000.0, None, None, 2000.0, -500.0, None]]),  # the same, typed as a row
     "disposals: has 6 values; costs has 4 schemes (expected one value per scheme)", (0, 4), None),
    ("STP_CAPITAL_NET", (LLR_COSTS, [[-1000.0, None, None, 2000.0]]),
     "disposals: mixes positive and negative amounts: 2,000 in scheme 4 is positive, the other is in brackets; "
     "type them all in brackets (or all as positive amounts)", (0, 3), None),
    # PF2 in mixed signs among funding sources, named by its name
    ("STP_DH_REQUIREMENT", ([[0.0, 16.0, 24.7, 43.0, 70.4, 98.2]],
                            [["Site disposal", 0.0, 0.0, 0.0, 0.0, 0.0, -28.4], ["PF2", 0.0, 0.0, None, None, 27.2, -70.2]]),
     "sources 'PF2': mixes positive and negative amounts: 27.2 in year 5 is positive, the other is in brackets; "
     "type them all in brackets (or all as positive amounts)", (1, 5), "PF2"),
    # text in a funding source
    ("STP_DH_REQUIREMENT", ([[0.0, 2.0, 16.3]], [["Disposals", None, None, -6.0], ["LA funded", None, "2.0", -3.4]]),
     "sources 'LA funded': '2.0' is text in column 3; type it as a number", (1, 2), "LA funded"),
    # a fifth figure beside four years
    ("STP_CAPITAL_NET", ([[100.0, 200.0, 0.0, 0.0], [0.0, 0.0, 50.0, 50.0]], [[0.0, 0.0, 0.0, -50.0, -2000.0], [0.0] * 5]),
     "disposals: has 5 years, costs has 4", (0, 4), None),
    ("STP_DH_REQUIREMENT", ([[10.0, 20.0, 30.0, 40.0]], [["PF2", 0.0, 0.0, 0.0, -1.0, -2.0]]),
     "sources: has 5 years, programme has 4", (0, 5), None),
    ("STP_GAP", ([[100.0, 200.0, 300.0, 400.0]], [[10.0, 20.0, 30.0, 40.0, 50.0]]), "savings: has 5 years, do_nothing has 4", (0, 4), None),
    # a percentage typed 50 instead of 50%
    ("STP_SAVINGS", ([[100.0, 200.0], [50.0, 50.0]], None, None, 50.0), "delivery: 50 is 5000%; type 50% or 0.5", (0, 0), None),
    ("STP_SAVINGS", ([[100.0, 200.0], [50.0, 50.0]], None, None, [[0.5], [80.0]]),
     "delivery: 80 in strand 2 is 8000%; type 80% or 0.8", (1, 0), None),
    # growth typed 4 instead of 4%
    ("STP_DO_NOTHING", ([[1_200_000.0]], 0.02, 4.0, 4.0), "cost_growth: 4 is 400% a year; type 4% or 0.04", (0, 0), None),
    ("STP_DO_NOTHING", ([[1000.0], [500.0]], [[0.02, 0.02, 2.0]], 0.02, 3.0),
     "funding_growth: 2 in year 3 is 200% a year; type 2% or 0.02", (0, 2), None),
    # other rates with the same slip
    ("STP_CAPITAL_CHARGES", ([[100.0, 0.0]], 5.0, 3.5), "pdc_rate: 3.5 is 350% a year; type 3.5% or 0.035", (0, 0), None),
    ("STP_NPV", ([[-100.0, 50.0, 60.0]], 3.5), "rate: 3.5 is 350% a year; type 3.5% or 0.035", (0, 0), None),
])
def test_usual_mistakes_are_named_at_their_cell(name, arguments, message, at, label):
    e = R[name].explain(*arguments)
    assert e.result == R[name](*arguments) == f"{ERROR_PREFIX} {message}"
    assert str(e.error) == message and (e.error.at, e.error.label) == (at, label)


def test_a_blank_year_is_a_warning_not_a_refusal():
    costs = [[1000.0, None, 2000.0, 500.0]]
    e = R["STP_CAPITAL_NET"].explain(costs, 0.0, "total")
    assert e.result == R["STP_CAPITAL_NET"](costs, 0.0, "total") == 3500.0
    assert [(str(w), w.at) for w in e.warnings] == [
        ("costs: the blank in cell 2 of the row is between figures and counts as 0; type 0 there if that is meant", (0, 1))]


# ---- where: positions in the range as the caller passed it -------------------------------------

@pytest.mark.parametrize("name, arguments, argument, at", [
    ("STP_CAPITAL_NET", ([[1.0, 2.0], [3.0, 4.0]], [[-1.0], [2.0]]), "disposals", (1, 0)),  # a column, flattened by the adapter
    ("STP_CAPITAL_NET", ([[1.0, 2.0], [3.0, 4.0]], [[-1.0, 2.0]]), "disposals", (0, 1)),  # the same as a row
    ("STP_CAPITAL_NET", ([[1.0, 2.0], [3.0, 4.0]], [[1.0], [2.0], [3.0]]), "disposals", (2, 0)),  # one scheme too many
    ("STP_CAPITAL_CHARGES", ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [[5.0], [5.0], [0.0]]), "life", (2, 0)),
    ("STP_CAPITAL_CHARGES", ([[1.0, 2.0]], [[5.0], [5.0]]), "life", (1, 0)),
    ("STP_PHASE", (100.0, [[0.5], [-0.2], [0.7]]), "profile", (1, 0)),
    ("STP_DO_NOTHING", ([[1000.0]], 0.02, 0.02, [["2017/18"], ["2019/20"]]), "years", (1, 0)),
    ("STP_DO_NOTHING", ([[1000.0]], 0.02, 0.02, [["2017/18", "next year"]]), "years", (0, 1)),
    ("STP_DO_NOTHING", ([[1000.0], [500.0]], 0.02, 0.02, 2.0, [[1000.0], [500.0], [10.0]]), "baseline_funding", (2, 0)),
    ("STP_FUNDING_SPLIT", ([[10.0, 20.0]], [["PF2", -1.0, -1.0], ["LA", 0.0, -2.0]], [["LA", "Nope"]]), "order", (0, 1)),
    ("STP_FUNDING_SPLIT", ([[10.0, 20.0]], [[-1.0, -1.0], [0.0, -2.0]], [["PF2"], ["LA"]]), "order", (0, 0)),
    ("STP_FUNDING_SPLIT", ([[10.0, 20.0]], [["PF2", -1.0, -1.0], ["LA", 0.0, -2.0], ["PF2", 0.0, -3.0]]), "sources", (2, 0)),
    ("STP_FUNDING_SPLIT", ([[10.0, 20.0]], [[-1.0, -1.0]], None, [[-1.0], [1.0]]), "approved", (1, 0)),  # a column for 2 years
    ("STP_FUNDING_SPLIT", ([[10.0, 20.0, 30.0]], [[-1.0, -1.0, 0.0]], None, [[1.0, -1.0, 1.0]]), "approved", (0, 1)),
    ("STP_SAVINGS", ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]), "investment", (0, 2)),
    ("STP_STF", ([[1.0, 2.0]], [[1.0, 2.0], [3.0, 4.0]]), "recurrent", (1, 0)),
    ("STP_PAYBACK", (100.0, [[1.0], [True]]), "savings", (1, 0)),
    ("STP_NPV", ([[-100.0], [50.0], [dt.datetime(2017, 4, 1)]],), "cashflows", (2, 0)),
    ("STP_FY", ([["next year"]], 2.0), "first", (0, 0)),  # Office.js: a single cell as [[x]]
    ("STP_FY", ("2017/18", 0.0), "n", (0, 0)),
    ("STP_CHECK", ([[1.0, 2.0]], 1.0), "stated", None),  # a range where a cell goes: no one cell to blame
    ("STP_CAPITAL_NET", ([[1.0]],), "disposals", None),  # missing
])
def test_at_is_the_cell_in_the_range_as_passed(name, arguments, argument, at):
    e = R[name].explain(*arguments)
    assert e.error is not None and e.error.argument == argument, e.result
    assert e.error.at == at, (e.error, e.error.at)


def test_too_many_arguments_and_a_bug_are_errors_too():
    e = R["STP_CHECK"].explain(1.0, 2.0, 3.0, 4.0)
    assert e.result == "#STP! STP_CHECK takes at most 3 arguments, got 4" and e.error.argument is None and e.warnings == ()

    def STP_BROKEN(x):
        return 1 / 0

    from udfs.registry import Registry, udf
    local = Registry()
    udf(Arg("x", "anything"), returns="nothing", registry=local)(STP_BROKEN)
    e = local["STP_BROKEN"].explain(1.0)
    assert e.result == "#STP! STP_BROKEN failed: ZeroDivisionError: division by zero" == str(e.error).join(["#STP! ", ""])


def test_explain_on_a_function_not_declared_with_udf():
    def plain(x):
        return "#STP! x: no" if x is None else 1.0

    fn = UDF(name="STP_PLAIN", func=plain, doc="Plain.", args=(Arg("x", "x"),), returns="1")
    assert fn.explain(2.0) == Explained(1.0, None)
    assert fn.explain(None) == Explained("#STP! x: no", STPError(None, "x: no"))


def test_explain_never_changes_the_result_and_checks_that_fail_are_skipped():
    from udfs.registry import Registry, udf

    def boom(values):
        raise RuntimeError("a broken check")

    def STP_ECHO(x):
        return x

    local = Registry()
    udf(Arg("x", "x", range=False), returns="x", checks=(boom,), registry=local)(STP_ECHO)
    assert local["STP_ECHO"].explain(3.0) == Explained(3.0, None, ())


# ---- STPError ---------------------------------------------------------------------------------

def test_stp_error_fields_message_and_pickle():
    e = STPError("sources", "has 3 years, programme has 2", at=(1, 2), label="PF2")
    assert str(e) == "sources 'PF2': has 3 years, programme has 2" and e.args == (str(e),)
    assert pickle.loads(pickle.dumps(e)) == e
    moved = e.moved(at=(1, 3), label=None)
    assert str(moved) == "sources: has 3 years, programme has 2" and moved.at == (1, 3) and e.at == (1, 2)
    assert str(STPError(None, "no argument")) == "no argument"
    assert STPError("x", "y") == STPError("x", "y") != STPError("x", "y", at=(0, 0))
    assert repr(e) == "STPError('sources', 'has 3 years, programme has 2', at=(1, 2), label='PF2')"


def test_locate_maps_a_flat_position_and_drops_one_outside_the_range():
    args = (Arg("a", "a"),)
    assert locate(STPError("a", "x", at=(0, 4)), args, ([[1], [2], [3], [4], [5]],)).at == (4, 0)
    assert locate(STPError("a", "x", at=(0, 3)), args, ([[1, 2], [3, 4]],)).at == (1, 1)
    assert locate(STPError("a", "x", at=(0, 9)), args, ([[1, 2], [3, 4]],)).at is None
    assert locate(STPError("a", "x"), args, (5.0,)).at == (0, 0)
    assert locate(STPError("b", "x", at=(0, 9)), args, (5.0,)).at == (0, 9)  # not one of the arguments: as it was

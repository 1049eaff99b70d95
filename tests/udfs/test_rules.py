"""Each written rule of udfs.rules gives the message the table says, in the cell (refused) or in
the warnings of explain (warned); a warning never changes the result."""

from __future__ import annotations

import pickle

import pytest

from udfs import discover, rules
from udfs.registry import ERROR_PREFIX

R = discover()


@pytest.mark.parametrize("rule", [r for r in rules.RULES if r.kind == rules.REFUSED], ids=lambda r: r.id)
def test_refused_rule_gives_its_message_and_names_the_cell(rule):
    name, arguments = rule.example
    fn = R[name]
    assert fn(*arguments) == f"{ERROR_PREFIX} {rule.message}"
    e = fn.explain(*arguments)
    assert e.result == fn(*arguments) and str(e.error) == rule.message and e.warnings == ()
    if e.error.at is not None:  # within the argument's range as it was passed
        value = arguments[[a.name for a in fn.args].index(e.error.argument)]
        rows = value if isinstance(value, list) else [[value]]
        assert 0 <= e.error.at[0] < len(rows) and 0 <= e.error.at[1] < len(rows[0])


@pytest.mark.parametrize("rule", [r for r in rules.RULES if r.kind == rules.WARNED], ids=lambda r: r.id)
def test_warned_rule_gives_its_message_and_leaves_the_result_alone(rule):
    name, arguments = rule.example
    fn = R[name]
    e = fn.explain(*arguments)
    assert e.error is None and not (isinstance(e.result, str) and e.result.startswith(ERROR_PREFIX))
    assert e.result == fn(*arguments)
    assert [str(w) for w in e.warnings] == [rule.message]


def test_every_check_declared_with_a_function_is_a_written_rule():
    ids = {r.id for r in rules.RULES if r.kind == rules.WARNED}
    declared = {type(c) for fn in R.values() for c in fn.checks}
    assert declared == {rules.NegativeFigures, rules.BlankBetween, rules.HighRate, rules.Weights, rules.BeyondHorizon}
    for fn in R.values():
        names = {a.name for a in fn.args}
        for c in fn.checks:
            assert getattr(c, "argument", "horizon") in names, (fn.name, c)
    assert {"negative-cost", "blank-between", "high-growth", "high-rate", "weights-not-100",
            "weights-percent-typed-whole", "beyond-horizon"} == ids


def test_rule_ids_are_unique_and_the_table_lists_them_all():
    assert len(rules.BY_ID) == len(rules.RULES)
    text = rules.table()
    assert text.splitlines()[0].startswith("| rule |")
    for r in rules.RULES:
        assert f"`{r.id}`" in text and r.message in text


def test_the_registry_with_its_checks_pickles_and_explains_after():
    again = pickle.loads(pickle.dumps(R))
    name, arguments = rules.BY_ID["negative-cost"].example
    assert again[name].explain(*arguments) == R[name].explain(*arguments)


@pytest.mark.parametrize("name, arguments", [
    ("STP_CAPITAL_NET", ([[100.0, 200.0, 300.0], [0.0, 0.0, 0.0]], 0.0)),  # no blank, nothing negative
    ("STP_CAPITAL_NET", ([[100.0, None, None], [None, 50.0, None]], 0.0)),  # blanks at the ends of a row: not between figures
    ("STP_CAPITAL_NET", ([[None, 8000.0, None, None], [2000.0, None, None, 2000.0]], 0.0)),  # LLR: a pause of two years
    ("STP_CAPITAL_NET", ([[100.0, None, 0.0, 50.0]], 0.0)),  # beside a typed 0
    ("STP_DH_REQUIREMENT", ([[0.0, 2.0, 16.3, 5.3, 18.5]], [[None, None, -6.0, None, -14.8]])),  # sources: a sale in some years
    ("STP_DO_NOTHING", ([[1000.0]], 0.02, 0.2, 4.0)),  # 20% is not above 20%
    ("STP_CAPITAL_CHARGES", ([[100.0, 0.0]], 5.0, 0.1)),
    ("STP_PHASE", (100.0, [[0.2, 0.5, 0.3]])),  # adds up to 100%
    ("STP_PHASE", (100.0, [[1.0, 2.0, 1.0]])),  # plain weights
    ("STP_PHASE", (100.0, [[0.5, 1.0, 2.0]])),  # plain weights, some below 1
    ("STP_PHASE", (1000.0, "straight", 2.0, 1.0, 3.0)),  # ends on the horizon
])
def test_no_warning_for_what_is_plainly_meant(name, arguments):
    e = R[name].explain(*arguments)
    assert e.error is None and e.warnings == ()


def test_warnings_count_the_rest_and_point_at_the_first():
    e = R["STP_CAPITAL_NET"].explain([[-1.0, 2.0], [-3.0, -4.0]], 0.0)
    assert [str(w) for w in e.warnings] == [
        "costs: (1) at row 1, column 1 is a negative cost; it reduces the capital requirement (proceeds from a sale go "
        "in disposals) (2 more like it in the range)"]
    assert e.warnings[0].at == (0, 0)
    e = R["STP_DO_NOTHING"].explain([[1000.0]], [[0.02, -0.3, 0.02]], 0.02, 3.0)
    assert [(str(w), w.at) for w in e.warnings] == [
        ("funding_growth: -0.3 in cell 2 of the row is -30% a year; growth is usually a few per cent (3.5% is 0.035): check it", (0, 1))]


def test_warnings_with_a_refusal_are_still_listed():
    e = R["STP_CAPITAL_NET"].explain([[100.0, None, 50.0, "12,000"]], 0.0)
    assert str(e.error) == "costs: '12,000' is text in cell 4 of the row; type it as a number" and e.error.at == (0, 3)
    assert [w.at for w in e.warnings] == [(0, 1)]

"""Every argument form that a function's help text promises is tested once per function.

The forms are read off the registry's argument descriptions (what Excel's function wizard shows)
with the vocabulary below: "one rate, one per year (a row) or per sector (a column)" promises the
forms ``one``, ``per year`` and ``per sector``. ``CASES`` holds one call for each
(function, argument, form). The walk fails when a description promises a form that has no case
(write the case, or fix the help), and when a case's form is no longer promised (the help lost a
form the code may still accept: say so in the help, or drop the case).
"""

from __future__ import annotations

import math
import re

import pytest

from udfs import discover
from udfs.registry import ERROR_PREFIX

R = discover()

#: form -> pattern in an argument's description that promises it.
VOCABULARY: dict[str, str] = {
    # financial years
    "2017/18": r"\b2017/18\b",
    "17/18": r"(?<!20)\b17/18\b",
    "FY18": r"\bFY18\b",
    "start year": r"\bstart year\b",
    "headings": r"\byear headings\b",
    "number": r"\b[Nn]umber of\b|\bwhole years\b|\byears from\b",
    # shapes
    "one": r"\bone rate\b|: one,|\bone cell,",
    "per year": r"\bper year \(a row\)",
    "by year": r"\bby year\b(?!\))",
    "per sector": r"\bper sector\b",
    "per strand": r"\bper strand \(a column\)",
    "per scheme": r"\bone amount per scheme\b|\bone per scheme\b|\bone cell per scheme\b",
    "rows x years": r"\bone row per [\w/]+, one column per year\b|\bby strand and year\b|\bper strand and year\b"
                    r"|\bschemes x years\b|\bsame rows and years\b|\(one row per scheme\)",
    "amount": r", £000$",
    # values
    "blanks": r"\bblank cells count as 0\b",
    "positive": r"\bpositive or in brackets\b",
    "in brackets": r"\bpositive or in brackets\b",
    "0 for none": r"\b0 for none\b",
    "names": r"\bfirst column of names\b|\brow of their names\b",
    "numbers": r"\bnumbers 1, 2\b",
    "with approved/internal": r"\bwith approved/internal\b",
    "rate": r"\bdividend rate\b|\bdiscount rate\b",
    # choices
    "TRUE": r"\bTRUE\b",
    "straight": r"\bstraight\b",
    "front": r"\bfront\b",
    "back": r"\bback\b",
    "s-curve": r"\bs-curve\b",
    "weights": r"\brow of weights\b",
    "table": r"\btable \(default",
    "net": r"\bnet \(|\bor net\b",
    "gross": r"\bgross \(",
    "by_year": r"\bby_year\b",
    "total": r"\bor total\b",
    "simple": r"\bsimple \(",
    "discounted": r"\bdiscounted\b",
}


def forms(fn, arg) -> set[str]:
    """The forms ``arg``'s description promises; ``omitted`` for an optional argument, ``value``
    when the description names no form (a single figure)."""
    found = {form for form, pattern in VOCABULARY.items() if re.search(pattern, arg.doc)}
    if not found:
        found.add("value")
    if arg.optional:
        found.add("omitted")
    return found


approx = pytest.approx
G = [[100.0, 200.0], [10.0, 20.0]]  # gross savings, 2 strands x 2 years
C = [[100.0, 200.0], [50.0, 0.0]]  # capital costs, 2 schemes x 2 years
PLAIN = [[100.0, 200.0, 0.0, 300.0], [50.0, 0.0, 0.0, 50.0], [150.0, 200.0, 0.0, 350.0]]
WITH_30 = [[100.0, 200.0, -30.0, 270.0], [50.0, 0.0, 0.0, 50.0], [150.0, 200.0, -30.0, 320.0]]
LAG1 = [[0.0, 50.0, 50.0, 0.0], [1.75, 2.625, 0.875, 0.0], [1.75, 52.625, 50.875, 0.0]]  # 100 over 2 years

#: (function, argument, form) -> (arguments as Excel passes them, expected result)
CASES: dict[tuple[str, str, str], tuple[tuple, object]] = {
    ("STP_FY", "first", "2017/18"): (("2017/18", 3.0), [["2017/18", "2018/19", "2019/20"]]),
    ("STP_FY", "first", "17/18"): (("17/18", 1.0), [["2017/18"]]),
    ("STP_FY", "first", "FY18"): (("FY18", 1.0), [["2017/18"]]),
    ("STP_FY", "first", "start year"): ((2017.0, 1.0), [["2017/18"]]),
    ("STP_FY", "n", "number"): (("2017/18", 2.0), [["2017/18", "2018/19"]]),

    ("STP_DO_NOTHING", "baseline", "per sector"): (([[1000.0], [500.0]], 0.0, 0.1, 2.0), [approx([100.0, 210.0]), approx([50.0, 105.0])]),
    ("STP_DO_NOTHING", "baseline", "blanks"): (([[1000.0], [None]], 0.0, 0.1, 1.0), [approx([100.0]), [0.0]]),
    ("STP_DO_NOTHING", "funding_growth", "one"): (([[1000.0]], 0.02, 0.0, 2.0), [approx([-20.0, -40.4])]),
    ("STP_DO_NOTHING", "funding_growth", "per year"): (([[1000.0]], [[0.1, 0.0]], 0.0, 2.0), [approx([-100.0, -100.0])]),
    ("STP_DO_NOTHING", "funding_growth", "per sector"): (([[1000.0], [500.0]], [[0.1], [0.0]], 0.0, 1.0), [approx([-100.0]), [0.0]]),
    ("STP_DO_NOTHING", "cost_growth", "one"): (([[1000.0]], 0.0, 0.1, 2.0), [approx([100.0, 210.0])]),
    ("STP_DO_NOTHING", "cost_growth", "per year"): (([[1000.0]], 0.0, [[0.1, 0.0]], 2.0), [approx([100.0, 100.0])]),
    ("STP_DO_NOTHING", "cost_growth", "per sector"): (([[1000.0], [500.0]], 0.0, [[0.0], [0.1]], 1.0), [[0.0], approx([50.0])]),
    ("STP_DO_NOTHING", "years", "number"): (([[1000.0]], 0.0, 0.1, 3.0), [approx([100.0, 210.0, 331.0])]),
    ("STP_DO_NOTHING", "years", "headings"): (([[1000.0]], 0.0, 0.1, [["2017/18", "2018/19"]]), [approx([100.0, 210.0])]),
    ("STP_DO_NOTHING", "baseline_funding", "omitted"): (([[1000.0]], 0.0, 0.1, 1.0), [approx([100.0])]),
    ("STP_DO_NOTHING", "baseline_funding", "per sector"): (([[1000.0], [500.0]], 0.0, 0.0, 1.0, [[990.0], [500.0]]), [[10.0], [0.0]]),

    ("STP_GAP", "do_nothing", "by year"): (([[100.0, 200.0]], [[30.0, 60.0]]), [[70.0, 140.0]]),
    ("STP_GAP", "do_nothing", "per sector"): (([[100.0, 200.0], [50.0, 50.0]], [[30.0, 60.0]]), [[120.0, 190.0]]),
    ("STP_GAP", "do_nothing", "blanks"): (([[100.0, None]], [[30.0, 0.0]]), [[70.0, 0.0]]),
    ("STP_GAP", "savings", "rows x years"): (([[100.0, 200.0]], [[30.0, 60.0], [20.0, 40.0]]), [[50.0, 100.0]]),
    ("STP_GAP", "savings", "blanks"): (([[100.0, 200.0]], [[30.0, None]]), [[70.0, 200.0]]),
    ("STP_GAP", "investment", "by year"): (([[100.0, 200.0]], [[30.0, 60.0]], [[5.0, 5.0]]), [[75.0, 145.0]]),
    ("STP_GAP", "investment", "blanks"): (([[100.0, 200.0]], [[30.0, 60.0]], [[5.0, None]]), [[75.0, 140.0]]),
    ("STP_GAP", "investment", "omitted"): (([[100.0, 200.0]], [[30.0, 60.0]], None, [[10.0, 10.0]]), [[60.0, 130.0]]),
    ("STP_GAP", "stf", "by year"): (([[100.0, 200.0]], [[30.0, 60.0]], None, [[10.0, 10.0]]), [[60.0, 130.0]]),
    ("STP_GAP", "stf", "blanks"): (([[100.0, 200.0]], [[30.0, 60.0]], None, [[None, 10.0]]), [[70.0, 130.0]]),
    ("STP_GAP", "stf", "omitted"): (([[100.0, 200.0]], [[30.0, 60.0]], [[5.0, 5.0]]), [[75.0, 145.0]]),
    ("STP_GAP", "bridge", "TRUE"): (([[100.0, 200.0]], [[30.0, 60.0]], [[5.0, 5.0]], [[10.0, 10.0]], True),
                                    [[100.0, 200.0], [-30.0, -60.0], [5.0, 5.0], [-10.0, -10.0], [65.0, 135.0]]),
    ("STP_GAP", "bridge", "omitted"): (([[100.0, 200.0]], [[30.0, 60.0]], [[5.0, 5.0]], [[10.0, 10.0]]), [[65.0, 135.0]]),

    ("STP_SAVINGS", "gross", "rows x years"): ((G,), G),
    ("STP_SAVINGS", "gross", "blanks"): (([[100.0, None]],), [[100.0, 0.0]]),
    ("STP_SAVINGS", "investment", "rows x years"): ((G, [[10.0, 10.0], [0.0, 5.0]]), [[90.0, 190.0], [10.0, 15.0]]),
    ("STP_SAVINGS", "investment", "blanks"): ((G, [[10.0, None], [None, 5.0]]), [[90.0, 200.0], [10.0, 15.0]]),
    ("STP_SAVINGS", "investment", "omitted"): ((G, None, [[1.0, 1.0], [1.0, 1.0]]), [[99.0, 199.0], [9.0, 19.0]]),
    ("STP_SAVINGS", "capital_charges", "rows x years"): ((G, None, [[10.0, 10.0], [0.0, 5.0]]), [[90.0, 190.0], [10.0, 15.0]]),
    ("STP_SAVINGS", "capital_charges", "blanks"): ((G, None, [[None, 10.0], [None, None]]), [[100.0, 190.0], [10.0, 20.0]]),
    ("STP_SAVINGS", "capital_charges", "omitted"): ((G, [[1.0, 1.0], [1.0, 1.0]]), [[99.0, 199.0], [9.0, 19.0]]),
    ("STP_SAVINGS", "delivery", "one"): ((G, None, None, 0.5), [[50.0, 100.0], [5.0, 10.0]]),
    ("STP_SAVINGS", "delivery", "per strand"): ((G, None, None, [[0.5], [1.0]]), [[50.0, 100.0], [10.0, 20.0]]),
    ("STP_SAVINGS", "delivery", "per year"): ((G, None, None, [[0.5, 1.0]]), [[50.0, 200.0], [5.0, 20.0]]),
    ("STP_SAVINGS", "delivery", "rows x years"): ((G, None, None, [[0.5, 1.0], [1.0, 0.0]]), [[50.0, 200.0], [10.0, 0.0]]),
    ("STP_SAVINGS", "delivery", "omitted"): ((G, None, None, None), G),

    ("STP_PHASE", "total", "one"): ((1000.0, "straight", 2.0), [[500.0, 500.0]]),
    ("STP_PHASE", "total", "per scheme"): (([[1000.0], [200.0]], "straight", 2.0), [[500.0, 500.0], [100.0, 100.0]]),
    ("STP_PHASE", "total", "blanks"): (([[1000.0], [None]], "straight", 2.0), [[500.0, 500.0], [0.0, 0.0]]),
    ("STP_PHASE", "profile", "straight"): ((900.0, "straight", 3.0), [[300.0, 300.0, 300.0]]),
    ("STP_PHASE", "profile", "front"): ((600.0, "front", 2.0), [[400.0, 200.0]]),
    ("STP_PHASE", "profile", "back"): ((600.0, "back", 2.0), [[200.0, 400.0]]),
    ("STP_PHASE", "profile", "s-curve"): ((1000.0, "s-curve", 3.0), [approx([250.0, 500.0, 250.0])]),
    ("STP_PHASE", "profile", "weights"): ((100.0, [[0.2, 0.5, 0.3]]), [[20.0, 50.0, 30.0]]),
    ("STP_PHASE", "years", "number"): ((1000.0, "straight", 4.0), [[250.0, 250.0, 250.0, 250.0]]),
    ("STP_PHASE", "years", "weights"): ((100.0, [[0.2, 0.5, 0.3]], 3.0), [[20.0, 50.0, 30.0]]),
    ("STP_PHASE", "years", "omitted"): ((100.0, [[0.2, 0.5, 0.3]], None), [[20.0, 50.0, 30.0]]),
    ("STP_PHASE", "start", "number"): ((1000.0, "straight", 2.0, 1.0), [[0.0, 500.0, 500.0]]),
    ("STP_PHASE", "start", "omitted"): ((1000.0, "straight", 2.0, None), [[500.0, 500.0]]),
    ("STP_PHASE", "horizon", "number"): ((1000.0, "straight", 2.0, 1.0, 4.0), [[0.0, 500.0, 500.0, 0.0]]),
    ("STP_PHASE", "horizon", "omitted"): ((1000.0, "straight", 2.0, 1.0, None), [[0.0, 500.0, 500.0]]),

    ("STP_CAPITAL_NET", "costs", "rows x years"): ((C, 0.0), PLAIN),
    ("STP_CAPITAL_NET", "costs", "blanks"): (([[100.0, None]], 0.0), [[100.0, 0.0, 0.0, 100.0], [100.0, 0.0, 0.0, 100.0]]),
    ("STP_CAPITAL_NET", "disposals", "per scheme"): ((C, [[-30.0], [None]]), WITH_30),
    ("STP_CAPITAL_NET", "disposals", "rows x years"): ((C, [[0.0, -30.0], [0.0, 0.0]]), WITH_30),
    ("STP_CAPITAL_NET", "disposals", "0 for none"): ((C, 0.0), PLAIN),
    ("STP_CAPITAL_NET", "disposals", "positive"): ((C, [[30.0], [None]]), WITH_30),
    ("STP_CAPITAL_NET", "disposals", "in brackets"): ((C, [[-30.0], [0.0]]), WITH_30),
    ("STP_CAPITAL_NET", "disposals", "blanks"): ((C, [[None], [None]]), PLAIN),
    ("STP_CAPITAL_NET", "result", "table"): ((C, 0.0, "table"), PLAIN),
    ("STP_CAPITAL_NET", "result", "net"): ((C, [[-30.0], [None]], "net"), [[270.0], [50.0]]),
    ("STP_CAPITAL_NET", "result", "by_year"): ((C, 0.0, "by_year"), [[150.0, 200.0]]),
    ("STP_CAPITAL_NET", "result", "total"): ((C, [[-30.0], [None]], "total"), 320.0),
    ("STP_CAPITAL_NET", "result", "omitted"): ((C, 0.0, None), PLAIN),
}

_SPLIT = {
    ("programme", "by year"): (([[10.0, 20.0]], [[-2.0, -3.0]]), [[10.0, 20.0], [-2.0, -3.0], [8.0, 17.0]]),
    ("programme", "with approved/internal"): (([[10.0, 20.0]], [[-2.0, -3.0]], None, [[-1.0, 0.0]], [[0.0, -2.0]]),
                                              [[10.0, 20.0], [-1.0, 0.0], [0.0, -2.0], [9.0, 18.0], [-2.0, -3.0], [7.0, 15.0]]),
    ("programme", "blanks"): (([[10.0, None]], [[-2.0, 0.0]]), [[10.0, 0.0], [-2.0, 0.0], [8.0, 0.0]]),
    ("sources", "rows x years"): (([[10.0, 20.0]], [[-2.0, -3.0], [-1.0, 0.0]]), [[10.0, 20.0], [-2.0, -3.0], [-1.0, 0.0], [7.0, 17.0]]),
    ("sources", "positive"): (([[10.0, 20.0]], [[2.0, 3.0]]), [[10.0, 20.0], [-2.0, -3.0], [8.0, 17.0]]),
    ("sources", "in brackets"): (([[10.0, 20.0]], [[-2.0, -3.0]]), [[10.0, 20.0], [-2.0, -3.0], [8.0, 17.0]]),
    ("sources", "names"): (([[10.0, 20.0]], [["PF2", -2.0, -3.0]]), [[10.0, 20.0], [-2.0, -3.0], [8.0, 17.0]]),
    ("sources", "blanks"): (([[10.0, 20.0]], [[None, -3.0]]), [[10.0, 20.0], [0.0, -3.0], [10.0, 17.0]]),
    ("order", "names"): (([[10.0, 20.0]], [["PF2", -2.0, -3.0], ["LA", -1.0, 0.0]], [["LA", "PF2"]]),
                         [[10.0, 20.0], [-1.0, 0.0], [-2.0, -3.0], [7.0, 17.0]]),
    ("order", "numbers"): (([[10.0, 20.0]], [[-2.0, -3.0], [-1.0, 0.0]], [[2.0, 1.0]]), [[10.0, 20.0], [-1.0, 0.0], [-2.0, -3.0], [7.0, 17.0]]),
    ("order", "omitted"): (([[10.0, 20.0]], [[-2.0, -3.0], [-1.0, 0.0]], None), [[10.0, 20.0], [-2.0, -3.0], [-1.0, 0.0], [7.0, 17.0]]),
    ("approved", "by year"): (([[10.0, 20.0]], [[-2.0, -3.0]], None, [[-1.0, 0.0]]),
                              [[10.0, 20.0], [-1.0, 0.0], [0.0, 0.0], [9.0, 20.0], [-2.0, -3.0], [7.0, 17.0]]),
    ("approved", "blanks"): (([[10.0, 20.0]], [[-2.0, -3.0]], None, [[None, -1.0]]),
                             [[10.0, 20.0], [0.0, -1.0], [0.0, 0.0], [10.0, 19.0], [-2.0, -3.0], [8.0, 16.0]]),
    ("approved", "omitted"): (([[10.0, 20.0]], [[-2.0, -3.0]], None, None, [[0.0, -2.0]]),
                              [[10.0, 20.0], [0.0, 0.0], [0.0, -2.0], [10.0, 18.0], [-2.0, -3.0], [8.0, 15.0]]),
    ("internal", "by year"): (([[10.0, 20.0]], [[-2.0, -3.0]], None, None, [[0.0, -2.0]]),
                              [[10.0, 20.0], [0.0, 0.0], [0.0, -2.0], [10.0, 18.0], [-2.0, -3.0], [8.0, 15.0]]),
    ("internal", "blanks"): (([[10.0, 20.0]], [[-2.0, -3.0]], None, None, [[None, -2.0]]),
                             [[10.0, 20.0], [0.0, 0.0], [0.0, -2.0], [10.0, 18.0], [-2.0, -3.0], [8.0, 15.0]]),
    ("internal", "omitted"): (([[10.0, 20.0]], [[-2.0, -3.0]], None, [[-1.0, 0.0]], None),
                              [[10.0, 20.0], [-1.0, 0.0], [0.0, 0.0], [9.0, 20.0], [-2.0, -3.0], [7.0, 17.0]]),
}
for (argument, form), (arguments, table) in _SPLIT.items():
    CASES[("STP_FUNDING_SPLIT", argument, form)] = (arguments, table)
    CASES[("STP_DH_REQUIREMENT", argument, form)] = (arguments, [table[-1]])  # the DH row alone

CASES.update({
    ("STP_STF", "non_recurrent", "rows x years"): (([[1.0, 2.0], [3.0, 4.0]], [[10.0, 10.0], [0.0, 0.0]]), [[4.0, 6.0], [10.0, 10.0], [14.0, 16.0]]),
    ("STP_STF", "non_recurrent", "blanks"): (([[1.0, None]], [[0.0, 1.0]]), [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
    ("STP_STF", "recurrent", "rows x years"): (([[0.0, 0.0], [0.0, 0.0]], [[1.0, 2.0], [3.0, 4.0]]), [[0.0, 0.0], [4.0, 6.0], [4.0, 6.0]]),
    ("STP_STF", "recurrent", "blanks"): (([[0.0, 0.0]], [[None, 5.0]]), [[0.0, 0.0], [0.0, 5.0], [0.0, 5.0]]),

    ("STP_CAPITAL_CHARGES", "capex", "by year"): (([[100.0, 0.0, 0.0, 0.0]], 2.0), [[0.0, 50.0, 50.0, 0.0], approx(LAG1[1]), approx(LAG1[2])]),
    ("STP_CAPITAL_CHARGES", "capex", "rows x years"): (([[100.0, 0.0, 0.0, 0.0], [100.0, 0.0, 0.0, 0.0]], 2.0),
                                                       [[0.0, 100.0, 100.0, 0.0], approx([3.5, 5.25, 1.75, 0.0]), approx([3.5, 105.25, 101.75, 0.0])]),
    ("STP_CAPITAL_CHARGES", "capex", "blanks"): (([[100.0, None, None, None]], 2.0), [[0.0, 50.0, 50.0, 0.0], approx(LAG1[1]), approx(LAG1[2])]),
    ("STP_CAPITAL_CHARGES", "life", "one"): (([[100.0, 0.0, 0.0, 0.0], [100.0, 0.0, 0.0, 0.0]], 4.0), lambda v: v[0] == [0.0, 50.0, 50.0, 50.0]),
    ("STP_CAPITAL_CHARGES", "life", "number"): (([[90.0, 0.0, 0.0, 0.0]], 3.0), lambda v: v[0] == [0.0, 30.0, 30.0, 30.0]),
    ("STP_CAPITAL_CHARGES", "life", "per scheme"): (([[100.0, 0.0, 0.0, 0.0], [100.0, 0.0, 0.0, 0.0]], [[2.0], [4.0]]),
                                                    lambda v: v[0] == [0.0, 75.0, 75.0, 25.0]),
    ("STP_CAPITAL_CHARGES", "pdc_rate", "rate"): (([[100.0, 0.0, 0.0, 0.0]], 2.0, 0.0), lambda v: v[1] == [0.0] * 4 and v[2] == v[0]),
    ("STP_CAPITAL_CHARGES", "pdc_rate", "omitted"): (([[100.0, 0.0, 0.0, 0.0]], 2.0, None), [[0.0, 50.0, 50.0, 0.0], approx(LAG1[1]), approx(LAG1[2])]),
    ("STP_CAPITAL_CHARGES", "in_use_lag", "number"): (([[100.0, 0.0, 0.0, 0.0]], 2.0, None, 0.0), lambda v: v[0] == [50.0, 50.0, 0.0, 0.0]),
    ("STP_CAPITAL_CHARGES", "in_use_lag", "omitted"): (([[100.0, 0.0, 0.0, 0.0]], 2.0, None, None), lambda v: v[0] == [0.0, 50.0, 50.0, 0.0]),

    ("STP_ROI", "annual_saving", "amount"): ((10.0, 100.0), approx(0.1)),
    ("STP_ROI", "capital_cost", "amount"): ((10.0, 200.0), approx(0.05)),
    ("STP_ROI", "disposals", "amount"): ((10.0, 100.0, -50.0, "net"), approx(0.2)),
    ("STP_ROI", "disposals", "omitted"): ((10.0, 100.0, None, "net"), approx(0.1)),
    ("STP_ROI", "basis", "gross"): ((10.0, 100.0, -50.0, "gross"), approx(0.1)),
    ("STP_ROI", "basis", "net"): ((10.0, 100.0, 50.0, "net"), approx(0.2)),
    ("STP_ROI", "basis", "omitted"): ((10.0, 100.0, -50.0), approx(0.1)),

    ("STP_PAYBACK", "capital_cost", "amount"): ((1000.0, 250.0), 4.0),
    ("STP_PAYBACK", "savings", "one"): ((1000.0, 400.0), 2.5),
    ("STP_PAYBACK", "savings", "amount"): ((1000.0, [[400.0]]), 2.5),
    ("STP_PAYBACK", "savings", "by year"): ((1000.0, [[500.0, 250.0, 500.0]]), 2.5),
    ("STP_PAYBACK", "basis", "simple"): ((1000.0, [[500.0, 500.0, 500.0]], "simple"), 2.0),
    ("STP_PAYBACK", "basis", "discounted"): ((1000.0, [[500.0, 500.0, 500.0]], "discounted"),
                                             approx(2 + (1000 - 500 / 1.035 - 500 / 1.035 ** 2) / (500 / 1.035 ** 3))),
    ("STP_PAYBACK", "basis", "omitted"): ((1000.0, [[500.0, 500.0, 500.0]], None), 2.0),
    ("STP_PAYBACK", "disposals", "amount"): ((1000.0, 250.0, None, -500.0, "net"), 2.0),
    ("STP_PAYBACK", "disposals", "omitted"): ((1000.0, 250.0, None, None, "net"), 4.0),
    ("STP_PAYBACK", "cost_basis", "gross"): ((1000.0, 250.0, None, -500.0, "gross"), 4.0),
    ("STP_PAYBACK", "cost_basis", "net"): ((1000.0, 250.0, None, 500.0, "net"), 2.0),
    ("STP_PAYBACK", "cost_basis", "omitted"): ((1000.0, 250.0, None, -500.0), 4.0),

    ("STP_NPV", "cashflows", "by year"): (([[-100.0, 50.0, 60.0]],), approx(-100 + 50 / 1.035 + 60 / 1.035 ** 2)),
    ("STP_NPV", "rate", "rate"): (([[-100.0, 110.0]], 0.1), approx(0.0, abs=1e-9)),
    ("STP_NPV", "rate", "omitted"): (([[-100.0, 103.5]], None), approx(0.0, abs=1e-9)),

    ("STP_CHECK", "stated", "value"): ((2.0, 1.0), 1.0),
    ("STP_CHECK", "computed", "value"): ((1.0, 2.0), -1.0),
    ("STP_CHECK", "tolerance", "value"): ((1.0, 1.5, 0.5), "OK"),
    ("STP_CHECK", "tolerance", "omitted"): ((1.0, 1.5), -0.5),
})


def promised() -> set[tuple[str, str, str]]:
    return {(fn.name, a.name, form) for fn in R.values() for a in fn.args for form in forms(fn, a)}


def test_every_promised_form_has_a_case():
    missing = sorted(promised() - set(CASES))
    assert not missing, f"help text promises forms with no test case: {missing}"


def test_every_case_is_a_promised_form():
    stale = sorted(set(CASES) - promised())
    assert not stale, f"cases for forms the help text no longer promises: {stale}"


def test_every_argument_promises_at_least_one_form_besides_omitting_it():
    for fn in R.values():
        for a in fn.args:
            assert forms(fn, a) - {"omitted"}, (fn.name, a.name)


@pytest.mark.parametrize("key", sorted(CASES), ids=lambda k: "-".join(k))
def test_form(key):
    arguments, expected = CASES[key]
    fn = R[key[0]]
    result = fn(*arguments)
    assert not (isinstance(result, str) and result.startswith(ERROR_PREFIX)), result
    if callable(expected) and not isinstance(expected, type(approx(0))):
        assert expected(result), result
    else:
        assert result == expected
    explained = fn.explain(*arguments)
    assert explained.result == result and explained.error is None
    if isinstance(result, float):
        assert math.isfinite(result)

import numpy as np
import pytest

from xl_stp import STPError, Timeline, funding_waterfall

# LLR 'Acute Configuration' summary, £m: Prior years, 2016/17 ... 2020/21
PROGRAMME = [62.9, 20.5, 29.4, 52.2, 89.0, 109.0]
APPROVED = [-50.7, 0, 0, 0, 0, 0]
INTERNAL = [-12.2, -4.5, -4.7, -9.2, -18.6, -10.8]
SOURCES = {
    "Site disposal": [0, 0, 0, 0, 0, -28.4],
    "PF2": [0, 0, 0, 0, -27.2, -70.2],
    "Welcome Centre": [0, 0, 0, 0, -2.0, -10.0],
}


def test_llr_acute_waterfall_by_year():
    w = funding_waterfall(PROGRAMME, SOURCES, approved=APPROVED, internal=INTERNAL)
    assert np.allclose(w.external_requirement, [0, 16.0, 24.7, 43.0, 70.4, 98.2])
    assert np.allclose(w.dh_requirement, [0, 16.0, 24.7, 43.0, 41.2, -10.4])
    assert w.over_funded.tolist() == [False] * 5 + [True]
    assert w.warnings(Timeline(2015, 6)) == ["2020/21: DH funding requirement is negative (10.4): funding sources exceed the external requirement"]


def test_table_rows_signs_and_totals():
    w = funding_waterfall(PROGRAMME, SOURCES, approved=APPROVED, internal=INTERNAL)
    labels, table = w.table()
    assert labels == ["Programme", "Approved to date", "Internally funded", "External funding requirement",
                      "Site disposal", "PF2", "Welcome Centre", "DH funding requirement"]
    totals = dict(zip(labels, table[:, -1]))
    assert totals["Programme"] == pytest.approx(363.0)
    assert totals["External funding requirement"] == pytest.approx(252.3)
    assert totals["PF2"] == pytest.approx(-97.4)  # the table prints (97.3): its own rounding
    assert totals["DH funding requirement"] == pytest.approx(114.5)
    # every deduction is shown in brackets
    assert (table[1:3] <= 0).all() and (table[4:7] <= 0).all()


def test_order_changes_rows_not_residual():
    a = funding_waterfall(PROGRAMME, SOURCES, approved=APPROVED, internal=INTERNAL)
    b = funding_waterfall(PROGRAMME, SOURCES, approved=APPROVED, internal=INTERNAL, order=["PF2", "Welcome Centre", "Site disposal"])
    assert b.source_names == ("PF2", "Welcome Centre", "Site disposal")
    assert np.array_equal(a.dh_requirement, b.dh_requirement)


def test_sources_as_array_with_standard_names():
    w = funding_waterfall([10, 10], [[2, 0], [3, 4]])
    assert w.source_names == ("Site disposals", "PF2")
    assert w.dh_requirement.tolist() == [5, 6]


def test_many_programmes_at_once():
    prog = np.array([[10.0, 20.0], [5.0, 5.0]])
    w = funding_waterfall(prog, {"LA": [[1.0, 1.0], [2.0, 0.0]]})  # a source per programme
    assert w.dh_requirement.tolist() == [[9, 19], [3, 5]]
    labels, table = w.table()
    assert table[-1].tolist() == [12, 24, 36]
    whole = funding_waterfall(prog, {"LA": [1.0, 1.0]})  # one row: funds the programme as a whole
    assert whole.dh_requirement.tolist() == [14, 24]


@pytest.mark.parametrize("kwargs, message", [
    (dict(order=["PF2", "Nope", "Site disposal"]), "order: names 'Nope', which is not one of the sources"),
    (dict(order=["PF2", "Site disposal"]), "order: must list every source once; missing or repeated: Welcome Centre"),
    (dict(internal=[1, 2, 3]), "internal: has 3 years, programme has 6"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(STPError) as e:
        funding_waterfall(PROGRAMME, SOURCES, **kwargs)
    assert message in str(e.value)


def test_source_mixing_signs_is_refused_naming_the_source_and_the_cell():
    with pytest.raises(STPError) as e:
        funding_waterfall([10, 10, 10], {"LA": [0, 0, 0], "PF2": [-1, 2, -1]})
    assert str(e.value) == ("sources 'PF2': mixes positive and negative amounts: 2 in year 2 is positive, the other 2 are in "
                            "brackets; type them all in brackets (or all as positive amounts)")
    assert (e.value.argument, e.value.label, e.value.at) == ("sources", "PF2", (1, 1))
    with pytest.raises(STPError) as e:  # unnamed rows: named by their row
        funding_waterfall([10, 10], [[0, 0], [1, -1]])
    assert str(e.value).startswith("sources: row 2 mixes positive and negative amounts: 1 in year 1 is positive, the other is in brackets")
    assert (e.value.label, e.value.at) == (None, (1, 0))


def test_a_range_of_sources_with_more_years_than_the_programme():
    with pytest.raises(STPError) as e:
        funding_waterfall([10, 10, 10, 10], [[0, 0, 0, -1, -2], [0, 0, 0, 0, 0]], names=["PF2", "LA"])
    assert str(e.value) == "sources: has 5 years, programme has 4" and e.value.at == (0, 4)


def test_source_rows_fund_a_multi_scheme_programme_once():
    """LLR community summary: eight scheme rows and three source rows (£m); the sources fund the
    programme as a whole, so the DH requirement is 13.9 and not external less 8x the sources."""
    schemes = [
        [0, 0, 0, 1.4, 0], [0, 2.0, 0, 0, 2.0], [0, 0, 7.7, 0, 0], [0, 0, 0, 3.9, 0],
        [0, 0, 8.6, 0, 0], [0, 0, 0, 0, 8.0], [0, 0, 0, 0, 7.5], [0, 0, 0, 0, 1.0],
    ]
    w = funding_waterfall(schemes, {"Disposals": [0, 0, -6.0, 0, -14.8], "Commercially funded": [0, 0, 0, -1.0, 0],
                                    "Local Authority funded": [0, -2.0, -3.4, 0, -1.0]})
    np.testing.assert_allclose(w.external_requirement, [0, 2.0, 16.3, 5.3, 18.5])
    np.testing.assert_allclose(w.dh_requirement, [0, 0, 6.9, 4.3, 2.7], atol=1e-9)
    assert w.dh_requirement.sum() == pytest.approx(13.9)

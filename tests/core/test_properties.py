"""Properties that must hold for any input (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from xl_stp import capital_net, funding_waterfall, phase, rephase

money = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)
signed = st.floats(min_value=-1e7, max_value=1e7, allow_nan=False, allow_infinity=False)


@st.composite
def schemes_by_years(draw, elements=money):
    n_s = draw(st.integers(1, 8))
    n_y = draw(st.integers(1, 8))
    return draw(arrays(float, (n_s, n_y), elements=elements))


@given(total=money, profile=st.sampled_from(["straight", "front", "back", "s-curve"]), years=st.integers(1, 15),
       start=st.integers(0, 5), horizon=st.one_of(st.none(), st.integers(1, 20)))
def test_phasing_conserves_the_total(total, profile, years, start, horizon):
    out = phase(total, profile, years, start=start, horizon=horizon)
    assert np.isclose(out.sum(), total, rtol=1e-12, atol=1e-6)
    assert (out >= 0).all()


@given(total=st.integers(0, 10**9), profile=st.sampled_from(["straight", "front", "back", "s-curve"]), years=st.integers(1, 15))
def test_rounded_phasing_conserves_whole_totals_exactly(total, profile, years):
    out = phase(float(total), profile, years, decimals=0)
    assert out.sum() == total


@given(weights=arrays(float, st.integers(1, 10), elements=st.floats(0.01, 100)), total=money)
def test_custom_weights_conserve_the_total(weights, total):
    assert np.isclose(phase(total, weights).sum(), total, rtol=1e-12, atol=1e-6)


@given(amounts=schemes_by_years(signed))
def test_rephasing_by_zero_is_the_identity(amounts):
    assert np.array_equal(rephase(amounts, 0), amounts)


@given(amounts=schemes_by_years(), slip=st.floats(0, 6))
def test_rephasing_conserves_each_scheme(amounts, slip):
    assert np.allclose(rephase(amounts, slip).sum(axis=1), amounts.sum(axis=1), rtol=1e-12, atol=1e-6)


@given(costs=schemes_by_years(), data=st.data())
def test_net_is_cost_less_disposals(costs, data):
    disposals = data.draw(arrays(float, (costs.shape[0],), elements=money))
    r = capital_net(costs, -disposals)
    assert np.allclose(r.net_by_scheme, costs.sum(axis=1) - disposals)
    assert np.isclose(r.total_net, costs.sum() - disposals.sum(), rtol=1e-12, atol=1e-6)
    assert np.allclose(r.table()[-1], r.table()[:-1].sum(axis=0))


@settings(max_examples=200)
@given(data=st.data())
def test_sources_plus_dh_equal_external_requirement_every_year(data):
    n_y = data.draw(st.integers(1, 8))
    n_src = data.draw(st.integers(0, 6))
    programme = data.draw(arrays(float, (n_y,), elements=money))
    internal = data.draw(arrays(float, (n_y,), elements=money))
    sources = {f"source {i}": -data.draw(arrays(float, (n_y,), elements=money)) for i in range(n_src)}
    w = funding_waterfall(programme, sources, internal=internal)
    funded = sum((-v for v in sources.values()), np.zeros(n_y))
    assert np.allclose(funded + w.dh_requirement, w.external_requirement, rtol=1e-12, atol=1e-6)
    assert np.allclose(w.external_requirement, programme - internal)
    # a negative residual is reported, never capped
    assert np.array_equal(w.over_funded, w.dh_requirement < -1e-9 * max(1.0, np.abs(programme).max()))

"""Issue 11 point 12, the pure part: fee banding (国办函〔2020〕109号) with hypothesis properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fees import fee_per_application, fee_per_pages, quote


@pytest.mark.parametrize(("ordinal", "yuan"), [(1, 0), (10, 0), (11, 100), (30, 100), (31, 200), (40, 200),
                                                 (41, 300), (50, 300), (51, 400)])
def test_per_application_bands(ordinal, yuan):
    assert fee_per_application(ordinal) == yuan


@pytest.mark.parametrize(("pages", "yuan"), [(0, 0), (30, 0), (31, 10), (100, 700), (101, 720), (200, 2700),
                                               (201, 2740), (250, 4700)])
def test_per_page_bands_charge_each_part_at_its_rate(pages, yuan):
    assert fee_per_pages(pages) == yuan


@given(st.integers(min_value=1, max_value=10_000))
def test_per_application_never_falls_and_rises_by_100_at_each_band(n):
    step = fee_per_application(n + 1) - fee_per_application(n)
    assert step >= 0
    boundary = n in (10, 30) or (n > 30 and (n - 30) % 10 == 0)
    assert step == (100 if boundary else 0)


@given(st.integers(min_value=1, max_value=10_000))
def test_per_application_rate_is_the_band_formula(n):
    if n <= 10:
        assert fee_per_application(n) == 0
    elif n <= 30:
        assert fee_per_application(n) == 100
    else:
        assert fee_per_application(n) == 100 * (1 + (n - 21) // 10)


@given(st.integers(min_value=0, max_value=100_000))
def test_per_page_marginal_cost_is_the_rate_of_the_page_added(pages):
    added = pages + 1
    rate = 0 if added <= 30 else 10 if added <= 100 else 20 if added <= 200 else 40
    assert fee_per_pages(added) - fee_per_pages(pages) == rate


@given(st.sampled_from(["per-application", "per-page"]), st.integers(min_value=1, max_value=5000))
def test_a_quote_uses_one_standard_and_states_its_basis(standard, quantity):
    q = quote(standard, quantity)
    expected = fee_per_application(quantity) if standard == "per-application" else fee_per_pages(quantity)
    assert q.amount_yuan == expected
    assert q.basis.endswith("（《政府信息公开信息处理费管理办法》（国办函〔2020〕109号））")
    assert ("按件计收" in q.basis) != ("按量计收" in q.basis)


def test_nonsense_is_refused():
    with pytest.raises(ValueError):
        fee_per_application(0)
    with pytest.raises(ValueError):
        fee_per_pages(-1)

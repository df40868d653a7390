"""按件计收's count (issue 11 point 12; 办法 art. 4(1)), the pure rule: per applicant, per calendar month, all channels."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from fees.counting import counted_in_month, ordinal_in_month

days = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
receipts = st.tuples(days, st.from_regex(r"GK-202[5-7]-0000[0-9]{2}", fullmatch=True))


def test_table():
    this = (date(2026, 11, 30), "GK-2026-000020")
    others = [(date(2026, 10, 31), "GK-2026-000001"),  # last month: not counted
              (date(2026, 11, 1), "GK-2026-000005"), (date(2026, 11, 30), "GK-2026-000019"),
              (date(2026, 11, 30), "GK-2026-000021"),  # same day, registered after: not counted
              (date(2026, 12, 1), "GK-2026-000030")]  # next month
    assert counted_in_month(this, others) == [(date(2026, 11, 1), "GK-2026-000005"),
                                              (date(2026, 11, 30), "GK-2026-000019"), this]
    assert ordinal_in_month(this, []) == 1


@given(receipts, st.lists(receipts, max_size=40))
def test_the_ordinal_counts_the_months_earlier_applications_whatever_their_order(this, others):
    n = ordinal_in_month(this, others)
    assert 1 <= n <= len(set(others) | {this})
    assert n == ordinal_in_month(this, list(reversed(others))) == ordinal_in_month(this, [*others, this])
    counted = counted_in_month(this, others)
    assert counted[-1] == this and all((r[0].year, r[0].month) == (this[0].year, this[0].month) for r in counted)


@given(receipts, st.lists(receipts, max_size=20))
def test_another_months_or_a_later_application_changes_nothing_an_earlier_one_adds_one(this, others):
    n = ordinal_in_month(this, others)
    next_month = (this[0].replace(day=1) + timedelta(days=32)).replace(day=1)
    assert ordinal_in_month(this, [*others, (next_month, "GK-2025-000000")]) == n
    assert ordinal_in_month(this, [*others, (this[0].replace(day=1) - timedelta(days=1), "GK-2099-000000")]) == n
    later = (this[0], this[1] + "-later")
    assert ordinal_in_month(this, [*others, later]) == n
    earlier = (this[0].replace(day=1), "GK-0000-000000")
    if earlier not in others and earlier != this:
        assert ordinal_in_month(this, [*others, earlier]) == n + 1

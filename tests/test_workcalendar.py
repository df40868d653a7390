"""The working-day calendar: official 2026 schedule, unpublished years, validation, loading."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.calendars import calendar_before
from workcalendar import (
    CalendarData,
    WorkCalendar,
    YearSchedule,
    load_calendar_data,
    package_data_version,
    parse_year_schedule,
)
from workcalendar.loader import shipped_schedules


# Fixed dates, no clock read: not in the pinned runs. They read the installed chinesecalendar's years, so the
# Makefile runs them once more as if a newer release were installed (tests/newer_calendar.py).
pytestmark = pytest.mark.calendar_data


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    # 2027 is made unpublished here (tests/calendars.py), whatever the installed chinesecalendar knows.
    return WorkCalendar(calendar_before(2027, from_year=2025))


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# 国办发明电〔2025〕7号, the official 2026 schedule, checked day by day against the package data.
OFFICIAL_2026_DAYS_OFF = [
    *days(date(2026, 1, 1), date(2026, 1, 3)),  # 元旦
    *days(date(2026, 2, 15), date(2026, 2, 23)),  # 春节
    *days(date(2026, 4, 4), date(2026, 4, 6)),  # 清明节
    *days(date(2026, 5, 1), date(2026, 5, 5)),  # 劳动节
    *days(date(2026, 6, 19), date(2026, 6, 21)),  # 端午节
    *days(date(2026, 9, 25), date(2026, 9, 27)),  # 中秋节
    *days(date(2026, 10, 1), date(2026, 10, 7)),  # 国庆节
]
OFFICIAL_2026_MAKEUP_WORKDAYS = [
    date(2026, 1, 4),  # Sun, 元旦
    date(2026, 2, 14),  # Sat, 春节
    date(2026, 2, 28),  # Sat, 春节
    date(2026, 5, 9),  # Sat, 劳动节
    date(2026, 9, 20),  # Sun, 国庆节
    date(2026, 10, 10),  # Sat, 国庆节
]


@pytest.mark.parametrize("day", OFFICIAL_2026_DAYS_OFF, ids=str)
def test_official_2026_days_off(cal: WorkCalendar, day: date) -> None:
    assert cal.is_workday(day) is False


@pytest.mark.parametrize("day", OFFICIAL_2026_MAKEUP_WORKDAYS, ids=str)
def test_official_2026_makeup_workdays(cal: WorkCalendar, day: date) -> None:
    assert cal.is_workday(day) is True


def test_package_2026_schedule_is_exactly_the_official_one() -> None:
    schedule = load_calendar_data().years[2026]
    assert schedule.holidays == OFFICIAL_2026_DAYS_OFF
    assert schedule.makeup_workdays == OFFICIAL_2026_MAKEUP_WORKDAYS
    assert schedule.source.startswith("chinesecalendar ")


def test_every_other_2026_day_is_a_workday_iff_monday_to_friday(cal: WorkCalendar) -> None:
    special = set(OFFICIAL_2026_DAYS_OFF) | set(OFFICIAL_2026_MAKEUP_WORKDAYS)
    for day in days(date(2026, 1, 1), date(2026, 12, 31)):
        if day not in special:
            assert cal.is_workday(day) is (day.weekday() < 5), day


def test_unpublished_year_is_unknown_not_weekends_only(cal: WorkCalendar) -> None:
    assert cal.is_known(2026) and not cal.is_known(2027)
    assert cal.is_workday(date(2027, 3, 3)) is None
    assert cal.workday_or_provisional(date(2027, 3, 3)) == (True, True)
    assert cal.workday_or_provisional(date(2026, 3, 3)) == (True, False)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 1, 1), False),  # 元旦
        (date(2027, 5, 1), False),  # 劳动节, Sat anyway
        (date(2027, 5, 3), True),  # Mon: the package guess knows nothing of 调休 blocks
        (date(2027, 10, 1), False),
        (date(2027, 10, 4), True),  # Mon, only Oct 1-3 are fixed by law
        (date(2027, 2, 8), True),  # Mon in the 2027 春节 week: lunar holidays are NOT guessed
        (date(2027, 3, 6), False),  # Sat
    ],
)
def test_provisional_rule(day: date, expected: bool) -> None:
    assert WorkCalendar.is_workday_provisional(day) is expected


def test_next_workday_on_or_after_skips_spring_festival(cal: WorkCalendar) -> None:
    assert cal.next_workday_on_or_after(date(2026, 2, 14)) == (date(2026, 2, 14), False)  # 调休 Sat
    assert cal.next_workday_on_or_after(date(2026, 2, 15)) == (date(2026, 2, 24), False)
    assert cal.next_workday_on_or_after(date(2026, 12, 31)) == (date(2026, 12, 31), False)
    # Thu 2026-12-31 is a working day; Sat 2027-01-02 is not, and 2027 is a guess.
    assert cal.next_workday_on_or_after(date(2027, 1, 2)) == (date(2027, 1, 4), True)


def test_add_workdays_across_spring_festival(cal: WorkCalendar) -> None:
    # From Fri 2026-02-13: Sat 02-14 (调休) is 1, 02-15..23 off, Tue 02-24 is 2.
    assert cal.add_workdays(date(2026, 2, 13), 1) == (date(2026, 2, 14), False)
    assert cal.add_workdays(date(2026, 2, 13), 2) == (date(2026, 2, 24), False)
    with pytest.raises(ValueError, match="at least 1"):
        cal.add_workdays(date(2026, 2, 13), 0)


def test_add_workdays_into_unpublished_year_is_provisional(cal: WorkCalendar) -> None:
    # From Thu 2026-12-31: Fri 2027-01-01 (元旦, guessed off), Mon 2027-01-04 is 1.
    assert cal.add_workdays(date(2026, 12, 31), 1) == (date(2027, 1, 4), True)


def test_workdays_between(cal: WorkCalendar) -> None:
    # a < d <= b: Feb 14 (调休 Sat), Feb 24-28 (Tue..Sat 调休) = 6.
    assert cal.workdays_between(date(2026, 2, 13), date(2026, 2, 28)) == (6, False)
    assert cal.workdays_between(date(2026, 2, 28), date(2026, 2, 13)) == (0, False)
    assert cal.workdays_between(date(2026, 3, 2), date(2026, 3, 2)) == (0, False)
    assert cal.workdays_between(date(2026, 12, 30), date(2027, 1, 4)) == (2, True)


def test_year_schedule_validation() -> None:
    good = {
        "year": 2027,
        "holidays": ["2027-01-01"],
        "makeup_workdays": ["2027-01-09"],
        "source": "test fixture",
    }
    assert parse_year_schedule(good).makeup_workdays == [date(2027, 1, 9)]
    with pytest.raises(ValueError, match="outside 2027"):
        parse_year_schedule({**good, "holidays": ["2026-12-31"]})
    with pytest.raises(ValueError, match="both as holiday and as make-up"):
        parse_year_schedule({**good, "holidays": ["2027-01-09"]})
    with pytest.raises(ValueError, match="Saturday or Sunday"):
        parse_year_schedule({**good, "makeup_workdays": ["2027-01-11"]})  # Monday
    with pytest.raises(ValueError, match="source"):
        parse_year_schedule({**good, "source": "  "})
    with pytest.raises(ValueError, match="no holidays"):
        parse_year_schedule({**good, "holidays": []})
    with pytest.raises(ValueError, match="makeup_days"):
        parse_year_schedule({**good, "makeup_days": []})  # a typo must not pass silently
    with pytest.raises(ValueError):
        parse_year_schedule({**good, "holidays": ["2027-02-30"]})


def test_year_schedule_lists_are_sorted_and_deduplicated() -> None:
    schedule = YearSchedule(
        year=2027,
        holidays=[date(2027, 1, 2), date(2027, 1, 1), date(2027, 1, 2)],
        makeup_workdays=[],
        source="test fixture",
    )
    assert schedule.holidays == [date(2027, 1, 1), date(2027, 1, 2)]


def test_loader_layers_and_from_year() -> None:
    assert shipped_schedules() == []  # the shipped JSON adds nothing until a year is published after the package
    full = load_calendar_data()
    # 2004 to 2026 at least, without a gap; a newer chinesecalendar release may add later years.
    years = full.published_years()
    assert years[:23] == list(range(2004, 2027)) and years == list(range(2004, years[-1] + 1))
    assert load_calendar_data(from_year=2025).published_years() == years[years.index(2025):]
    assert package_data_version() == full.version

    replacement = YearSchedule(
        year=2026, holidays=[date(2026, 1, 1)], makeup_workdays=[], source="test fixture override"
    )
    overridden = load_calendar_data(extra=[replacement], from_year=2026)
    assert overridden.years[2026] == replacement
    assert WorkCalendar(overridden).is_workday(date(2026, 2, 16)) is True


def test_calendar_data_round_trips_as_workflow_input() -> None:
    data = load_calendar_data(from_year=2025)
    again = CalendarData.model_validate_json(data.model_dump_json())
    assert again == data and again.version == data.version


def test_with_year_returns_a_new_calendar() -> None:
    data = calendar_before(2027, from_year=2026)
    fixture_2027 = YearSchedule(year=2027, holidays=[date(2027, 1, 1)], makeup_workdays=[], source="test fixture")
    published = data.with_year(fixture_2027)
    assert data.published_years() == [2026]
    assert published.published_years() == [2026, 2027]
    assert published.version != data.version


def test_version_ignores_labels_but_not_days() -> None:
    base = YearSchedule(year=2027, holidays=[date(2027, 1, 1)], makeup_workdays=[], source="a")
    relabelled = base.model_copy(update={"source": "b", "published_on": date(2026, 11, 1)})
    assert CalendarData(years={2027: base}).version == CalendarData(years={2027: relabelled}).version


def test_calendar_data_rejects_misfiled_year() -> None:
    schedule = YearSchedule(year=2027, holidays=[date(2027, 1, 1)], makeup_workdays=[], source="x")
    with pytest.raises(ValueError, match="wrong year"):
        CalendarData(years={2028: schedule})


BASE_2026 = calendar_before(2027, from_year=2026)
# A small pool of 2027 days so that generated schedules often coincide.
HOLIDAY_POOL = [date(2027, 1, 1), date(2027, 1, 2), date(2027, 10, 1), date(2027, 10, 4)]
MAKEUP_POOL = [date(2027, 1, 9), date(2027, 9, 26), date(2027, 10, 9)]  # Sat, Sun, Sat


@st.composite
def schedules(draw: st.DrawFn) -> YearSchedule:
    holidays = draw(st.lists(st.sampled_from(HOLIDAY_POOL), min_size=1))
    makeup = draw(st.lists(st.sampled_from(MAKEUP_POOL)))
    return YearSchedule(
        year=2027, holidays=holidays, makeup_workdays=makeup, source=draw(st.sampled_from(["fixture A", "fixture B"]))
    )


@settings(max_examples=200, deadline=None)
@given(schedules(), schedules())
def test_version_changes_iff_working_days_change(a: YearSchedule, b: YearSchedule) -> None:
    same_days = set(a.holidays) == set(b.holidays) and set(a.makeup_workdays) == set(b.makeup_workdays)
    assert (BASE_2026.with_year(a).version == BASE_2026.with_year(b).version) == same_days

"""How many open applications publishing a year moves (the administration page's preview): pure."""

from datetime import date

from api.pages.staff_admin import due_dates_moved
from workcalendar import CalendarData, load_calendar_data, parse_year_schedule


def without(year: int) -> CalendarData:
    data = load_calendar_data()
    return CalendarData(years={y: s for y, s in data.years.items() if y != year})


def test_a_new_holiday_moves_the_due_dates_after_it_and_not_those_before():
    current = without(2031)  # 2031 unpublished: counted provisionally (weekends and fixed holidays)
    # Tuesday 7 January 2031 becomes a day off, with Saturday 11 January a make-up working day.
    schedule = parse_year_schedule({"year": 2031, "holidays": ["2031-01-01", "2031-01-07"],
                                    "makeup_workdays": ["2031-01-11"], "source": "测试"})
    per_due = [
        (date(2030, 12, 30), 5),  # before the year: cannot move
        (date(2031, 1, 6), 2),    # Monday before the new holiday: same count, still a working day
        (date(2031, 1, 7), 3),    # the new holiday itself: no longer a working day
        (date(2031, 1, 9), 4),    # after it: one working day fewer counted
        (date(2031, 1, 13), 7),   # after the make-up Saturday too: the count is the same again
    ]
    assert due_dates_moved(current, schedule, per_due) == 3 + 4


def test_republishing_the_same_schedule_moves_nothing():
    data = load_calendar_data()
    year = max(data.years)
    assert due_dates_moved(data, data.years[year], [(date(year, m, 15), 1) for m in range(1, 13)]) == 0

"""pytest plugin (`-p tests.newer_calendar`): the suite as if a newer chinesecalendar release were installed.

It adds fictional schedules for the three years after the installed release's last one, so that the
date-sensitive tests show they never trust a year to stay unpublished (issue: a release carrying
2027 broke the tests that used 2027 as "the unpublished year"). The Makefile runs the `dates`
tests with it once.
"""

from __future__ import annotations

from datetime import date

from workcalendar import loader
from workcalendar.schedule import FIXED_DATE_HOLIDAYS, YearSchedule

_installed = loader.chinese_calendar_schedules


def _with_later_years() -> list[YearSchedule]:
    schedules = _installed()
    last = max(s.year for s in schedules)
    later = [
        YearSchedule(
            year=year,
            # the fixed-date holidays and a spring week off, as a real release would have
            holidays=sorted({date(year, m, d) for m, d in FIXED_DATE_HOLIDAYS} | {date(year, 2, d) for d in range(8, 13)}),
            makeup_workdays=[],
            source="chinesecalendar (simulated newer release)",
        )
        for year in range(last + 1, last + 4)
    ]
    return [*schedules, *later]


loader.chinese_calendar_schedules = _with_later_years

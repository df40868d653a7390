"""Official working-day calendar: published State Council schedules, never guessed."""

from workcalendar.loader import load_calendar_data, package_data_version
from workcalendar.schedule import (
    FIXED_DATE_HOLIDAYS,
    CalendarData,
    WorkCalendar,
    YearSchedule,
    parse_year_schedule,
)

__all__ = [
    "FIXED_DATE_HOLIDAYS",
    "CalendarData",
    "WorkCalendar",
    "YearSchedule",
    "load_calendar_data",
    "package_data_version",
    "parse_year_schedule",
]

"""Builds CalendarData from the `chinese_calendar` package, the shipped JSON and admin input.

Runs in activities or at start-up, never inside a workflow: it reads package data. The
workflow receives the resulting CalendarData as input.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources

import chinese_calendar
from chinese_calendar import constants as chinese_calendar_data

from workcalendar.schedule import CalendarData, YearSchedule, is_weekend

PUBLISHED_YEARS_FILE = "published_years.json"


def chinese_calendar_schedules() -> list[YearSchedule]:
    """One YearSchedule per year the installed chinesecalendar release covers."""
    source = f"chinesecalendar {chinese_calendar.__version__}"
    years = sorted({d.year for d in chinese_calendar_data.holidays})
    return [
        YearSchedule(
            year=year,
            holidays=[d for d in chinese_calendar_data.holidays if d.year == year],
            # `workdays` only lists 调休 days; the weekend check guards against a future
            # release that also lists ordinary weekdays there.
            makeup_workdays=[d for d in chinese_calendar_data.workdays if d.year == year and is_weekend(d)],
            source=source,
        )
        for year in years
    ]


def shipped_schedules() -> list[YearSchedule]:
    """Years published after the installed chinesecalendar release (data/published_years.json)."""
    text = resources.files("workcalendar").joinpath("data", PUBLISHED_YEARS_FILE).read_text("utf-8")
    return [YearSchedule.model_validate(entry) for entry in json.loads(text)["years"]]


def load_calendar_data(extra: Iterable[YearSchedule] = (), from_year: int | None = None) -> CalendarData:
    """chinesecalendar, then the shipped JSON, then `extra` (admin-published years from the DB).

    A later source replaces an earlier one for the same year. `from_year` drops earlier
    years so the workflow input stays small.
    """
    by_year: dict[int, YearSchedule] = {}
    for schedule in (*chinese_calendar_schedules(), *shipped_schedules(), *extra):
        by_year[schedule.year] = schedule
    if from_year is not None:
        by_year = {year: s for year, s in by_year.items() if year >= from_year}
    return CalendarData(years=by_year)


def package_data_version() -> str:
    """Version of the calendar shipped with the code (chinesecalendar + JSON), without admin years."""
    return load_calendar_data().version

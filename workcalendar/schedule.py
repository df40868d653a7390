"""The official working-day calendar (RULES §3): published years only, never guessed.

Pure and deterministic: it runs inside Temporal workflows. Loading the published data is the
job of `workcalendar.loader`, which is the only module that reads files or the
`chinese_calendar` package.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

SATURDAY = 5

# Fixed solar-calendar days off under 全国年节及纪念日放假办法 (2025 revision): 元旦 Jan 1,
# 劳动节 May 1-2, 国庆节 Oct 1-3. The lunar and solar-term holidays (春节, 清明, 端午, 中秋) and
# the 调休 swaps are only known once the State Council publishes the year, so a provisional
# count misses them and tends to give an earlier date than the final one.
FIXED_DATE_HOLIDAYS: frozenset[tuple[int, int]] = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


def is_weekend(d: date) -> bool:
    return d.weekday() >= SATURDAY


class YearSchedule(BaseModel):
    """One calendar year as published by the State Council (国务院办公厅 放假安排通知).

    `holidays` are the listed days off, including weekend days inside a holiday block;
    `makeup_workdays` are the weekend days that are working days (调休). Date lists are
    stored sorted and without duplicates so that equal schedules compare and hash equal.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int
    holidays: list[date]
    makeup_workdays: list[date]
    source: str
    published_on: date | None = None

    @field_validator("holidays", "makeup_workdays")
    @classmethod
    def _sorted_unique(cls, days: list[date]) -> list[date]:
        return sorted(set(days))

    @model_validator(mode="after")
    def _check_consistency(self) -> YearSchedule:
        if not self.holidays:
            raise ValueError(f"schedule for {self.year} lists no holidays; a published year always has some")
        outside = [d for d in (*self.holidays, *self.makeup_workdays) if d.year != self.year]
        if outside:
            raise ValueError(f"dates outside {self.year} in the {self.year} schedule: {_iso(outside)}")
        both = sorted(set(self.holidays) & set(self.makeup_workdays))
        if both:
            raise ValueError(f"dates listed both as holiday and as make-up working day: {_iso(both)}")
        weekdays = [d for d in self.makeup_workdays if not is_weekend(d)]
        if weekdays:
            raise ValueError(f"make-up working days must be a Saturday or Sunday, got: {_iso(weekdays)}")
        if not self.source.strip():
            raise ValueError("source must name where the schedule comes from")
        return self


def _iso(days: list[date]) -> str:
    return ", ".join(d.isoformat() for d in days)


def parse_year_schedule(payload: dict[str, Any]) -> YearSchedule:
    """Validate an admin-supplied schedule (dates as ISO strings); raises ValueError."""
    return YearSchedule.model_validate(payload)


class CalendarData(BaseModel):
    """All published years; small enough to travel in a workflow input."""

    model_config = ConfigDict(frozen=True)

    years: dict[int, YearSchedule]

    @model_validator(mode="after")
    def _keys_match_years(self) -> CalendarData:
        mismatched = [key for key, schedule in self.years.items() if key != schedule.year]
        if mismatched:
            raise ValueError(f"years keyed under the wrong year: {sorted(mismatched)}")
        return self

    @property
    def version(self) -> str:
        """Hash of the working-day facts (years, holidays, make-up days).

        `source` and `published_on` are left out on purpose: re-recording the same schedule
        under another label does not change any deadline, so it must not look like a new
        calendar that forces every open deadline to be recomputed.
        """
        facts = [
            {
                "year": year,
                "holidays": [d.isoformat() for d in schedule.holidays],
                "makeup_workdays": [d.isoformat() for d in schedule.makeup_workdays],
            }
            for year, schedule in sorted(self.years.items())
        ]
        canonical = json.dumps(facts, separators=(",", ":"), sort_keys=True)
        return "cal-" + hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def published_years(self) -> list[int]:
        return sorted(self.years)

    def with_year(self, schedule: YearSchedule) -> CalendarData:
        """A new CalendarData with `schedule` added or replacing the same year."""
        return CalendarData(years={**self.years, schedule.year: schedule})


class WorkCalendar:
    """Answers working-day questions from CalendarData.

    `is_workday` returns None for a year that is not published. The counting helpers fall
    back to `is_workday_provisional` for such days and report it through a `provisional`
    flag, so a caller always knows when a date may move once the year is published.
    """

    def __init__(self, data: CalendarData) -> None:
        self.data = data
        self.version = data.version
        self._known_years = frozenset(data.years)
        self._holidays = frozenset(d for s in data.years.values() for d in s.holidays)
        self._makeup_workdays = frozenset(d for s in data.years.values() for d in s.makeup_workdays)

    def is_known(self, year: int) -> bool:
        return year in self._known_years

    def is_workday(self, d: date) -> bool | None:
        if d.year not in self._known_years:
            return None
        if d in self._makeup_workdays:
            return True
        return not (d in self._holidays or is_weekend(d))

    @staticmethod
    def is_workday_provisional(d: date) -> bool:
        """Best guess for an unpublished year: weekends and fixed-date holidays off."""
        return not (is_weekend(d) or (d.month, d.day) in FIXED_DATE_HOLIDAYS)

    def workday_or_provisional(self, d: date) -> tuple[bool, bool]:
        """(is it a working day, was the answer provisional)."""
        official = self.is_workday(d)
        if official is None:
            return self.is_workday_provisional(d), True
        return official, False

    def next_workday_on_or_after(self, d: date) -> tuple[date, bool]:
        provisional = False
        while True:
            workday, guessed = self.workday_or_provisional(d)
            provisional |= guessed
            if workday:
                return d, provisional
            d += timedelta(days=1)

    def add_workdays(self, start: date, n: int) -> tuple[date, bool]:
        """The n-th working day strictly after `start` (n >= 1)."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        provisional = False
        d = start
        remaining = n
        while remaining:
            d += timedelta(days=1)
            workday, guessed = self.workday_or_provisional(d)
            provisional |= guessed
            if workday:
                remaining -= 1
        return d, provisional

    def workdays_between(self, a: date, b: date) -> tuple[int, bool]:
        """Number of working days d with a < d <= b (0 when b <= a)."""
        count = 0
        provisional = False
        d = a + timedelta(days=1)
        while d <= b:
            workday, guessed = self.workday_or_provisional(d)
            provisional |= guessed
            if workday:
                count += 1
            d += timedelta(days=1)
        return count, provisional

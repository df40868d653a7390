""""Now" and "today" for the API, activities and commands: the product's one source of the time.

Workflows never use this (they read `workflow.now()`). Tests pin it by moving the process clock
with `time-machine` (tests/dates.py); nothing else in the product reads the system clock for a date.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from clock.deadline import local_date


def now() -> datetime:
    """The current instant, timezone-aware (UTC)."""
    return datetime.now(timezone.utc)


def today() -> date:
    """Today's date in Asia/Shanghai (RULES §3: the agency's calendar day)."""
    return local_date(now())

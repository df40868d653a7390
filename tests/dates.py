"""The tests' "today": the product's clock (core.clock), pinned by the tests, never the day they run.

`DISCLOSURE_TEST_NOW` (an ISO instant with its offset, e.g. `2027-12-31T23:59:00+08:00`) moves the
whole test session to that instant with `time-machine` (tick=True: the clock runs on from there).
The Temporal dev server is another process on the real clock, so every workflow the session starts
is fast-forwarded by the same offset at its start (per-workflow time skipping, see conftest.py);
`register` waits until a new application's virtual clock has reached the pinned time.

A pinned instant already in the past when the suite runs is replaced by its next occurrence (same
month, day and time of day; 29 February: the next leap year), so each pinned run keeps its meaning
(a due date in an unpublished year, a holiday, a year turning during the test, a leap day) on
whatever day CI runs. The Makefile runs the date-sensitive tests (marker `dates`) at each pin.
"""

from __future__ import annotations

import calendar
import os
from datetime import date, datetime, timedelta, timezone

from core import clock

PIN_ENV = "DISCLOSURE_TEST_NOW"


def next_occurrence(pinned: datetime, real_now: datetime) -> datetime:
    """`pinned` if it is still ahead of `real_now`, else the first later year where its month/day exist."""
    year = pinned.year
    candidate = pinned
    while candidate <= real_now:
        year += 1
        if pinned.month == 2 and pinned.day == 29 and not calendar.isleap(year):
            continue
        candidate = pinned.replace(year=year)
    return candidate


def session_pin(real_now: datetime) -> datetime | None:
    """The instant this session is pinned to, or None (the real clock)."""
    text = os.environ.get(PIN_ENV, "").strip()
    if not text:
        return None
    pinned = datetime.fromisoformat(text)
    if pinned.tzinfo is None:
        raise ValueError(f"{PIN_ENV} needs an offset, e.g. 2027-10-01T10:00:00+08:00 (got {text!r})")
    return next_occurrence(pinned.astimezone(timezone.utc), real_now)


def today() -> date:
    """Today for the product (Asia/Shanghai), on the session's clock."""
    return clock.today()


def since(first: date) -> list[str]:
    """The ISO dates from `first` through today: what a date the server took as "today" may be,
    when the test read `first = today()` before asking (Shanghai's midnight may pass meanwhile)."""
    days = (today() - first).days
    return [(first + timedelta(days=n)).isoformat() for n in range(days + 1)]

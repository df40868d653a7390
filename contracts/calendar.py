"""A published calendar year (issue 15 point 4): told to every open process, caught up by an application before it is
shown, and the pages of open 政务公开 deadlines the broadcaster walks."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from contracts.payload import Strict
from workcalendar import CalendarData, YearSchedule


class CalendarYearPublished(Strict):
    schedule: YearSchedule


class CalendarCatchUp(Strict):
    """catch_up_calendar (issue 15 point 4): the agency's calendar, for an application that has not yet counted
    on a year published since (the API sends it before showing the application)."""

    calendar: CalendarData


DeadlineTable = Literal["catalogue", "corrections", "inquiries", "drafts"]  # the last two: issue 26


class OpenDeadlinesPage(BaseModel):
    """open_deadline_ids_page: up to `limit` open processes of `table` whose id sorts after `after` and whose
    deadline falls on or after `due_from` (an earlier one counted no day of the published year)."""

    table: DeadlineTable
    due_from: date
    after: str | None = None
    limit: int = Field(ge=1, le=2000)

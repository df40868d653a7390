"""A published calendar year (issue 15 point 4): told to every open process, caught up by an application before it is
shown, and the pages of open 政务公开 deadlines the broadcaster walks."""

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from contracts.models import WakeCursor
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


# --- the broadcasters' start inputs and results (workflows/calendar_broadcast.py, workflows/proactive_calendar.py) ---

# A page's signals are commands of one workflow task; the server keeps at most 2,000 pending signals
# per execution (limit.numPendingSignals), and a page adds about 2 events each to this run's history.
DEFAULT_BATCH_SIZE = 500
# Pages recounted in the database are larger: few of their applications are signalled.
RECOUNT_BATCH_SIZE = 1000
# Issue 15 point 4: a publication that moves many wake-ups earlier (a make-up working day) no longer signals them
# all at once. An application whose new wake-up is more than WAKE_LEAD away has its dates moved in the database
# copy like the others (the lists show them at once; the API brings the workflow up to date before any view or
# action) and is signalled WAKE_LEAD before its new wake-up by the broadcaster, which waits for it with a
# durable timer after its last page (rows in calendar_wake, read in (wake_at, id) order by a keyset cursor; one
# that comes due while pages are still read is signalled with the next page; a page never defers a wake to or
# before the cursor, so none is passed over). An application that caught up meanwhile (a view, an action, its
# own write) finds the signal a no-op. The wake carries the year as published when it is sent, so a correction
# published since is not undone. Broadcasts started before keep signalling at publication.
WAKE_LEAD = timedelta(days=1)
# Deferred wakes signalled per run (one workflow task), like a page of the first broadcasts.
WAKE_BATCH_SIZE = 500


class CalendarBroadcastInput(Strict):
    """Start (and continue-as-new) input: the fact to tell, the cursor and the tally so far."""

    fact: CalendarYearPublished
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=5000)
    after: str | None = None
    told: int = 0
    gone: int = 0
    runs: int = 0
    previous: YearSchedule | None = Field(default=None, description="the year's schedule before this publication")
    recounted: int = 0
    moved: int = 0
    wake_lead_seconds: float = Field(default=WAKE_LEAD.total_seconds(), ge=0,
                                     description="DEFERRED_WAKE: a wake-up further away than this is signalled later")
    deferred: int = 0
    woken: int = 0
    waking: bool = Field(default=False, description="every page is recounted: the deferred wakes are being signalled")
    wake_after: WakeCursor | None = Field(default=None, description="the last deferred wake signalled")
    wake_batch_size: int = Field(default=WAKE_BATCH_SIZE, ge=1, le=2000, description="deferred wakes signalled per run")


class CalendarBroadcastResult(Strict):
    told: int = Field(description="open applications that received the fact at publication (while pages were read)")
    gone: int = Field(description="listed as open, closed before the signal reached them")
    runs: int = Field(description="runs of the broadcast (one per page, chained by continue-as-new)")
    recounted: int = Field(default=0, description="open applications recounted from the database copy")
    moved: int = Field(default=0, description="of those, rows whose dates moved in the copy without a signal")
    deferred: int = Field(default=0, description="applications whose wake-up moved earlier, signalled later")
    woken: int = Field(default=0, description="deferred wakes signalled and received (some during the pages)")


class CalendarBroadcastProgress(Strict):
    """What the broadcast has done by the start of its current run (the `progress` query)."""

    waking: bool = Field(description="every page is recounted; deferred wakes are being signalled as they come due")
    runs: int
    recounted: int
    moved: int
    told: int
    deferred: int
    woken: int
    gone: int


class DeadlineBroadcastInput(BaseModel):
    """Start (and continue-as-new) input: the fact to tell, the table and cursor, the tally so far."""

    fact: CalendarYearPublished
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=2000)
    table: DeadlineTable = "catalogue"
    after: str | None = None
    told: int = 0
    gone: int = 0
    runs: int = 0


class DeadlineBroadcastResult(BaseModel):
    told: int = Field(description="open processes that received the fact")
    gone: int = Field(description="listed as open, closed before the signal reached them")
    runs: int = Field(description="runs of the broadcast (one per page, chained by continue-as-new)")

"""Tells every open application that a calendar year was published, so each recomputes its due date.

A workflow rather than a loop in the API: if anything crashes half-way, the remaining applications
are still told. Its id carries the calendar version, so publishing the same data twice is one run.

`CalendarBroadcastBatches` (what the API starts now) reads the open applications a page at a time
(keyset cursor: ids after the last one told), signals a page's applications all at once (one workflow
task sends every signal of the page), then continues as new carrying its cursor and tally: its own
history stays bounded (about 2 events per application of one page), however many applications are
open. Each application receives one signal, as before. `CalendarBroadcast` (the first version, one
run for every open application, one workflow task per signal) stays registered so broadcasts started
before the change finish as they began.
"""

import asyncio
from datetime import timedelta

from pydantic import Field
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.disclosure import DisclosureActivities
    from contracts.models import OpenApplicationsPage, RecountPage, RecountPageResult
    from workcalendar import YearSchedule
    from workflows.messages import CalendarYearPublished, Strict

# A page's signals are commands of one workflow task; the server keeps at most 2,000 pending signals
# per execution (limit.numPendingSignals), and a page adds about 2 events each to this run's history.
DEFAULT_BATCH_SIZE = 500
# Issue 15 point 4: a page is recounted from the database copy (activity recount_open_page), its moved due dates
# written there; only the applications whose next wake-up moves earlier (or that the copy cannot recount) are
# signalled. The others learn of the year when they next wake (workflows/application.py CALENDAR_AT_WAKE).
RECOUNT_IN_DATABASE = "recount-in-database"
# Pages recounted in the database are larger: few of their applications are signalled.
RECOUNT_BATCH_SIZE = 1000
_READ_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))


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


class CalendarBroadcastResult(Strict):
    told: int = Field(description="open applications that received the fact")
    gone: int = Field(description="listed as open, closed before the signal reached them")
    runs: int = Field(description="runs of the broadcast (one per page, chained by continue-as-new)")
    recounted: int = Field(default=0, description="open applications recounted from the database copy")
    moved: int = Field(default=0, description="of those, rows whose dates moved in the copy without a signal")


@workflow.defn(name="CalendarBroadcastBatches")
class CalendarBroadcastBatchesWorkflow:
    @workflow.run
    async def run(self, inp: CalendarBroadcastInput) -> CalendarBroadcastResult:
        if workflow.patched(RECOUNT_IN_DATABASE):
            return await self._recount(inp)
        page: list[str] = await workflow.execute_activity_method(
            DisclosureActivities.open_application_ids_page, OpenApplicationsPage(after=inp.after, limit=inp.batch_size),
            start_to_close_timeout=timedelta(minutes=1), retry_policy=_READ_RETRY,
        )
        outcomes = await asyncio.gather(*(self._tell(application_id, inp.fact) for application_id in page))
        told = inp.told + sum(outcomes)
        gone = inp.gone + len(outcomes) - sum(outcomes)
        if len(page) < inp.batch_size:
            return CalendarBroadcastResult(told=told, gone=gone, runs=inp.runs + 1)
        workflow.continue_as_new(inp.model_copy(update={"after": page[-1], "told": told, "gone": gone,
                                                        "runs": inp.runs + 1}))

    async def _recount(self, inp: CalendarBroadcastInput) -> CalendarBroadcastResult:
        """One page recounted in the database copy; its applications to wake are signalled (in one task)."""
        result: RecountPageResult = await workflow.execute_activity_method(
            DisclosureActivities.recount_open_page,
            RecountPage(after=inp.after, limit=inp.batch_size, schedule=inp.fact.schedule.model_dump(mode="json"),
                        previous=inp.previous.model_dump(mode="json") if inp.previous else None),
            start_to_close_timeout=timedelta(minutes=5), retry_policy=_READ_RETRY,
        )
        outcomes = await asyncio.gather(*(self._tell(application_id, inp.fact) for application_id in result.wake))
        told = inp.told + sum(outcomes)
        gone = inp.gone + len(outcomes) - sum(outcomes)
        tally = {"told": told, "gone": gone, "runs": inp.runs + 1, "recounted": inp.recounted + result.read,
                 "moved": inp.moved + result.moved}
        if result.read < inp.batch_size:
            return CalendarBroadcastResult(**tally)
        workflow.continue_as_new(inp.model_copy(update={"after": result.last, **tally}))

    @staticmethod
    async def _tell(application_id: str, fact: CalendarYearPublished) -> bool:
        try:
            await workflow.get_external_workflow_handle(application_id).signal("calendar_published", fact)
        except ApplicationError:
            return False  # closed since the page was read: nothing left to recompute
        return True


@workflow.defn(name="CalendarBroadcast")
class CalendarBroadcastWorkflow:
    """The first version, kept for broadcasts already running: every open application in one run."""

    @workflow.run
    async def run(self, fact: CalendarYearPublished) -> list[str]:
        open_ids: list[str] = await workflow.execute_activity_method(
            DisclosureActivities.open_application_ids,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        told = []
        for application_id in open_ids:
            try:
                await workflow.get_external_workflow_handle(application_id).signal("calendar_published", fact)
            except ApplicationError:
                continue  # closed since the list was read: nothing left to recompute
            told.append(application_id)
        return told

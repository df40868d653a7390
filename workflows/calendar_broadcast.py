"""Tells every open application that a calendar year was published, so each recomputes its due date.

A workflow rather than a loop in the API: if anything crashes half-way, the remaining applications
are still told. Its id carries the calendar version, so publishing the same data twice is one run.

`CalendarBroadcastBatches` (what the API starts now) reads the open applications a page at a time
(keyset cursor: ids after the last one read) and continues as new after each page carrying its cursor and
tally: its own history stays bounded, however many applications are open. Since issue 15 point 4
(RECOUNT_IN_DATABASE) a page is recounted from the applications' database copy and their moved due dates
written there; only the applications whose next wake-up moves earlier are signalled (one workflow task sends
a page's signals). Since DEFERRED_WAKE, only those whose new wake-up is within a day (`wake_lead_seconds`)
are signalled at publication; the others' dates are moved in the copy at once and the broadcaster, once every
page is recounted, signals each a day before its new wake-up (a durable timer until the next one, continuing
as new after each page or wait), then deletes its rows and returns its tally. `CalendarBroadcast` (the first
version, one run for every open application, one workflow task per signal) stays registered so broadcasts
started before the change finish as they began.
"""

import asyncio
from datetime import timedelta

from pydantic import Field
from workflows import policies
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.disclosure import DisclosureActivities
    from contracts.models import (
        DeferredWakes,
        DeferredWakesPage,
        OpenApplicationsPage,
        RecountPage,
        RecountPageResult,
        WakeCursor,
    )
    from workcalendar import YearSchedule
    from contracts.calendar import CalendarYearPublished
    from contracts.payload import Strict

# A page's signals are commands of one workflow task; the server keeps at most 2,000 pending signals
# per execution (limit.numPendingSignals), and a page adds about 2 events each to this run's history.
DEFAULT_BATCH_SIZE = 500
# Issue 15 point 4: a page is recounted from the database copy (activity recount_open_page), its moved due dates
# written there; only the applications whose next wake-up moves earlier (or that the copy cannot recount) are
# signalled. The others learn of the year when they next wake (workflows/application.py CALENDAR_AT_WAKE).
RECOUNT_IN_DATABASE = "recount-in-database"
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
DEFERRED_WAKE = "calendar-deferred-wake"
WAKE_LEAD = timedelta(days=1)
# Deferred wakes signalled per run (one workflow task), like a page of the first broadcasts.
WAKE_BATCH_SIZE = 500
_READ_RETRY = policies.READ


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


@workflow.defn(name="CalendarBroadcastBatches")
class CalendarBroadcastBatchesWorkflow:
    @workflow.init
    def __init__(self, inp: CalendarBroadcastInput) -> None:
        self._inp = inp

    @workflow.query
    def progress(self) -> CalendarBroadcastProgress:
        i = self._inp
        return CalendarBroadcastProgress(waking=i.waking, runs=i.runs, recounted=i.recounted, moved=i.moved,
                                         told=i.told, deferred=i.deferred, woken=i.woken, gone=i.gone)

    @workflow.run
    async def run(self, inp: CalendarBroadcastInput) -> CalendarBroadcastResult:
        if workflow.patched(RECOUNT_IN_DATABASE):
            if workflow.patched(DEFERRED_WAKE):
                return await self._wake(inp) if inp.waking else await self._recount_deferring(inp)
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

    def _wakes(self, inp: CalendarBroadcastInput) -> DeferredWakes:
        return DeferredWakes(broadcast_id=workflow.info().workflow_id, lead_seconds=inp.wake_lead_seconds,
                             after=inp.wake_after, limit=inp.wake_batch_size, year=inp.fact.schedule.year)

    async def _recount_deferring(self, inp: CalendarBroadcastInput) -> CalendarBroadcastResult:
        """DEFERRED_WAKE: one page recounted; the applications to wake now are signalled, and any deferred wake that
        came due while the pages were read (in the same task). After the last page: the waking phase."""
        result: RecountPageResult = await workflow.execute_activity_method(
            DisclosureActivities.recount_open_page,
            RecountPage(after=inp.after, limit=inp.batch_size, schedule=inp.fact.schedule.model_dump(mode="json"),
                        previous=inp.previous.model_dump(mode="json") if inp.previous else None,
                        wakes=self._wakes(inp)),
            start_to_close_timeout=timedelta(minutes=5), retry_policy=_READ_RETRY,
        )
        due = result.due or DeferredWakesPage(last=inp.wake_after)
        now_told, later_told = await asyncio.gather(self._tell_all(result.wake, inp.fact),
                                                    self._tell_all(due.due, self._as_published(inp, due)))
        tally = {"told": inp.told + now_told, "woken": inp.woken + later_told,
                 "gone": inp.gone + len(result.wake) - now_told + len(due.due) - later_told,
                 "runs": inp.runs + 1, "recounted": inp.recounted + result.read, "moved": inp.moved + result.moved,
                 "deferred": inp.deferred + result.deferred, "wake_after": due.last}
        if result.read < inp.batch_size:
            if tally["deferred"] == 0:
                return self._result(inp.model_copy(update=tally))
            tally["waking"] = True
        else:
            tally["after"] = result.last
        workflow.continue_as_new(inp.model_copy(update=tally))

    async def _wake(self, inp: CalendarBroadcastInput) -> CalendarBroadcastResult:
        """DEFERRED_WAKE, after the last page: signal the deferred wakes that are due (one page per run), or wait
        with a durable timer until the next one is; none left: delete the broadcast's rows and end."""
        due: DeferredWakesPage = await workflow.execute_activity_method(
            DisclosureActivities.due_calendar_wakes, self._wakes(inp),
            start_to_close_timeout=timedelta(minutes=1), retry_policy=_READ_RETRY,
        )
        if due.due:
            told = await self._tell_all(due.due, self._as_published(inp, due))
            workflow.continue_as_new(inp.model_copy(update={
                "woken": inp.woken + told, "gone": inp.gone + len(due.due) - told, "runs": inp.runs + 1,
                "wake_after": due.last}))
        if due.next_in_seconds is not None:
            # The activity measured it on the product's clock (core.clock): the wake instants are on that clock.
            await workflow.sleep(timedelta(seconds=max(1.0, due.next_in_seconds)))
            workflow.continue_as_new(inp.model_copy(update={"runs": inp.runs + 1}))
        await workflow.execute_activity_method(
            DisclosureActivities.forget_calendar_wakes, workflow.info().workflow_id,
            start_to_close_timeout=timedelta(minutes=1), retry_policy=_READ_RETRY,
        )
        return self._result(inp.model_copy(update={"runs": inp.runs + 1}))

    @staticmethod
    def _result(inp: CalendarBroadcastInput) -> CalendarBroadcastResult:
        return CalendarBroadcastResult(told=inp.told, gone=inp.gone, runs=inp.runs, recounted=inp.recounted,
                                       moved=inp.moved, deferred=inp.deferred, woken=inp.woken)

    @staticmethod
    def _as_published(inp: CalendarBroadcastInput, due: DeferredWakesPage) -> CalendarYearPublished:
        """The fact for a deferred wake: the year as published now (a correction since is not undone)."""
        if due.schedule is None:
            return inp.fact
        return CalendarYearPublished(schedule=YearSchedule.model_validate(due.schedule))

    async def _tell_all(self, application_ids: list[str], fact: CalendarYearPublished) -> int:
        return sum(await asyncio.gather(*(self._tell(application_id, fact) for application_id in application_ids)))

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
            retry_policy=policies.READ,
        )
        told = []
        for application_id in open_ids:
            try:
                await workflow.get_external_workflow_handle(application_id).signal("calendar_published", fact)
            except ApplicationError:
                continue  # closed since the list was read: nothing left to recompute
            told.append(application_id)
        return told

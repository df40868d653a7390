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
    from contracts.calendar import (
        CalendarBroadcastInput,
        CalendarBroadcastProgress,
        CalendarBroadcastResult,
        CalendarYearPublished,
    )

# Issue 15 point 4: a page is recounted from the database copy (activity recount_open_page), its moved due dates
# written there; only the applications whose next wake-up moves earlier (or that the copy cannot recount) are
# signalled. The others learn of the year when they next wake (workflows/application.py CALENDAR_AT_WAKE).
# The page sizes and WAKE_LEAD are the start input's defaults (contracts/calendar.py).
RECOUNT_IN_DATABASE = "recount-in-database"
# Deferred wakes (contracts/calendar.py WAKE_LEAD) are signalled under this name.
DEFERRED_WAKE = "calendar-deferred-wake"
_READ_RETRY = policies.READ


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

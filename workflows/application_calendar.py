"""A published calendar year (RULES §3): every deadline counted on the calendar recounted and each move
explained; the agency's calendar read at wake-up and when staff open the application.

A mixin of the application workflow (workflows/application.py), which provides the state (`_s`), the lock and
the shared helpers (`_record`, `_alert`, `_persist`, `_today`, `_refuse_if`, `_required`, `_send_letter`, ...).
"""


from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.disclosure import DisclosureActivities
    from contracts.models import CalendarAsked
    from workcalendar import CalendarData
    from application.deadlines import recount_deadlines
    from workflows.application_views import application_view
    from workflows.delivery import (
        ACTIVITY_TIMEOUT,
        PERSIST_RETRY,
    )
    from contracts.application_view import ApplicationView
    from contracts.calendar import CalendarCatchUp, CalendarYearPublished


class CalendarHandlers:
    @workflow.signal
    async def calendar_published(self, fact: CalendarYearPublished) -> None:
        async with self._lock:
            await self._year_published(fact)

    async def _year_published(self, fact: CalendarYearPublished) -> None:
        data = self._s.calendar_data.with_year(fact.schedule)
        if data.version == self._s.calendar_data.version:
            return
        await self._apply_published_year(fact, data)

    @workflow.update
    async def catch_up_calendar(self, cmd: CalendarCatchUp) -> ApplicationView:
        """Issue 15 point 4: the API shows an application only once it counts on the agency's calendar."""
        async with self._lock:
            await self._catch_up_calendar(cmd.calendar)
            return application_view(self._s, self._today())

    async def _agency_calendar(self) -> CalendarData:
        """The agency's calendar now, as this application holds it (a local activity: one marker event)."""
        data = await workflow.execute_local_activity_method(
            DisclosureActivities.current_calendar,
            CalendarAsked(received_year=self._s.inp.received_on.year, years=sorted(self._s.calendar_data.years)),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PERSIST_RETRY,
        )
        return CalendarData.model_validate(data)

    async def _catch_up_calendar(self, data: CalendarData) -> bool:
        """Count on every year of `data` that differs from this application's (each as its publication's signal
        would); a year `data` lacks stays as it is. True: the application's calendar changed."""
        before = self._s.calendar_data.version
        for year, schedule in sorted(data.years.items()):
            mine = self._s.calendar_data.years.get(year)
            if mine is not None and CalendarData(years={year: mine}).version == CalendarData(years={year: schedule}).version:
                continue
            await self._year_published(CalendarYearPublished(schedule=schedule))
        return self._s.calendar_data.version != before

    async def _apply_published_year(self, fact: CalendarYearPublished, data) -> None:
        """Issue 15 point 4 and issue 11 point 13: recount on the new calendar every deadline that was
        counted on it (the reply period, the supplement notice period, the supplement deadline, the
        consultation windows, the fee payment period) and explain each move; nothing moved: nothing is
        recorded or persisted (the new calendar is kept for later counts), so most applications spend
        one workflow task on a publication."""
        s = self._s
        why = f"（{fact.schedule.year} 年放假安排公布）"
        recount = recount_deadlines(s, data, fact.schedule.year)
        moves, told = recount.moves, recount.told
        before = s.due
        due = self._compute_due()
        if not moves and (due.due_on, due.provisional) == (before.due_on, before.provisional):
            s.due = due  # same dates; its explanation now names the published calendar
            return
        self._record("calendar-updated", "system", f"{fact.schedule.year} 年放假安排已公布（{data.version}）")
        for kind, summary in moves:
            self._record(kind, "system", summary)
        self._recompute_due(announce=False)
        if s.due.due_on != before.due_on:
            self._record("due-date-changed", "system", f"答复期限由 {before.due_on} 重新计算为 {s.due.due_on}{why}")
        for consultation_id in told:  # the child keeps the window's timer: it recounts on the same calendar
            try:
                await workflow.get_external_workflow_handle(consultation_id).signal("calendar_published", fact)
            except ApplicationError:
                pass  # ended meanwhile: its result carries the window it used
        await self._persist()

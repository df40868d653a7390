"""Tells the open 政务公开 processes that a calendar year was published, so each recounts its working-day
deadline (issue 13): catalogue items (20 working days under the agency's setting), policy
interpretations (3 working days, seed 002 art. 20) and corrections (the reply period, Reg. 41); 在线咨询
questions (the agency's answer period) and drafts for comment (a 行政规范性文件's working days; issue 26).

Like the applications' broadcast (workflows/calendar_broadcast.py, left as it is), a workflow rather than
a loop in the API, so a crash half-way still tells the rest; its id carries the deployment and the
calendar version, so publishing the same data twice is one run. Each run reads one page of ids from the
processes' rows (keyset by id, only those due on or after the published year's first day: an earlier
deadline counted no day of it), signals the page at once (one workflow task), then continues as new with
its cursor and tally: its history stays bounded however many processes are open. The catalogue's pages
come first, then the corrections', the questions' and the drafts'.
"""

import asyncio
from datetime import date, timedelta

from workflows import policies
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.proactive import ProactiveActivities
    from contracts.calendar import (
        CalendarYearPublished,
        DeadlineBroadcastInput,
        DeadlineBroadcastResult,
        DeadlineTable,
        OpenDeadlinesPage,
    )

_READ_RETRY = policies.READ
TABLES: tuple[DeadlineTable, ...] = ("catalogue", "corrections", "inquiries", "drafts")  # issue 26: 在线咨询, drafts


@workflow.defn(name="DeadlineCalendarBroadcast")
class DeadlineCalendarBroadcastWorkflow:
    @workflow.run
    async def run(self, inp: DeadlineBroadcastInput) -> DeadlineBroadcastResult:
        page: list[str] = await workflow.execute_activity_method(
            ProactiveActivities.open_deadline_ids_page,
            OpenDeadlinesPage(table=inp.table, due_from=date(inp.fact.schedule.year, 1, 1), after=inp.after,
                              limit=inp.batch_size),
            start_to_close_timeout=timedelta(minutes=1), retry_policy=_READ_RETRY,
        )
        outcomes = await asyncio.gather(*(self._tell(workflow_id, inp.fact) for workflow_id in page))
        tally = {"told": inp.told + sum(outcomes), "gone": inp.gone + len(outcomes) - sum(outcomes), "runs": inp.runs + 1}
        if len(page) == inp.batch_size:
            workflow.continue_as_new(inp.model_copy(update={"after": page[-1], **tally}))
        following = TABLES.index(inp.table) + 1
        if following < len(TABLES):
            workflow.continue_as_new(inp.model_copy(update={"table": TABLES[following], "after": None, **tally}))
        return DeadlineBroadcastResult(**tally)

    @staticmethod
    async def _tell(workflow_id: str, fact: CalendarYearPublished) -> bool:
        try:
            await workflow.get_external_workflow_handle(workflow_id).signal("calendar_published", fact)
        except ApplicationError:
            return False  # ended since the page was read: nothing left to recount
        return True

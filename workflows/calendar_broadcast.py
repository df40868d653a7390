"""Tells every open application that a calendar year was published, so each recomputes its due date.

A workflow rather than a loop in the API: if anything crashes half-way, the remaining applications
are still told. Its id carries the calendar version, so publishing the same data twice is one run.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.messages import CalendarYearPublished


@workflow.defn(name="CalendarBroadcast")
class CalendarBroadcastWorkflow:
    @workflow.run
    async def run(self, fact: CalendarYearPublished) -> list[str]:
        open_ids: list[str] = await workflow.execute_activity(
            "open_application_ids", result_type=list[str],
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

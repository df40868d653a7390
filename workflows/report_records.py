"""The application's report-grade record (issue 14), kept apart from the workflow's own logic.

`DisclosureApplicationWorkflow` calls `record_for_report(self, ending)` once where the application's
reporting facts become final: at signing (the reply date and the signed outcomes), at abandonment
and at withdrawal.
"""


from workflows import policies
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.reports import ReportActivities
    from clock import local_date
    from reports.annual import application_outcome
    from reports.records import Ending, ItemOutcome, ReportRecordInput

RECORD_RETRY = policies.DATABASE


def report_record(wf, ending: Ending, signed_by: str | None = None) -> ReportRecordInput:
    inp = wf._s.inp
    today = local_date(workflow.now())
    items = [ItemOutcome(item_no=i.item_no, outcome=i.final_outcome) for i in wf._s.items if i.final_outcome]
    replied_on = wf._s.replied_on if ending != "withdrawn" else None
    due_on = wf._s.due.due_on
    return ReportRecordInput(
        application_id=inp.application_id, ending=ending, received_on=inp.received_on,
        applicant_type=inp.applicant.type, department=wf._s.department, handler=wf._s.handler,
        replied_on=replied_on, concluded_on=replied_on or today,
        outcome=application_outcome(i.outcome for i in items), items=items,
        due_on=due_on, on_time=None if replied_on is None else replied_on <= due_on,
        extended=bool(wf._s.extension and wf._s.extension.decision == "approved"),
        review_returns=sum(1 for e in wf._s.timeline if e.kind == "review-returned"),
        signed_by=signed_by,
    )


async def record_for_report(wf, ending: Ending, signed_by: str | None = None) -> None:
    await workflow.execute_activity_method(
        ReportActivities.record_report_outcome, report_record(wf, ending, signed_by),
        start_to_close_timeout=policies.ACTIVITY_TIMEOUT, retry_policy=RECORD_RETRY,
    )

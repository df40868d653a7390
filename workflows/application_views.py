"""Projections of the application's state: the ApplicationView the API shows and the ApplicationRecord
the database listing keeps. Pure functions of ApplicationState (moved out of workflows/application.py,
issue 12 point 10c); `now` and `today` are passed in by the workflow (workflow.now()).
"""

from datetime import date, datetime

from clock import working_days_left
from contracts.models import ApplicationRecord, ItemRecord
from application.rules import closing, pending_actions, report_outcome, status_of
from application.state import ApplicationState
from application.deadlines import clock_copy
from contracts.application_view import ApplicationView, PausedInterval
from contracts.status import FINAL_STATUSES


def application_record(s: ApplicationState, now: datetime) -> ApplicationRecord:
    applicant = s.inp.applicant
    finals = {i.final_outcome for i in s.items if i.final_outcome}
    return ApplicationRecord(
        application_id=s.inp.application_id, received_on=s.inp.received_on,
        channel=s.inp.channel, applicant_name=applicant.name, applicant_type=applicant.type,
        applicant_email=applicant.email, applicant_phone=applicant.phone, applicant_address=applicant.address,
        delivery_method=s.inp.delivery_method, policy=s.inp.policy.name, status=status_of(s),
        handler=s.handler, department=s.department,
        due_on=None if s.phase == "awaiting-supplement" or closing(s) else s.due.due_on,
        due_provisional=s.due.provisional, overdue=s.overdue,
        paused=any(c.position == "pending" for c in s.consultations),
        extended=bool(s.extension and s.extension.decision == "approved"),
        extension_pending=bool(s.extension and s.extension.decision == "pending" and s.phase not in FINAL_STATUSES),
        closed_at=now if s.phase in FINAL_STATUSES else None,
        final_outcome=report_outcome(finals) if finals else None,
        items=[ItemRecord(item_no=i.item_no, description=i.description,
                          outcome=i.final_outcome or (i.proposal.outcome if i.proposal else None),
                          reasons=i.proposal.reasons if i.proposal else "") for i in s.items],
        clock=None if s.phase in FINAL_STATUSES else clock_copy(s),
        agency=s.inp.agency,
    )


def application_view(s: ApplicationState, today: date) -> ApplicationView:
    supplementing = s.phase == "awaiting-supplement" or closing(s)
    return ApplicationView(
        application_id=s.inp.application_id, status=status_of(s), channel=s.inp.channel,
        received_on=s.inp.received_on, registered_at=s.inp.registered_at, policy=s.inp.policy.name,
        applicant_name=s.inp.applicant.name, delivery_method=s.inp.delivery_method,
        handler=s.handler, department=s.department, items=s.items,
        due=None if supplementing else s.due,
        working_days_left=None if supplementing or s.replied_on or s.phase in FINAL_STATUSES
        else working_days_left(s.cal, today, s.due.due_on),
        as_of=today, overdue=s.overdue,
        paused_intervals=[PausedInterval(label=f"征求「{c.consultee_name}」意见", started_on=c.sent_on,
                                         ended_on=c.ended_on, expected_end_on=c.window_ends_on)
                          for c in s.consultations if c.sent_on is not None] + [
            # 国办函〔2020〕109号: from the fee notice's dispatch until payment (RULES §3 Service).
            PausedInterval(label="缴纳信息处理费", started_on=s.fee.notice_sent_on,
                           ended_on=s.fee.paid_on or (s.fee.pay_by if s.fee.lapsed_on else None),
                           expected_end_on=s.fee.pay_by)
            for _ in [0] if s.fee is not None and s.fee.decision == "approved" and s.fee.notice_sent_on is not None],
        supplement=s.supplement, supplement_notice_by=s.supplement_notice_by,
        extension=s.extension, excessive=s.excessive, consultations=s.consultations, prescreen_findings=s.findings,
        reply_draft=s.reply_draft, replied_on=s.replied_on, delivered_on=s.delivered_on,
        timeline=s.timeline, pending_actions=pending_actions(s),
        letters=s.letters, reply_draft_version=s.draft_version,
        reply_approved_sha256=s.approved_sha256, fee=s.fee, calendar_version=s.calendar_data.version,
        calendar_years=sorted(s.calendar_data.years),
        release_files=s.release_files, release_reading=s.release_reading,
        release_sealed=s.release_seal.sealed if s.release_seal else [],
        release_manifest_sha256=s.release_seal.manifest_sha256 if s.release_seal else None,
        release_delivery=s.release_seal.delivery if s.release_seal else None,
    )

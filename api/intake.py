"""Intake (Reg. 29-31): an application registered at the desk, through the online form, or converted from an online
inquiry (api/routes/applications.py, api/routes/participation.py): the receipt date checked, the policy and the
calendar fixed, a number taken and its workflow started exactly once (under an Idempotency-Key), then listed."""

import logging
from dataclasses import dataclass

from fastapi import HTTPException, status
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api import idempotency
from api.offloop import blocking
from api.registration import OWNER_MEMO, RESERVATION, RegistrationWrites, from_reservation, reservation, started_by
from api.schemas import ApplicationCreate, ApplicationCreated
from clock import ClockInput, DueDate, compute_due
from contracts.intake import ApplicationInput
from db.models_agency import FIRST_AGENCY_NUMBER_PATTERN, Agency
from core import clock
from core.security import hash_query_code, new_query_code
from policy import profile_named
from policy.intake import RECEIPT_BASIS
from services.duplicates import same_requests
from workflows import search_attributes as sa
from workflows.application import DisclosureApplicationWorkflow

log = logging.getLogger("disclosure.api")

NUMBER_ATTEMPTS = 5
ONLINE_FORM = "online-form"


def as_configured(agency: Agency, settings) -> Agency:
    """The installation's first agency is configured by this process's settings (its name, number prefix and reply
    period: as before the platform; issue 25 point 6); the others by their records."""
    if agency.code != settings.agency_code:
        return agency
    return Agency(**(agency.model_dump() | {"name": settings.agency_name, "number_prefix": settings.application_number_prefix,
                                            "number_pattern": FIRST_AGENCY_NUMBER_PATTERN,
                                            "reply_period": settings.reply_period_profile}))


async def _refuse_resubmission(engine, body: ApplicationCreate) -> None:
    """Issue 23 point 6 (services.duplicates): the same applicant's same items within a day — 409 naming the
    earlier number, unless the request says `resubmit`."""
    earlier = await blocking(same_requests, engine, body.applicant.id_number, body.received_on,
                             [item.description for item in body.items])
    if earlier:
        first = earlier[0]
        raise HTTPException(status.HTTP_409_CONFLICT, (
            f"同一申请人已于{first.received_on.year}年{first.received_on.month}月{first.received_on.day}日提交过"
            f"内容相同的申请，申请编号 {first.application_id}，不必重复提交，可凭该编号查询办理进度。"
            "如确需再次提交，请确认后重新提交"))


async def register(
    body: ApplicationCreate, registered_by: str, writes: RegistrationWrites, client, settings, calendar, agency: Agency
) -> ApplicationCreated:
    if body.received_on > clock.today():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "收到申请之日不能晚于今天")
    evidence = (getattr(body, "receipt_evidence", None) or "").strip()
    if body.received_on.year != clock.today().year and len(evidence) < 4:
        # Issue 24 point 9: a receipt in an earlier year moves that year's annual report: the evidence is named.
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"收到申请之日 {body.received_on} 不在本年度，须写明收到日期的证据（receipt_evidence，"
                            "如挂号信签收记录、邮戳、传真或系统接收记录）：该申请计入 "
                            f"{body.received_on.year} 年度报告")
    if (clock.today() - body.received_on).days > settings.max_receipt_age_days:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"收到申请之日 {body.received_on} 早于 {settings.max_receipt_age_days} 天前，请核对日期")
    # The agency's setting, not the form's (issue 11 point 7): fixed here for the application's whole life.
    agency = as_configured(agency, settings)
    profile = profile_named(agency.reply_period)  # issue 25: each agency's own setting
    policy = profile.model_copy(
        update={"reminder_days_before_due": settings.reminder_days_before_due,
                # Issue 24 point 10 (Reg. 30 合理的补正期限): the agency's minimum, and a default no shorter.
                "min_supplement_days": settings.supplement_min_working_days,
                "default_supplement_days": max(profile.default_supplement_days, settings.supplement_min_working_days)}
    )
    await calendar.fresh()  # a year another process published just now counts (issue 12 point 5)
    calendar_data = calendar.since(body.received_on.year)
    due = compute_due(
        calendar.work_calendar_since(body.received_on.year), ClockInput(received_on=body.received_on, reply_days=policy.reply_days,
                                            receipt_basis=RECEIPT_BASIS[body.channel])
    )
    # Under an Idempotency-Key, intake is exactly-once (api/idempotency.py): the number, the input and
    # the query code's hash are kept with the key before the workflow starts, the workflow carries the
    # key in its memo, and the query code is derived from the key. A retry after any failure (a lost
    # answer, a failed listing) finds them, recognises its own workflow and answers the same number and code.
    claim = idempotency.current()
    kept = from_reservation(claim.reserved[RESERVATION]) if claim and RESERVATION in claim.reserved else None
    listing: _Started | None = None
    if kept is not None and claim is not None and await _start(client, settings, kept.application, kept.due, claim):
        listing = _Started(kept.application, kept.due, claim.query_code(kept.application.application_id))
    if listing is None and kept is None and not body.resubmit:
        await _refuse_resubmission(writes.engine, body)
    if listing is None:  # none kept, or the kept number is another workflow's (a restored database): a new one
        listing = await _start_new(body, registered_by, writes, client, settings, calendar_data, policy, due, claim,
                                   agency)
    inp, application_id = listing.application, listing.application.application_id
    code = listing.code
    await writes.list_now(inp, listing.due, hash_query_code(settings, application_id, code))
    writes.repair_soon(client)
    return ApplicationCreated(
        application_id=application_id, query_code=code, received_on=inp.received_on, due_on=listing.due.due_on,
        due_provisional=listing.due.provisional, due_explanation=listing.due.steps,
        calendar_version=listing.due.calendar_version,
    )


@dataclass(frozen=True)
class _Started:
    application: ApplicationInput
    due: DueDate
    code: str


async def _start(client, settings, inp: ApplicationInput, due: DueDate, claim: idempotency.Claim | None) -> bool:
    """Start the application's workflow; False if its number is already another workflow's.

    It starts with its search attributes (status, due date, overdue), so its first task upserts none
    (issue 15 point 2). Workers go first when deploying: an older worker would upsert them anyway."""
    try:
        await client.start_workflow(
            DisclosureApplicationWorkflow.run, inp, id=inp.application_id, task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            memo={OWNER_MEMO: claim.scope} if claim else None,
            search_attributes=sa.at_registration(due.due_on, inp.agency),
        )
    except WorkflowAlreadyStartedError:
        if claim is not None and await started_by(client, inp.application_id, claim.scope):
            return True  # started by this key's earlier attempt
        # Temporal already holds this number (the database was restored from an older copy).
        log.error("application number %s already used in Temporal; allocating the next", inp.application_id)
        return False
    return True


async def _start_new(body: ApplicationCreate, registered_by: str, writes: RegistrationWrites, client, settings,
                     calendar_data, policy, due, claim: idempotency.Claim | None, agency: Agency) -> _Started:
    for _ in range(NUMBER_ATTEMPTS):
        # Committed (with the other requests' numbers of the moment, in one transaction): the number
        # is spent even if the start fails: a gap, never a duplicate.
        application_id = await writes.next_number(clock.today().year, agency.number_prefix, agency.code,
                                                  agency.number_pattern)
        inp = ApplicationInput(
            application_id=application_id, channel=body.channel, received_on=body.received_on,
            registered_at=clock.now(), registered_by=registered_by, applicant=body.applicant,
            items=body.items, delivery_method=body.delivery_method, policy=policy, calendar=calendar_data,
            agency_name=agency.name, agency=agency.code, handler=body.handler, department=body.department,
            receipt_evidence=(getattr(body, "receipt_evidence", None) or "").strip() or None,  # issue 24 point 9
            listed_at_intake=True,  # writes.list_now below
        )
        code = claim.query_code(application_id) if claim else new_query_code()
        if claim is not None:
            await claim.reserve(RESERVATION, reservation(inp, due, hash_query_code(settings, application_id, code)))
        if await _start(client, settings, inp, due, claim):
            return _Started(inp, due, code)
    raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "申请编号分配异常，申请未登记，请联系管理员")

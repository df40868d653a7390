"""What the database keeps of an application at registration, shared by the API and the workflow.

The API writes it before answering 201 so the application is listed at once; the workflow's first
persist writes the same row and event again, which the idempotent store ignores.
"""

from contracts.models import ApplicationRecord, EventRecord, ItemRecord
from clock import DueDate
from contracts.intake import ApplicationInput


def registration_summary(inp: ApplicationInput, due: DueDate) -> str:
    evidence = f"（收到日期的证据：{inp.receipt_evidence}）" if inp.receipt_evidence else ""  # issue 24 point 9
    return f"登记受理，收到申请之日 {inp.received_on}{evidence}，答复期限 {due.due_on}"


def registration_event(inp: ApplicationInput, due: DueDate) -> EventRecord:
    return EventRecord(seq=1, at=inp.registered_at, kind="registered", actor=inp.registered_by,
                       summary=registration_summary(inp, due))


def initial_record(inp: ApplicationInput, due: DueDate) -> ApplicationRecord:
    applicant = inp.applicant
    return ApplicationRecord(
        application_id=inp.application_id, received_on=inp.received_on, channel=inp.channel,
        applicant_name=applicant.name, applicant_type=applicant.type, applicant_email=applicant.email,
        applicant_phone=applicant.phone, applicant_address=applicant.address,
        delivery_method=inp.delivery_method, policy=inp.policy.name, status="handling",
        handler=inp.handler, department=inp.department, due_on=due.due_on, due_provisional=due.provisional,
        items=[ItemRecord(item_no=n, description=item.description) for n, item in enumerate(inp.items, start=1)],
        agency=inp.agency,
    )

"""Inputs and results of every activity: the contract between workflows and I/O.

Each carries a business key so that a retried or replayed activity does its work once.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from contracts.application import ApplicationFields, ApplicationKey
from contracts.payload import Payload

from outcomes import OutcomeCode

# Reg. 29, 40: how the applicant asks to get the information and the reply: paper by post, e-mail, paper
# picked up at the office, a disc (光盘, posted or picked up), inspection on site (现场查阅), portal download.
DeliveryMethod = Literal["email", "post", "pickup", "portal", "disc", "inspection"]


class ItemRecord(Payload):
    item_no: int
    description: str
    outcome: OutcomeCode | None = None
    reasons: str = ""


class EventRecord(Payload):
    seq: int = Field(description="position in the application's timeline; (application_id, seq) is unique")
    at: datetime
    kind: str
    actor: str
    summary: str
    data: dict = Field(default_factory=dict)


class ApplicationRecord(ApplicationFields, ApplicationKey, Payload):
    """What the database keeps of an application: enough to list, filter and report without Temporal.

    Its fields are the table's (contracts/application.py), with the vocabulary of two of them checked here."""

    delivery_method: DeliveryMethod
    final_outcome: OutcomeCode | None = None
    items: list[ItemRecord]
    version: int | None = Field(default=None, description=(
        "monotonic per application (the workflow's): the store keeps the highest; None = unversioned "
        "(intake's first row, writers from before versions), applied as before"))
    clock: dict | None = Field(default=None, description=(
        "the state its deadlines are counted from (application/deadlines.py clock_copy); None: not recountable "
        "from the database (the calendar broadcaster signals it)"))
    agency: str | None = Field(default=None, description="the agency it was made to (issue 25); None: the first one")


class PersistApplicationInput(Payload):
    record: ApplicationRecord
    events: list[EventRecord] = Field(
        description="events not yet acknowledged as stored; already-stored seqs are skipped"
    )
    check_calendar: bool = Field(default=False, description=(
        "issue 15 point 4: write nothing when the record was counted on an older calendar than the agency's; "
        "answer the calendar instead (the workflow recounts, then writes)"))


class PersistOutcome(Payload):
    calendar: dict | None = Field(default=None, description=(
        "the calendar the application should count on (CalendarData JSON), when its record was counted on an "
        "older one: nothing was written, or the year was stored while it was written (the workflow recounts and "
        "writes again)"))


class CalendarAsked(Payload):
    """current_calendar: the agency's calendar for an application received in `received_year` whose own holds
    `years` (the years from its receipt on, and any earlier year published since)."""

    received_year: int
    years: list[int]


class PrescreenText(Payload):
    item_no: int | None = None
    label: str
    text: str


class PrescreenInput(Payload):
    application_id: str
    texts: list[PrescreenText]


class PrescreenFinding(Payload):
    item_no: int | None = None
    label: str
    kind: Literal["id-card", "phone", "secret-marking"]
    excerpt: str = Field(description="context around the match, with the match itself masked")
    detail: str


class PrescreenResult(Payload):
    findings: list[PrescreenFinding]

    @property
    def clean(self) -> bool:
        return not self.findings


class ReplyItem(Payload):
    item_no: int
    description: str
    outcome: OutcomeCode
    reasons: str = ""
    referral: str | None = Field(default=None, description="the competent agency and contact, for 无法提供-1")
    not_this_agency: bool = Field(default=False, description="无法提供-1: not this agency's to disclose (Reg. 36(5))")
    earlier_application_id: str | None = Field(default=None, description="不予处理-2: the earlier answered application")
    provision: str | None = Field(default=None, description="予以公开/部分公开: how, where and when (Reg. 40)")
    withheld_ground: OutcomeCode | None = Field(default=None, description="部分公开: 不予公开-1…8 of the withheld part")
    published_at: str | None = Field(default=None, description="予以公开 under Reg. 36(1): where it was proactively disclosed")


LetterKind = Literal[
    "acknowledgment",
    "supplement-notice",
    "extension-notice",
    "reasons-request",  # Reg. 35: the applicant is asked to explain the reasons
    "reasonable-period-notice",  # Reg. 35: a longer reasonable period
    "consultation-letter",
    "agency-consultation-letter",
    "override-notice",
    "fee-notice",
    "reply",
    "correction-made",  # Reg. 41 / seed 002 art. 19 (issue 13)
    "correction-forwarded",
    "correction-refused",  # Reg. 41: 不予更正 (issue 24 point 4)
    "objection-unreasonable-notice",  # Reg. 32, RULES §5: the objection's grounds are not reasonable (issue 24 point 3)
]


class ComposeLetterInput(Payload):
    application_id: str
    kind: LetterKind
    agency_name: str
    agency: str | None = None  # issue 25: the agency's code (its remedy bodies, payment channel); None: looked up
    recipient_name: str
    letter_date: date
    received_on: date
    items: list[ReplyItem] = Field(default_factory=list)
    deadline_on: date | None = Field(default=None, description="supplement / consultation / extended due date")
    period_days: int | None = Field(
        default=None, description="a notice whose period runs from its receipt (RULES §3 Service): the working days, "
                                  "stated as 自收到本通知之日起N个工作日 instead of a date")
    needed: list[str] = Field(default_factory=list, description="补正: everything the applicant must supply")
    reasons: str = ""
    extension_days: int | None = None
    consultation_id: str | None = Field(default=None, description="consultation letter: whose answer link to print")
    answer_link: str | None = Field(default=None, description="set by the compose activity: the third party's signed link")
    heard: list[str] = Field(default_factory=list, description="override notice: whose views were heard")
    fee_amount_yuan: int | None = Field(default=None, description="fee notice: the amount")
    reconsideration_body: str | None = Field(default=None, description="set by the compose activity: 行政复议机关 (setting)")
    court: str | None = Field(default=None, description="set by the compose activity: the competent court (setting)")
    complaint_body: str | None = Field(default=None, description="set by the compose activity: Reg. 51 投诉、举报 (setting)")
    referral: str | None = Field(default=None, description="correction forwarded: the competent agency (Reg. 41)")
    track_link: str | None = Field(default=None, description=(
        "set by the compose activity: the applicant's /track page, where a supplement is answered online"))
    fee_counted: str = Field(default="", description="fee notice: how the amount was counted (109号)")
    fee_payment: str | None = Field(default=None, description="set by the compose activity: the payment channel (setting)")
    record_accurate: bool | None = Field(default=None, description="不予更正: the record is accurate (True) or the "
                                         "evidence does not show it wrong (False), Reg. 41")
    example_mark: bool = Field(default=False, description="set by the compose activity: the example agency (make run) signs")


class Letter(Payload):
    kind: LetterKind
    subject: str
    body: str


class DispatchInput(Payload):
    key: str = Field(description="idempotency key, e.g. '<application_id>:reply'")
    application_id: str
    recipient_name: str
    method: DeliveryMethod
    email: str | None = None
    letter: Letter
    address: str | None = Field(default=None, description="postal address, for the envelope")


class DispatchResult(Payload):
    key: str
    method: DeliveryMethod
    status: Literal["sent", "awaiting-staff"]
    sent_at: datetime | None = None
    message_id: str | None = None


class StaffAlertInput(Payload):
    key: str = Field(description="idempotency key, e.g. '<application_id>:overdue:<due_on>'")
    application_id: str
    kind: Literal["reminder", "overdue", "escalation", "consultation-objection", "delivery-problem",
                  "consultation-failed", "supplement-deadline"]
    role: Literal["handler", "supervisor", "reviewer"]
    recipient: str | None = None
    message: str


# --- letters v2: issued documents, outbox, attachments (added with defaults only) -------------

OutboxStatus = Literal["pending", "sending", "sent", "failed", "uncertain", "awaiting-staff", "delivered"]


class AttachmentRef(Payload):
    attachment_id: int
    item_no: int | None = None
    filename: str
    sha256: str
    size: int
    content_type: str = "application/octet-stream"


class IssueLetterInput(Payload):
    """Issue a composed (or edited and approved) letter: 文号, PDF, stored file, outbox row. Idempotent on `key`."""

    key: str
    application_id: str
    letter: Letter
    letter_date: date = Field(description="the issue date; the 文号's year")
    agency: str | None = Field(default=None, description="the agency's code (issue 25: its 文号 series and sender); "
                                                         "None: the application's, looked up, or the first agency")
    recipient_name: str
    method: DeliveryMethod
    email: str | None = None
    address: str | None = None
    expected_body_sha256: str | None = Field(default=None, description="the approved text's checksum: refused if the body differs")
    attach_for_items: list[ReplyItem] = Field(default_factory=list, description="reply: disclosed files of these items go with it")


class IssuedLetter(Payload):
    key: str
    document_number: str
    body_sha256: str
    pdf_sha256: str
    pdf_size: int
    attachments: list[AttachmentRef] = Field(default_factory=list)
    status: OutboxStatus


class SendLetterInput(Payload):
    key: str
    application_id: str
    agency: str | None = None  # issue 25: the agency the e-mail is from (its name and sender); None: looked up
    # Issue 12 point 6: the server retries a send (no history events per try), so the activity itself
    # warns the supervisor, once per letter, when a try fails so late that the next one may come after
    # the end of the reply's due day (`due_at`, the end of `due_on` in Shanghai).
    due_on: date | None = None
    due_at: datetime | None = None


class SendLetterResult(Payload):
    key: str
    status: OutboxStatus
    attempts: int = 0
    sent_at: datetime | None = None
    message_id: str | None = None
    last_error: str | None = None


class DeliverLetterInput(Payload):
    """Issue 15 point 2: compose (when `compose` is given), issue and try once to send, in one activity.

    Idempotent on `issue.key` as its three parts are: composing is pure, issuing returns the stored
    document on a retry, and the send reads the outbox row (sent: nothing to do; sending: never resent).
    With `compose`, `issue.letter` is replaced by the composed letter.
    """

    compose: ComposeLetterInput | None = None
    issue: IssueLetterInput
    send: SendLetterInput
    record: PersistApplicationInput | None = Field(default=None, description=(
        "issue 15 point 2: the application's record (versioned) and unsaved events, written with the letter's "
        "outcome event in the transaction that records the send (sent, or awaiting staff), when no newer copy "
        "and no event from `outcome_seq` on is stored yet; else nothing of it is written (the workflow persists)"))
    outcome_seq: int | None = Field(default=None, description="the outcome event's place in the timeline")


class DeliveredLetter(Payload):
    letter: Letter = Field(description="the letter as issued (composed here when asked)")
    issued: IssuedLetter
    sent: SendLetterResult | None = Field(default=None, description="the outbox's answer; None when the try failed")
    failed_type: str | None = Field(default=None, description="the failed try: its error type (the workflow retries)")
    failed_message: str | None = None
    failed_attempts: int | None = Field(default=None, description="tries counted on the outbox row, if known")
    recorded: EventRecord | None = Field(default=None, description=(
        "the outcome event written with the record (DeliverLetterInput.record); None when not written"))
    calendar: dict | None = Field(default=None, description=(
        "as PersistOutcome.calendar: the record was written, then found counted on an older calendar"))


def letter_outcome_event(status: str, subject: str, document_number: str | None) -> tuple[str, str] | None:
    """The timeline's words (kind, summary) for an issued letter that was sent or awaits staff, else None.
    One wording for the workflow (workflows/delivery.py) and the activity that records it (deliver_letter)."""
    number = f"（{document_number}）" if document_number else ""
    if status == "sent":
        return "letter-sent", f"{subject}{number} 已通过电子邮件送出"
    if status == "awaiting-staff":
        return "letter-awaiting-staff", f"{subject}{number} 待工作人员寄送或交付"
    return None


class RecordDeliveryInput(Payload):
    key: str
    delivered_on: date
    method: DeliveryMethod
    tracking_number: str | None = None
    posted_on: date | None = None
    received_by: str | None = None
    by: str
    handed_over_by: str | None = Field(default=None, description="pickup: the staff member who handed it over")
    note: str | None = None


class WakeCursor(Payload):
    """The calendar broadcaster's place among its deferred wakes: the last one signalled (keyset)."""

    wake_at: datetime
    application_id: str


class DeferredWakes(Payload):
    """Issue 15 point 4 (workflows/calendar_broadcast.py DEFERRED_WAKE): the broadcast's deferred wakes after
    `after` that are due, i.e. whose instant is within `lead_seconds` of now."""

    broadcast_id: str
    lead_seconds: float = Field(ge=0)
    after: WakeCursor | None = None
    limit: int = Field(ge=1, le=2000)
    year: int | None = Field(default=None, description="the published year: its schedule as published now is returned")


class DeferredWakesPage(Payload):
    due: list[str] = Field(default_factory=list, description="applications to signal now, in (wake_at, id) order")
    last: WakeCursor | None = Field(default=None, description="the cursor after them (unchanged when none is due)")
    next_in_seconds: float | None = Field(
        default=None, description="none due: seconds until the next one is (None: none is left after the cursor)")
    schedule: dict | None = Field(default=None, description="the year's schedule as published now (JSON), if asked")


class RecountPage(Payload):
    """recount_open_page (issue 15 point 4): the open applications after `after`, recounted on the calendar with
    `schedule` published (it replaced `previous`, None: the year was not published before).

    With `wakes` (DEFERRED_WAKE), an application whose next wake-up moves earlier but not within `lead_seconds`
    of now (nor to or before `wakes.after`) is not returned to signal now: its dates are moved like the others'
    and a deferred wake is recorded for the broadcast; the broadcast's deferred wakes that have come due since are
    returned in `due`."""

    after: str | None = None
    limit: int = Field(ge=1, le=5000)
    schedule: dict = Field(description="the published YearSchedule (JSON)")
    previous: dict | None = Field(default=None, description="the year's schedule before (JSON), None: unpublished")
    wakes: DeferredWakes | None = None


class RecountPageResult(Payload):
    read: int = Field(description="open applications read (a page shorter than the limit is the last)")
    last: str | None = Field(default=None, description="the cursor: the last id read")
    wake: list[str] = Field(description="applications to signal: a wake-up moves earlier, or not recountable here")
    moved: int = Field(description="rows whose dates this page moved in the database copy")
    unreadable: int = Field(default=0, description="of `wake`: no clock copy, or counted on another calendar")
    deferred: int = Field(default=0, description="applications whose wake is deferred (DEFERRED_WAKE; not in `wake`)")
    due: DeferredWakesPage | None = Field(default=None, description="the broadcast's deferred wakes due now")


class OpenApplicationsPage(Payload):
    """open_application_ids_page: up to `limit` open applications whose id sorts after `after` (the calendar broadcast)."""

    after: str | None = None
    limit: int = Field(ge=1, le=2000)

"""Every input, update, signal, query and result of the application workflows: one model each.

These models cross the Temporal boundary (Pydantic data converter), so the API, the worker and
recorded histories all agree on them. Add fields with defaults only: running workflows replay
their histories against these definitions.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import ConfigDict, EmailStr, Field, model_validator

from contracts.models import DeliveryMethod, Letter, PrescreenFinding
from contracts.payload import Payload
from contracts.release import ReleaseFileStatus, SealedFile
from contracts.service import NoticeService, ServiceHow
from contracts.status import FINAL_STATUSES, Status  # noqa: F401  re-exported (one Status: contracts/status.py)
from clock import DueDate
from outcomes import OutcomeCode
from policy import PolicyProfile
from policy.intake import ApplicantType, Channel
from workcalendar import CalendarData, YearSchedule

Actor = str
ConsultationKind = Literal["third-party", "agency"]


class Strict(Payload):
    """Base of the workflow messages. Historical name: payloads tolerate unknown fields (issue 12 point 3);
    HTTP bodies built from these messages forbid them (api/schemas.py Body)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


# --- intake ---------------------------------------------------------------------------------


class Applicant(Strict):
    name: str = Field(min_length=1, max_length=200)
    type: ApplicantType = "natural-person"
    id_number: str | None = Field(default=None, max_length=40, description="身份证件号码 / 统一社会信用代码")
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=500)


class RequestedItem(Strict):
    description: str = Field(min_length=2, max_length=4000, description="所需政府信息的名称、文号或者便于查询的其他特征性描述")


class ApplicationInput(Strict):
    """Start input: everything fixed at intake, including the policy and the calendar it uses."""

    application_id: str
    channel: Channel
    received_on: date
    registered_at: datetime
    registered_by: Actor
    applicant: Applicant
    items: list[RequestedItem] = Field(min_length=1, max_length=50)
    delivery_method: DeliveryMethod
    policy: PolicyProfile
    calendar: CalendarData
    agency_name: str
    agency: str | None = Field(default=None, description="the agency's code on the platform (issue 25); None: the first")
    handler: Actor | None = None
    department: str | None = None
    receipt_evidence: str | None = Field(default=None, description=(
        "a receipt date outside the current year: the evidence named at registration (issue 24 point 9)"))
    listed_at_intake: bool = Field(default=False, description=(
        "the API stored the listing row and the registration event before answering (issue 15 point 2): "
        "the workflow's first database write waits for its first change"))


# --- staff actions (updates) ------------------------------------------------------------------


class AssignHandler(Strict):
    handler: Actor = Field(min_length=1)
    department: str | None = None
    by: Actor


class RequestSupplement(Strict):
    needed: list[str] = Field(min_length=1, description="补正: everything the applicant must supply, in one notice")
    deadline_on: date | None = Field(default=None, description="defaults to the policy's reasonable period")
    by: Actor


class SupplementReceived(Strict):
    received_on: date
    note: str = ""
    evidence: str = Field(default="", max_length=500,
                          description="how the receipt date is shown (邮戳、签收单、系统记录); required for a date before today")
    by: Actor


class DecideSupplementLapse(Strict):
    """Reg. 30: the supplement deadline passed; the handler or supervisor decides (nothing closes by itself)."""

    justified: bool = Field(description="正当理由: the applicant had good reason; a new deadline is given")
    reason: str = Field(min_length=2, max_length=2000, description="the good reason, or why there is none")
    new_deadline_on: date | None = Field(default=None, description="justified: the new reasonable deadline")
    by: Actor


class RequestExtension(Strict):
    days: int = Field(ge=1)
    reason: str = Field(min_length=2)
    by: Actor


class DecideExtension(Strict):
    approve: bool
    comment: str = ""
    by: Actor


class AskReasons(Strict):
    """Reg. 35: the quantity or frequency clearly exceeds a reasonable range; the applicant is asked why."""

    grounds: str = Field(min_length=2, max_length=2000,
                         description="what exceeds a reasonable range: the number of items, of applications, their frequency")
    by: Actor


class ReasonsReceived(Strict):
    """Reg. 35: the applicant's reasons, dated by their receipt at the agency."""

    received_on: date
    reasons: str = Field(min_length=1, max_length=5000)
    evidence: str = Field(default="", max_length=500,
                          description="how the receipt date is shown (邮戳、签收单、系统记录); required for a date before today")
    by: Actor


class DecideExcessive(Strict):
    """Reg. 35: the supervisor decides: reasons unreasonable (不予处理-4) or reasonable with a longer period."""

    reasonable: bool = Field(description="the reasons are reasonable: a longer reasonable period is set")
    reason: str = Field(min_length=2, max_length=2000, description="why the reasons are (not) reasonable")
    period_until: date | None = Field(default=None, description="reasonable: the last day of the longer period")
    by: Actor


class Consultee(Strict):
    kind: ConsultationKind
    name: str = Field(min_length=1)
    email: EmailStr | None = None
    address: str | None = None


class StartConsultation(Strict):
    consultee: Consultee
    item_nos: list[int] = Field(min_length=1)
    by: Actor


class HeardView(Strict):
    """A view heard before the public-interest decision (seed 002 art. 18): the applicant's or another's."""

    party: Literal["applicant", "other"]
    name: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=2, max_length=2000)


class OverrideObjection(Strict):
    """The head discloses despite a third party's objection (Reg. 32, RULES §5), on one of two grounds, recorded and
    counted apart: withholding would seriously affect the public interest, or the objection has no reasonable
    grounds (合理理由; issue 24 point 3) and so does not bind the agency."""

    consultation_id: str
    basis: Literal["public-interest", "grounds-not-reasonable"] = Field(
        default="public-interest", description="public-interest: 不公开会对公共利益造成重大影响; "
                                               "grounds-not-reasonable: 第三方不同意公开的理由不合理")
    reason: str = Field(min_length=4, description="why withholding would seriously harm the public interest, or why "
                                                  "the third party's grounds are not reasonable")
    heard: list[HeardView] = Field(default_factory=list, max_length=20,
                                   description="views heard besides the third party's own (recorded from its answer)")
    by: Actor


class ProposeDecision(Strict):
    item_no: int
    outcome: OutcomeCode
    reasons: str = ""
    referral: str | None = Field(default=None, description="无法提供-1: the competent agency and its contact")
    referral_agency: str | None = Field(default=None, max_length=20, description=(
        "无法提供-1 (Reg. 36(5)): the competent agency's code when it is on this platform (GET /api/v1/agencies): "
        "the applicant may then re-submit there in one step (issue 25 point 4)"))
    not_this_agency: bool = Field(
        default=False, description="无法提供-1 because the information is not this agency's to disclose (Reg. 36(5)), "
                                   "whether or not the competent agency can be named")
    earlier_application_id: str | None = Field(
        default=None, max_length=40, description="不予处理-2: the earlier, answered application this one repeats")
    provision: str | None = Field(default=None, max_length=1000,
                                  description="予以公开/部分公开: how, where and when it is provided (Reg. 40); "
                                              "defaults to the applicant's requested form")
    withheld_ground: OutcomeCode | None = Field(default=None, description="部分公开: the ground (不予公开-1…8) of the withheld part")
    published_at: str | None = Field(default=None, max_length=500,
                                     description="予以公开, already proactively disclosed: where (Reg. 36(1)); "
                                                 "unset: provided now (Reg. 36(2))")
    earlier_similarity: float | None = Field(default=None, description=(
        "不予处理-2: set by the API after checking the earlier application (same applicant, answered, matching item): "
        "the similarity score of the best matching item (issue 24 point 7); not part of the request body"))
    by: Actor


class SubmitForReview(Strict):
    by: Actor


class ReviewDecision(Strict):
    approve: bool
    comment: str = ""
    by: Actor
    draft_version: int | None = Field(default=None, description="the draft version reviewed; refused if it was edited since")


class SignReply(Strict):
    by: Actor


class ConfirmDelivery(Strict):
    delivered_on: date = Field(description="送达日期: the signed-for date (post), the pickup date, the download date")
    method: Literal["post", "pickup", "portal", "email", "disc", "inspection"]
    tracking_number: str | None = None
    note: str = ""
    by: Actor
    posted_on: date | None = Field(default=None, description="post: the day the letter was handed to the post office")
    received_by: str | None = Field(default=None, description="签收人 / 领取人")


class EditReplyDraft(Strict):
    """The handler's edit of the reply draft before the reviewer approves it."""

    body: str = Field(min_length=20, max_length=50_000)
    note: str = ""
    by: Actor


class ProposeFee(Strict):
    """Reg. 42: the handler proposes a fee only when quantity or frequency clearly exceeds a reasonable range."""

    standard: Literal["per-application", "per-page"]
    quantity: int = Field(ge=1, description="per-application: this application's ordinal for the applicant this month; per-page: pages")
    reason: str = Field(min_length=4, description="why the quantity or frequency clearly exceeds a reasonable range")
    by: Actor


class DecideFee(Strict):
    approve: bool
    comment: str = ""
    by: Actor


class FeeSettled(Strict):
    """Payment received, or the fee waived (减免)."""

    paid_on: date
    waived: bool = False
    note: str = ""
    by: Actor


class FeeState(Strict):
    standard: Literal["per-application", "per-page"]
    quantity: int
    amount_yuan: int
    basis: str
    reason: str
    proposed_by: Actor
    decision: Literal["pending", "approved", "refused"] = "pending"
    decided_by: Actor | None = None
    notice_sent_on: date | None = None
    pay_by: date | None = None
    paid_on: date | None = None
    waived: bool = False
    settled_by: Actor | None = None
    lapsed_on: date | None = None
    notice_served_on: date | None = Field(default=None, description="送达: the fee notice's receipt; pay_by counts from it")
    pay_by_basis: str = ""
    approved_on: date | None = Field(default=None, description="the supervisor's approval; the notice is issued that day")
    service: NoticeService | None = Field(default=None, description="the fee notice: dispatched (the clock stops), served")


class LetterServed(Strict):
    """Proof of service of a supplement or fee notice: its receipt date starts the applicant's window."""

    key: str = Field(description="the letter's key, e.g. '<application_id>:fee'")
    served_on: date = Field(description="送达日期: accepted by the mail server, signed for, picked up, downloaded")
    method: ServiceHow
    evidence: str = Field(default="", max_length=500, description="what shows it: tracking number, signatory, Message-ID")
    by: Actor


class NoticeEvent(Strict):
    """What happened to a notice on its way (RULES §3 Service): dispatched (posted, handed to a courier), unservable
    (bounced, returned), or published for 公告送达 (the last resort, deemed served after the agency's days)."""

    key: str = Field(description="the letter's key, e.g. '<application_id>:fee'")
    event: Literal["dispatched", "unservable", "public-notice"]
    on: date = Field(description="交邮 / 退回 / 公告 date")
    detail: str = Field(default="", max_length=500, description="tracking number, the bounce's reason, where published")
    by: Actor


class Withdraw(Strict):
    reason: str = ""
    by: Actor = "applicant"


# --- facts (signals) --------------------------------------------------------------------------


class CalendarYearPublished(Strict):
    schedule: YearSchedule


# --- consultation child workflow -----------------------------------------------------------


class ConsultationInput(Strict):
    application_id: str
    consultation_id: str
    consultee: Consultee
    items: list[tuple[int, str]]
    agency_name: str
    received_on: date
    window_ends_on: date | None = Field(
        default=None, description="before issue 11: 15 working days from the letter's creation; now counted from receipt by the child")
    calendar: CalendarData | None = Field(default=None, description="the application's calendar: the window is counted in the child")
    consultation_days: int = Field(default=15, description="Reg. 32, 34: 15 working days from receipt of the letter")
    dispatched_on: date | None = Field(default=None, description="a restarted consultation: the letter's known dispatch date")
    served_on: date | None = Field(default=None, description="a restarted consultation: the letter's known receipt date")
    service_evidence: str = ""


class ConsultationAnswer(Strict):
    position: Literal["consent", "objection"]
    reasons: str = ""
    answered_on: date | None = Field(default=None, description="before issue 11: the answer's date; now `received_on`")
    received_on: date | None = Field(
        default=None, description="the day the agency received the answer (postmark, signed-for date), entered by staff; "
                                  "an answer through the third party's link is received the day it is submitted")
    entered_by: Actor | None = Field(default=None, description="the staff member who entered a paper answer; none: the link")
    evidence: str = Field(default="", max_length=500, description="e.g. 挂号信签收单 / 邮戳日期")

    @model_validator(mode="after")
    def objection_needs_reasons(self) -> "ConsultationAnswer":
        if self.position == "objection" and len(self.reasons.strip()) < 2:
            raise ValueError("an objection must give its reasons (Reg. 32)")
        return self


class ConsultationResult(Strict):
    consultation_id: str
    position: Literal["consent", "objection", "silence"]
    reasons: str = ""
    sent_on: date
    window_ends_on: date
    ended_on: date
    served_on: date | None = None
    answer_received_on: date | None = None
    answer_entered_by: Actor | None = None
    answer_evidence: str = ""


class ConsultationProgress(Strict):
    """Child → application: the letter was sent (the clock stops) and/or served (the window is counted)."""

    consultation_id: str
    dispatched_on: date
    served_on: date | None = None
    window_ends_on: date
    window_provisional: bool = Field(description="receipt not yet known: counted from dispatch for now")
    window_basis: str
    service_evidence: str = ""
    unservable_on: date | None = None
    unservable_reason: str = ""


class RecordService(Strict):
    """A consultation letter's way (RULES §3 Service): handed to the post, signed for (or the consultee's mail system's
    delivery report), unservable (bounced, returned), or published for 公告送达 after it proved unservable."""

    dispatched_on: date | None = Field(default=None, description="寄出日期: handed to the post / delivered by hand")
    served_on: date | None = Field(default=None, description="送达日期: the post's signed-for date, or the hand-over date")
    how: ServiceHow | None = Field(default=None, description="the proof of receipt: post (default), hand, email, reply")
    evidence: str = Field(default="", max_length=500, description="tracking number, signature, etc.")
    unservable_on: date | None = Field(default=None, description="退回 / 退信: the day it proved unservable")
    unservable_reason: str = Field(default="", max_length=500)
    published_on: date | None = Field(default=None, description="公告送达: the day the notice was published")
    published_where: str = Field(default="", max_length=200)
    by: Actor


class LateConsultationAnswer(Strict):
    """An answer received within the window but entered after the window was closed as silence."""

    consultation_id: str
    position: Literal["consent", "objection"]
    reasons: str = ""
    received_on: date
    evidence: str = Field(default="", max_length=500)
    by: Actor

    @model_validator(mode="after")
    def objection_needs_reasons(self) -> "LateConsultationAnswer":
        if self.position == "objection" and len(self.reasons.strip()) < 2:
            raise ValueError("an objection must give its reasons (Reg. 32)")
        return self


class RestartConsultation(Strict):
    consultation_id: str
    by: Actor


class ConsultationView(Strict):
    consultation_id: str
    consultee_kind: ConsultationKind
    consultee_name: str
    item_descriptions: list[str]
    sent_on: date | None
    window_ends_on: date | None
    answered: bool
    served_on: date | None = None
    window_provisional: bool = False
    window_basis: str = ""
    answer_received_on: date | None = None
    answer_entered_by: Actor | None = None
    # The consultation letter's failed tries while the mail server refuses (issue 12 point 10).
    letter_attempts: int = 0
    letter_last_error: str = ""
    service: NoticeService | None = None


# --- the whole state, as a query returns it ------------------------------------------------


class Proposal(Strict):
    outcome: OutcomeCode
    reasons: str = ""
    referral: str | None = None
    referral_agency: str | None = None  # issue 25 point 4: the competent agency on this platform
    not_this_agency: bool = False
    earlier_application_id: str | None = None
    provision: str | None = None
    withheld_ground: OutcomeCode | None = None
    published_at: str | None = None  # 予以公开 under Reg. 36(1): where it was proactively disclosed (issue 24 point 5)
    earlier_similarity: float | None = None  # 不予处理-2: the matching earlier item's score (issue 24 point 7)
    # Issue 24 point 8: an outcome resting on a supervisor's decision (Reg. 35 不予处理-4, Reg. 30 其他处理-1) is drafted
    # by the handler (`by`) from that decision: the deciding supervisor is not its drafter and may sign it.
    decided_by: Actor | None = None
    by: Actor
    at: datetime


class ItemView(Strict):
    item_no: int
    description: str
    proposal: Proposal | None = None
    final_outcome: OutcomeCode | None = None
    objection_from: list[str] = Field(default_factory=list, description="consultations that objected")
    overridden: bool = False  # the public-interest override (Reg. 32)
    objection_unreasonable: bool = False  # the objection had no reasonable grounds (issue 24 point 3; not an override)


class ConsultationState(Strict):
    consultation_id: str
    kind: ConsultationKind
    consultee_name: str
    consultee_email: str | None = None
    item_nos: list[int]
    sent_on: date | None = Field(description="the letter's dispatch date: the clock stops from it (None: not sent yet)")
    window_ends_on: date | None = Field(description="last day of the consultee's 15 working days from receipt")
    position: Literal["pending", "consent", "objection", "silence"] = "pending"
    reasons: str = ""
    ended_on: date | None = None
    override_reason: str | None = None
    override_by: Actor | None = None
    override_basis: Literal["public-interest", "grounds-not-reasonable"] = "public-interest"  # issue 24 point 3
    override_heard: list[str] = Field(default_factory=list, description="whose views were heard before the override")
    from_receipt: bool = Field(default=False, description="issue 11: window counted from the letter's receipt")
    created_on: date | None = None
    served_on: date | None = Field(default=None, description="the letter's receipt date (送达)")
    service_evidence: str = ""
    window_provisional: bool = False
    window_basis: str = ""
    answer_received_on: date | None = None
    answer_entered_by: Actor | None = None
    answer_evidence: str = ""
    unservable_on: date | None = Field(default=None, description="the letter proved unservable (bounce, returned)")
    unservable_reason: str = ""
    child_status: Literal["running", "ended", "failed"] = "running"
    failure: str | None = None
    restarts: int = 0


class ExtensionState(Strict):
    days: int
    reason: str
    requested_by: Actor
    requested_on: date
    decision: Literal["pending", "approved", "refused"] = "pending"
    decided_by: Actor | None = None
    decided_on: date | None = None
    comment: str = ""


class ExcessiveState(Strict):
    """Reg. 35: asked for reasons, their receipt, and the supervisor's decision."""

    grounds: str
    asked_by: Actor
    asked_on: date
    reasons_by: date = Field(description="the last day for the applicant's reasons (from the letter's date)")
    reasons_received_on: date | None = None
    reasons: str = ""
    reasons_entered_by: Actor | None = None
    reasons_evidence: str = ""
    lapsed_on: date | None = Field(default=None, description="the reasons' deadline passed with no reasons recorded")
    decision: Literal["pending", "unreasonable", "reasonable"] = "pending"
    decided_by: Actor | None = None
    decided_on: date | None = None
    decision_reason: str = ""
    period_until: date | None = None
    service: NoticeService | None = Field(default=None, description="the request for reasons: its period runs from receipt")


class SupplementState(Strict):
    needed: list[str]
    requested_by: Actor
    notice_sent_on: date
    deadline_on: date
    received_on: date | None = None
    lapsed_on: date | None = Field(default=None, description="issue 11: the deadline passed; awaiting the handler's decision")
    earlier_deadlines: list[date] = Field(default_factory=list, description="deadlines replaced for a good reason")
    lapse_decision: Literal["new-deadline", "abandoned"] | None = None
    lapse_decided_by: Actor | None = None
    lapse_reason: str = ""
    received_evidence: str = ""
    window_days: int | None = Field(default=None, description="working days to supplement, counted from the notice's receipt")
    notice_issued_on: date | None = Field(default=None, description="the current notice's date (a renewed deadline's)")
    notice_served_on: date | None = Field(default=None, description="送达: the current notice's receipt date")
    deadline_basis: str = ""
    service: NoticeService | None = Field(default=None, description="the current notice: its deadline runs from receipt")


class TimelineEntry(Strict):
    seq: int
    at: datetime
    kind: str
    actor: Actor
    summary: str


class LetterView(Strict):
    """One letter the application sent or is sending: what staff see of its delivery."""

    key: str
    kind: str
    recipient_name: str
    method: str
    status: Literal["composing", "pending", "sending", "sent", "failed", "uncertain", "awaiting-staff", "delivered"] = "composing"
    document_number: str | None = None
    pdf_sha256: str | None = None
    attachments: int = 0
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    delivered_on: date | None = None
    tracking_number: str | None = None


class PendingAction(Strict):
    action: str
    role: Literal["registrar", "handler", "reviewer", "supervisor", "applicant", "third-party", "agency"]
    description: str
    due_on: date | None = None


class PausedInterval(Strict):
    label: str
    started_on: date
    ended_on: date | None
    expected_end_on: date | None


class ApplicationView(Strict):
    application_id: str
    status: Status
    channel: Channel
    received_on: date
    registered_at: datetime
    policy: str
    applicant_name: str
    delivery_method: DeliveryMethod
    handler: Actor | None
    department: str | None
    items: list[ItemView]
    due: DueDate | None = Field(description="None while the applicant is supplementing: the period restarts on receipt")
    working_days_left: int | None
    as_of: date
    overdue: bool
    paused_intervals: list[PausedInterval]
    supplement: SupplementState | None
    supplement_notice_by: date
    extension: ExtensionState | None
    consultations: list[ConsultationState]
    prescreen_findings: list[PrescreenFinding]
    reply_draft: Letter | None
    replied_on: date | None
    delivered_on: date | None
    timeline: list[TimelineEntry]
    pending_actions: list[PendingAction]
    letters: list[LetterView] = Field(default_factory=list)
    reply_draft_version: int = 0
    reply_approved_sha256: str | None = Field(default=None, description="checksum of the approved reply text")
    fee: FeeState | None = None
    excessive: ExcessiveState | None = Field(default=None, description="Reg. 35: reasons asked and decided")
    calendar_version: str | None = Field(default=None, description="the calendar its dates are counted on")
    calendar_years: list[int] = Field(default_factory=list, description="the years of that calendar")
    release_files: list[ReleaseFileStatus] = Field(
        default_factory=list, description="issue 22: each released file and what stands in the way of releasing it")
    release_reading: bool = Field(default=False, description="the released files' state is being read again")
    release_sealed: list[SealedFile] = Field(default_factory=list,
                                             description="at signature: exactly which file versions leave, per item")
    release_manifest_sha256: str | None = None
    release_delivery: str | None = Field(default=None, description="attached | link | none")


class CalendarCatchUp(Strict):
    """catch_up_calendar (issue 15 point 4): the agency's calendar, for an application that has not yet counted
    on a year published since (the API sends it before showing the application)."""

    calendar: CalendarData


class StateQuery(Strict):
    today: date | None = Field(default=None, description="the date to count working days left from; defaults to the workflow's clock")


class ApplicationOutcome(Strict):
    """The workflow's result: how the application ended."""

    application_id: str
    status: Status
    items: list[ItemView]
    replied_on: date | None
    due_on: date | None
    on_time: bool | None

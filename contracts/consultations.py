"""Consultations (征求意见, Reg. 32, 34): the application's updates, the consultation child workflow's input, answer,
progress and result, the objection's override, and what staff see of each."""

from datetime import date
from typing import Literal

from pydantic import EmailStr, Field, model_validator

from contracts.payload import Actor, Strict
from contracts.service import NoticeService, ServiceHow
from workcalendar import CalendarData


ConsultationKind = Literal["third-party", "agency"]


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

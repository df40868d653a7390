"""The reply: proposed decisions per item, the draft's edit, review and signature, its letters and delivery."""

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from contracts.payload import Actor, Strict
from outcomes import OutcomeCode


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


class EditReplyDraft(Strict):
    """The handler's edit of the reply draft before the reviewer approves it."""

    body: str = Field(min_length=20, max_length=50_000)
    note: str = ""
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

"""Corrections of government information about a person (Reg. 41; seed 002 art. 19): workflows/corrections.py."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from contracts.proactive import AlertRecord, HistoryEntry
from workcalendar import CalendarData


class CorrectionInput(BaseModel):
    correction_id: str
    person_name: str
    email: str | None = None
    address: str | None = None
    record: str
    correction: str
    evidence: str = ""
    channel: Literal["online", "desk"]
    received_on: date
    reply_days: int
    calendar: CalendarData
    agency_name: str
    registered_by: str
    supervisor_email: str | None = None


class CorrectRecord(BaseModel):
    by: str
    result: str = Field(description="what was corrected")


class ForwardCorrection(BaseModel):
    by: str
    agency: str = Field(description="the competent agency")
    reason: str = ""


class RefuseCorrection(BaseModel):
    """Reg. 41 (RULES §7): 不予更正 when the record is accurate or the evidence does not show it wrong."""

    by: str
    record_accurate: bool = Field(description="True: the record is accurate; False: the evidence does not show it wrong")
    reasons: str = Field(description="why, as the letter states it")


class ReviewCorrectionLetter(BaseModel):
    """The confidentiality review of the decision's letter (RULES §14: 谁签发、谁把关) before it goes out."""

    by: str
    approve: bool
    comment: str = ""


class CorrectionView(BaseModel):
    correction_id: str
    person_name: str
    record: str
    correction: str
    evidence: str
    channel: str
    received_on: date
    due_on: date
    due_steps: list[str]
    status: Literal["handling", "in-review", "corrected", "forwarded", "refused"]
    result: str
    forwarded_to: str | None
    letter_subject: str | None
    # Issue 24 point 4: the decision's letter waits for the confidentiality review: its text and who decided.
    letter_draft: str | None = None
    decided_by: str | None = None
    alerts: list[AlertRecord]
    history: list[HistoryEntry]


class CorrectionRecord(BaseModel):
    id: str
    person_name: str
    email: str | None
    address: str | None
    record: str
    correction: str
    evidence: str
    channel: str
    received_on: date
    due_on: date
    status: str
    result: str
    forwarded_to: str | None

"""What the report-grade record of an application holds (RULES §10), as the workflow hands it over. Pure.

Written once per application by the `record_report_outcome` activity when the reply is signed (or
the abandonment reply issued) or the application is withdrawn; never rewritten.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel

from outcomes import OutcomeCode

Ending = Literal["replied", "abandoned", "withdrawn"]


class ItemOutcome(BaseModel):
    item_no: int
    outcome: OutcomeCode


class ReportRecordInput(BaseModel):
    application_id: str
    ending: Ending
    received_on: date
    applicant_type: str
    department: str | None = None
    handler: str | None = None
    replied_on: date | None = None
    concluded_on: date
    outcome: OutcomeCode
    items: list[ItemOutcome]
    due_on: date | None = None
    on_time: bool | None = None
    extended: bool = False
    review_returns: int = 0
    signed_by: str | None = None

"""The whole state of one disclosure application workflow, as one serialisable model.

What the workflow's instance attributes used to hold, in one Pydantic model so that the pure rules
(application/rules.py) and the projections (workflows/application_views.py) read one
thing, and so that continue-as-new can later carry the whole state through the data converter.
Runtime-only things (the asyncio lock, the in-flight letter counter, the "clock changed" wake-up
flag) stay on the workflow.
"""

from datetime import date

from pydantic import BaseModel, Field, PrivateAttr

from clock import DueDate
from contracts.models import Letter, PrescreenFinding
from contracts.release import ReleaseFileStatus, SealReleaseResult
from workcalendar import CalendarData, WorkCalendar
from contracts.application_view import TimelineEntry
from contracts.consultations import ConsultationState, Consultee
from contracts.fees import FeeState
from contracts.intake import ApplicationInput, SupplementState
from contracts.period import ExcessiveState, ExtensionState
from contracts.reply import ItemView, LetterView
from contracts.status import Status


class ApplicationState(BaseModel):
    inp: ApplicationInput
    calendar_data: CalendarData
    phase: Status = "handling"
    handler: str | None = None
    department: str | None = None
    items: list[ItemView] = Field(default_factory=list)
    supplement: SupplementState | None = None
    closing_unsupplemented: bool = False  # 其他处理-1 decided: the reply goes through review and signature
    fee: FeeState | None = None
    restarted_on: date | None = None
    extension: ExtensionState | None = None
    excessive: ExcessiveState | None = None  # Reg. 35
    consultations: list[ConsultationState] = Field(default_factory=list)
    consultees: dict[str, Consultee] = Field(default_factory=dict)
    findings: list[PrescreenFinding] = Field(default_factory=list)
    reply_draft: Letter | None = None
    draft_version: int = 0
    approved_sha256: str | None = None
    letters: list[LetterView] = Field(default_factory=list)
    review_comment: str = ""
    replied_on: date | None = None
    delivered_on: date | None = None
    overdue: bool = False
    alerts_raised: set[str] = Field(default_factory=set)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    persisted_seq: int = 0
    record_version: int = 0  # version of the last record sent to the database (PERSIST_IN_BACKGROUND)
    supplement_notice_by: date | None = None
    due: DueDate | None = None
    # Issue 22: the released files' state as last read (an activity, after each `release_changed` signal), for the
    # signature's validator; True while a read is due or running. The seal written at signature.
    release_files: list[ReleaseFileStatus] = Field(default_factory=list)
    release_reading: bool = False
    release_seal: SealReleaseResult | None = None

    _cal: WorkCalendar | None = PrivateAttr(default=None)
    _cal_of: object = PrivateAttr(default=None)

    @property
    def cal(self) -> WorkCalendar:
        """The working-day calendar of calendar_data (derived, rebuilt when calendar_data is replaced)."""
        if self._cal is None or self._cal_of is not self.calendar_data:
            self._cal, self._cal_of = WorkCalendar(self.calendar_data), self.calendar_data
        return self._cal

"""HTTP request and response bodies. Workflow messages are reused where the shapes are the same."""

from datetime import date, datetime
from types import UnionType
from typing import Generic, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from core import clock
from identity import IdentityError, checked_identity, default_document

from contracts.application import ApplicationKey, ApplicationListed
from contracts.models import DeliveryMethod
from policy.intake import Channel
from contracts.consultations import (
    Consultee, HeardView, OverrideObjection, RecordService, RestartConsultation, StartConsultation,
)
from contracts.fees import DecideFee, FeeSettled, ProposeFee
from contracts.intake import (
    Applicant, AssignHandler, DecideSupplementLapse, RequestedItem, RequestSupplement, SupplementReceived, Withdraw,
)
from contracts.period import AskReasons, DecideExcessive, DecideExtension, ReasonsReceived, RequestExtension
from contracts.reply import ConfirmDelivery, ProposeDecision, ReviewDecision, SignReply, SubmitForReview
from contracts.payload import Strict

T = TypeVar("T")


def _no_nul(value: object) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("内容含有不允许的控制字符")
    if isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key)
            _no_nul(item)
    elif isinstance(value, list):
        for item in value:
            _no_nul(item)


class Body(Strict):
    """Request bodies: strict, and no NUL characters anywhere (PostgreSQL text cannot hold them).

    Unlike the Temporal payloads they are built from (extra="ignore"), an HTTP body refuses unknown
    fields: 422 (issue 12 point 3)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: object) -> object:
        _no_nul(data)
        return data


# Strict HTTP versions of the workflow messages nested inside request bodies.
IdDocument = Literal["resident-id", "credit-code", "passport", "hk-macao-permit", "taiwan-permit",
                     "foreign-permanent-residence"]


class ApplicantIn(Applicant):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id_type: IdDocument | None = Field(default=None, description=(
        "证件类型; absent: 居民身份证 for a natural person, 统一社会信用代码 for an organisation"))

    @model_validator(mode="wrap")
    @classmethod
    def _identity_checked(cls, data: object, handler):
        """Issue 23 point 5, RULES §2 (Reg. 29): the identity document is required and checked by its type
        (identity.documents); the number is kept normalised, so the fee count counts the validated number.
        The refusal is the field's own (`applicant.id_number`), in words the applicant understands."""
        applicant = handler(data)
        document = applicant.id_type or default_document(applicant.type)
        try:
            number = checked_identity(document, applicant.id_number, applicant.type, clock.today())
        except IdentityError as wrong:
            raise ValidationError.from_exception_data(cls.__name__, [InitErrorDetails(
                type=PydanticCustomError("value_error", str(wrong)), loc=("id_number",),
                input=applicant.id_number)]) from None
        applicant.id_number = number
        return applicant


class RequestedItemIn(RequestedItem):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ConsulteeIn(Consultee):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class HeardViewIn(HeardView):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


STRICT_IN = {Applicant: ApplicantIn, RequestedItem: RequestedItemIn,
             Consultee: ConsulteeIn, HeardView: HeardViewIn}


def _strict_annotation(tp):
    """The annotation with every nested workflow message replaced by its strict HTTP version."""
    if tp in STRICT_IN:
        return STRICT_IN[tp]
    args = get_args(tp)
    if not args:
        return tp
    new = tuple(_strict_annotation(a) for a in args)
    if new == args:
        return tp
    origin = get_origin(tp)
    if origin is Union or origin is UnionType:
        return Union[new]  # noqa: UP007
    return origin[new if len(new) > 1 else new[0]]


def require_delivery_address(applicant: Applicant, method: str) -> None:
    """The reply must be deliverable the way the applicant chose (Reg. 29: 获取信息的方式)."""
    if method == "email" and not applicant.email:
        raise ValueError("选择电子邮件答复的，须填写申请人电子邮箱")
    if method == "post" and not applicant.address:
        raise ValueError("选择邮寄答复的，须填写申请人通讯地址")


class ApplicationCreate(Body):
    """What the intake form or the registration desk submits."""

    channel: Channel
    received_on: date = Field(description="收到申请之日 (Reg. 31): the date the channel's receipt event happened")
    receipt_evidence: str | None = Field(default=None, max_length=500, description=(
        "收到日期的证据 (e.g. 挂号信签收记录): required for a receipt date outside the current year (issue 24 point 9)"))
    applicant: ApplicantIn
    items: list[RequestedItemIn] = Field(min_length=1, max_length=50)
    delivery_method: DeliveryMethod
    handler: str | None = Field(default=None, max_length=100)
    department: str | None = Field(default=None, max_length=100)
    resubmit: bool = Field(default=False, description=(
        "issue 23 point 6: the same applicant's same items within a day are refused (409, naming the earlier "
        "number) unless the applicant confirms they mean to apply again"))
    agency: str | None = Field(default=None, max_length=20, description=(
        "受理机关代码 (issue 25; GET /api/v1/agencies): the registration desk's own agency if omitted"))

    @model_validator(mode="after")
    def delivery_needs_an_address(self) -> "ApplicationCreate":
        require_delivery_address(self.applicant, self.delivery_method)
        return self


class PublicApplicationCreate(Body):
    """The public online form: the applicant's own data and request; the office sets everything else."""

    applicant: ApplicantIn
    items: list[RequestedItemIn] = Field(min_length=1, max_length=50)
    delivery_method: DeliveryMethod
    resubmit: bool = Field(default=False, description="issue 23 point 6: yes, the same request again (see ApplicationCreate)")
    agency: str | None = Field(default=None, max_length=20, description=(
        "受理机关代码 (issue 25; GET /api/v1/agencies): required when the platform has more than one agency"))

    @model_validator(mode="after")
    def delivery_needs_an_address(self) -> "PublicApplicationCreate":
        require_delivery_address(self.applicant, self.delivery_method)
        return self


class Out(BaseModel):
    """Responses: a field not declared here can never leave the API."""

    model_config = ConfigDict(extra="forbid")


class ApplicationCreated(Out):
    application_id: str
    query_code: str = Field(description="查询码: with the application number, the applicant's only key; shown once")
    received_on: date
    due_on: date
    due_provisional: bool
    due_explanation: list[str]
    calendar_version: str


class ApplicationSummary(ApplicationListed, ApplicationKey):
    """An item of the supervisors' list: the listing fields of the row (contracts/application.py) and its number."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)  # every field is in every answer

    @classmethod
    def of_row(cls, row) -> "ApplicationSummary":
        """From a db.models.Application row (its number is the column `id`)."""
        return cls(application_id=row.id, **{name: getattr(row, name) for name in ApplicationListed.model_fields})


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="how many match; counted up to 10,000 (see total_is_lower_bound)")
    offset: int
    limit: int
    total_is_lower_bound: bool = Field(False, description="true: at least `total` match (the count stopped there)")
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page; null on the last page")


class DeadlineAnswer(BaseModel):
    received: date
    days: int
    start_on: date
    due_on: date
    provisional: bool
    calendar_version: str
    explanation: list[str]


class CalendarYearIn(Body):
    holidays: list[date]
    makeup_workdays: list[date] = []
    source: str = Field(min_length=2, description="e.g. 国务院办公厅关于2027年部分节假日安排的通知")
    published_on: date | None = None


class CalendarYearPublishedOut(BaseModel):
    year: int
    calendar_version: str
    open_applications_notified_by: str = Field(description="the workflow id telling open applications to recompute")


class CalendarYearsOut(BaseModel):
    calendar_version: str
    published_years: list[int]


class EventOut(BaseModel):
    seq: int
    at: datetime
    kind: str
    actor: str
    summary: str


# --- staff action bodies: the workflow messages without `by` (who acted comes from the token) ----


def _without_by(message: type[BaseModel], *, internal: tuple[str, ...] = ()) -> type[Strict]:
    """The request body of a staff action: the message without `by` (the logged-in user) nor the fields the API fills."""
    fields = {name: (_strict_annotation(info.annotation), info) for name, info in message.model_fields.items()
              if name != "by" and name not in internal}
    body = create_model(f"{message.__name__}Body", __base__=Body, **fields)
    body.__doc__ = message.__doc__ or f"{message.__name__} (the acting user is the logged-in one)"
    return body


AssignBody = _without_by(AssignHandler)
RequestSupplementBody = _without_by(RequestSupplement)
SupplementReceivedBody = _without_by(SupplementReceived)
DecideSupplementLapseBody = _without_by(DecideSupplementLapse)
RequestExtensionBody = _without_by(RequestExtension)
DecideExtensionBody = _without_by(DecideExtension)
AskReasonsBody = _without_by(AskReasons)
ReasonsReceivedBody = _without_by(ReasonsReceived)
DecideExcessiveBody = _without_by(DecideExcessive)
StartConsultationBody = _without_by(StartConsultation)
OverrideObjectionBody = _without_by(OverrideObjection)
RestartConsultationBody = _without_by(RestartConsultation)
RecordServiceBody = _without_by(RecordService)
ProposeDecisionBody = _without_by(ProposeDecision, internal=("earlier_similarity",))
SubmitForReviewBody = _without_by(SubmitForReview)
ReviewDecisionBody = _without_by(ReviewDecision)
SignReplyBody = _without_by(SignReply)
ConfirmDeliveryBody = _without_by(ConfirmDelivery)
WithdrawBody = _without_by(Withdraw)
ProposeFeeBody = _without_by(ProposeFee)
DecideFeeBody = _without_by(DecideFee)
FeeSettledBody = _without_by(FeeSettled)


# --- accounts ----------------------------------------------------------------------------------

RoleName = Literal["registrar", "handler", "reviewer", "supervisor", "admin"]  # what an agency's admin may give
# Shown, not given: the platform's 主管部门 (issue 25; only `admin.py create-oversight` makes it).
ShownRole = Literal["registrar", "handler", "reviewer", "supervisor", "admin", "oversight"]
Username = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class TokenOut(Out):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int


class UserOut(Out):
    """A staff account as the API shows it: never its password hash or token version."""

    username: str
    full_name: str
    roles: list[ShownRole]
    department: str | None
    active: bool


class UserCreate(Body):
    username: str = Username
    password: str = Field(min_length=12, max_length=256)
    roles: list[RoleName] = Field(min_length=1)
    department: str | None = Field(default=None, max_length=100)
    full_name: str = Field(default="", max_length=100)

    @model_validator(mode="wrap")
    @classmethod
    def _handler_has_a_department(cls, data: object, handler):
        """Issue 23 point 10: a handler sees only their 科室's applications, so one without a 科室 would see none."""
        user = handler(data)
        if "handler" in user.roles and not user.department and not {"registrar", "reviewer", "supervisor"} & set(user.roles):
            raise ValidationError.from_exception_data(cls.__name__, [InitErrorDetails(
                type=PydanticCustomError("value_error", "承办人员须填写所属科室（承办人只能看到本科室的申请）"),
                loc=("department",), input=user.department)])
        return user


class UserUpdate(Body):
    roles: list[RoleName] | None = Field(default=None, min_length=1)
    department: str | None = Field(default=None, max_length=100)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=12, max_length=256)
    full_name: str | None = Field(default=None, max_length=100)


# --- applicants and third parties ----------------------------------------------------------------


class ApplicantItem(Out):
    item_no: int
    description: str
    outcome: str | None = Field(description="the determination, once the reply has been sent")


class ApplicantStep(Out):
    at: datetime
    what: str


class ApplicantSupplement(Out):
    needed: list[str]
    deadline_on: date = Field(description="the deadline: counted from the notice's receipt once that is proven")
    received_on: date | None
    window_days: int | None = Field(default=None, description="working days to supplement, from the notice's receipt")
    notice_served_on: date | None = Field(default=None, description="the day the applicant received the notice (送达)")


class ApplicantView(Out):
    """What an applicant sees with number and query code: no staff names, findings or comments."""

    application_id: str
    status: str
    status_text: str
    received_on: date
    items: list[ApplicantItem]
    due_on: date | None
    due_provisional: bool
    due_explanation: list[str]
    working_days_left: int | None
    paused: bool
    extended: bool
    supplement: ApplicantSupplement | None
    replied_on: date | None
    reply_available: bool
    timeline: list[ApplicantStep]


class ApplicantSupplementIn(Body):
    note: str = Field(min_length=1, max_length=4000, description="补正内容")


class ApplicantWithdrawIn(Body):
    reason: str = Field(default="", max_length=1000)


class ReplyLetterOut(Out):
    application_id: str
    replied_on: date | None
    subject: str
    text: str
    pdf_url: str = Field(description="download the signed reply PDF here, with the same query code")


class ThirdPartyView(Out):
    consultee_name: str
    item_descriptions: list[str]
    sent_on: date | None
    window_ends_on: date | None
    answered: bool
    window_provisional: bool = False


class CodecPayload(BaseModel):
    metadata: dict[str, str] = Field(default_factory=dict, max_length=20)
    data: str = ""


class CodecBody(BaseModel):
    payloads: list[CodecPayload] = Field(max_length=1000)


class ThirdPartyAnswerBody(Body):
    """A third party's answer through its link: no date (it counts from the day the agency receives it)."""

    position: Literal["consent", "objection"]
    reasons: str = Field(default="", max_length=4000)

    @model_validator(mode="after")
    def objection_needs_reasons(self) -> "ThirdPartyAnswerBody":
        if self.position == "objection" and len(self.reasons.strip()) < 2:
            raise ValueError("不同意公开的，须说明理由（条例第三十二条）")
        return self


class ConsultationAnswerBody(Body):
    """A paper answer staff enter: the day the agency received it (邮戳、签收日期) and its evidence; who entered it is the token's user."""

    position: Literal["consent", "objection"]
    reasons: str = Field(default="", max_length=4000)
    received_on: date | None = Field(default=None, description="本机关收到意见之日（邮戳或签收日期）；不填为今天")
    evidence: str = Field(default="", max_length=500, description="如：挂号信签收单、邮戳日期")

    @model_validator(mode="after")
    def objection_needs_reasons(self) -> "ConsultationAnswerBody":
        if self.position == "objection" and len(self.reasons.strip()) < 2:
            raise ValueError("不同意公开的，须说明理由（条例第三十二条）")
        return self

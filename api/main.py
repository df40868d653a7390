"""The FastAPI application: thin HTTP translation over workflows (actions) and the database (lists)."""

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from opentelemetry.trace import TracerProvider
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api.idempotency import IdempotencyKeys
from api.middleware import AuditTrail, BodySizeLimit, CodecCORS
from api.pages import mount_pages
from api.registration import RegistrationWrites
from api.routes import applicant, applications, auth, calendar, codec, consultations, health, letters, release, third_party
from api.routes import reports
from api.routes import corrections, proactive
from api.routes import fees, guidance  # issue 11 points 12, 15
from api.routes import mail_returns
from api.routes import participation  # issue 26
from api.routes import assignees  # issue 23 point 1
from api.routes import agencies, oversight  # issue 25
from api.tenancy import AgencyScope, agency_guard
from api.security import RateLimiter
from core.codec import codec_from_spec
from core.config import Settings, get_settings
from core.observability import configure_logging, configure_tracing, install_api_metrics, instrument_app
from core.temporal import connect
from db.session import init_db, make_engine
from services.agencies import ensure_first_agency
from services.calendar import CalendarSource
from workcalendar import WorkCalendar

log = logging.getLogger("disclosure.api")


def create_app(
    settings: Settings | None = None,
    *,
    client: Client | None = None,
    engine: Engine | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """Tests pass a client and engine; the running system lets the lifespan make them.

    The running system (no client given) also sets up JSON logs and the process's tracer
    provider; tests keep pytest's logging and may pass their own `tracer_provider`.
    """
    settings = settings or get_settings()
    settings.require_jwt_secret()  # refuses to start without it
    settings.refuse_example_values()  # issue 24 point 6: nor on example values, outside the embedded system
    temporal_codec = codec_from_spec(settings.codec_keys.get_secret_value()) if settings.codec_keys else None
    if client is None:
        configure_logging(settings.log_level)
        tracer_provider = tracer_provider or configure_tracing("disclosure-api", otlp_endpoint=settings.otlp_endpoint)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if getattr(app.state, "temporal", None) is None:
            app.state.temporal = await connect(settings)
        # Another replica's or the admin command's publication reaches this process within seconds.
        refresher = asyncio.create_task(app.state.calendar.keep_fresh(settings.calendar_refresh_seconds))
        try:
            yield
        finally:
            refresher.cancel()

    app = FastAPI(
        dependencies=[Depends(agency_guard)],  # issue 25: another agency's object is 404 on every route
        title="政府信息公开申请办理 API",
        version="0.1.0",
        description="Disclosure applications (依申请公开) as durable workflows.",
        lifespan=lifespan,
    )
    engine = engine or make_engine(settings.database_url)
    init_db(engine)
    ensure_first_agency(engine, settings)  # issue 25: the installation's own agency, from the settings
    app.state.settings, app.state.engine, app.state.temporal = settings, engine, client
    app.state.calendar = CalendarSource(engine)
    app.state.registration = RegistrationWrites(engine)
    app.state.rate_limiter = RateLimiter()
    app.state.temporal_codec = temporal_codec

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if wants_page(request):
            return error_page(request, 500, "系统内部错误，操作未完成，请稍后重试或联系管理员")
        return JSONResponse(
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
            content={"detail": "系统内部错误，操作未完成，请稍后重试或联系管理员"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) and not exc.detail.isascii() else GENERIC.get(
            exc.status_code, "请求未能完成")
        if wants_page(request):
            return error_page(request, exc.status_code, detail)
        return JSONResponse(status_code=exc.status_code, content={"detail": detail}, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": _message(e), "type": e.get("type", "")}
                  for e in exc.errors()]
        summary = "；".join(f"{field_cn(e['loc'])}：{e['msg']}" for e in errors[:10])
        return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
                            content={"detail": f"提交的内容不符合要求：{summary}", "errors": errors})

    for module in (applications, consultations, calendar, health, auth, applicant, third_party, codec, letters):
        app.include_router(module.router)
    app.include_router(applications.public_router)
    for router in (proactive.router, proactive.interpretation_router, proactive.opinion_router,  # issue 13
                   corrections.router, corrections.public_router):
        app.include_router(router)
    mount_pages(app)  # the web pages (api/pages) and /static
    app.include_router(reports.router)  # issue 14: annual report, remedies, assessment, accountability
    app.include_router(fees.router)  # issue 11 point 12: the month's count computed from the database
    app.include_router(guidance.router)  # issue 11 point 15: the practitioners' questions
    app.include_router(mail_returns.router)  # issue 21 point 2: delivery reports and bounces (RULES §3 Service)
    for router in (participation.router, participation.public_router, participation.inquiry_router,  # issue 26
                   participation.public_inquiry_router):
        app.include_router(router)
    app.include_router(release.draft_router)  # issue 26: a draft's basis files through the same review
    app.include_router(release.router)  # issue 22: files released with a reply, screened and redacted
    app.include_router(release.portal)  # issue 22: the released files' signed links (applicant)
    app.include_router(assignees.router)  # issue 23 point 1: who an application may be assigned to
    app.include_router(agencies.router)  # issue 25: the agencies on the platform
    app.include_router(oversight.router)  # issue 25 point 5: the platform's 主管部门
    # Outermost last: size cap → audit → CORS (codec only) → Idempotency-Key → routes.
    app.add_middleware(IdempotencyKeys, engine=engine, settings=settings)  # innermost: audited, replays too
    origins = [o.strip() for o in settings.codec_cors_origins.split(",") if o.strip()]
    app.add_middleware(CodecCORS, origins=origins)
    app.add_middleware(AuditTrail, engine=engine)
    app.add_middleware(AgencyScope, settings=settings)  # issue 25: the staff member's agency for the whole request
    # File uploads of released files (issue 22) may be larger: their own limit, the multipart framing on top.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes,
                       uploads=(release.UPLOAD_PATH, settings.release_max_bytes + release.MULTIPART_MARGIN))
    install_api_metrics(app, engine, lambda: WorkCalendar(app.state.calendar.current()))
    instrument_app(app, tracer_provider)
    return app


# A field named in Chinese in a 422's summary (issue 23 point 9: "password：内容过短" was shown to people).
FIELD_NAMES = {
    "applicant": "申请人", "name": "名称", "type": "类型", "id_type": "证件类型", "id_number": "证件号码",
    "email": "电子邮箱", "phone": "联系电话", "address": "通讯地址", "items": "所需信息", "description": "",
    "delivery_method": "获取信息的方式", "received_on": "收到申请之日", "channel": "申请方式", "handler": "承办人",
    "department": "科室", "username": "用户名", "password": "密码", "roles": "角色", "full_name": "姓名",
    "active": "是否启用", "url": "网址", "title": "标题", "body": "正文", "reason": "理由", "reasons": "理由",
    "comment": "意见", "note": "说明", "days": "延长的工作日数", "outcome": "处理结果", "item_no": "事项",
    "item_nos": "事项", "quantity": "数量", "standard": "收费方式", "consultee": "征求意见对象", "kind": "类别",
    "position": "意见", "approve": "是否同意", "method": "方式", "delivered_on": "送达日期", "posted_on": "交邮日期",
    "tracking_number": "邮件单号", "needed": "需要补正的事项", "deadline_on": "期限", "paid_on": "缴费日期",
    "year": "年度", "category": "类别", "summary": "内容摘要", "published_on": "发布日期", "answered_on": "答复日期",
}


def field_cn(loc: list[str]) -> str:
    """`body.applicant.id_number` → 申请人证件号码; `body.items.0.description` → 所需信息第 1 项."""
    names = []
    for part in loc[1:]:
        if part.isdigit():
            names.append(f"第 {int(part) + 1} 项")
        elif part in FIELD_NAMES:
            names.append(FIELD_NAMES[part])
        else:  # a field with no Chinese name here yet: its own name, so an API client still knows which
            names.append(part)
    return "".join(names) or "提交的内容"


ERROR_TITLES = {404: "没有找到该页面", 405: "不能这样打开此页面", 500: "系统出错"}
ERROR_HINTS = {404: "请检查网址，或从导航栏重新进入。", 405: "请从页面上的链接或按钮进入，不要直接打开表单的提交地址。"}


def wants_page(request: Request) -> bool:
    """A browser asking for a page (issue 23 point 2): not the JSON API, and HTML accepted before JSON."""
    path = request.url.path
    if path.startswith(("/api/", "/static/", "/docs", "/openapi", "/healthz", "/readyz")):
        return False
    accept = request.headers.get("accept", "")
    html, json_ = accept.find("text/html"), accept.find("application/json")
    return html >= 0 and (json_ < 0 or html < json_)


def error_page(request: Request, status_code: int, reason: str):
    """The error as a page in Chinese (JSON stays for `Accept: application/json` and for /api)."""
    from api.pages.common import render

    staff = request.url.path.startswith("/staff")
    hint = ERROR_HINTS.get(status_code, "")
    return render(request, "error.html", {"title": ERROR_TITLES.get(status_code, "不能办理"), "staff": staff,
                                          "reason": f"{reason}。{hint}" if hint else reason,
                                          "home": "/staff/queue" if staff else "/"}, status_code=status_code)


GENERIC = {
    400: "请求格式有误", 401: "请先登录（缺少有效的登录凭证）", 403: "您没有办理此事项的权限",
    404: "没有找到所请求的内容", 405: "不支持此请求方式", 409: "当前不能办理此事项", 413: "提交的内容过大",
    415: "不支持此内容格式", 422: "提交的内容不符合要求", 429: "请求过于频繁，请稍后再试",
}
MESSAGES = {
    "missing": "缺少必填项", "extra_forbidden": "不接受此字段", "string_too_short": "内容过短",
    "string_too_long": "内容过长", "too_short": "项目过少", "too_long": "项目过多", "literal_error": "不是可选的值",
    "enum": "不是可选的值", "date_from_datetime_parsing": "不是有效日期（YYYY-MM-DD）", "date_parsing": "不是有效日期",
    "date_type": "不是有效日期", "int_parsing": "应为整数", "int_type": "应为整数", "bool_parsing": "应为是/否",
    "bool_type": "应为是/否", "greater_than_equal": "数值过小", "less_than_equal": "数值过大",
    "string_pattern_mismatch": "格式不正确", "json_invalid": "不是有效的 JSON", "model_attributes_type": "格式不正确",
    "dict_type": "格式不正确", "list_type": "应为列表", "string_type": "应为文字", "value_error": "内容有误",
    "greater_than": "数值过小", "less_than": "数值过大", "date_past": "日期有误", "date_future": "日期有误",
}


def _message(error: dict) -> str:
    kind = error.get("type", "")
    msg = str(error.get("msg", ""))
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        return text if not text.isascii() else f"内容有误（{text}）"
    return MESSAGES.get(kind, f"内容有误（{msg}）")

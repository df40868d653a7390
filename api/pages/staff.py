"""Staff pages (/staff): log-in, the work queue, the registration desk, the list, the application page
with exactly the forms the user may use now, the reviewer's view of the draft, and the dashboard.

Reads and actions go through the JSON API in process (api.pages.common.api_call) with the session's
token: the same role and department checks, the workflow's updates and validators, the audit row. A
refused action shows the API's reason (409 `detail`, the workflow's own words) beside its form, with
what was typed kept. The queue and the dashboard read SQL aggregates (api.pages.staff_data).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

import notices
from api.pages import staff_data
from api.pages.common import api_call, csrf_ok, detail_of, duplicate_of, field_errors
from api.pages.staff_session import (
    LOGGED_OUT, RESTORED, SEEN_COOKIE, SESSION_COOKIE, NotLoggedIn, bearer, expired_post, restored, check_roles, csrf_refused, page, redirect, refused_page,
    posted, safe_next, set_session, staff_user, who,
)
from api.security import STAFF_READERS
from clock.deadline import working_days_left
from core import clock
from db.models_security import StaffUser
from outcomes.codes import OUTCOME_LABELS
from workflows.application import SYSTEM_ONLY_OUTCOMES
from contracts.status import FINAL_STATUSES
from policy.intake import APPLICANT_TYPE_LABELS, RECEIPT_BASIS
from workcalendar import WorkCalendar

router = APIRouter(prefix="/staff", include_in_schema=False)
FINAL = FINAL_STATUSES
READERS = tuple(sorted(STAFF_READERS))

# Reg. 31 (RULES §2): what the receipt date is for each channel, explained beside the date field.
RECEIPT_RULES = {
    "letter-registered": "挂号信函：以本机关签收之日为收到申请之日（《条例》第三十一条第二项）。",
    "letter-ordinary": "平常信函等无需签收的邮寄方式：以本机关与申请人确认之日为收到申请之日（第三十一条第二项）。",
    "fax": "传真：以双方确认之日为收到申请之日（第三十一条第三项）。",
    "email": "电子邮件：以双方确认之日为收到申请之日（第三十一条第三项）。",
    "in-person": "当面提交：以提交之日为收到申请之日（第三十一条第一项）。",
    "oral": "口头提出、由本机关代为填写并经申请人确认：以代为填写之日为收到申请之日（第十九条、第三十一条第一项）。",
}
DESK_CHANNELS = ["letter-registered", "letter-ordinary", "fax", "email", "in-person", "oral"]
ACTION_TITLES = {
    "assign": "指定承办人", "supplement-request": "发出补正通知（一次性告知）", "supplement": "登记收到补正",
    "extension-request": "申请延期答复", "extension-decision": "审批延期申请", "consultations": "征求第三方或其他机关意见",
    "override": "第三方异议：决定予以公开", "decisions": "提出拟办意见", "submit": "提交保密审查",
    "review": "保密审查", "sign": "签发答复告知书", "delivery": "确认送达", "withdraw": "登记书面撤回申请",
    "reply-draft": "修改答复告知书草稿", "consultation-answer": "登记纸质征求意见答复",
    "letter-service": "登记送达证据（交邮、签收、当面领取）",
    "service-problem": "登记无法送达或公告送达",
    "reasons-request": "要求申请人说明理由（申请数量、频次明显超过合理范围）",
    "reasons": "登记申请人说明的理由", "excessive-decision": "决定申请理由是否合理（条例第三十五条）",
    "fee-decision": "审批收取信息处理费", "fee-payment": "登记缴费或减免信息处理费",
}


LETTER_KINDS = {"acknowledgment": "登记回执", "supplement-notice": "补正告知书", "extension-notice": "延期答复告知书",
                "reasons-request": "说明申请理由告知书", "reasonable-period-notice": "延迟答复告知书（第三十五条）",
                "consultation-letter": "征求意见函", "override-notice": "公开决定告知书", "reply": "答复告知书",
                "agency-consultation-letter": "征求意见函（其他机关）", "fee-notice": "缴费通知"}
# The notices whose receipt starts a period (RULES §3 Service): the addressee's days run from the proven receipt.
PERIOD_NOTICES = notices.PERIOD_NOTICE_KINDS
LETTER_STATUS = {"composing": "生成中", "pending": "待发送", "sending": "发送中", "sent": "已发出", "failed": "发送失败",
                 "uncertain": "可能已送达（待核实）", "awaiting-staff": "待工作人员寄送或交付", "delivered": "已送达"}


def _calendar(request: Request) -> WorkCalendar:
    return WorkCalendar(request.app.state.calendar.current())


# --- log-in / log-out -------------------------------------------------------------------------


@router.get("")
async def login_form(request: Request, next: str = "", why: str = "", out: str = "", draft: str = "") -> Response:
    if why == "" and request.cookies.get(SESSION_COOKIE):
        try:
            await staff_user(request)
            return redirect(request, safe_next(next))
        except NotLoggedIn:
            pass
    error = why[:200] if why else None
    return page(request, "staff/login.html", {"next": safe_next(next), "error": error, "draft": _draft_id(draft),
                                               "notice": LOGGED_OUT if out else None, "username": ""})


def _draft_id(value: str) -> str:
    """A kept form's id (services.drafts: token_urlsafe), carried through the log-in form; anything else dropped."""
    return value if 20 <= len(value) <= 64 and all(c.isalnum() or c in "-_" for c in value) else ""


@router.post("/login")
async def log_in(request: Request) -> Response:
    form = await request.form()
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    draft = _draft_id(str(form.get("draft", "")))
    if not csrf_ok(request, form):
        return page(request, "staff/login.html", {"next": target, "username": username, "draft": draft,
                                                   "error": "页面已过期，请重新输入后登录"}, status_code=403)
    answer = await api_call(request, "POST", "/api/v1/auth/token", data={"username": username, "password": password})
    if answer.status_code != 200:
        return page(request, "staff/login.html", {"next": target, "username": username, "error": detail_of(answer),
                                                   "draft": draft}, status_code=answer.status_code)
    if draft:  # back to the page, the form filled in as it was (issue 23 point 2)
        target += ("&" if "?" in target else "?") + f"draft={draft}"
    response = redirect(request, target)
    set_session(request, response, answer.json()["access_token"])
    return response


@router.post("/logout")
async def log_out(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form):
        return csrf_refused(request)
    response = redirect(request, "/staff?out=1")
    response.delete_cookie(SESSION_COOKIE, path="/staff")
    response.delete_cookie(SEEN_COOKIE, path="/staff")
    return response


# --- the work queue ---------------------------------------------------------------------------


@router.get("/queue")
async def queue(request: Request) -> Response:
    user = await who(request)
    if isinstance(user, Response):
        return user
    today = clock.today()
    rows = await run_in_threadpool(_queue_rows, request, user, today)
    # issue 23 point 7: the 政务公开 work waiting for the same roles
    gk_rows = await run_in_threadpool(staff_data.gk_queue, request.app.state.engine, user.role_set(), user.department,
                                      _calendar(request), today, clock.now())
    notice = None
    if "admin" in user.role_set():  # issue 23 point 8: the admin is told of locked accounts
        locked = await api_call(request, "GET", "/api/v1/admin/locked", headers=bearer(request))
        if locked.status_code == 200 and locked.json():
            notice = f"有 {len(locked.json())} 个账户因连续密码错误被锁定，请到“系统管理”核实后处理"
    return page(request, "staff/queue.html", {"rows": rows, "gk_rows": gk_rows, "today": today, "notice": notice,
                                               "locked_link": bool(notice)}, current="queue")


def _queue_rows(request: Request, user: StaffUser, today: date) -> list[staff_data.QueueRow]:
    return staff_data.work_queue(request.app.state.engine, user.role_set(), user.username, user.department,
                                 _calendar(request), today)


# --- the registration desk --------------------------------------------------------------------


async def _handlers(request: Request) -> list[dict]:
    """The agency's active handlers by 科室 with their open load (GET /api/v1/handlers); [] when refused."""
    got = await api_call(request, "GET", "/api/v1/handlers", headers=bearer(request))
    return got.json() if got.status_code == 200 else []


def _desk_context(values: dict[str, Any], errors: dict[str, str] | None = None, error: str | None = None,
                  handlers: list[dict] | None = None) -> dict:
    return {"handlers": handlers or [], "values": values, "errors": errors or {}, "error": error, "channels": DESK_CHANNELS,
            "receipt_rules": RECEIPT_RULES, "receipt_basis": RECEIPT_BASIS, "applicant_types": APPLICANT_TYPE_LABELS,
            "today": clock.today()}


@router.get("/register")
async def register_form(request: Request, draft: str = "") -> Response:
    user = await who(request)
    if isinstance(user, Response):
        return user
    if reason := await check_roles(user, "registrar"):
        return refused_page(request, reason)
    values = {"channel": "letter-registered", "received_on": clock.today().isoformat(), "delivery_method": "post",
              "applicant.type": "natural-person", "items": [""]}
    notice = None
    if kept := await restored(request, draft):  # typed before the log-in expired (issue 23 point 2)
        values, notice = values | kept[1], RESTORED
    return page(request, "staff/register.html", _desk_context(values, handlers=await _handlers(request))
                | {"notice": notice}, current="register")


@router.post("/register")
async def register(request: Request) -> Response:
    user = await who(request)
    if isinstance(user, Response):
        return await expired_post(request)  # what was typed is kept (issue 23 point 2)
    if reason := await check_roles(user, "registrar"):
        return refused_page(request, reason)
    form = await request.form()
    if not csrf_ok(request, form):
        return csrf_refused(request)
    g = lambda k: str(form.get(k, "") or "").strip()  # noqa: E731
    items = [str(v).strip() for v in form.getlist("items") if str(v).strip()]
    values = {k: g(k) for k in ("channel", "received_on", "delivery_method", "applicant.name", "applicant.type",
                                "applicant.id_type", "applicant.id_number", "applicant.email", "applicant.phone", "applicant.address",
                                "handler", "department", "receipt_evidence")} | {"items": items or [""]}
    body = {
        "channel": values["channel"], "received_on": values["received_on"] or None,
        "receipt_evidence": values["receipt_evidence"] or None,  # issue 24 point 9
        "applicant": {"name": values["applicant.name"], "type": values["applicant.type"] or "natural-person",
                      "id_type": values["applicant.id_type"] or None, "id_number": values["applicant.id_number"] or None, "email": values["applicant.email"] or None,
                      "phone": values["applicant.phone"] or None, "address": values["applicant.address"] or None},
        "items": [{"description": d} for d in items], "delivery_method": values["delivery_method"],
        "handler": values["handler"] or None, "department": values["department"] or None,
        "resubmit": form.get("resubmit") == "yes",
    }
    answer = await api_call(request, "POST", "/api/v1/applications", json=body, headers=bearer(request))
    if answer.status_code != 201:
        errors = field_errors(answer)
        errors = {("items" if k.startswith("items") else k): v for k, v in errors.items()}
        return page(request, "staff/register.html", _desk_context(values, errors, detail_of(answer),
                                                                  await _handlers(request))
                    | {"duplicate_of": duplicate_of(answer)}, current="register", status_code=answer.status_code)
    created = answer.json()
    return page(request, "staff/registered.html", {"created": created}, current="register", status_code=201)


# --- the list ---------------------------------------------------------------------------------

LIST_FILTERS = ("status", "open", "overdue", "due_before", "due_from", "handler", "department", "cursor")


@router.get("/applications")
async def applications(request: Request) -> Response:
    user = await who(request)
    if isinstance(user, Response):
        return user
    if reason := await check_roles(user, *READERS):
        return refused_page(request, reason)
    params = {k: v for k, v in request.query_params.items() if k in LIST_FILTERS and v}
    pending = request.query_params.get("pending")
    today, cal = clock.today(), _calendar(request)
    if pending in ("extension", "objection"):
        if reason := await check_roles(user, "supervisor"):
            return refused_page(request, reason)
        rows = await run_in_threadpool(_pending_rows, request, pending)
        page_data = {"items": rows, "total": len(rows), "total_is_lower_bound": False, "next_cursor": None}
    else:
        answer = await api_call(request, "GET", "/api/v1/applications", params=params | {"limit": 50},
                                headers=bearer(request))
        if answer.status_code != 200:
            return refused_page(request, detail_of(answer), answer.status_code)
        page_data = answer.json()
    for row in page_data["items"]:
        due = date.fromisoformat(row["due_on"]) if row.get("due_on") else None
        open_ = row["status"] not in FINAL and not row.get("closed_at")
        row["left"] = working_days_left(cal, today, due) if due and open_ else None
        row["mark"] = staff_data.mark(row["left"], due, today) if open_ else ""
    described = _describe_filters(params | ({"pending": pending} if pending else {}))
    next_url = None
    if page_data.get("next_cursor"):
        next_url = "/staff/applications?" + urlencode({k: v for k, v in params.items() if k != "cursor"}
                                                      | {"cursor": page_data["next_cursor"]})
    return page(request, "staff/list.html", {"data": page_data, "filters": described, "next_url": next_url,
                                              "params": params}, current="applications")


def _pending_rows(request: Request, pending: str) -> list[dict]:
    with request.app.state.engine.connect() as conn:
        ids = staff_data.pending_decision_ids(conn, pending)
    return _rows_by_ids(request, ids)


def _rows_by_ids(request: Request, ids: list[str]) -> list[dict]:
    from sqlalchemy import select

    from db.models import Application

    if not ids:
        return []
    with request.app.state.engine.connect() as conn:
        t = Application.__table__  # type: ignore[attr-defined]
        rows = conn.execute(select(t).where(t.c.id.in_(ids)).order_by(t.c.due_on, t.c.id)).mappings().all()
    return [{"application_id": r["id"], "received_on": r["received_on"].isoformat(), "channel": r["channel"],
             "applicant_name": r["applicant_name"], "status": r["status"], "handler": r["handler"],
             "department": r["department"], "due_on": r["due_on"].isoformat() if r["due_on"] else None,
             "overdue": r["overdue"], "paused": r["paused"], "extended": r["extended"], "closed_at": r["closed_at"]}
            for r in rows]


FILTER_WORDS = {
    "open": {"true": "在办", "false": "已结束"}, "overdue": {"true": "已逾期", "false": "未逾期"},
    "pending": {"extension": "待审批延期", "objection": "第三方异议待决定"},
}


def _describe_filters(params: dict[str, str]) -> list[str]:
    from api.pages.common import status_label

    out = []
    for key, value in params.items():
        if key == "cursor":
            continue
        if key in FILTER_WORDS:
            out.append(FILTER_WORDS[key].get(value, value))
        elif key == "status":
            out.append(f"状态：{status_label(value, staff=True)}")
        elif key == "due_before":
            out.append(f"答复期限早于 {value}")
        elif key == "due_from":
            out.append(f"答复期限不早于 {value}")
        elif key == "handler":
            out.append(f"承办人：{value}")
        elif key == "department":
            out.append(f"科室：{value}")
    return out


# --- the application page ---------------------------------------------------------------------


def _forms_for(view: dict, roles: frozenset[str]) -> list[str]:
    """The actions this user may take now: the workflow's pending actions for the roles held, and the
    handler's, registrar's and supervisor's optional steps the workflow accepts in the current state."""
    status_ = view["status"]
    pending = {(p["action"], p["role"]) for p in view["pending_actions"]}
    forms: list[str] = []
    if status_ in FINAL:
        return forms
    if ("registrar" in roles and ("assign", "registrar") in pending) or (
            "supervisor" in roles and status_ in ("handling", "consulting", "awaiting-supplement")):
        forms.append("assign")
    if "handler" in roles and status_ in ("handling", "consulting"):
        forms.append("decisions")
        if ("submit-for-review", "handler") in pending:
            forms.append("submit")
        if view["supplement"] is None and status_ == "handling":
            forms.append("supplement-request")
        ext = view["extension"]
        if view["replied_on"] is None and (ext is None or ext["decision"] == "refused"):
            forms.append("extension-request")
        forms.append("consultations")
        if view.get("excessive") is None and view["replied_on"] is None:
            forms.append("reasons-request")
    if "handler" in roles and status_ == "in-review" and view.get("reply_draft"):
        forms.append("reply-draft")
    if status_ == "awaiting-supplement" and roles & {"registrar", "handler"}:
        forms.append("supplement")
    ex = view.get("excessive")
    if ex and ex["decision"] == "pending" and ex["reasons_received_on"] is None and roles & {"registrar", "handler"}:
        forms.append("reasons")
    if "supervisor" in roles:
        if ("decide-excessive", "supervisor") in pending:
            forms.append("excessive-decision")
        if ("decide-extension", "supervisor") in pending:
            forms.append("extension-decision")
        if ("override-objection", "supervisor") in pending:
            forms.append("override")
        if ("sign", "supervisor") in pending:
            forms.append("sign")
    if "reviewer" in roles and ("review", "reviewer") in pending:
        forms.append("review")
    if "registrar" in roles:
        if ("confirm-delivery", "registrar") in pending:
            forms.append("delivery")
        forms.append("withdraw")
    if roles & {"registrar", "handler"} and any(c["position"] == "pending" for c in view["consultations"]):
        forms.append("consultation-answer")
    if "supervisor" in roles and ("decide-fee", "supervisor") in pending:  # issue 11 point 12
        forms.append("fee-decision")
    if roles & {"registrar", "handler", "supervisor"} and ("record-fee-payment", "registrar") in pending:  # 减免: supervisor
        forms.append("fee-payment")
    return forms


def _highlight(body: str, today: date) -> list[tuple[str, str | None]]:
    """The draft's text in pieces, the pre-screen's matches marked (screening.prescreen, the same rules)."""
    from screening.prescreen import find_matches

    pieces: list[tuple[str, str | None]] = []
    at = 0
    for match in find_matches(body, today):
        if match.start < at:
            continue
        pieces.append((body[at:match.start], None))
        pieces.append((body[match.start:match.end], match.detail))
        at = match.end
    pieces.append((body[at:], None))
    return pieces


async def _application_page(request: Request, user: StaffUser, application_id: str, *,
                            errors: dict[str, str] | None = None, values: dict[str, dict] | None = None,
                            notice: str | None = None, status_code: int = 200) -> Response:
    path = f"/api/v1/applications/{quote(application_id, safe='')}"
    answer = await api_call(request, "GET", path, headers=bearer(request))
    if answer.status_code != 200:
        return refused_page(request, detail_of(answer), answer.status_code)
    view = answer.json()
    letters = await api_call(request, "GET", f"{path}/letters", headers=bearer(request))
    letter_rows = letters.json() if letters.status_code == 200 else []
    draft = None
    if view.get("reply_draft"):
        got = await api_call(request, "GET", f"{path}/reply-draft", headers=bearer(request))
        if got.status_code == 200:
            draft = got.json()
    today = clock.today()
    due_on = date.fromisoformat(view["due"]["due_on"]) if view.get("due") else None
    roles = user.role_set()
    forms = _forms_for(view, roles)
    requested, gk_categories = await _requested_often(request, application_id, roles)
    from api.pages import staff_release  # issue 22: the files released with the reply

    uploaded = request.query_params.get("uploaded")
    dupes = await api_call(request, "GET", f"{path}/possible-duplicates", headers=bearer(request))
    context = {
        "release_files": await staff_release.release_files_for(request, application_id), "roles": roles,
        "release_seal": await staff_release.release_seal_for(request, application_id),
        "release_notice": "文件已上传，正在后台进行保密预审。" if uploaded else None, **staff_release.LABELS,
        "duplicates": dupes.json() if dupes.status_code == 200 else [],
        "handlers": await _handlers(request) if "assign" in forms else [],
        "requested": requested, "gk_categories": gk_categories,
        "view": view, "letters": letter_rows, "draft": draft, "forms": forms, "titles": ACTION_TITLES,
        "errors": errors or {}, "values": values or {}, "action_notice": notice,
        "highlighted": _highlight(draft["body"], today) if draft else None,
        "mark": staff_data.mark(view.get("working_days_left"), due_on, today) if view["status"] not in FINAL else "",
        "outcomes": {c.value: label for c, label in OUTCOME_LABELS.items() if c not in SYSTEM_ONLY_OUTCOMES},
        "today": today, "pending_consultations": [c for c in view["consultations"] if c["position"] == "pending"],
        "objections": [c for c in view["consultations"] if c["position"] == "objection" and not c.get("override_reason")],
        "unproposed": [i for i in view["items"] if not i.get("proposal")],
        "receipt_basis": RECEIPT_BASIS.get(view["channel"], ""),
        "letter_kinds": LETTER_KINDS, "letter_status": LETTER_STATUS,
        # Letters staff deliver (post, pickup) whose receipt is not yet evidenced: the 送达证据 form.
        "service_letters": [r for r in letter_rows if r["method"] in ("post", "pickup") and r["status"] != "delivered"]
        if roles & {"registrar", "handler"} else [],
        # RULES §3 Service: notices that start a period, not yet served: unservable (退信、退回), then 公告送达.
        "problem_letters": [r for r in letter_rows if r["kind"] in PERIOD_NOTICES and not r["evidence"]["served_on"]]
        if roles & {"registrar", "handler"} else [],
    }
    return page(request, "staff/application.html", context, current="applications", status_code=status_code)


async def _requested_often(request: Request, application_id: str, roles: frozenset[str]) -> tuple[list, list]:
    """Issue 13 point 5: the groups of similar information several applicants asked for that this
    application belongs to, with the catalogue's categories for the one-click proposal (handlers and
    supervisors: they may start a catalogue item). The API's own answers; none when it refuses."""
    if not roles & {"handler", "supervisor"}:
        return [], []
    got = await api_call(request, "GET", "/api/v1/catalogue/requested-often", params={"application_id": application_id},
                         headers=bearer(request))
    if got.status_code != 200 or not got.json():
        return [], []
    categories = await api_call(request, "GET", "/api/v1/catalogue/categories", headers=bearer(request))
    return got.json(), categories.json() if categories.status_code == 200 else []


@router.get("/applications/{application_id}")
async def application(request: Request, application_id: str, done: str = "", draft: str = "") -> Response:
    user = await who(request)
    if isinstance(user, Response):
        return user
    if reason := await check_roles(user, *READERS):
        return refused_page(request, reason)
    notice = f"已完成：{ACTION_TITLES[done]}" if done in ACTION_TITLES else None
    if kept := await restored(request, draft):  # typed before the log-in expired (issue 23 point 2)
        action, fields = kept
        return await _application_page(request, user, application_id, notice=RESTORED, values={action: fields})
    return await _application_page(request, user, application_id, notice=notice)


def _opt(value: str) -> str | None:
    return value or None


def _action_request(action: str, form: Any, application_id: str) -> tuple[str, dict] | None:
    """The JSON API's path and body for a page form (None: not an action of the application page)."""
    g = lambda k: str(form.get(k, "") or "").strip()  # noqa: E731
    base = f"/api/v1/applications/{quote(application_id, safe='')}"
    if action == "assign":
        return f"{base}/assign", {"handler": g("handler"), "department": _opt(g("department"))}
    if action == "supplement-request":
        needed = [line.strip() for line in g("needed").splitlines() if line.strip()]
        return f"{base}/supplement-request", {"needed": needed, "deadline_on": _opt(g("deadline_on"))}
    if action == "supplement":
        return f"{base}/supplement", {"received_on": _opt(g("received_on")), "note": g("note")}
    if action == "extension-request":
        return f"{base}/extension-request", {"days": _opt(g("days")), "reason": g("reason")}
    if action == "extension-decision":
        return f"{base}/extension-decision", {"approve": g("approve") == "yes", "comment": g("comment")}
    if action == "reasons-request":
        return f"{base}/reasons-request", {"grounds": g("grounds")}
    if action == "reasons":
        return f"{base}/reasons", {"received_on": _opt(g("received_on")), "reasons": g("reasons"),
                                   "evidence": g("evidence")}
    if action == "excessive-decision":
        return f"{base}/excessive-decision", {"reasonable": g("reasonable") == "yes", "reason": g("reason"),
                                              "period_until": _opt(g("period_until"))}
    if action == "consultations":
        consultee = {"kind": g("kind") or "third-party", "name": g("name"), "email": _opt(g("email")),
                     "address": _opt(g("address"))}
        return f"{base}/consultations", {"consultee": consultee, "item_nos": [v for v in form.getlist("item_nos")]}
    if action == "override":
        return f"{base}/override", {"consultation_id": g("consultation_id"), "reason": g("reason"),
                                    "basis": g("basis") or "public-interest"}
    if action == "decisions":
        return f"{base}/decisions", {"item_no": _opt(g("item_no")), "outcome": g("outcome"), "reasons": g("reasons"),
                                     "referral": _opt(g("referral")),
                                     "not_this_agency": g("not_this_agency") == "yes", "withheld_ground": _opt(g("withheld_ground")),
                                     "earlier_application_id": _opt(g("earlier_application_id")),
                                     "provision": _opt(g("provision")), "published_at": _opt(g("published_at"))}
    if action == "submit":
        return f"{base}/submit", {}
    if action == "review":
        version = g("draft_version")
        return f"{base}/review", {"approve": g("approve") == "yes", "comment": g("comment"),
                                  "draft_version": int(version) if version.isdigit() else None}
    if action == "sign":
        return f"{base}/sign", {}
    if action == "delivery":
        return f"{base}/delivery", {"delivered_on": _opt(g("delivered_on")), "method": g("method"),
                                    "tracking_number": _opt(g("tracking_number")), "note": g("note"),
                                    "posted_on": _opt(g("posted_on")), "received_by": _opt(g("received_by"))}
    if action == "withdraw":
        return f"{base}/withdraw", {"reason": g("reason")}
    if action == "reply-draft":
        return f"{base}/reply-draft", {"body": str(form.get("body", "") or "").replace("\r\n", "\n").strip(),
                                       "note": g("note")}
    if action == "consultation-answer":
        return (f"/api/v1/consultations/{quote(g('consultation_id'), safe='')}/answer",
                {"position": g("position"), "reasons": g("reasons"), "answered_on": _opt(g("answered_on"))})
    if action == "fee-decision":
        return f"{base}/fee-decision", {"approve": g("approve") == "yes", "comment": g("comment")}
    if action == "fee-payment":
        return f"{base}/fee-payment", {"paid_on": _opt(g("paid_on")), "waived": g("waived") == "yes", "note": g("note")}
    if action == "service-problem":
        return f"{base}/letters/{quote(g('key'), safe='')}/service-problem", {
            "event": g("event"), "on": _opt(g("on")), "detail": g("detail")}
    if action == "letter-service":
        return f"{base}/letters/{quote(g('key'), safe='')}/service", {
            "method": g("method"), "posted_on": _opt(g("posted_on")), "tracking_number": _opt(g("tracking_number")),
            "served_on": _opt(g("served_on")), "received_by": _opt(g("received_by")),
            "handed_over_by": _opt(g("handed_over_by"))}
    return None


# --- decision guidance (issue 11 point 15): the practitioners' questions fill the 拟办意见 form ---------------

from api.pages.common import templates as _templates  # noqa: E402
from guidance import QUESTIONS as GUIDANCE_QUESTIONS  # noqa: E402
from guidance.rules import QUESTION_BY_KEY as GUIDANCE_BY_KEY  # noqa: E402

_templates.env.globals["GUIDANCE_QUESTIONS"] = GUIDANCE_QUESTIONS
GUIDANCE_TEXT_FIELDS = ("referral", "earlier_application_id", "where")
GUIDANCE_EXTRA_LABELS = {"earlier_application_id": "是不是：重复申请的，须填写此前已答复的申请编号",
                         "where": "怎么给：已主动公开的，须填写公开的位置（网站栏目或网址），答复据此援引第三十六条第（一）项"}


def _next_label(key: str | None) -> str:
    if key in GUIDANCE_BY_KEY:
        return f"{GUIDANCE_BY_KEY[key].short}　{GUIDANCE_BY_KEY[key].prompt}"
    return GUIDANCE_EXTRA_LABELS.get(key or "", key or "")


@router.post("/applications/{application_id}/guidance")
async def decision_guidance(request: Request, application_id: str) -> Response:
    """The handler's answers → the API's proposal (POST …/guidance) → the 拟办意见 form filled (htmx: in place)."""
    if isinstance(got := await posted(request), Response):
        return got
    user, form = got
    g = lambda k: str(form.get(k, "") or "").strip()  # noqa: E731
    body = {"item_no": _opt(g("item_no")), **{q.key: _opt(g(f"q_{q.key}")) for q in GUIDANCE_QUESTIONS},
            **{k: _opt(g(k)) for k in GUIDANCE_TEXT_FIELDS}}
    path = f"/api/v1/applications/{quote(application_id, safe='')}"
    answer = await api_call(request, "POST", f"{path}/guidance", json=body, headers=bearer(request), idempotent=False)
    kept = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    htmx = request.headers.get("HX-Request") == "true"
    outcomes = {c.value: label for c, label in OUTCOME_LABELS.items() if c not in SYSTEM_ONLY_OUTCOMES}
    if answer.status_code != 200:
        if htmx:
            return page(request, "staff/_guidance_result.html", {"error": detail_of(answer)})
        return await _application_page(request, user, application_id, errors={"guidance": detail_of(answer)},
                                       values={"guidance": kept}, status_code=answer.status_code)
    proposal = answer.json()
    if htmx:
        view = await api_call(request, "GET", path, headers=bearer(request))
        items = view.json()["items"] if view.status_code == 200 else []
        return page(request, "staff/_guidance_result.html", {"g": proposal, "items": items, "outcomes": outcomes,
                                                               "next_label": _next_label(proposal["next_question"])})
    values: dict[str, dict] = {"guidance": kept}
    if not proposal["complete"]:
        notice = f"办理指引：请继续回答：{_next_label(proposal['next_question'])}"
    elif proposal["action"] == "request-supplement":
        notice = f"办理指引：应先发出补正通知。{proposal['reasons']}"
    else:
        notice = f"办理指引：拟处理结果“{proposal['outcome_label']}”，理由和依据已填入“提出拟办意见”，可修改后保存。"
        values["decisions"] = {"item_no": str(proposal["item_no"]), "outcome": proposal["outcome"],
                               "reasons": proposal["reasons"], "referral": proposal["referral"] or "",
                               "not_this_agency": "yes" if proposal.get("not_this_agency") else "",
                               "withheld_ground": proposal["withheld_ground"] or "",
                               "earlier_application_id": proposal["earlier_application_id"] or "",
                               "provision": proposal["provision"] or "",
                               "published_at": proposal.get("published_at") or ""}
    return await _application_page(request, user, application_id, values=values, notice=notice)


# --- fees (issue 11 point 12): the month's count from the database, shown with its list; the proposal --------

ACTION_TITLES["fee-proposal"] = "提出收取信息处理费"


@router.get("/applications/{application_id}/fee-count")
async def fee_count_fragment(request: Request, application_id: str) -> Response:
    """按件计收: the API's count and list (GET …/fee-count), as the fee form's htmx fragment."""
    user = await who(request)
    if isinstance(user, Response):
        return user
    answer = await api_call(request, "GET", f"/api/v1/applications/{quote(application_id, safe='')}/fee-count",
                            headers=bearer(request))
    if answer.status_code != 200:
        return page(request, "staff/_fee_count.html", {"error": detail_of(answer)})
    return page(request, "staff/_fee_count.html", {"count": answer.json()})


@router.post("/applications/{application_id}/fee-proposal")
async def fee_proposal(request: Request, application_id: str) -> Response:
    if isinstance(got := await posted(request), Response):
        return got
    user, form = got
    g = lambda k: str(form.get(k, "") or "").strip()  # noqa: E731
    body = {"standard": g("standard"), "reason": g("reason")}
    if g("standard") == "per-page":
        body["quantity"] = _opt(g("pages"))
    answer = await api_call(request, "POST", f"/api/v1/applications/{quote(application_id, safe='')}/fee-proposal",
                            json=body, headers=bearer(request))
    if answer.status_code == 200:
        return redirect(request, f"/staff/applications/{quote(application_id, safe='')}?done=fee-proposal#actions")
    kept = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    return await _application_page(request, user, application_id, errors={"fee-proposal": detail_of(answer)},
                                   values={"fee-proposal": kept}, status_code=answer.status_code)


@router.post("/applications/{application_id}/{action}")
async def act(request: Request, application_id: str, action: str) -> Response:
    if isinstance(got := await posted(request), Response):
        return got
    user, form = got
    call = _action_request(action, form, application_id)
    if call is None:
        return refused_page(request, "没有这项操作", 404)
    path, body = call
    answer = await api_call(request, "POST", path, json=body, headers=bearer(request))
    scan = form.get("scan") if action == "letter-service" else None
    if answer.status_code == 200 and scan is not None and not isinstance(scan, str) and scan.filename:
        # The signed receipt's scan, optional: stored with the letter's evidence.
        answer = await api_call(request, "POST", f"{path.removesuffix('/service')}/receipt-scan", headers=bearer(request),
                                files={"file": (scan.filename, await scan.read(), scan.content_type or "application/octet-stream")})
    if answer.status_code == 200:
        anchor = "evidence" if action in ("letter-service", "service-problem") else "actions"
        return redirect(request, f"/staff/applications/{quote(application_id, safe='')}?done={action}#{anchor}")
    kept = {k: (form.getlist(k) if k == "item_nos" else str(v)) for k, v in form.items()
            if k not in ("csrf_token", "scan")}
    return await _application_page(request, user, application_id, errors={action: detail_of(answer)},
                                   values={action: kept}, status_code=answer.status_code)


# --- PDFs in the page: the API's own PDF routes, with the session's token ---------------------


async def _pdf(request: Request, path: str) -> Response:
    user = await who(request)
    if isinstance(user, Response):
        return user
    answer = await api_call(request, "GET", path, headers=bearer(request))
    if answer.status_code != 200:
        return refused_page(request, detail_of(answer), answer.status_code)
    return Response(answer.content, media_type="application/pdf", headers={
        "Content-Disposition": answer.headers.get("content-disposition", "inline"), "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


@router.get("/applications/{application_id}/draft.pdf")
async def draft_pdf(request: Request, application_id: str) -> Response:
    return await _pdf(request, f"/api/v1/applications/{quote(application_id, safe='')}/reply-draft.pdf")


@router.get("/applications/{application_id}/letters/{key}/receipt-scan")
async def receipt_scan(request: Request, application_id: str, key: str) -> Response:
    user = await who(request)
    if isinstance(user, Response):
        return user
    answer = await api_call(request, "GET", f"/api/v1/applications/{quote(application_id, safe='')}/letters/"
                                            f"{quote(key, safe='')}/receipt-scan", headers=bearer(request))
    if answer.status_code != 200:
        return refused_page(request, detail_of(answer), answer.status_code)
    return Response(answer.content, media_type="application/octet-stream", headers={
        "Content-Disposition": answer.headers.get("content-disposition", "attachment"), "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


@router.get("/applications/{application_id}/letters/{key}.pdf")
async def letter_pdf(request: Request, application_id: str, key: str) -> Response:
    return await _pdf(request, f"/api/v1/applications/{quote(application_id, safe='')}/letters/{quote(key, safe='')}"
                               "/document.pdf")


# --- the supervisor's dashboard ---------------------------------------------------------------


@router.get("/dashboard")
async def dashboard(request: Request) -> Response:
    user = await who(request)
    if isinstance(user, Response):
        return user
    if reason := await check_roles(user, "supervisor"):
        return refused_page(request, reason)
    today = clock.today()
    board = await run_in_threadpool(staff_data.dashboard, request.app.state.engine, _calendar(request), today)
    return page(request, "staff/dashboard.html", {"board": board, "chart": month_chart(board.by_month),
                                                   "qs": urlencode}, current="dashboard")


def month_chart(rows: list[staff_data.RateRow]) -> dict:
    """An inline SVG bar chart, made here: one bar per month (on-time rate), its figure as text."""
    width, height, top, bottom, left = 720, 240, 20, 40, 44
    n = max(len(rows), 1)
    slot = (width - left - 10) / n
    plot = height - top - bottom
    bars = []
    for i, row in enumerate(rows):
        rate = row.rate
        h = 0 if rate is None else plot * rate
        x = left + i * slot + slot * 0.15
        bars.append({"x": round(x, 1), "y": round(top + plot - h, 1), "w": round(slot * 0.7, 1), "h": round(h, 1),
                     "label": row.label.split("年")[1], "year": row.label.split("年")[0],
                     "text": "—" if rate is None else f"{rate * 100:.0f}%", "row": row,
                     "tone": "" if rate is None else ("bad" if rate < 0.9 else ("warn" if rate < 0.97 else "ok")),
                     "tx": round(x + slot * 0.35, 1)})
    grid = [{"y": round(top + plot - plot * p / 100, 1), "label": f"{p}%"} for p in (0, 50, 100)]
    return {"width": width, "height": height, "bars": bars, "grid": grid, "base": top + plot, "left": left}


__all__ = ["router"]

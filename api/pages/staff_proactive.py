"""Staff pages for 政务公开 (issue 13): the catalogue and interpretations, public-opinion events and
corrections: one overview with the forms that start each process, and a page per process with its
deadline explained, its history and the action forms. Every read and action is the JSON API's own
request with the session's token (role checks, the workflows' validators: a refusal shows its reason)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.common import api_call, detail_of
from api.pages.staff_session import (
    bearer, check_roles, page, posted, redirect, refused_page, who, who_holding,
)
from api.security import STAFF_READERS
from core import clock

router = APIRouter(prefix="/staff/gk", include_in_schema=False)
READERS = tuple(sorted(STAFF_READERS))

# Per process: the API path of one record, and its action forms: (action, title, fields).
# A field is (name, label, kind) with kind text | textarea | yesno | platform | date.
PROCESSES: dict[str, dict[str, Any]] = {
    "catalogue": {"title": "主动公开信息", "api": "/api/v1/catalogue/items/{id}", "forms": [
        ("review", "保密审查（谁签发、谁把关）", [("approve", "审查结论", "yesno"), ("comment", "意见", "textarea")]),
        ("publish", "公开发布", [("url", "公开网址（在本网站主动公开目录发布的不必填写）", "text")]),
        ("change", "登记变更（新版本重新审查）", [("content", "变更后的内容", "textarea"), ("reason", "变更原因", "text")]),
        ("withdraw", "撤下", [("reason", "撤下理由", "text"),
                              ("repealed_on", "废止日期（规章、规范性文件因废止而撤下时填写：计入年度报告表二）", "date")]),
    ]},
    "opinion": {"title": "政务舆情", "api": "/api/v1/public-opinion/events/{id}", "forms": [
        ("responses", "记录回应", [("platform", "平台", "platform"), ("url", "网址", "text"), ("summary", "内容摘要", "textarea")]),
        ("close", "办结", [("note", "说明", "text")]),
    ]},
    "correction": {"title": "更正申请", "api": "/api/v1/corrections/{id}", "forms": [
        ("correct", "予以更正并告知", [("result", "更正的内容", "textarea")]),
        ("forward", "无权更正：转送有权机关并告知", [("agency", "有权更正的机关", "text"), ("reason", "说明", "textarea")]),
        ("refuse", "不予更正并告知（条例第四十一条）", [("record_accurate", "记录是否准确（否：证据不能证明记录有误）", "yesno"),
                                                ("reasons", "理由", "textarea")]),
        ("review", "告知书保密审查（谁签发、谁把关）", [("approve", "审查结论", "yesno"), ("comment", "意见", "textarea")]),
    ]},
}
FACTS = {
    "title": "标题", "person_name": "申请人", "category_id": "类别", "section": "负责科室", "document_number": "文号",
    "produced_on": "产生（变更）日期", "policy_id": "所解读的政策文件", "severity": "级别", "found_at": "发现时间",
    "record": "需要更正的记录", "correction": "应当如何更正", "evidence": "证据材料", "received_on": "收到之日",
    "due_on": "办理期限", "version": "版本", "forwarded_to": "转送机关", "result": "办理结果",
    "content_sha256": "当前稿件 SHA-256", "decided_by": "作出决定的承办人", "letter_draft": "待审查的告知书",
    "legal_kind": "文件类别（年度报告表二）", "issued_on": "印发（施行）日期", "repealed_on": "废止日期",
}
LEGAL_KINDS = {"rules": "规章", "normative-documents": "行政规范性文件"}
SOURCE_FACTS = {"application_id": "公开副本所据申请", "item_no": "申请事项", "filename": "申请人收到的文件",
                "sha256": "申请人收到的文件 SHA-256（封存，不改动）"}
PHASES = {"in-review": "保密审查中", "returned": "审查退回", "approved": "待公开", "published": "已公开",
          "withdrawn": "已撤下", "open": "办理中", "closed": "已办结", "handling": "办理中", "corrected": "已更正",
          "forwarded": "已转送", "refused": "不予更正"}
PLATFORMS = {"website": "网站", "wechat": "微信", "press": "纸质媒体", "press-conference": "新闻发布会"}
# The action forms offered in each phase (the workflows' validators still refuse a wrong one: a form
# posted from a page left open while another person acted gets the reason).
ACTIONS_IN_PHASE: dict[str, dict[str, tuple[str, ...]]] = {
    "catalogue": {"in-review": ("review", "change", "withdraw"), "returned": ("change", "withdraw"),
                  "approved": ("publish", "change", "withdraw"), "published": ("change", "withdraw"),
                  "withdrawn": ()},
    "opinion": {"open": ("responses", "close"), "closed": ()},
    "correction": {"handling": ("correct", "forward", "refuse"), "in-review": ("review",), "corrected": (),
                   "forwarded": (), "refused": ()},
}


# Who may use each form (the API's own role checks: api/routes/proactive.py, corrections.py): issue 23 point 7,
# a form is shown only to the roles that may use it, not learnt after filling it in.
FORM_ROLES: dict[str, frozenset[str]] = {"review": frozenset({"reviewer"})}
EDITORS = frozenset({"handler", "supervisor"})


def offered_forms(process: str, view: dict, roles: frozenset[str] | None = None) -> list:
    """The forms valid in the record's phase (an event is closed only once a response is recorded) that
    one of `roles` may use (None: any)."""
    phase = view.get("phase") or view.get("status") or ""
    valid = ACTIONS_IN_PHASE[process].get(phase, ())
    if process == "opinion" and not view.get("responses"):
        valid = tuple(a for a in valid if a != "close")
    return [form for form in PROCESSES[process]["forms"] if form[0] in valid
            and (roles is None or roles & FORM_ROLES.get(form[0], EDITORS))]


async def _get(request: Request, path: str, **params) -> Any:
    response = await api_call(request, "GET", path, headers=bearer(request), params=params)
    return response.json() if response.status_code == 200 else []


async def _overview(request: Request, user, *, errors: dict[str, str] | None = None,
                    notice: str | None = None, status_code: int = 200) -> Response:
    context = {
        "items": await _get(request, "/api/v1/catalogue/items"),
        "categories": await _get(request, "/api/v1/catalogue/categories"),
        "events": await _get(request, "/api/v1/public-opinion/events"),
        "corrections": await _get(request, "/api/v1/corrections"),
        "requested": await _get(request, "/api/v1/catalogue/requested-often"),
        "errors": errors or {}, "notice": notice,
        # issue 23 point 7: each form only for the roles the API lets use it
        "editor": bool(user.role_set() & {"handler", "supervisor"}), "registrar": "registrar" in user.role_set(),
    }
    return page(request, "staff/gk_overview.html", context, current="gk", status_code=status_code)


@router.get("")
async def overview(request: Request, done: str = "") -> Response:
    if isinstance(user := await who_holding(request, *READERS), Response):
        return user
    return await _overview(request, user, notice=f"已登记：{done}" if done else None)


# --- the catalogue's categories, each with its responsible section (seed 002 art. 14) ------------

CATEGORY_EDITORS = ("supervisor", "admin")  # the API's own rule (PUT /api/v1/catalogue/categories/{id})


async def _categories_page(request: Request, *, errors: dict[str, str] | None = None, values: dict | None = None,
                           notice: str | None = None, status_code: int = 200) -> Response:
    user = request.state.staff_user
    return page(request, "staff/gk_categories.html", {
        "categories": await _get(request, "/api/v1/catalogue/categories"), "errors": errors or {},
        "values": values or {}, "notice": notice, "can_edit": await check_roles(user, *CATEGORY_EDITORS) is None,
    }, current="gk", status_code=status_code)


@router.get("/categories")
async def categories(request: Request, done: str = "") -> Response:
    if isinstance(user := await who_holding(request, *READERS, *CATEGORY_EDITORS), Response):
        return user
    return await _categories_page(request, notice=f"已保存类别：{done}" if done else None)


@router.post("/categories")
async def save_category(request: Request) -> Response:
    """Add a category or change one's name or responsible section (the code stays: items carry it)."""
    if isinstance(got := await posted(request), Response):
        return got
    user, form = got
    body = {k: str(form.get(k, "")).strip() for k in ("id", "name", "section")}
    answer = await api_call(request, "PUT", f"/api/v1/catalogue/categories/{body['id'] or '-'}", json=body,
                            headers=bearer(request))
    if answer.status_code == 200:
        return redirect(request, f"/staff/gk/categories?done={body['id']}")
    key = body["id"] if form.get("existing") else "new"
    message = detail_of(answer)
    if answer.status_code == 422 and "errors" in answer.json():
        fields = {str((e.get("loc") or ["", ""])[-1]) for e in answer.json()["errors"]}
        hints = {"id": "代码只能用小写字母、数字和连字符（如 statistics-data），不超过 40 个字符",
                 "name": "类别名称至少 2 个字", "section": "负责科室至少 2 个字"}
        message = "；".join(hints[f] for f in ("id", "name", "section") if f in fields) or message
    return await _categories_page(request, errors={key: message}, values={key: body}, status_code=answer.status_code)


# --- table 二 of the annual report: the figures recorded per year ---------------------------------


async def _figures_page(request: Request, year: int, *, error: str | None = None, values: dict | None = None,
                        status_code: int = 200) -> Response:
    figures = await _get(request, f"/api/v1/catalogue/figures/{year}")
    return page(request, "staff/gk_figures.html", {
        "year": year, "rows": figures["rows"] if figures else [], "error": error, "values": values or {},
        "can_edit": await check_roles(request.state.staff_user, "handler", "supervisor") is None,
    }, current="gk", status_code=status_code)


def _year(text: str) -> int | None:
    return int(text) if text.isdigit() and 2008 <= int(text) <= 2100 else None


@router.get("/figures")
async def figures(request: Request, year: str = "") -> Response:
    if isinstance(user := await who_holding(request, *READERS), Response):
        return user
    chosen = _year(year) if year else clock.today().year
    if chosen is None:
        return refused_page(request, "年度应为 2008 至 2100 之间的四位数字", 422)
    return await _figures_page(request, chosen)


@router.post("/figures")
async def save_figures(request: Request) -> Response:
    if isinstance(got := await posted(request), Response):
        return got
    user, form = got
    year = _year(str(form.get("year", "")))
    if year is None:
        return refused_page(request, "年度应为 2008 至 2100 之间的四位数字", 422)
    values = {k: str(v).strip() for k, v in form.items() if "." in k}
    body: dict[str, dict[str, float | None]] = {}
    for name, text in values.items():
        key, _, field = name.partition(".")
        try:
            body.setdefault(key, {})[field] = float(text) if text else None
        except ValueError:
            return await _figures_page(request, year, error=f"「{text}」不是数字", values=values, status_code=422)
    answer = await api_call(request, "PUT", f"/api/v1/catalogue/figures/{year}", json={"figures": body},
                            headers=bearer(request))
    if answer.status_code == 200:
        return redirect(request, f"/staff/gk/figures?year={year}&done=1")
    message = detail_of(answer)
    if answer.status_code == 422 and "errors" in answer.json():
        message = "数字不能为负数，也不能超过 10 亿"
    return await _figures_page(request, year, error=message, values=values, status_code=answer.status_code)


@router.post("/propose")
async def propose(request: Request) -> Response:
    """One click on a group of similar requests: a catalogue item starts with the request's subject,
    naming the applications; the section writes the content before the confidentiality review."""
    if isinstance(got := await posted(request), Response):
        return got
    user, form = got
    subject = str(form.get("subject", "")).strip()
    applications = [a for a in str(form.get("applications", "")).split() if a]
    body = {"title": subject[:300], "category_id": str(form.get("category_id", "")).strip(),
            "produced_on": clock.today().isoformat(), "requested_in": applications[:100],
            "content": f"拟主动公开：{subject}。依申请公开中 {len(applications)} 件申请（{'、'.join(applications[:20])}）"
                       "申请过相似信息（《政府信息公开条例》第四十四条）。请负责科室补充正文后送保密审查。",
            "summary": f"由依申请公开转为主动公开：{len(applications)} 件申请申请过相似信息"}
    answer = await api_call(request, "POST", "/api/v1/catalogue/items", json=body, headers=bearer(request))
    if answer.status_code == 201:
        return redirect(request, f"/staff/gk/catalogue/{answer.json()['item_id']}")
    return await _overview(request, user, errors={"propose": detail_of(answer)}, status_code=answer.status_code)


START = {
    "item": ("/api/v1/catalogue/items", "catalogue", "item_id",
             ("title", "category_id", "document_number", "produced_on", "content", "summary", "legal_kind", "issued_on")),
    "public-copy": ("/api/v1/catalogue/public-copies", "catalogue", "item_id",
                    ("application_id", "attachment_id", "title", "category_id", "content")),
    "interpretation": ("/api/v1/interpretations", "catalogue", "item_id", ("policy_id", "title", "content")),
    "event": ("/api/v1/public-opinion/events", "opinion", "event_id", ("title", "severity", "found_at")),
    "correction": ("/api/v1/corrections", "correction", "correction_id",
                   ("person_name", "email", "address", "record", "correction", "evidence", "received_on")),
}


@router.post("/new/{what}")
async def start(request: Request, what: str) -> Response:
    if isinstance(got := await posted(request), Response):
        return got
    user, form = got
    if what not in START:
        return refused_page(request, "没有这项操作", 404)
    path, process, key, fields = START[what]
    body = {f: str(form.get(f, "")).strip() for f in fields if str(form.get(f, "")).strip()}
    if what == "event" and "found_at" in body and len(body["found_at"]) == 16:
        body["found_at"] += ":00+08:00"  # datetime-local: Beijing time
    answer = await api_call(request, "POST", path, json=body, headers=bearer(request))
    if answer.status_code == 201:
        return redirect(request, f"/staff/gk/{process}/{answer.json()[key]}")
    return await _overview(request, user, errors={what: detail_of(answer)}, status_code=answer.status_code)


async def _detail(request: Request, process: str, record_id: str, *, errors=None, notice=None,
                  status_code: int = 200) -> Response:
    spec = PROCESSES[process]
    response = await api_call(request, "GET", spec["api"].format(id=record_id), headers=bearer(request))
    if response.status_code != 200:
        return refused_page(request, detail_of(response), response.status_code)
    view = response.json()
    forms = offered_forms(process, view, request.state.staff_user.role_set())
    if errors:  # a refused form stays on the page with its reason, even if the phase no longer offers it
        forms += [f for f in spec["forms"] if f[0] in errors and f not in forms]
    shown = dict(view)
    if view.get("category_id"):
        names = {c["id"]: c["name"] for c in await _get(request, "/api/v1/catalogue/categories")}
        shown["category_id"] = names.get(view["category_id"], view["category_id"])
    if view.get("legal_kind"):
        shown["legal_kind"] = LEGAL_KINDS.get(view["legal_kind"], view["legal_kind"])
    return page(request, "staff/gk_detail.html", {
        "process": process, "spec": spec, "view": shown, "record_id": record_id, "forms": forms,
        "errors": errors or {}, "notice": notice, "platforms": PLATFORMS,
        "facts": FACTS, "phases": PHASES, "source_facts": SOURCE_FACTS}, current="gk", status_code=status_code)


@router.get("/{process}/{record_id}")
async def detail(request: Request, process: str, record_id: str, done: str = "") -> Response:
    user = await who(request)
    if isinstance(user, Response):
        return user
    if process not in PROCESSES:
        return refused_page(request, "没有这类事项", 404)
    titles = {a: t for a, t, _ in PROCESSES[process]["forms"]}
    return await _detail(request, process, record_id, notice=f"已完成：{titles[done]}" if done in titles else None)


@router.post("/{process}/{record_id}/{action}")
async def act(request: Request, process: str, record_id: str, action: str) -> Response:
    if isinstance(got := await posted(request), Response):
        return got
    user, form = got
    spec = PROCESSES.get(process)
    forms = {a: fields for a, _, fields in spec["forms"]} if spec else {}
    if action not in forms:
        return refused_page(request, "没有这项操作", 404)
    body: dict[str, Any] = {}
    for name, _, kind in forms[action]:
        value = str(form.get(name, "")).strip()
        if kind == "yesno":
            body[name] = value == "yes"
        elif value:
            body[name] = value
    answer = await api_call(request, "POST", f"{spec['api'].format(id=record_id)}/{action}", json=body,
                            headers=bearer(request))
    if answer.status_code == 200:
        return redirect(request, f"/staff/gk/{process}/{record_id}?done={action}")
    return await _detail(request, process, record_id, errors={action: detail_of(answer)}, status_code=answer.status_code)

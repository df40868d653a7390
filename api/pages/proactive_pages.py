"""Public 政务公开 pages: the proactive catalogue with its search (and each document's
interpretations beside it), and the correction form. The search runs the JSON API's own function
(api.routes.proactive.catalogue_page) on the database; the form posts through the public API."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from api.pages.common import api_call, detail_of, render

router = APIRouter(include_in_schema=False)

SEARCH_FIELDS = ("title", "category", "document_number", "date_from", "date_to", "cursor")


def _search(request: Request, values: dict[str, str]) -> tuple[dict | None, list[dict], str | None]:
    """The API's own search function (api.routes.proactive.catalogue_page) and the categories, read
    directly: two in-process API round trips cost more than the query (bench/catalogue.py)."""
    from datetime import date

    from sqlmodel import Session

    from api.routes.proactive import catalogue_page
    from db import proactive_repository as repo

    def day(text: str):
        try:
            return date.fromisoformat(text) if text else None
        except ValueError:
            raise HTTPException(422, "日期格式应为 YYYY-MM-DD") from None

    with Session(request.app.state.engine) as session:
        categories = [{"id": c.id, "name": c.name, "section": c.section} for c in repo.categories(session)]
        try:
            page = catalogue_page(session, title=values["title"][:100], category_id=values["category"][:40],
                                  document_number=values["document_number"][:100],
                                  date_from=day(values["date_from"]), date_to=day(values["date_to"]),
                                  cursor=values["cursor"][:120] or None, limit=20)
        except HTTPException as refused:
            return None, categories, str(refused.detail)
    return page.model_dump(mode="json"), categories, None


@router.get("/catalogue")
async def catalogue(request: Request):
    values = {k: request.query_params.get(k, "").strip() for k in SEARCH_FIELDS}
    params = {k: v for k, v in values.items() if v}
    found, categories, error = await run_in_threadpool(_search, request, values)
    page = found or {"items": [], "next_cursor": None}
    names = {c["id"]: c["name"] for c in categories}
    next_params = None
    if page["next_cursor"]:
        next_params = {**{k: v for k, v in params.items() if k != "cursor"}, "cursor": page["next_cursor"]}
    searched = any(values[k] for k in SEARCH_FIELDS if k != "cursor")
    return render(request, "public/catalogue.html", {
        "page": "catalogue", "values": values, "categories": categories, "names": names, "items": page["items"],
        "next_params": next_params, "error": error, "searched": searched,
    }, status_code=200 if error is None else 422)


# --- the public correction form (Reg. 41; seed 002 art. 19) ------------------------------------------

CORRECTION_FIELDS = ("person_name", "email", "address", "record", "correction", "evidence")
CORRECTION_FRIENDLY = {
    "person_name": "请填写您的姓名或名称",
    "record": "请写明与您相关的哪一项政府信息记录（至少 2 个字）",
    "correction": "请写明哪里不准确、不完整，应当如何更正（至少 2 个字）",
    "evidence": "请说明您提供的证据材料（至少 2 个字）",
    "email": "电子邮箱格式不正确，应类似 name@example.com",
}


@router.get("/correction")
async def correction_form(request: Request):
    return render(request, "public/correction.html", {"page": "correction", "values": {}, "errors": {}})


@router.post("/correction")
async def correction_submit(request: Request):
    from api.pages.common import CSRF_FAILED, csrf_ok

    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in CORRECTION_FIELDS}
    context = {"page": "correction", "values": values, "errors": {}}
    if not csrf_ok(request, form):
        return render(request, "public/correction.html", context | {"error": CSRF_FAILED}, status_code=400)
    body = {k: v for k, v in values.items() if v or k in ("person_name", "record", "correction", "evidence")}
    response = await api_call(request, "POST", "/api/v1/public/corrections", json=body)
    if response.status_code == 201:
        return render(request, "public/correction_done.html", {"page": "correction", "created": response.json()})
    if response.status_code == 422:
        errors: dict[str, str] = {}
        for error in response.json().get("errors") or []:
            loc = [str(p) for p in error.get("loc", [])][1:]
            if loc:
                errors.setdefault(loc[0], CORRECTION_FRIENDLY.get(loc[0], str(error.get("msg", "内容有误"))))
        if not errors:
            errors["email"] = detail_of(response)
        return render(request, "public/correction.html", context | {"errors": errors}, status_code=422)
    return render(request, "public/correction.html", context | {"error": detail_of(response)},
                  status_code=response.status_code)

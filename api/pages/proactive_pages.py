"""Public 政务公开 pages: the proactive catalogue with its search (and each document's
interpretations beside it). The search is the JSON API's own (GET /api/v1/catalogue, in process)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.pages.common import api_call, detail_of, render

router = APIRouter(include_in_schema=False)

SEARCH_FIELDS = ("title", "category", "document_number", "date_from", "date_to", "cursor")


@router.get("/catalogue")
async def catalogue(request: Request):
    values = {k: request.query_params.get(k, "").strip() for k in SEARCH_FIELDS}
    params = {k: v for k, v in values.items() if v}
    response = await api_call(request, "GET", "/api/v1/catalogue", params=params)
    categories = (await api_call(request, "GET", "/api/v1/catalogue/categories")).json()
    error, page = None, {"items": [], "next_cursor": None}
    if response.status_code == 200:
        page = response.json()
    else:
        error = detail_of(response)
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

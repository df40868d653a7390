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

"""Staff pages for the reports of issue 14 (issue 23 point 3): the annual report (draft, check, publish,
amend, PDF/XLSX), the 考核评议 sheet with its charts, 责任追究 cases with their ladder, and the register of
行政复议 / 行政诉讼 cases. Supervisors and admins only, like the API (api/routes/reports.py).

Every read and action is the JSON API's own request with the session's token (api.pages.common.api_call):
the same validators, role checks and audit; a refusal is shown on the page with the API's reason in Chinese.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.common import api_call, detail_of, field_errors
from api.pages.staff_session import bearer, finish, page, posted, redirect, refused_page, who_holding
from core import clock
from reports.accountability import GROUNDS, LEVELS
from reports.annual import PROACTIVE_FIELD_LABELS, REMEDY_KINDS as TABLE4_KINDS, REMEDY_RESULTS as TABLE4_RESULTS, SECTIONS

router = APIRouter(prefix="/staff/reports", include_in_schema=False)
OVERSIGHT = ("supervisor", "admin")  # the API's own rule (api/routes/reports.py OVERSIGHT)
API = "/api/v1/reports"

REMEDY_KINDS = TABLE4_KINDS
REMEDY_RESULTS = {k: v for k, v in TABLE4_RESULTS.items() if k not in ("pending", "total")}
SOURCES = {"manual": "人工评分", "on_time_rate": "按时答复率", "review_returns": "审查退回次数", "overdue": "逾期件数"}
CASE_SOURCES = {"manual": "人工登记", "records": "从办理记录发现"}
TABLE4_CELLS = tuple(TABLE4_RESULTS.items())


def _case_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and 1 <= int(text) <= 2_147_483_647


def _year(text: str, default: int) -> int | None:
    if not text:
        return default
    return int(text) if text.isdigit() and 2008 <= int(text) <= 2100 else None


async def _get(request: Request, path: str, **params: Any) -> tuple[int, Any]:
    answer = await api_call(request, "GET", path, headers=bearer(request),
                            params={k: v for k, v in params.items() if v is not None})
    return answer.status_code, (answer.json() if answer.headers.get("content-type", "").startswith("application/json") else None)


def _message(answer) -> str:
    """The API's reason; a 422's field errors named in Chinese."""
    if answer.status_code == 422:
        errors = field_errors(answer)
        if errors:
            return "；".join(f"{FIELD_NAMES.get(k.rsplit('.', 1)[-1], k)}：{v}" if k else v for k, v in errors.items())
    return detail_of(answer)


FIELD_NAMES = {"reason": "更正理由", "application_id": "申请编号", "kind": "类别", "filed_on": "申请复议或起诉之日",
               "authority": "复议机关或法院", "case_number": "案号", "note": "备注", "result": "结果",
               "concluded_on": "审结日期", "department": "科室", "handler": "承办人", "ground": "事由",
               "description": "情况说明", "outcome": "处理结果", "score": "得分", "criterion": "指标",
               "from": "开始日期", "to": "结束日期", "start": "开始日期", "end": "结束日期"}


@router.get("")
async def index(request: Request) -> Response:
    if isinstance(user := await who_holding(request, *OVERSIGHT), Response):
        return user
    return page(request, "staff/reports_index.html", {"year": clock.today().year}, current="reports")


# --- the annual report --------------------------------------------------------------------------------


def _default_report_year() -> int:
    """Until the report is due (31 January) the year just ended; the current year's draft after that is a link away."""
    today = clock.today()
    return today.year - 1


async def _annual_page(request: Request, year: int, *, version: int | None = None, error: str | None = None,
                       values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    code, report = await _get(request, f"{API}/annual/{year}", version=version)
    if code != 200:
        return refused_page(request, (report or {}).get("detail") or "年度报告读取失败", code if code >= 400 else 500)
    draft = None
    if report["status"] == "published" and version is None:  # the live figures, for an amendment
        code, draft = await _get(request, f"{API}/annual/{year}", draft="true")
        draft = draft if code == 200 else None
    return page(request, "staff/reports_annual.html", {
        "year": year, "report": report, "draft": draft, "error": error, "values": values or {},
        "done": request.query_params.get("done", ""), "year_over": clock.today() > date(year, 12, 31),
        "version_param": version, "this_year": clock.today().year,
        "field_labels": PROACTIVE_FIELD_LABELS, "cells": TABLE4_CELLS,
    }, current="reports", status_code=status_code)


@router.get("/annual")
async def annual(request: Request, year: str = "", version: str = "") -> Response:
    if isinstance(user := await who_holding(request, *OVERSIGHT), Response):
        return user
    chosen = _year(year, _default_report_year())
    if chosen is None:
        return refused_page(request, "年度应为 2008 至 2100 之间的四位数字", 422)
    if version and not version.isdigit():
        return refused_page(request, "版本应为数字", 422)
    return await _annual_page(request, chosen, version=int(version) if version else None)


def _section_changes(form, generated: dict[str, str]) -> dict[str, str | None]:
    """The sections' text as typed: the generated draft's own text (or blank) puts the generated draft back."""
    out: dict[str, str | None] = {}
    for key, _ in SECTIONS:
        text = str(form.get(f"section.{key}", "") or "").replace("\r\n", "\n").strip()
        out[key] = None if not text or text == (generated.get(key) or "").strip() else text
    return out


async def _generated(request: Request, year: int) -> dict[str, str]:
    code, report = await _get(request, f"{API}/annual/{year}", draft="true")
    return {s["key"]: s["draft_text"] for s in report["sections"]} if code == 200 else {}


@router.post("/annual/{year}/{action}")
async def annual_action(request: Request, year: str, action: str) -> Response:
    if isinstance(got := await posted(request, lambda r: who_holding(r, *OVERSIGHT)), Response):
        return got
    _, form = got
    if (chosen := _year(year, 0)) is None or action not in ("draft", "publish", "amend", "adjust"):
        return refused_page(request, "没有这个页面或操作", 404)
    year = chosen
    values = {k: str(v) for k, v in form.items() if k.startswith("section.") or k == "reason"}
    if action == "publish":
        answer = await api_call(request, "POST", f"{API}/annual/{year}/publish", headers=bearer(request))
    elif action == "adjust":  # one cell of table 三 handled outside the system; the others kept as they are
        values = {k: str(v).strip() for k, v in form.items() if k in ("row", "column", "count", "adjust_reason")}
        try:
            count = int(values.get("count", ""))
        except ValueError:
            return await _annual_page(request, year, error="调整件数须是整数（减少填负数，填 0 撤销该格的调整）",
                                      values=values, status_code=422)
        code, live = await _get(request, f"{API}/annual/{year}", draft="true")
        adjustments = {row: dict(cells) for row, cells in ((live or {}).get("table3", {}).get("adjustments") or {}).items()}
        cells = adjustments.setdefault(values.get("row", ""), {})
        if count:
            cells[values.get("column", "")] = count
        else:
            cells.pop(values.get("column", ""), None)
        answer = await api_call(request, "PUT", f"{API}/annual/{year}/draft", headers=bearer(request), json={
            "table3_adjustments": adjustments, "table3_adjustment_reason": values.get("adjust_reason", "")})
    else:
        body: dict[str, Any] = {"sections": _section_changes(form, await _generated(request, year))}
        if action == "amend":
            body["reason"] = str(form.get("reason", "") or "")
        answer = await api_call(request, "PUT" if action == "draft" else "POST",
                                f"{API}/annual/{year}/" + ("draft" if action == "draft" else "amendments"),
                                json=body, headers=bearer(request))
    if answer.status_code == 200:
        return redirect(request, f"/staff/reports/annual?year={year}&done={action}")
    return await _annual_page(request, year, error=_message(answer), values=values, status_code=answer.status_code)


async def _download(request: Request, year: str, path: str, params: dict[str, Any]) -> Response:
    if isinstance(user := await who_holding(request, *OVERSIGHT), Response):
        return user
    if _year(year, 0) is None:
        return refused_page(request, "年度应为 2008 至 2100 之间的四位数字", 404)
    path = path.format(year=year)
    answer = await api_call(request, "GET", path, headers=bearer(request), params={k: v for k, v in params.items() if v})
    if answer.status_code != 200:
        return refused_page(request, detail_of(answer), answer.status_code)
    headers = {k: v for k, v in answer.headers.items() if k.lower() in ("content-disposition",)}
    return finish(request, Response(answer.content, media_type=answer.headers.get("content-type"), headers=headers))


@router.get("/annual/{year}.pdf")
async def annual_pdf(request: Request, year: str, version: str = "") -> Response:
    return await _download(request, year, f"{API}/annual/{{year}}.pdf", {"version": version if version.isdigit() else None})


@router.get("/annual/{year}.xlsx")
async def annual_xlsx(request: Request, year: str, version: str = "") -> Response:
    return await _download(request, year, f"{API}/annual/{{year}}.xlsx", {"version": version if version.isdigit() else None})


# --- 考核评议 --------------------------------------------------------------------------------------------


def rate_bars(departments: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A horizontal SVG bar per section: its on-time reply rate, its figure as text (no inline style: CSP)."""
    rows, left, width, bar_h, gap = [], 110, 480, 22, 10
    for i, (name, d) in enumerate(sorted(departments.items())):
        rate = d.get("on_time_rate")
        w = 0 if rate is None else round((width - left - 140) * rate, 1)
        rows.append({"name": name, "y": 10 + i * (bar_h + gap), "w": w, "h": bar_h, "tx": left + w + 6,
                     "text": "—（无答复）" if rate is None else f"{rate * 100:.0f}%（{d['on_time']}/{d['replied']}）",
                     "tone": "" if rate is None else ("bad" if rate < 0.9 else ("warn" if rate < 0.97 else "ok"))})
    return {"rows": rows, "left": left, "width": width, "track": width - left - 140, "height": 20 + len(rows) * (bar_h + gap)}


def month_bars(year: int, monthly: list[dict[str, Any]]) -> dict[str, Any]:
    """Stacked SVG columns for each month of the year: replies on time and late (all sections together)."""
    months: dict[str, dict[str, int]] = {f"{year}-{m:02d}": {"on_time": 0, "late": 0} for m in range(1, 13)}
    for row in monthly:
        m = months.setdefault(row["month"], {"on_time": 0, "late": 0})
        m["on_time"] += row["on_time"]
        m["late"] += row["late"]
    width, height, top, bottom, left = 480, 190, 16, 30, 8
    peak = max([m["on_time"] + m["late"] for m in months.values()] + [1])
    slot = (width - left - 10) / max(len(months), 1)
    plot = height - top - bottom
    bars = []
    for i, (month, m) in enumerate(sorted(months.items())):
        ok_h, late_h = plot * m["on_time"] / peak, plot * m["late"] / peak
        x = left + i * slot + slot * 0.15
        bars.append({"label": month, "short": month[5:7].lstrip("0") + "月", "x": round(x, 1), "w": round(slot * 0.7, 1),
                     "ok_y": round(top + plot - ok_h, 1), "ok_h": round(ok_h, 1),
                     "late_y": round(top + plot - ok_h - late_h, 1), "late_h": round(late_h, 1),
                     "tx": round(x + slot * 0.35, 1), **m})
    return {"bars": bars, "width": width, "height": height, "base": top + plot, "peak": peak, "left": left}


async def _assessment_page(request: Request, year: int, *, error: str | None = None, values: dict | None = None,
                           status_code: int = 200, error_at: str = "score") -> Response:
    code, sheets = await _get(request, f"{API}/assessment/{year}/sheet")
    if code != 200:
        return refused_page(request, (sheets or {}).get("detail") or "考核评议读取失败", code)
    _, figures = await _get(request, f"{API}/assessment", **{"from": f"{year}-01-01", "to": f"{year}-12-31"})
    figures = figures or {"rows": [], "departments": {}, "monthly": [], "not_recorded": []}
    return page(request, "staff/reports_assessment.html", {
        "year": year, "sheets": sheets, "figures": figures, "rates": rate_bars(figures["departments"]),
        "months": month_bars(year, figures["monthly"]), "sources": SOURCES, "error": error, "values": values or {},
        "error_at": error_at,
        "done": request.query_params.get("done", ""),
    }, current="reports", status_code=status_code)


@router.get("/assessment")
async def assessment(request: Request, year: str = "") -> Response:
    if isinstance(user := await who_holding(request, *OVERSIGHT), Response):
        return user
    chosen = _year(year, clock.today().year)
    if chosen is None:
        return refused_page(request, "年度应为 2008 至 2100 之间的四位数字", 422)
    return await _assessment_page(request, chosen)


@router.post("/assessment/{year}/scores")
async def assessment_score(request: Request, year: str) -> Response:
    if isinstance(got := await posted(request, lambda r: who_holding(r, *OVERSIGHT)), Response):
        return got
    _, form = got
    if (chosen := _year(year, 0)) is None:
        return refused_page(request, "年度应为 2008 至 2100 之间的四位数字", 404)
    year = chosen
    values = {k: str(v) for k, v in form.items()}
    try:
        score = float(values.get("score", "").strip())
    except ValueError:
        return await _assessment_page(request, year, error="得分须是数字", values=values, status_code=422)
    answer = await api_call(request, "PUT", f"{API}/assessment/{year}/scores", headers=bearer(request), json={
        "department": values.get("department", "").strip(), "criterion": values.get("criterion", ""),
        "score": score, "note": values.get("note", "")})
    if answer.status_code == 200:
        return redirect(request, f"/staff/reports/assessment?year={year}&done=score")
    return await _assessment_page(request, year, error=_message(answer), values=values, status_code=answer.status_code)


@router.post("/assessment/{year}/scheme")
async def assessment_scheme(request: Request, year: str) -> Response:
    """The year's scheme: its weight in the annual appraisal and each criterion's points (labels and sources kept)."""
    if isinstance(got := await posted(request, lambda r: who_holding(r, *OVERSIGHT)), Response):
        return got
    _, form = got
    if (chosen := _year(year, 0)) is None:
        return refused_page(request, "年度应为 2008 至 2100 之间的四位数字", 404)
    year = chosen
    values = {k: str(v).strip() for k, v in form.items()}
    code, scheme = await _get(request, f"{API}/assessment/{year}/scheme")
    if code != 200:
        return refused_page(request, (scheme or {}).get("detail") or "考核评分表读取失败", code)
    try:
        body = {"assessment_weight_percent": float(values.get("assessment_weight_percent", "")),
                "criteria": [{"key": c["key"], "label": c["label"], "source": c["source"],
                              "weight": float(values.get(f"weight.{c['key']}", ""))} for c in scheme["criteria"]]}
    except ValueError:
        return await _assessment_page(request, year, error="权重和分值须是数字", error_at="scheme", values=values,
                                      status_code=422)
    answer = await api_call(request, "PUT", f"{API}/assessment/{year}/scheme", json=body, headers=bearer(request))
    if answer.status_code == 200:
        return redirect(request, f"/staff/reports/assessment?year={year}&done=scheme")
    return await _assessment_page(request, year, error=_message(answer), error_at="scheme", values=values,
                                  status_code=answer.status_code)


@router.get("/assessment/{year}/sheet.xlsx")
async def assessment_xlsx(request: Request, year: str) -> Response:
    return await _download(request, year, f"{API}/assessment/{{year}}/sheet.xlsx", {})


# --- 责任追究 ---------------------------------------------------------------------------------------------


async def _accountability_page(request: Request, *, error: str | None = None, error_at: str = "",
                               values: dict | None = None, status_code: int = 200, notice: str | None = None) -> Response:
    status_ = request.query_params.get("status")
    code, listing = await _get(request, f"{API}/accountability",
                               status=status_ if status_ in ("open", "closed") else None)
    if code != 200:
        return refused_page(request, (listing or {}).get("detail") or "责任追究案件读取失败", code)
    today = clock.today()
    done = request.query_params.get("done", "")
    return page(request, "staff/reports_accountability.html", {
        "groups": listing["by_department"], "grounds": GROUNDS, "levels": LEVELS, "case_sources": CASE_SOURCES,
        "error": error, "error_at": error_at, "values": values or {}, "status": status_ or "",
        "notice": notice or {"raise": "已登记责任追究案件（责令改正）", "escalate": "已升级一级",
                             "close": "已办结"}.get(done.split(":")[0]),
        "scan_from": date(today.year, 1, 1).isoformat(), "scan_to": today.isoformat(),
    }, current="reports", status_code=status_code)


@router.get("/accountability")
async def accountability(request: Request) -> Response:
    if isinstance(user := await who_holding(request, *OVERSIGHT), Response):
        return user
    return await _accountability_page(request)


@router.post("/accountability")
async def accountability_raise(request: Request) -> Response:
    if isinstance(got := await posted(request, lambda r: who_holding(r, *OVERSIGHT)), Response):
        return got
    _, form = got
    values = {k: str(v).strip() for k, v in form.items()}
    body = {"department": values.get("department", ""), "handler": values.get("handler") or None,
            "application_id": values.get("application_id") or None, "ground": values.get("ground", ""),
            "description": values.get("description", "")}
    answer = await api_call(request, "POST", f"{API}/accountability", json=body, headers=bearer(request))
    if answer.status_code == 201:
        return redirect(request, f"/staff/reports/accountability?done=raise#case-{answer.json()['id']}")
    return await _accountability_page(request, error=_message(answer), error_at="raise", values=values,
                                      status_code=answer.status_code)


@router.post("/accountability/scan")
async def accountability_scan(request: Request) -> Response:
    if isinstance(got := await posted(request, lambda r: who_holding(r, *OVERSIGHT)), Response):
        return got
    _, form = got
    values = {k: str(v).strip() for k, v in form.items()}
    answer = await api_call(request, "POST", f"{API}/accountability/scan", headers=bearer(request),
                            json={"from": values.get("from", ""), "to": values.get("to", "")})
    if answer.status_code == 200:
        raised = answer.json()["raised"]
        return await _accountability_page(request, notice=f"已核查办理记录：新发现 {raised} 件逾期答复" if raised
                                          else "已核查办理记录：没有新发现的逾期答复")
    return await _accountability_page(request, error=_message(answer), error_at="scan", values=values,
                                      status_code=answer.status_code)


@router.post("/accountability/{case_id}/{action}")
async def accountability_step(request: Request, case_id: str, action: str) -> Response:
    if isinstance(got := await posted(request, lambda r: who_holding(r, *OVERSIGHT)), Response):
        return got
    _, form = got
    if action not in ("escalate", "close") or not _case_number(case_id):
        return refused_page(request, "没有这个页面或操作", 404)
    values = {k: str(v).strip() for k, v in form.items()}
    body = {"reason": values.get("reason", "")} if action == "escalate" else {"outcome": values.get("outcome", "")}
    answer = await api_call(request, "POST", f"{API}/accountability/{case_id}/{action}", json=body,
                            headers=bearer(request))
    if answer.status_code == 200:
        return redirect(request, f"/staff/reports/accountability?done={action}#case-{case_id}")
    return await _accountability_page(request, error=_message(answer), error_at=f"{action}-{case_id}", values=values,
                                      status_code=answer.status_code)


# --- 行政复议、行政诉讼 ------------------------------------------------------------------------------------


async def _remedies_page(request: Request, *, error: str | None = None, error_at: str = "", values: dict | None = None,
                         status_code: int = 200) -> Response:
    year = _year(request.query_params.get("year", ""), 0) or None
    pending = request.query_params.get("pending")
    code, cases = await _get(request, f"{API}/remedies", year=year,
                             pending={"yes": "true", "no": "false"}.get(pending or ""))
    if code != 200:
        return refused_page(request, (cases or {}).get("detail") or "复议诉讼案件读取失败", code)
    report_year = year or clock.today().year
    _, report = await _get(request, f"{API}/annual/{report_year}")
    return page(request, "staff/reports_remedies.html", {
        "cases": cases, "kinds": REMEDY_KINDS, "results": REMEDY_RESULTS, "error": error, "error_at": error_at,
        "values": values or {}, "year": year, "pending": pending or "", "today": clock.today().isoformat(),
        "table4": (report or {}).get("table4"), "report_year": report_year, "cells": TABLE4_CELLS,
        "notice": {"register": "已登记", "result": "已登记审结结果"}.get(request.query_params.get("done", "")),
    }, current="reports", status_code=status_code)


@router.get("/remedies")
async def remedies(request: Request) -> Response:
    if isinstance(user := await who_holding(request, *OVERSIGHT), Response):
        return user
    return await _remedies_page(request)


@router.post("/remedies")
async def remedies_register(request: Request) -> Response:
    if isinstance(got := await posted(request, lambda r: who_holding(r, *OVERSIGHT)), Response):
        return got
    _, form = got
    values = {k: str(v).strip() for k, v in form.items()}
    if not values.get("filed_on"):
        return await _remedies_page(request, error="请填写申请复议或起诉之日", error_at="register", values=values,
                                    status_code=422)
    body = {k: values.get(k, "") for k in ("application_id", "kind", "filed_on", "authority", "case_number", "note")}
    answer = await api_call(request, "POST", f"{API}/remedies", json=body, headers=bearer(request))
    if answer.status_code == 201:
        return redirect(request, f"/staff/reports/remedies?done=register#case-{answer.json()['id']}")
    return await _remedies_page(request, error=_message(answer), error_at="register", values=values,
                                status_code=answer.status_code)


@router.post("/remedies/{case_id}/result")
async def remedies_result(request: Request, case_id: str) -> Response:
    if isinstance(got := await posted(request, lambda r: who_holding(r, *OVERSIGHT)), Response):
        return got
    _, form = got
    if not _case_number(case_id):
        return refused_page(request, "没有这个案件", 404)
    values = {k: str(v).strip() for k, v in form.items()}
    if not values.get("concluded_on"):
        return await _remedies_page(request, error="请填写审结日期", error_at=f"result-{case_id}", values=values,
                                    status_code=422)
    body = {"result": values.get("result", ""), "concluded_on": values.get("concluded_on", ""),
            "note": values.get("note") or None}
    answer = await api_call(request, "POST", f"{API}/remedies/{case_id}/result", json=body, headers=bearer(request))
    if answer.status_code == 200:
        return redirect(request, f"/staff/reports/remedies?done=result#case-{case_id}")
    return await _remedies_page(request, error=_message(answer), error_at=f"result-{case_id}", values=values,
                                status_code=answer.status_code)


__all__ = ["router"]

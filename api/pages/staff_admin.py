"""Administration pages: users and roles, publishing a calendar year, and the mail sink's outbox.

Users and calendar go through the admin API in process (POST/PATCH /api/v1/admin/users, PUT
/api/v1/calendar/years/{year}): its role check, validation and audit row. Before publishing, the page
shows how many open applications the year moves: open applications are counted per due date in SQL,
and a due date moves when the new year's schedule changes the working days counted up to it, or
makes it a day off (the workflows recompute each one after publication; the count is what they will
find). The outbox shows the letters the embedded mail sink kept (core/mailsink.py); they are
application data, so it is for the roles that read every department's applications (not admins, who
see no application data: README "Who does what").
"""

from __future__ import annotations

import json
from urllib.parse import quote
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.offloop import blocking
from api.pages import staff_data
from api.pages.common import api_call, detail_of, field_errors
from api.pages.staff_session import (
    bearer, page, posted, redirect, refused_page, who_holding,
)
from api.security import ALL_DEPARTMENTS
from core import clock
from core.security import ROLE_NAMES, ROLES
from db.models_security import StaffUser
from services.calendar import InvalidSchedule, parse_schedule
from workcalendar import CalendarData, WorkCalendar, YearSchedule

router = APIRouter(prefix="/staff", include_in_schema=False)
OUTBOX_ROLES = tuple(sorted(ALL_DEPARTMENTS))


async def _admin(request: Request) -> StaffUser | Response:
    return await who_holding(request, "admin")


# --- users and roles --------------------------------------------------------------------------


async def _users_page(request: Request, *, error: str | None = None, errors: dict | None = None,
                      values: dict | None = None, notice: str | None = None, status_code: int = 200) -> Response:
    answer = await api_call(request, "GET", "/api/v1/admin/users", headers=bearer(request))
    users = answer.json() if answer.status_code == 200 else []
    locked = await api_call(request, "GET", "/api/v1/admin/locked", headers=bearer(request))
    return page(request, "staff/admin_users.html", {
        "locked": locked.json() if locked.status_code == 200 else [], "users": users, "roles": ROLES, "role_names": ROLE_NAMES, "error": error, "errors": errors or {},
        "values": values or {}, "notice": notice}, current="admin", status_code=status_code)


@router.get("/admin")
async def admin_home(request: Request, done: str = "") -> Response:
    user = await _admin(request)
    if isinstance(user, Response):
        return user
    return await _users_page(request, notice={"created": "已创建用户", "changed": "已保存修改（该用户须重新登录）",
                                              "unlocked": "已解除锁定，该用户可以重新登录"}.get(done))


@router.post("/admin/users/{username}/unlock")
async def unlock_user(request: Request, username: str) -> Response:
    """Issue 23 point 8: the admin lifts a lock (POST /api/v1/admin/users/{username}/unlock; audited)."""
    if isinstance(got := await posted(request, _admin), Response):
        return got
    answer = await api_call(request, "POST", f"/api/v1/admin/users/{quote(username, safe='')}/unlock",
                            headers=bearer(request))
    if answer.status_code == 200:
        return redirect(request, "/staff/admin?done=unlocked")
    return await _users_page(request, error=f"{username}：{detail_of(answer)}", status_code=answer.status_code)


@router.post("/admin/users")
async def create_user(request: Request) -> Response:
    if isinstance(got := await posted(request, _admin), Response):
        return got
    user, form = got
    g = lambda k: str(form.get(k, "") or "").strip()  # noqa: E731
    body = {"username": g("username"), "password": str(form.get("password", "")), "roles": form.getlist("roles"),
            "department": g("department") or None, "full_name": g("full_name")}
    answer = await api_call(request, "POST", "/api/v1/admin/users", json=body, headers=bearer(request))
    if answer.status_code == 201:
        return redirect(request, "/staff/admin?done=created")
    kept = {k: v for k, v in body.items() if k != "password"}
    return await _users_page(request, error=detail_of(answer), errors=field_errors(answer), values=kept,
                             status_code=answer.status_code)


@router.post("/admin/users/{username}")
async def change_user(request: Request, username: str) -> Response:
    if isinstance(got := await posted(request, _admin), Response):
        return got
    user, form = got
    body: dict[str, Any] = {"roles": form.getlist("roles"), "department": str(form.get("department", "")).strip() or None,
                            "active": form.get("active") == "yes",
                            "full_name": str(form.get("full_name", "")).strip()}
    if str(form.get("password", "")):
        body["password"] = str(form.get("password"))
    answer = await api_call(request, "PATCH", f"/api/v1/admin/users/{quote(username, safe='')}", json=body,
                            headers=bearer(request))
    if answer.status_code == 200:
        return redirect(request, "/staff/admin?done=changed")
    return await _users_page(request, error=f"{username}：{detail_of(answer)}", status_code=answer.status_code)


# --- publishing a calendar year ---------------------------------------------------------------


def _dates(text: str) -> list[str]:
    return [part for part in text.replace("，", ",").replace("\n", ",").replace(" ", ",").split(",") if part.strip()]


def due_dates_moved(current: CalendarData, schedule: YearSchedule, per_due: list[tuple[date, int]]) -> int:
    """How many of the counted applications (open applications per due date) the year's schedule moves.

    Days before the year are the same in both calendars, so a due date in or after it moves exactly
    when the working days counted from 1 January up to it change, or it stops (or starts) being a
    working day; a due date before the year cannot move. Pure: no I/O.
    """
    old, new = WorkCalendar(current), WorkCalendar(current.with_year(schedule))
    before = date(schedule.year, 1, 1) - timedelta(days=1)
    moved = 0
    for due_on, count in per_due:
        if due_on <= before:
            continue
        if (old.workdays_between(before, due_on)[0] != new.workdays_between(before, due_on)[0]
                or old.workday_or_provisional(due_on)[0] != new.workday_or_provisional(due_on)[0]):
            moved += count
    return moved


def moved_by(request: Request, schedule: YearSchedule) -> tuple[int, int]:
    """(open applications the year moves, open applications due in or after it): per due date from SQL."""
    with request.app.state.engine.connect() as conn:
        per_due = staff_data.open_due_dates_from(conn, date(schedule.year, 1, 1))
    return due_dates_moved(request.app.state.calendar.current(), schedule, per_due), sum(n for _, n in per_due)


async def _calendar_page(request: Request, *, values: dict | None = None, error: str | None = None,
                         preview: dict | None = None, notice: str | None = None, status_code: int = 200) -> Response:
    data = request.app.state.calendar.current()
    return page(request, "staff/admin_calendar.html", {
        "published": data.published_years(), "version": data.version, "values": values or {"year": clock.today().year + 1},
        "error": error, "preview": preview, "notice": notice}, current="admin", status_code=status_code)


@router.get("/admin/calendar")
async def calendar_form(request: Request, done: str = "") -> Response:
    user = await _admin(request)
    if isinstance(user, Response):
        return user
    return await _calendar_page(request, notice=f"已发布 {done} 年放假安排，在办申请的答复期限正在逐件重新计算" if done else None)


@router.post("/admin/calendar")
async def calendar_publish(request: Request) -> Response:
    if isinstance(got := await posted(request, _admin), Response):
        return got
    user, form = got
    values = {k: str(form.get(k, "") or "").strip() for k in ("year", "holidays", "makeup_workdays", "source", "published_on")}
    body = {"holidays": _dates(values["holidays"]), "makeup_workdays": _dates(values["makeup_workdays"]),
            "source": values["source"], "published_on": values["published_on"] or None}
    if not values["year"].isdigit() or not 2000 <= int(values["year"]) <= 2100:
        return await _calendar_page(request, values=values, error="年度应为 2000 至 2100 之间的整数", status_code=422)
    year = int(values["year"])
    try:
        schedule = parse_schedule(year, body)
    except InvalidSchedule as err:
        return await _calendar_page(request, values=values, error=str(err), status_code=422)
    if form.get("confirm") != "yes":
        moved, considered = await blocking(moved_by, request, schedule)
        return await _calendar_page(request, values=values, preview={
            "year": year, "moved": moved, "considered": considered, "holidays": len(schedule.holidays),
            "makeup": len(schedule.makeup_workdays), "body": json.dumps(body, ensure_ascii=False)})
    answer = await api_call(request, "PUT", f"/api/v1/calendar/years/{year}", json=body, headers=bearer(request))
    if answer.status_code != 200:
        return await _calendar_page(request, values=values, error=detail_of(answer), status_code=answer.status_code)
    return redirect(request, f"/staff/admin/calendar?done={year}")


# --- the mail sink's outbox -------------------------------------------------------------------


async def _outbox_reader(request: Request) -> StaffUser | Response:
    if isinstance(user := await who_holding(request, *OUTBOX_ROLES), Response):
        return user
    return user


def _mail_dir(request: Request):
    return request.app.state.settings.data_dir / "mail"


@router.get("/outbox")
async def outbox(request: Request, offset: int = 0, q: str = "") -> Response:
    user = await _outbox_reader(request)
    if isinstance(user, Response):
        return user
    from core import mailsink

    offset, q = max(offset, 0), q.strip()[:100]
    if q:  # issue 23 point 10: by application number, address or subject
        messages = await blocking(mailsink.search_messages, _mail_dir(request), q, limit=100)
    else:
        messages = await blocking(mailsink.list_messages, _mail_dir(request), offset=offset, limit=50)
    total = await blocking(mailsink.count_messages, _mail_dir(request))
    return page(request, "staff/outbox.html", {"messages": messages, "total": total, "offset": offset, "q": q},
                current="outbox")


@router.get("/outbox/{name}")
async def outbox_message(request: Request, name: str) -> Response:
    user = await _outbox_reader(request)
    if isinstance(user, Response):
        return user
    from core import mailsink

    try:
        message = await blocking(mailsink.read_message, _mail_dir(request), name)
    except (mailsink.InvalidMessageName, mailsink.MessageNotFound):
        return refused_page(request, "没有这封邮件", 404)
    return page(request, "staff/outbox_message.html", {"message": message}, current="outbox")


@router.get("/outbox/{name}/attachments/{index}")
async def outbox_attachment(request: Request, name: str, index: int) -> Response:
    user = await _outbox_reader(request)
    if isinstance(user, Response):
        return user
    from core import mailsink

    try:
        filename, content_type, data = await blocking(mailsink.attachment, _mail_dir(request), name, index)
    except (mailsink.InvalidMessageName, mailsink.MessageNotFound):
        return refused_page(request, "没有这个附件", 404)
    inline = content_type == "application/pdf"
    return Response(data, media_type=content_type if inline else "application/octet-stream", headers={
        "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})

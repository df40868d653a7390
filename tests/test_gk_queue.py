"""Issue 23 point 7: the 政务公开 steps each role's queue holds (api.pages.staff_data.gk_queue), read from the rows
the workflows write, on SQLite and PostgreSQL: the reviewer gets reviews, a handler their own section's
publications and every event's response, the desk the questions to route; each row with its link, due date, time
left and overdue mark. The browser test (tests/browser/test_staff_gk_queue.py) walks the same through real
workflows; here the rows are written directly, so the role rules are checked one by one."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlmodel import Session

from api.pages.staff_data import gk_queue, hours_left
from clock.deadline import SHANGHAI, end_of_day_instant
from db.models_participation import Draft, Inquiry
from db.models_proactive import CatalogueItem, CorrectionRequest, OpinionEvent
from tests.calendars import calendar_before
from workcalendar import WorkCalendar

TODAY = date(2026, 12, 8)  # a Tuesday; the rows below are dated from it, never from the day the test runs
NOW = datetime(2026, 12, 8, 10, 0, tzinfo=SHANGHAI)
CAL = WorkCalendar(calendar_before(2027))


def _rows(engine, tag: str) -> dict[str, str]:
    ids = {k: f"{k}-{tag}" for k in ("late", "approved", "other", "event", "question", "feedback", "reviewed",
                                     "correction")}
    with Session(engine) as session:
        def item(key, status, section, due_on):
            session.add(CatalogueItem(id=ids[key], kind="interpretation" if key == "late" else "document",
                                      title=f"{key}{tag}", category_id="statistics-data", section=section,
                                      produced_on=due_on - timedelta(days=5), status=status,
                                      due_at=end_of_day_instant(due_on), created_by="wang"))
        item("late", "in-review", "综合统计科", date(2026, 12, 3))  # Thursday: 3 working days overdue
        item("approved", "approved", "综合统计科", date(2026, 12, 10))
        item("other", "approved", "执法监督科", date(2026, 12, 30))
        found = NOW - timedelta(hours=1)
        session.add(OpinionEvent(id=ids["event"], title=f"event{tag}", severity="other", found_at=found, status="open",
                                 limits=[{"limit": {"name": "response", "label": "予以回应", "hours": 48,
                                                    "due_at": (found + timedelta(hours=48)).isoformat(),
                                                    "warn_at": found.isoformat(), "platforms": [], "basis": ""}}],
                                 created_by="wang"))
        session.add(Inquiry(id=ids["question"], question=f"统计公报什么时候发布？{tag}", received_on=TODAY,
                            due_on=date(2026, 12, 22), status="unrouted", code_hash="x"))
        session.add(Draft(id=ids["feedback"], title=f"办法（征求意见稿）{tag}", kind="normative-document",
                          section="综合统计科", phase="closed", feedback_due_at=end_of_day_instant(date(2026, 12, 21)),
                          created_by="wang"))
        session.add(Draft(id=ids["reviewed"], title=f"决定（征求意见稿）{tag}", kind="major-decision", section="执法监督科",
                          phase="reviewed", created_by="li"))
        session.add(CorrectionRequest(id=ids["correction"], person_name="赵六", record="户籍登记", correction="姓名有误",
                                      channel="desk", received_on=TODAY, due_on=date(2026, 12, 29), status="in-review"))
        session.commit()
    return ids


def _mine(engine, roles, department, ids) -> dict[str, object]:
    return {r.record_id: r for r in gk_queue(engine, frozenset(roles), department, CAL, TODAY, NOW)
            if r.record_id in ids.values()}


def test_each_role_gets_its_own_steps_with_due_dates_and_marks(engine):
    ids = _rows(engine, uuid.uuid4().hex[:6])
    reviewer = _mine(engine, ["reviewer"], None, ids)
    assert set(reviewer) == {ids["late"], ids["correction"]}
    assert reviewer[ids["correction"]].description == "告知书保密审查"
    late = reviewer[ids["late"]]
    assert (late.what, late.due_on, late.mark, late.left) == ("政策解读", date(2026, 12, 3), "overdue", "已逾期 3 个工作日")
    assert late.href == f"/staff/gk/catalogue/{ids['late']}"

    handler = _mine(engine, ["handler"], "综合统计科", ids)
    assert set(handler) == {ids["approved"], ids["event"], ids["feedback"]}  # not another section's, not reviews
    feedback = handler[ids["feedback"]]
    assert (feedback.due_on, feedback.href) == (date(2026, 12, 21), f"/staff/participation/drafts/{ids['feedback']}")
    assert (handler[ids["approved"]].description, handler[ids["approved"]].mark) == ("公开发布", "soon")
    assert handler[ids["approved"]].left == "剩余 3 个工作日"
    event = handler[ids["event"]]
    assert (event.description, event.left, event.mark) == ("回应舆情：予以回应", "还剩 47 小时 0 分钟", "")

    supervisor = _mine(engine, ["supervisor"], None, ids)
    assert set(supervisor) == {ids["approved"], ids["other"], ids["event"], ids["question"], ids["feedback"],
                               ids["reviewed"]}
    assert supervisor[ids["reviewed"]].description == "批准公开征求意见"
    desk = _mine(engine, ["registrar"], None, ids)
    assert set(desk) == {ids["question"]} and desk[ids["question"]].description == "分送承办科室"
    assert _mine(engine, ["admin"], None, ids) == {}


def test_hour_clocks_count_down_in_whole_minutes_then_overdue():
    due = NOW + timedelta(hours=5, minutes=30, seconds=50)
    assert hours_left(due, NOW) == ("还剩 5 小时 30 分钟", "soon")
    assert hours_left(due.isoformat(), NOW + timedelta(hours=5, minutes=20)) == ("还剩 10 分钟", "soon")
    assert hours_left(NOW + timedelta(hours=7), NOW) == ("还剩 7 小时 0 分钟", "")
    assert hours_left(due, NOW + timedelta(hours=8)) == ("已超时 2 小时 29 分钟", "overdue")

"""Periods of public participation (RULES §13; seeds 000, 001, 003). Pure.

- 重大行政决策: the draft is open for comment for at least 30 days (重大行政决策程序暂行条例, 国务院令第713号,
  第十五条: 征求意见期限一般不少于30日; a shorter period is explained when the draft is published).
- 行政规范性文件: generally at least 7 working days (国办发〔2018〕37号, 国务院办公厅关于加强行政规范性文件制定和
  监督管理工作的通知: 征求意见的期限一般不少于7个工作日); shorter only with its reason, shown publicly.
- 意见收集和采纳情况 (seed 001): published within a period the agency sets after the comment period closes
  (default 30 days).
- 在线咨询 (seed 003; RULES §13): answered within a period the agency sets, in working days (default 5).

Each period is an absolute instant with the steps that explain it (like clock.compute_due), so workflows
arm one timer on it and pages show the steps to people.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Literal

from clock import SHANGHAI, add_working_days_from, end_of_day_instant, reminder_date
from contracts.participation import Period
from workcalendar import WorkCalendar

DraftKind = Literal["major-decision", "normative-document"]
KIND_LABELS = {"major-decision": "重大行政决策", "normative-document": "行政规范性文件"}
CHANNEL_LABELS = {"website": "本网站", "email": "电子邮件", "letter": "信函", "fax": "传真", "hearing": "听证会"}
# 国务院令第713号 第十五条: 一般不少于30日 (calendar days).
MAJOR_DECISION_MIN_DAYS = 30
# 国办发〔2018〕37号: 一般不少于7个工作日.
NORMATIVE_MIN_WORKING_DAYS = 7
BASIS = {
    "major-decision": "《重大行政决策程序暂行条例》（国务院令第713号）第十五条：征求意见期限一般不少于30日",
    "normative-document": "《国务院办公厅关于加强行政规范性文件制定和监督管理工作的通知》（国办发〔2018〕37号）："
                          "征求意见期限一般不少于7个工作日",
}
# Seed 001: 以适当形式公布意见收集和采纳情况; the period is the agency's setting (default 30 days after closing).
FEEDBACK_DAYS = 30
# 在线咨询: the agency's setting, working days (default 5).
INQUIRY_WORKING_DAYS = 5
REMIND_DAYS_BEFORE = 3
REASON_MIN_CHARS = 4


def _show(d: date) -> str:
    return f"{d.isoformat()}（周{'一二三四五六日'[d.weekday()]}）"


def _at9(d: date) -> datetime:
    return datetime.combine(d, time(9), tzinfo=SHANGHAI)


def minimum_days(kind: DraftKind) -> int:
    return MAJOR_DECISION_MIN_DAYS if kind == "major-decision" else NORMATIVE_MIN_WORKING_DAYS


def why_not_period(kind: DraftKind, days: int, reason: str | None) -> str | None:
    """The refusal (in Chinese, for the handler) of a comment period, or None when it is allowed."""
    if days < 1:
        return "征求意见期限至少 1 天"
    if days > 365:
        return "征求意见期限不能超过 365 天"
    minimum = minimum_days(kind)
    if days < minimum and len((reason or "").strip()) < REASON_MIN_CHARS:
        unit = "日" if kind == "major-decision" else "个工作日"
        return (f"{KIND_LABELS[kind]}征求意见期限一般不少于 {minimum} {unit}；"
                f"少于 {minimum} {unit}的，须写明理由（将向社会公开说明）")
    return None


def comment_period(cal: WorkCalendar, kind: DraftKind, opens_on: date, days: int, reason: str | None = None) -> Period:
    """The comment period of a draft published on `opens_on` (day 0): `days` calendar days for a 重大行政决策,
    `days` working days on the official calendar for a 行政规范性文件 (a publication on a non-working day counts
    from the next working day). Raises ValueError with the refusal when the period is not allowed."""
    if (refusal := why_not_period(kind, days, reason)) is not None:
        raise ValueError(refusal)
    minimum = minimum_days(kind)
    shortened = (reason or "").strip() if days < minimum else None
    working = kind == "normative-document"
    if working:
        due_on, provisional = add_working_days_from(cal, opens_on, days)
        unit = "个工作日"
    else:
        due_on, provisional = opens_on + timedelta(days=days), False
        unit = "日"
    steps = [f"征求意见稿公布之日 {_show(opens_on)}，当日为第 0 日",
             f"征求意见期限 {days} {unit}（{BASIS[kind]}）"]
    if working:
        skipped = [opens_on + timedelta(days=n) for n in range(1, (due_on - opens_on).days)
                   if not cal.workday_or_provisional(opens_on + timedelta(days=n))[0]]
        if skipped:
            steps.append(f"其间 {len(skipped)} 天为节假日或休息日，不计入（{skipped[0].isoformat()} 至 {skipped[-1].isoformat()}）")
        steps.append(f"工作日历版本 {cal.version}")
    if shortened:
        steps.append(f"期限短于一般期限，理由：{shortened}")
    steps.append(f"意见征集于 {_show(due_on)}24:00（北京时间）截止")
    if provisional:
        steps.append("所涉年度放假安排尚未公布，暂按周末推算")
    remind_on = max(opens_on, due_on - timedelta(days=1))
    return Period(start_on=opens_on, due_on=due_on, due_at=end_of_day_instant(due_on), remind_at=_at9(remind_on),
                  working_days=working, days=days, provisional=provisional, shortened_reason=shortened, steps=steps)


def feedback_due(closed_on: date, days: int = FEEDBACK_DAYS) -> Period:
    """意见收集和采纳情况 published within `days` calendar days after the comment period closed (seed 001;
    the agency's setting, default 30)."""
    if days < 1:
        raise ValueError("反馈期限至少 1 天")
    due_on = closed_on + timedelta(days=days)
    steps = [f"征求意见于 {_show(closed_on)} 截止，当日为第 0 日",
             f"意见收集和采纳情况应在截止后 {days} 日内公布（本机关设置）",
             f"应于 {_show(due_on)}24:00（北京时间）前公布"]
    remind_on = max(closed_on, due_on - timedelta(days=REMIND_DAYS_BEFORE))
    return Period(start_on=closed_on, due_on=due_on, due_at=end_of_day_instant(due_on), remind_at=_at9(remind_on),
                  working_days=False, days=days, steps=steps)


def inquiry_due(cal: WorkCalendar, received_on: date, days: int = INQUIRY_WORKING_DAYS) -> Period:
    """A question's answer: within `days` working days of its receipt (day 0; a receipt on a non-working day
    counts from the next working day). The handler is reminded 1 working day before the last day."""
    if days < 1:
        raise ValueError("答复期限至少 1 个工作日")
    due_on, provisional = add_working_days_from(cal, received_on, days)
    start_on, _ = cal.next_workday_on_or_after(received_on)
    steps = [f"咨询收到之日 {_show(received_on)}，当日为第 0 日" + ("" if start_on == received_on
                                                                 else f"（非工作日，自 {_show(start_on)} 起算）"),
             f"答复期限 {days} 个工作日（本机关设置）",
             f"应于 {_show(due_on)}24:00（北京时间）前答复",
             f"工作日历版本 {cal.version}"]
    if provisional:
        steps.append("所涉年度放假安排尚未公布，暂按周末推算")
    remind_on = reminder_date(cal, due_on, 1, not_before=received_on)
    return Period(start_on=start_on, due_on=due_on, due_at=end_of_day_instant(due_on), remind_at=_at9(remind_on),
                  working_days=True, days=days, provisional=provisional, steps=steps)


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email_of(contact: str | None) -> str | None:
    """The asker's contact when it is an e-mail address (the answer is sent there), else None (a phone number)."""
    text = (contact or "").strip()
    return text if EMAIL.match(text) else None


Decision = Literal["adopted", "partly", "not-adopted"]
DECISION_LABELS = {"adopted": "采纳", "partly": "部分采纳", "not-adopted": "未采纳"}


def count_decisions(decisions: list[str | None]) -> dict[str, int]:
    """Counts of comments received and, per comment, adopted / partly adopted / not adopted (seed 001)."""
    return {"received": len(decisions), "adopted": decisions.count("adopted"), "partly": decisions.count("partly"),
            "not_adopted": decisions.count("not-adopted")}

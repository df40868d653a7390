"""Deadlines of proactive disclosure, policy interpretation and public-opinion response. Pure.

Each deadline is an absolute instant with the steps that explain it, like the application's due
date (clock.compute_due): workflows arm one timer on it and show the steps to people.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from clock import SHANGHAI, add_working_days_from, end_of_day_instant
from workcalendar import WorkCalendar

# Seed 002 art. 13: 本局主动公开的信息自其产生后20日内予以公开 (calendar days, the stricter reading
# and the default); Reg. 26 allows 20 working days, an agency setting (RULES §8).
PUBLICATION_DAYS = 20
# Seed 002 art. 20: 解读材料……最晚应在政策文件正式印发后的3个工作日内发布.
INTERPRETATION_WORKING_DAYS = 3
# Reminder before a day limit: this many calendar days before it (or the start, for short periods).
REMIND_DAYS_BEFORE = 3

Severity = Literal["major", "other"]
SEVERITY_LABELS = {"major": "特别重大、重大突发事件", "other": "其他政务舆情"}


class Deadline(BaseModel):
    start_on: date = Field(description="the day counting starts from (day 0)")
    due_on: date
    due_at: datetime = Field(description="the instant the limit runs out: end of due_on, Asia/Shanghai")
    remind_at: datetime = Field(description="when the responsible section is reminded")
    working_days: bool
    days: int
    provisional: bool = Field(default=False, description="a day counted lies in an unpublished calendar year")
    steps: list[str]


def _show(d: date) -> str:
    return f"{d.isoformat()}（周{'一二三四五六日'[d.weekday()]}）"


def _remind(start_on: date, due_on: date) -> datetime:
    remind_on = max(start_on, due_on - timedelta(days=REMIND_DAYS_BEFORE))
    return datetime.combine(remind_on, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=9)


def publication_due(
    cal: WorkCalendar, produced_on: date, *, days: int = PUBLICATION_DAYS, working_days: bool = False
) -> Deadline:
    """The last day to publish a catalogue item produced or changed on `produced_on`.

    Seed 002 art. 13 (20日, calendar days: day 0 is the production day, the period ends at the end
    of the 20th day after it); with `working_days` (Reg. 26: 20个工作日) the working-day count of
    clock.add_working_days_from (a production on a non-working day counts from the next working day).
    """
    if working_days:
        due_on, provisional = add_working_days_from(cal, produced_on, days)
        unit, rule = "个工作日", "《政府信息公开条例》第二十六条：20个工作日内（本机关设置）"
    else:
        due_on, provisional = produced_on + timedelta(days=days), False
        unit, rule = "日", "本机关政务公开制度第十三条：自其产生后20日内予以公开"
    steps = [
        f"信息产生（或变更）之日 {_show(produced_on)}，当日为第 0 日（produced or changed: day 0）",
        f"公开时限 {days} {unit}（{rule}）",
        f"应于 {_show(due_on)}24:00（北京时间）前公开（due by the end of {due_on.isoformat()}, Asia/Shanghai）",
    ]
    if working_days:
        steps.append(f"工作日历版本 {cal.version}（calendar version）")
    if provisional:
        steps.append("所涉年度放假安排尚未公布，暂按周末推算，公布后重算（provisional）")
    return Deadline(start_on=produced_on, due_on=due_on, due_at=end_of_day_instant(due_on),
                    remind_at=_remind(produced_on, due_on), working_days=working_days, days=days,
                    provisional=provisional, steps=steps)


def interpretation_due(cal: WorkCalendar, issued_on: date, *, days: int = INTERPRETATION_WORKING_DAYS) -> Deadline:
    """Seed 002 art. 20: the interpretation is published with its policy document, at the latest on
    the 3rd working day after the document is formally issued (印发; day 0 is the issue day)."""
    due_on, provisional = add_working_days_from(cal, issued_on, days)
    steps = [
        f"政策文件印发之日 {_show(issued_on)}，当日为第 0 日（document issued: day 0）",
        f"解读材料原则上与文件同时发布，最晚在印发后 {days} 个工作日内发布（本机关政务公开制度第二十条）",
    ]
    skipped = [issued_on + timedelta(days=n) for n in range(1, (due_on - issued_on).days)
               if not cal.workday_or_provisional(issued_on + timedelta(days=n))[0]]
    if skipped:
        steps.append(f"其间 {len(skipped)} 天为节假日或休息日，不计入（{skipped[0].isoformat()} 至 "
                     f"{skipped[-1].isoformat()}; non-working days not counted）")
    steps.append(f"应于 {_show(due_on)}24:00（北京时间）前发布（due by the end of {due_on.isoformat()}）")
    steps.append(f"工作日历版本 {cal.version}（calendar version）")
    if provisional:
        steps.append("所涉年度放假安排尚未公布，暂按周末推算，公布后重算（provisional）")
    start_on, _ = cal.next_workday_on_or_after(issued_on)
    remind_on = max(issued_on, due_on - timedelta(days=1))
    return Deadline(start_on=start_on, due_on=due_on, due_at=end_of_day_instant(due_on),
                    remind_at=datetime.combine(remind_on, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=9),
                    working_days=True, days=days, provisional=provisional, steps=steps)


class HourLimit(BaseModel):
    name: Literal["authoritative-information", "press-conference", "response"]
    label: str
    hours: int
    due_at: datetime
    warn_at: datetime = Field(description="the supervisor is warned at this instant, before the limit")
    platforms: list[str] = Field(description="responses on these platforms meet the limit")
    basis: str


ALL_PLATFORMS = ["website", "wechat", "press", "press-conference"]
# Their names on pages and in the history (issue 23 point 9: "回应（website）" was shown).
PLATFORM_LABELS = {"website": "网站", "wechat": "微信", "press": "纸质媒体", "press-conference": "新闻发布会"}


def opinion_limits(severity: Severity, found_at: datetime, *, press_conference: bool = True) -> list[HourLimit]:
    """The hour clocks of a public-opinion event, from the instant it was found (not working days).

    Seed 002 art. 21: 特别重大、重大突发事件 → authoritative information within 5 hours; other events →
    a response within 48 hours on the website, WeChat or print media. Seed 001 (三): major
    emergencies also get a press conference within 24 hours (where it applies: `press_conference`).
    The supervisor is warned one fifth of each span before it (1 h, 4.8 h, 9.6 h).
    """
    if found_at.tzinfo is None:
        raise ValueError("found_at must be timezone-aware")

    def limit(name, label, hours, platforms, basis) -> HourLimit:
        due = found_at + timedelta(hours=hours)
        return HourLimit(name=name, label=label, hours=hours, due_at=due, warn_at=due - timedelta(hours=hours) / 5,
                         platforms=platforms, basis=basis)

    if severity == "major":
        limits = [limit("authoritative-information", "发布权威信息", 5, ALL_PLATFORMS,
                        "本机关政务公开制度第二十一条：最迟在5小时内发布权威信息")]
        if press_conference:
            limits.append(limit("press-conference", "举行新闻发布会", 24, ["press-conference"],
                                "政务公开工作要点（三）：在24小时内举行新闻发布会"))
        return limits
    return [limit("response", "予以回应", 48, ["website", "wechat", "press"],
                  "本机关政务公开制度第二十一条：其他政务舆情应在48小时内在网站、微信、纸质媒体等平台予以回应")]

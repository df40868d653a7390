"""The deadline clock (RULES §3): pure functions over a WorkCalendar, safe inside workflows.

Counting rule used everywhere here: the start day (receipt, letter, notice) is day 0; a start
on a non-working day counts as the next working day; a period of N working days ends at the
end of the N-th working day after day 0.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from workcalendar import WorkCalendar
from workcalendar.schedule import is_weekend

# China has had no daylight saving time since 1991, so a fixed offset is exact and avoids
# ZoneInfo, which reads the filesystem and is unavailable in the workflow sandbox.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

ONE_DAY = timedelta(days=1)

PAUSE_KIND_NAMES: dict[str, str] = {
    "third-party": "征求第三方意见",
    "agency": "征求其他机关意见",
    "fee": "缴纳费用期间",
}


def start_of_day_instant(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=SHANGHAI)


def end_of_day_instant(d: date) -> datetime:
    """The instant a period ending on `d` runs out: 00:00 of the next day, Shanghai time."""
    return start_of_day_instant(d + ONE_DAY)


def at_local_time(d: date, hour: int) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=SHANGHAI)


def local_date(instant: datetime) -> date:
    """The Shanghai calendar date of a timezone-aware instant."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant must be timezone-aware, got naive {instant.isoformat()}")
    return instant.astimezone(SHANGHAI).date()


class Pause(BaseModel):
    """Excluded time: a consultation (Reg. 32-34) or a fee period (Reg. 42).

    A pause excludes the days d with started_on < d <= end, where end is `ended_on` or, while
    the pause is still open, `expected_end_on`. The day the letter is sent still counts; the
    day the answer arrives (or the window expires) acts like a new day 0, so counting resumes
    the day after it. Overlapping pauses are merged: the clock stands still while ANY of them
    is open.
    """

    kind: Literal["third-party", "agency", "fee"]
    label: str
    started_on: date
    ended_on: date | None = None
    expected_end_on: date | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Pause:
        for name in ("ended_on", "expected_end_on"):
            end = getattr(self, name)
            if end is not None and end < self.started_on:
                raise ValueError(f"pause {self.label!r}: {name} {end} is before started_on {self.started_on}")
        return self

    @property
    def is_open(self) -> bool:
        return self.ended_on is None

    def end_for_counting(self) -> date:
        """ended_on, or expected_end_on while open; raises ValueError if neither is known."""
        end = self.ended_on or self.expected_end_on
        if end is None:
            raise ValueError(f"open pause {self.label!r} needs expected_end_on to project a due date")
        return end

    def excluded_days(self) -> list[date]:
        end = self.end_for_counting()
        return [self.started_on + timedelta(days=i) for i in range(1, (end - self.started_on).days + 1)]


class ClockInput(BaseModel):
    received_on: date = Field(description="legal receipt date (收到申请之日, Reg. 31)")
    reply_days: int = Field(ge=1, description="reply period in working days, fixed at intake")
    restarted_on: date | None = Field(
        default=None, description="supplemented application received (Reg. 30): the period starts again"
    )
    pauses: list[Pause] = []
    extension_days: int = Field(default=0, ge=0)
    receipt_basis: str = Field(default="", description="which event fixed the receipt date, e.g. 挂号信函，本机关签收之日")
    reasons_asked_on: date | None = Field(
        default=None, description="Reg. 35: the applicant was asked for reasons (the period keeps running)"
    )
    reasonable_until: date | None = Field(
        default=None, description="Reg. 35: the longer reasonable period the agency set, and told the applicant"
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> ClockInput:
        if self.restarted_on is not None and self.restarted_on < self.received_on:
            raise ValueError(f"restarted_on {self.restarted_on} is before received_on {self.received_on}")
        early = [p.label for p in self.pauses if p.started_on < self.received_on]
        if early:
            raise ValueError(f"pauses start before the application was received: {early}")
        return self


class DueDate(BaseModel):
    due_on: date
    provisional: bool = Field(description="some day counted lies in a year whose schedule is unpublished")
    projected: bool = Field(description="an open pause's expected end was assumed")
    calendar_version: str
    start_on: date = Field(description="day 0 after normalisation to a working day")
    working_days_total: int = Field(description="reply_days + extension_days")
    steps: list[str] = Field(description="how the date was reached, one line per step, for people")


def _show(d: date) -> str:
    return f"{d.isoformat()}（周{'一二三四五六日'[d.weekday()]}）"


def _start_step(what: str, raw: date, day0: date) -> str:
    if raw == day0:
        kind = "调休工作日" if is_weekend(raw) else "工作日"
        return f"{what} {_show(raw)}，为{kind}，当日为第 0 日"
    return f"{what} {_show(raw)}，非工作日，顺延至 {_show(day0)} 起算"


def _count_workdays(cal: WorkCalendar, days: set[date]) -> int:
    return sum(1 for d in days if cal.workday_or_provisional(d)[0])


def compute_due(cal: WorkCalendar, inp: ClockInput) -> DueDate:
    """The reply due date with its explanation.

    Day 0 is the receipt day (or `restarted_on` after a supplement), moved to the next working
    day if needed; the period ends at the end of the (reply_days + extension_days)-th working
    day after day 0, skipping the days excluded by pauses (see `Pause`). Only days after day
    0 can be excluded, so a pause that ended before a restart is ignored: the period starts
    again from scratch.
    """
    period_start = inp.restarted_on or inp.received_on
    start_on, _ = cal.next_workday_on_or_after(period_start)
    total = inp.reply_days + inp.extension_days

    days_by_pause = [(pause, {d for d in pause.excluded_days() if d > start_on}) for pause in inp.pauses]
    excluded: set[date] = set().union(*(days for _, days in days_by_pause))

    due_on = start_on
    counted = 0
    while counted < total:
        due_on += ONE_DAY
        if due_on not in excluded and cal.workday_or_provisional(due_on)[0]:
            counted += 1

    # Days after due_on never influenced the result: a pause started on the last day or later
    # excludes nothing from this period.
    days_by_pause = [(pause, {d for d in days if d <= due_on}) for pause, days in days_by_pause]
    excluded = {d for d in excluded if d <= due_on}
    counted_due_on = due_on
    if inp.reasonable_until is not None and inp.reasonable_until > due_on:
        due_on = inp.reasonable_until  # Reg. 35: a longer reasonable period replaces the counted one
    unpublished_years = [y for y in range(period_start.year, due_on.year + 1) if not cal.is_known(y)]
    projected = any(pause.is_open and days for pause, days in days_by_pause)

    steps = _explain(cal, inp, start_on, days_by_pause, excluded, counted_due_on, due_on, unpublished_years)
    return DueDate(
        due_on=due_on,
        provisional=bool(unpublished_years),
        projected=projected,
        calendar_version=cal.version,
        start_on=start_on,
        working_days_total=total,
        steps=steps,
    )


def _explain(
    cal: WorkCalendar,
    inp: ClockInput,
    start_on: date,
    days_by_pause: list[tuple[Pause, set[date]]],
    excluded: set[date],
    counted_due_on: date,
    due_on: date,
    unpublished_years: list[int],
) -> list[str]:
    received = "收到申请之日" + (f"（{inp.receipt_basis}）" if inp.receipt_basis else "")
    if inp.restarted_on is None:
        steps = [_start_step(received, inp.received_on, start_on)]
    else:
        steps = [
            f"{received} {_show(inp.received_on)}（application received {inp.received_on.isoformat()}）",
            _start_step("收到补正后的申请之日", inp.restarted_on, start_on)
            + "；答复期限自此重新起算，此前已用的日数不再计算（Reg. 30: the period starts again）",
        ]
    steps.append(f"答复期限 {inp.reply_days} 个工作日（reply period: {inp.reply_days} working days）")
    if inp.extension_days:
        total = inp.reply_days + inp.extension_days
        steps.append(
            f"经批准延长答复期限 {inp.extension_days} 个工作日，合计 {total} 个工作日"
            f"（extension approved: +{inp.extension_days}, {total} working days in total）"
        )
    per_pause = [(pause, _count_workdays(cal, days)) for pause, days in days_by_pause]
    steps.extend(_pause_step(pause, start_on, workdays) for pause, workdays in per_pause)
    union_count = _count_workdays(cal, excluded)
    if union_count < sum(workdays for _, workdays in per_pause):
        steps.append(
            f"上述期间有重叠，重叠部分只扣除一次，共扣除 {union_count} 个工作日"
            f"（overlapping pauses counted once: {union_count} working days excluded in total）"
        )
    if inp.reasons_asked_on is not None:
        steps.append(
            f"{inp.reasons_asked_on.isoformat()} 因申请数量、频次明显超过合理范围，要求申请人说明理由（条例第三十五条），"
            "答复期限继续计算（Reg. 35: reasons asked; the period keeps running）"
        )
    if due_on != counted_due_on:
        steps.append(
            f"按上述计算答复期限为 {_show(counted_due_on)}；申请理由合理但无法在该期限内答复，本机关依条例第三十五条"
            f"确定延迟答复的合理期限至 {_show(due_on)}，并已书面告知申请人"
            f"（Reg. 35: a longer reasonable period, until {due_on.isoformat()}）"
        )
    steps.append(
        f"答复期限届满：{_show(due_on)}24:00（北京时间）（due by the end of {due_on.isoformat()}, Asia/Shanghai）"
    )
    if unpublished_years:
        years = "、".join(str(y) for y in unpublished_years)
        steps.append(
            f"{years} 年放假安排尚未公布，按周末及固定日期节假日暂算，公布后自动重算"
            f"（holiday schedule for {years} not yet published: provisional, recomputed on publication）"
        )
    consulted = range(start_on.year, due_on.year + 1)
    sources = "；".join(
        f"{year} 年依据 {cal.data.years[year].source}" for year in consulted if cal.is_known(year)
    )
    steps.append(f"工作日历版本 {cal.version}" + (f"：{sources}" if sources else "") + "（calendar version and sources）")
    return steps


def _pause_step(pause: Pause, start_on: date, excluded_workdays: int) -> str:
    name = f"{PAUSE_KIND_NAMES[pause.kind]}「{pause.label}」"
    end = pause.end_for_counting()
    if pause.is_open:
        period = f"{pause.started_on.isoformat()} 发出，尚未结束，按预计 {end.isoformat()} 结束推算"
        period_en = f"open, projected to end {end.isoformat()}"
    else:
        period = f"{pause.started_on.isoformat()} 发出，{end.isoformat()} 结束"
        period_en = f"{pause.started_on.isoformat()} to {end.isoformat()}"
    if end <= start_on:
        return f"{name}：{period}，在起算日之前结束，不予扣除（{period_en}: before day 0, ignored）"
    return (
        f"{name}：{period}，扣除 {excluded_workdays} 个工作日（{period_en}: {excluded_workdays} working days excluded）"
    )


def working_days_left(cal: WorkCalendar, today: date, due_on: date) -> int:
    """Working days the agency still has, counting today.

    On or before the due date: the working days d with today < d <= due_on, plus 1 if today is
    a working day (so the due date itself shows 1). After it: minus the working days d with
    due_on < d <= today (the first working day after the due date shows -1). A non-working
    day right after the due date shows 0: nothing left, nothing lost yet; use
    `today > due_on` to tell "overdue".
    """
    if today > due_on:
        since, _ = cal.workdays_between(due_on, today)
        return -since
    ahead, _ = cal.workdays_between(today, due_on)
    today_is_workday, _ = cal.workday_or_provisional(today)
    return ahead + (1 if today_is_workday else 0)


def add_working_days_from(cal: WorkCalendar, start: date, n: int) -> tuple[date, bool]:
    """End of a window of n working days from `start` (day 0, moved to a working day if needed).

    Used for supplement deadlines and consultation windows. Returns (last day, provisional).
    """
    day0, day0_provisional = cal.next_workday_on_or_after(start)
    end, end_provisional = cal.add_workdays(day0, n)
    return end, day0_provisional or end_provisional


def supplement_notice_deadline(cal: WorkCalendar, received_on: date, days: int = 7) -> tuple[date, bool]:
    """Last day the 补正 notice may go out (Reg. 30: within 7 working days of receipt)."""
    return add_working_days_from(cal, received_on, days)


def reminder_date(cal: WorkCalendar, due_on: date, days_before: int, not_before: date | None = None) -> date:
    """The working day `days_before` working days before `due_on`, but never before `not_before`.

    Pass the period's start as `not_before` so a short period still gets its reminder on a
    real date instead of one before the application existed.
    """
    if days_before < 0:
        raise ValueError(f"days_before must not be negative, got {days_before}")
    d = due_on
    remaining = days_before
    while remaining:
        d -= ONE_DAY
        if cal.workday_or_provisional(d)[0]:
            remaining -= 1
    if not_before is not None and d < not_before:
        return not_before
    return d

"""The application's clock as pure functions of its state: the reply period, the next wake-up instant, and
the recount of every deadline counted on the calendar when a year is published (issue 15 point 4, issue 11
point 13). The workflow calls them (workflows/application.py) and so does the calendar broadcaster, which
recounts the open applications from their database copy without waking them (activities/calendar_recount.py).

Pure and deterministic: they run inside workflows. `now` is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from clock import (
    ClockInput,
    DueDate,
    Pause,
    add_working_days_from,
    at_local_time,
    compute_due,
    end_of_day_instant,
    reminder_date,
    supplement_notice_deadline,
)
import notices
from policy.intake import RECEIPT_BASIS
from workcalendar import CalendarData
from application.rules import closing, excessive_clock, fee_running
from application.state import ApplicationState
from contracts.status import FINAL_STATUSES

FEE_PAY_DAYS = 20  # 国办函〔2020〕109号: 20 working days from receipt of the fee notice
REMINDER_HOUR = 9  # the staff reminder goes out at 09:00 local time (workflows/delivery.py REMINDER_HOUR)


def due_of(s: ApplicationState) -> DueDate:
    """Reg. 33: the reply period from receipt, less the pauses (Reg. 32/34 consultations, the fee notice
    period of 国办函〔2020〕109号), plus an approved extension, restarted by a supplement (Reg. 30)."""
    extension = s.extension.days if s.extension and s.extension.decision == "approved" else 0
    pauses = [
        Pause(kind=c.kind, label=f"征求「{c.consultee_name}」意见", started_on=c.sent_on,
              ended_on=c.ended_on, expected_end_on=c.window_ends_on)
        for c in s.consultations if c.sent_on is not None  # not yet dispatched: the clock runs
    ]
    fee = s.fee
    if fee is not None and fee.decision == "approved" and fee.notice_sent_on is not None:
        # 国办函〔2020〕109号: the time from the fee notice's dispatch until payment is not counted; its 20 working days
        # run from its receipt (RULES §3 Service): until then the end is estimated from the dispatch.
        expected = fee.pay_by or add_working_days_from(s.cal, fee.notice_sent_on, FEE_PAY_DAYS)[0]
        pauses.append(Pause(kind="fee", label="缴纳信息处理费", started_on=fee.notice_sent_on,
                            ended_on=fee.paid_on or (fee.pay_by if fee.lapsed_on else None), expected_end_on=expected))
    return compute_due(s.cal, ClockInput(
        received_on=s.inp.received_on, reply_days=s.inp.policy.reply_days,
        restarted_on=s.restarted_on, pauses=pauses, extension_days=extension,
        receipt_basis=RECEIPT_BASIS[s.inp.channel],
        **excessive_clock(s),
    ))


def reminder_at(s: ApplicationState) -> datetime:
    """The handler's reminder, N working days before the due date (never before the period starts)."""
    day = reminder_date(s.cal, s.due.due_on, s.inp.policy.reminder_days_before_due, not_before=s.due.start_on)
    return at_local_time(day, REMINDER_HOUR)


def reminder_key(s: ApplicationState) -> str:
    return f"{s.inp.application_id}:reminder:{s.due.due_on}"


def overdue_key(s: ApplicationState) -> str:
    return f"{s.inp.application_id}:overdue:{s.due.due_on}"


def reasons_wake_at(s: ApplicationState) -> datetime | None:
    """Reg. 35: the end of the applicant's time to explain the reasons, while it runs."""
    ex = s.excessive
    if ex is None or ex.decision != "pending" or ex.reasons_received_on is not None or ex.lapsed_on is not None:
        return None
    if ex.service is not None and not notices.running(ex.service):
        return None  # RULES §3 Service: the period has not started before the request reached the applicant
    return end_of_day_instant(ex.reasons_by)


def next_wake_at(s: ApplicationState) -> datetime | None:
    """The earliest instant at which a deadline of the application needs acting on (its one timer)."""
    if s.phase == "awaiting-supplement" and s.supplement is not None:
        if s.supplement.lapsed_on is not None or not notices.running(s.supplement.service):
            return None  # the handler decides; or the notice has not been served: nothing runs (RULES §3 Service)
        return end_of_day_instant(s.supplement.deadline_on)
    if s.replied_on is not None or s.phase in FINAL_STATUSES or closing(s):
        return None
    candidates = []
    if fee_running(s):
        assert s.fee is not None and s.fee.pay_by is not None
        candidates.append(end_of_day_instant(s.fee.pay_by))
    if (reasons_at := reasons_wake_at(s)) is not None:
        candidates.append(reasons_at)
    if reminder_key(s) not in s.alerts_raised:
        candidates.append(reminder_at(s))
    if overdue_key(s) not in s.alerts_raised:
        candidates.append(end_of_day_instant(s.due.due_on))
    return min(candidates, default=None)


@dataclass
class Recount:
    """What a published year moved: (kind, summary) of each deadline other than the reply period, and the
    consultation children whose window moved (they keep its timer)."""

    moves: list[tuple[str, str]] = field(default_factory=list)
    told: list[str] = field(default_factory=list)


def recount_deadlines(s: ApplicationState, data: CalendarData, year: int) -> Recount:
    """Put `data` in `s` and recount on it every deadline that was counted on the calendar (the supplement
    notice period, the supplement deadline, the consultation windows, the fee payment period, the reasons
    period), leaving a date staff set by hand alone. The reply period is the caller's (`due_of`)."""
    policy = s.inp.policy
    old_cal = s.cal
    s.calendar_data = data
    cal = s.cal
    why = f"（{year} 年放假安排公布）"
    out = Recount()
    # Reg. 30: the one supplement notice within N working days of receipt.
    notice_by, _ = supplement_notice_deadline(cal, s.inp.received_on, policy.supplement_notice_days)
    if notice_by != s.supplement_notice_by:
        out.moves.append(("supplement-notice-by-moved",
                          f"一次性告知补正的期限由 {s.supplement_notice_by} 重新计算为 {notice_by}{why}"))
        s.supplement_notice_by = notice_by
    # Reg. 30: the supplement deadline, when it was counted on the calendar (not a date staff set).
    sup = s.supplement
    if sup is not None and sup.received_on is None and sup.lapsed_on is None and notices.running(sup.service):
        # Counted from the notice's receipt (RULES §3 Service); before it there is no deadline to move.
        served = notices.recount(sup.service, cal)
        if sup.deadline_on == sup.service.ends_on and served.ends_on != sup.deadline_on:
            out.moves.append(("supplement-deadline-moved", f"补正期限由 {sup.deadline_on} 重新计算为 {served.ends_on}{why}"))
            sup.deadline_on = served.ends_on
            sup.service, sup.deadline_basis = served, notices.status_words(served)
    # Reg. 32/34: a pending consultation's window, counted by its child from the letter's receipt.
    for c in s.consultations:
        start = c.served_on or c.sent_on
        if not c.from_receipt or c.position != "pending" or c.ended_on is not None or start is None \
                or c.window_ends_on is None:
            continue
        days = policy.consultation_days
        if add_working_days_from(old_cal, start, days)[0] != c.window_ends_on:
            continue
        moved = add_working_days_from(cal, start, days)[0]
        if moved != c.window_ends_on:
            out.moves.append(("consultation-window-moved",
                              f"征求「{c.consultee_name}」意见的期限由 {c.window_ends_on} 重新计算为 {moved}{why}"))
            c.window_ends_on = moved
            out.told.append(c.consultation_id)
    # 国办函〔2020〕109号: 20 working days to pay from the fee notice.
    fee = s.fee
    if fee is not None and fee.decision == "approved" and notices.running(fee.service) and fee.pay_by is not None \
            and fee.paid_on is None and not fee.waived and fee.lapsed_on is None:
        served = notices.recount(fee.service, cal)
        if served.ends_on != fee.pay_by:
            out.moves.append(("fee-deadline-moved", f"缴费期限由 {fee.pay_by} 重新计算为 {served.ends_on}{why}"))
            fee.pay_by, fee.service, fee.pay_by_basis = served.ends_on, served, notices.status_words(served)
    # Reg. 35: the applicant's time to explain the reasons, counted from the request's date.
    ex = s.excessive
    if ex is not None and ex.decision == "pending" and ex.reasons_received_on is None and ex.lapsed_on is None \
            and notices.running(ex.service):
        served = notices.recount(ex.service, cal)
        if served.ends_on != ex.reasons_by:
            out.moves.append(("reasons-deadline-moved", f"说明理由的期限由 {ex.reasons_by} 重新计算为 {served.ends_on}{why}"))
            ex.reasons_by, ex.service = served.ends_on, served
    return out


# --- the clock's copy in the database (application.clock) ----------------------------------------------

# What the copy leaves out: the texts (timeline, letters, drafts, findings) and the calendar itself, which
# is named by its version and its years (the broadcaster rebuilds it from the published years).
_LEFT_OUT: dict[str, Any] = {"timeline": True, "letters": True, "reply_draft": True, "findings": True,
                             "calendar_data": True, "inp": {"calendar": True}}


def clock_copy(s: ApplicationState) -> dict[str, Any]:
    """The state the deadlines are counted from, for the database copy (JSON)."""
    return {"calendar_version": s.calendar_data.version, "years": sorted(s.calendar_data.years),
            "state": s.model_dump(mode="json", exclude=_LEFT_OUT)}


def state_from_copy(copy: dict[str, Any], data: CalendarData) -> ApplicationState:
    """The state of `clock_copy`, on `data` (which must be the calendar it was counted on)."""
    state = copy["state"]
    return ApplicationState.model_validate({**state, "calendar_data": data, "inp": {**state["inp"], "calendar": data}})


@dataclass(frozen=True)
class Recounted:
    due_on: date | None  # what the listing shows (None while a supplement is awaited or the reply is closing)
    due_provisional: bool
    overdue: bool
    wake_at: datetime | None
    explanation: str
    changed: bool  # a date moved (the workflow would record the year: workflows/application.py)
    told: list[str]  # consultation children whose window moved


def listed_due(s: ApplicationState) -> date | None:
    """The due date the listing row shows (workflows/application_views.py application_record)."""
    return None if s.phase == "awaiting-supplement" or closing(s) else s.due.due_on


def recount_copy(s: ApplicationState, data: CalendarData, year: int, version: str, now: datetime) -> Recounted:
    """What the application would do on `data` (the broadcaster's view of a published year): its new dates
    and its next wake-up. `s` is changed (recounted)."""
    before = s.due
    recount = recount_deadlines(s, data, year)
    s.due = due_of(s)
    if s.replied_on is None:
        s.overdue = now >= end_of_day_instant(s.due.due_on)
    parts = [summary for _, summary in recount.moves]
    if s.due.due_on != before.due_on:
        parts.append(f"答复期限由 {before.due_on} 重新计算为 {s.due.due_on}（{year} 年放假安排公布）")
    explanation = f"{year} 年放假安排已公布（{version}）" + ("：" + "；".join(parts) if parts else "")
    changed = bool(recount.moves) or (s.due.due_on, s.due.provisional) != (before.due_on, before.provisional)
    return Recounted(due_on=listed_due(s), due_provisional=s.due.provisional, overdue=s.overdue,
                     wake_at=next_wake_at(s), explanation=explanation, changed=changed, told=recount.told)

"""The periods of public participation (participation/rules.py) on the official calendar: a 7-working-day
comment period across National Day 2026, 30 days for a major decision, a shorter period refused without
its reason, the feedback's 30 days and a question's 5 working days."""

from datetime import date

import pytest

from participation.rules import comment_period, count_decisions, feedback_due, inquiry_due, why_not_period
from workcalendar import WorkCalendar, load_calendar_data

CAL = WorkCalendar(load_calendar_data())


def test_normative_document_seven_working_days_across_national_day():
    # Published Wed 30 Sep 2026; 1-7 Oct off; Thu 8, Fri 9, Sat 10 (调休), Mon 12 … Thu 15 Oct: the 7th working day.
    period = comment_period(CAL, "normative-document", date(2026, 9, 30), 7)
    assert period.due_on == date(2026, 10, 15)
    assert period.working_days and not period.provisional and period.shortened_reason is None
    assert any("不计入" in step for step in period.steps)
    assert period.due_at.isoformat() == "2026-10-16T00:00:00+08:00"


def test_major_decision_thirty_calendar_days():
    period = comment_period(CAL, "major-decision", date(2026, 9, 30), 30)
    assert period.due_on == date(2026, 10, 30) and not period.working_days
    assert "国务院令第713号" in " ".join(period.steps)


@pytest.mark.parametrize("kind, days", [("major-decision", 29), ("normative-document", 6)])
def test_a_shorter_period_is_refused_without_its_reason(kind, days):
    refusal = why_not_period(kind, days, None)
    assert refusal is not None and "须写明理由" in refusal
    with pytest.raises(ValueError):
        comment_period(CAL, kind, date(2026, 9, 30), days)
    assert why_not_period(kind, days, "  ") is not None


def test_a_shorter_period_with_its_reason_is_shown_in_its_steps():
    period = comment_period(CAL, "normative-document", date(2026, 11, 2), 5, "上级要求年底前出台，时间紧迫")
    assert period.due_on == date(2026, 11, 9)
    assert period.shortened_reason == "上级要求年底前出台，时间紧迫"
    assert any("上级要求年底前出台" in step for step in period.steps)


def test_feedback_due_thirty_days_after_closing_with_a_reminder_before():
    period = feedback_due(date(2026, 10, 15))
    assert period.due_on == date(2026, 11, 14)
    assert period.remind_at.date() == date(2026, 11, 11)


def test_question_answered_within_five_working_days_across_a_holiday_and_from_a_weekend_receipt():
    period = inquiry_due(CAL, date(2026, 9, 30), 5)
    # Wed 30 Sep day 0; 8, 9, 10 (调休), 12, 13 Oct.
    assert period.due_on == date(2026, 10, 13)
    assert period.remind_at.date() == date(2026, 10, 12)
    # Received Sat 7 Nov 2026: counted from Mon 9 Nov.
    saturday = inquiry_due(CAL, date(2026, 11, 7), 5)
    assert saturday.start_on == date(2026, 11, 9) and saturday.due_on == date(2026, 11, 16)


def test_counts():
    assert count_decisions(["adopted", "partly", None, "not-adopted", "adopted"]) == {
        "received": 5, "adopted": 2, "partly": 1, "not_adopted": 1}

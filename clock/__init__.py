"""The deadline clock (RULES §3): due dates, their explanation, reminders. Pure."""

from clock.deadline import (
    SHANGHAI,
    ClockInput,
    DueDate,
    Pause,
    add_working_days_from,
    at_local_time,
    compute_due,
    end_of_day_instant,
    local_date,
    reminder_date,
    start_of_day_instant,
    supplement_notice_deadline,
    working_days_left,
)

__all__ = [
    "SHANGHAI",
    "ClockInput",
    "DueDate",
    "Pause",
    "add_working_days_from",
    "at_local_time",
    "compute_due",
    "end_of_day_instant",
    "local_date",
    "reminder_date",
    "start_of_day_instant",
    "supplement_notice_deadline",
    "working_days_left",
]

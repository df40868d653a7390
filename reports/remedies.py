"""The remedies a reply opens (RULES §6: every reply states them) and their deadlines. Pure.

- 行政复议: within 60 days of knowing of the act (行政复议法 2023 art. 20: 自知道或者应当知道该行政行为之日起六十日内).
- 行政诉讼: within 6 months (行政诉讼法 art. 46: 自知道或者应当知道作出行政行为之日起六个月内).
Both run from the reply's delivery (送达). Periods are counted as the civil law counts them
(民法典 arts. 201-203): the day of delivery is not counted; a period in months ends on the
corresponding day of the last month, or on its last day when it has none; a period whose last day
is a statutory holiday ends on the first day after the holiday (the calendar's next working day).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta

from pydantic import BaseModel

RECONSIDERATION_DAYS = 60
LITIGATION_MONTHS = 6


class RemedyDeadlines(BaseModel):
    delivered_on: date
    reconsideration_by: date
    litigation_by: date
    explanation: list[str]


def add_months(day: date, months: int) -> date:
    """民法典 art. 202: the corresponding day of the month, or its last day when it has none."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def remedy_deadlines(delivered_on: date, next_working_day: Callable[[date], date] | None = None) -> RemedyDeadlines:
    """`next_working_day(d)`: d if it is a working day, else the next one (the official calendar)."""
    roll = next_working_day or (lambda d: d)
    reconsideration_raw = delivered_on + timedelta(days=RECONSIDERATION_DAYS)
    litigation_raw = add_months(delivered_on, LITIGATION_MONTHS)
    reconsideration, litigation = roll(reconsideration_raw), roll(litigation_raw)
    explanation = [f"答复于 {delivered_on} 送达，送达当日不计入（民法典第二百零一条）"]
    explanation.append(f"申请行政复议：自送达之日起60日内，至 {reconsideration_raw}"
                       + (f"，该日为法定休假日，顺延至 {reconsideration}" if reconsideration != reconsideration_raw else ""))
    explanation.append(f"提起行政诉讼：自送达之日起6个月内，至 {litigation_raw}"
                       + (f"，该日为法定休假日，顺延至 {litigation}" if litigation != litigation_raw else ""))
    return RemedyDeadlines(delivered_on=delivered_on, reconsideration_by=reconsideration, litigation_by=litigation,
                           explanation=explanation)

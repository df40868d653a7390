"""The pure 政务公开 deadline rules (proactive/rules.py), on the published 2026 calendar."""

from datetime import date, datetime, timedelta, timezone

from proactive import interpretation_due, opinion_limits, publication_due
from workcalendar import WorkCalendar, load_calendar_data

CAL = WorkCalendar(load_calendar_data())
SHANGHAI = timezone(timedelta(hours=8))


def test_publication_within_20_calendar_days_by_default_or_20_working_days_when_set():
    calendar_days = publication_due(CAL, date(2026, 9, 30))
    assert calendar_days.due_on == date(2026, 10, 20) and not calendar_days.working_days
    assert calendar_days.due_at == datetime(2026, 10, 21, tzinfo=SHANGHAI)
    assert calendar_days.remind_at < calendar_days.due_at
    # Working days: 1-7 Oct off, Sat 10 Oct works (调休): the 20th working day after 30 Sep is Tue 3 Nov.
    assert publication_due(CAL, date(2026, 9, 30), working_days=True).due_on == date(2026, 11, 3)


def test_interpretation_three_working_days_after_issue_across_national_day():
    due = interpretation_due(CAL, date(2026, 9, 30))
    assert due.due_on == date(2026, 10, 10)
    assert any("7 天为节假日或休息日" in step for step in due.steps)
    assert interpretation_due(CAL, date(2026, 6, 1)).due_on == date(2026, 6, 4)  # an ordinary week


def test_opinion_hour_clocks():
    found = datetime(2026, 10, 3, 22, 30, tzinfo=SHANGHAI)  # a holiday night: hours, not working days
    major = {lim.name: lim for lim in opinion_limits("major", found)}
    assert major["authoritative-information"].due_at == found + timedelta(hours=5)
    assert major["press-conference"].due_at == found + timedelta(hours=24)
    assert major["authoritative-information"].warn_at == found + timedelta(hours=4)
    assert [lim.name for lim in opinion_limits("major", found, press_conference=False)] == ["authoritative-information"]
    (other,) = opinion_limits("other", found)
    assert other.due_at == found + timedelta(hours=48) and "press-conference" not in other.platforms


def test_requests_of_several_applicants_are_grouped_by_the_repeat_detections_similarity():
    from datetime import date

    from outcomes.similar import EarlierItem, similar_items
    from proactive.from_requests import RequestedItem, requested_often

    texts = ["2025年全市规模以上工业企业名录", "2025年全市规模以上工业企业名录清单", "全市2025年规模以上工业企业名录",
             "2025年全市规模以上工业企业名录", "2024年统计年鉴", "本区2023年财政预算执行情况"]
    people = ["甲", "乙", "丙", "甲", "丁", "戊"]
    items = [RequestedItem(f"GK-{n}", 1, t, p, date(2026, 3, 1 + n)) for n, (t, p) in enumerate(zip(texts, people))]
    [group] = requested_often(items)
    assert group.application_ids == ["GK-0", "GK-1", "GK-2", "GK-3"] and group.applicants == 3  # 甲 twice: once
    assert group.subject == texts[3]  # the newest request's wording
    # The same judgement as the repeat detection: every member scores >= SIMILAR_AT against the subject, no other does.
    scored = {e.application_id for s in similar_items([group.subject], [EarlierItem(i.application_id, 1, i.description, None)
                                                                        for i in items[:3] + items[4:]]) for e in [s.earlier]}
    assert scored == {"GK-0", "GK-1", "GK-2"}
    assert requested_often(items, min_applicants=4) == []

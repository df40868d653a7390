"""The deadline clock: real 2026 dates counted by hand, then invariants with hypothesis.

Every expected date below is counted in the comment next to it, the way a clerk would
count it on a paper calendar, using the official 2026 schedule (国办发明电〔2025〕7号).
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from clock import (
    ClockInput,
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
from tests.calendars import calendar_before
from workcalendar import WorkCalendar, YearSchedule, load_calendar_data


# Fixed dates, no clock read: not in the pinned runs. They read the installed chinesecalendar's years, so the
# Makefile runs them once more as if a newer release were installed (tests/newer_calendar.py).
pytestmark = pytest.mark.calendar_data

CAL = WorkCalendar(calendar_before(2027, from_year=2025))  # 2027 unpublished on purpose (tests/calendars.py)

# TEST FIXTURE, not the real 2027 schedule (unknown when this was written): 元旦 off
# Fri Jan 1 to Mon Jan 4, no make-up day.
FIXTURE_2027 = YearSchedule(
    year=2027,
    holidays=[date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3), date(2027, 1, 4)],
    makeup_workdays=[],
    source="test fixture",
)


def due(received_on: date, reply_days: int = 15, **kwargs: object) -> date:
    return compute_due(CAL, ClockInput(received_on=received_on, reply_days=reply_days, **kwargs)).due_on


def consultation(started_on: date, ended_on: date | None, expected_end_on: date | None = None) -> Pause:
    return Pause(
        kind="third-party", label="某公司", started_on=started_on, ended_on=ended_on, expected_end_on=expected_end_on
    )


# --- real dates ---------------------------------------------------------------------------


def test_spring_festival_2026() -> None:
    # Day 0 Fri 02-13. Sat 02-14 (调休) = 1; 02-15..02-23 off; Tue 02-24 = 2, 25 = 3, 26 = 4,
    # 27 = 5, Sat 02-28 (调休) = 6; Mon 03-02..Fri 03-06 = 7..11; Mon 03-09 = 12, 10 = 13,
    # 11 = 14, Thu 03-12 = 15.
    result = compute_due(CAL, ClockInput(received_on=date(2026, 2, 13), reply_days=15))
    assert result.due_on == date(2026, 3, 12)
    assert result.start_on == date(2026, 2, 13)
    assert not result.provisional and not result.projected
    assert result.working_days_total == 15
    assert result.calendar_version == CAL.version
    assert result.steps[0].startswith("收到申请之日 2026-02-13（周五），为工作日")
    assert any("2026-03-12（周四）" in step for step in result.steps)
    assert any(CAL.version in step for step in result.steps)


def test_national_day_2026() -> None:
    # Day 0 Fri 09-18. Sat 09-19 off; Sun 09-20 (调休) = 1; Mon 09-21..Thu 09-24 = 2..5;
    # 09-25..27 中秋 off; Mon 09-28..Wed 09-30 = 6..8; 10-01..07 国庆 off; Thu 10-08 = 9,
    # Fri 10-09 = 10, Sat 10-10 (调休) = 11; Sun 10-11 off; Mon 10-12..Thu 10-15 = 12..15.
    assert due(date(2026, 9, 18)) == date(2026, 10, 15)


def test_receipt_on_a_holiday_counts_from_the_next_working_day() -> None:
    # Received Sat 10-03 (国庆): day 0 = Thu 10-08. Fri 10-09 = 1, Sat 10-10 (调休) = 2,
    # Mon 10-12..Fri 10-16 = 3..7, 10-19..23 = 8..12, Mon 10-26 = 13, 27 = 14, Wed 10-28 = 15.
    result = compute_due(CAL, ClockInput(received_on=date(2026, 10, 3), reply_days=15))
    assert result.start_on == date(2026, 10, 8)
    assert result.due_on == date(2026, 10, 28)
    assert "非工作日，顺延至 2026-10-08（周四） 起算" in result.steps[0]


def test_receipt_on_a_makeup_saturday_is_day_0() -> None:
    # Sat 02-14 is a working day (调休). Tue 02-24..Fri 02-27 = 1..4, Sat 02-28 = 5,
    # 03-02..06 = 6..10, 03-09..13 = 11..15.
    result = compute_due(CAL, ClockInput(received_on=date(2026, 2, 14), reply_days=15))
    assert result.start_on == date(2026, 2, 14)
    assert result.due_on == date(2026, 3, 13)
    assert "调休工作日" in result.steps[0]


def test_deadline_in_unpublished_2027_is_provisional_and_says_so() -> None:
    # Day 0 Mon 12-14. 12-15..18 = 1..4, 12-21..25 = 5..9, 12-28..31 = 10..13; 2027 is
    # unpublished: Fri 01-01 off by the fixed-date rule; Mon 01-04 = 14, Tue 01-05 = 15.
    result = compute_due(CAL, ClockInput(received_on=date(2026, 12, 14), reply_days=15))
    assert result.due_on == date(2027, 1, 5)
    assert result.provisional
    assert any("2027 年放假安排尚未公布，按周末及固定日期节假日暂算，公布后自动重算" in s for s in result.steps)


def test_publishing_2027_removes_the_warning_and_moves_the_date() -> None:
    published = WorkCalendar(CAL.data.with_year(FIXTURE_2027))
    # With the fixture Mon 01-04 is off too: Tue 01-05 = 14, Wed 01-06 = 15.
    result = compute_due(published, ClockInput(received_on=date(2026, 12, 14), reply_days=15))
    assert result.due_on == date(2027, 1, 6)
    assert not result.provisional
    assert not any("尚未公布" in s for s in result.steps)
    assert result.calendar_version == published.version != CAL.version


def test_consultation_excludes_the_days_after_the_letter_up_to_the_answer() -> None:
    # Day 0 Mon 03-02. Letter Thu 03-05 (day 3 still counts), answer Thu 03-19:
    # excluded 03-06, 03-09..13, 03-16..19 = 10 working days. Fri 03-20 = 4,
    # 03-23..27 = 5..9, 03-30..04-03 = 10..14, 04-04..06 清明 off, Tue 04-07 = 15.
    result = compute_due(
        CAL,
        ClockInput(
            received_on=date(2026, 3, 2),
            reply_days=15,
            pauses=[consultation(date(2026, 3, 5), date(2026, 3, 19))],
        ),
    )
    assert result.due_on == date(2026, 4, 7)
    assert any("扣除 10 个工作日" in s for s in result.steps)
    # Without the pause: 03-03..06 = 1..4, 03-09..13 = 5..9, 03-16..20 = 10..14, Mon 03-23 = 15.
    assert due(date(2026, 3, 2)) == date(2026, 3, 23)


def test_overlapping_consultations_stop_the_clock_once() -> None:
    # (03-05, 03-12] and (03-10, 03-19] merge into (03-05, 03-19]: same as the single pause.
    pauses = [
        consultation(date(2026, 3, 5), date(2026, 3, 12)),
        Pause(kind="agency", label="市财政局", started_on=date(2026, 3, 10), ended_on=date(2026, 3, 19)),
    ]
    result = compute_due(CAL, ClockInput(received_on=date(2026, 3, 2), reply_days=15, pauses=pauses))
    assert result.due_on == date(2026, 4, 7)
    assert any("重叠部分只扣除一次，共扣除 10 个工作日" in s for s in result.steps)


def test_letter_sent_on_the_last_day_does_not_move_the_due_date() -> None:
    # Due Mon 03-23 without pauses; the letter day counts, so 03-23 is still day 15.
    assert due(date(2026, 3, 2), pauses=[consultation(date(2026, 3, 23), date(2026, 3, 30))]) == date(2026, 3, 23)
    # Letter Fri 03-20 (day 14), answer Wed 03-25: 03-23..25 excluded, Thu 03-26 = 15.
    assert due(date(2026, 3, 2), pauses=[consultation(date(2026, 3, 20), date(2026, 3, 25))]) == date(2026, 3, 26)


def test_open_consultation_is_projected_to_its_expected_end() -> None:
    inp = ClockInput(
        received_on=date(2026, 3, 2),
        reply_days=15,
        pauses=[consultation(date(2026, 3, 5), None, expected_end_on=date(2026, 3, 19))],
    )
    result = compute_due(CAL, inp)
    assert result.due_on == date(2026, 4, 7)
    assert result.projected
    assert any("尚未结束，按预计 2026-03-19 结束推算" in s for s in result.steps)


def test_open_consultation_without_expected_end_is_refused() -> None:
    inp = ClockInput(received_on=date(2026, 3, 2), reply_days=15, pauses=[consultation(date(2026, 3, 5), None)])
    with pytest.raises(ValueError, match="expected_end_on"):
        compute_due(CAL, inp)


def test_restart_after_supplement_ignores_earlier_pauses() -> None:
    # Restarted Tue 03-17 (day 0). 03-18..20 = 1..3, 03-23..27 = 4..8, 03-30..04-03 = 9..13,
    # 04-04..06 清明 off, Tue 04-07 = 14, Wed 04-08 = 15. The 03-05..03-10 pause is before it.
    result = compute_due(
        CAL,
        ClockInput(
            received_on=date(2026, 3, 2),
            reply_days=15,
            restarted_on=date(2026, 3, 17),
            pauses=[consultation(date(2026, 3, 5), date(2026, 3, 10))],
        ),
    )
    assert result.start_on == date(2026, 3, 17)
    assert result.due_on == date(2026, 4, 8)
    assert any("重新起算" in s for s in result.steps)
    assert any("不予扣除" in s for s in result.steps)


def test_extension_adds_working_days() -> None:
    # 15 + 15 from Mon 03-02: day 15 = Mon 03-23; 03-24..27 = 16..19, 03-30..04-03 = 20..24,
    # 04-07..10 = 25..28, Mon 04-13 = 29, Tue 04-14 = 30.
    result = compute_due(CAL, ClockInput(received_on=date(2026, 3, 2), reply_days=15, extension_days=15))
    assert result.due_on == date(2026, 4, 14)
    assert result.working_days_total == 30
    assert any("延长答复期限 15 个工作日，合计 30 个工作日" in s for s in result.steps)


def test_input_validation() -> None:
    with pytest.raises(ValueError, match="restarted_on"):
        ClockInput(received_on=date(2026, 3, 2), reply_days=15, restarted_on=date(2026, 3, 1))
    with pytest.raises(ValueError, match="before the application was received"):
        ClockInput(received_on=date(2026, 3, 2), reply_days=15, pauses=[consultation(date(2026, 3, 1), None)])
    with pytest.raises(ValueError):
        ClockInput(received_on=date(2026, 3, 2), reply_days=0)
    with pytest.raises(ValueError, match="before started_on"):
        consultation(date(2026, 3, 5), date(2026, 3, 4))


@pytest.mark.parametrize(
    ("today", "left"),
    [
        (date(2026, 2, 28), 6),  # Sat 调休 counts itself + 03-02..06
        (date(2026, 3, 1), 5),  # Sun: 03-02..06
        (date(2026, 3, 5), 2),  # Thu: today and Fri
        (date(2026, 3, 6), 1),  # the due day itself: last day
        (date(2026, 3, 7), 0),  # Sat after: nothing left, no working day lost yet
        (date(2026, 3, 9), -1),  # Mon after: one working day overdue
        (date(2026, 3, 13), -5),
    ],
)
def test_working_days_left_around_a_friday_due_date(today: date, left: int) -> None:
    assert working_days_left(CAL, today, date(2026, 3, 6)) == left


def test_supplement_notice_deadline() -> None:
    # Day 0 Fri 02-13: Sat 02-14 = 1, 02-24..28 = 2..6, Mon 03-02 = 7.
    assert supplement_notice_deadline(CAL, date(2026, 2, 13)) == (date(2026, 3, 2), False)


def test_consultation_window_from_a_weekend_letter() -> None:
    # Letter received Sat 09-19 (off): day 0 = Sun 09-20 (调休). 09-21..24 = 1..4,
    # 09-28..30 = 5..7, 10-08 = 8, 10-09 = 9, Sat 10-10 = 10, 10-12..16 = 11..15.
    assert add_working_days_from(CAL, date(2026, 9, 19), 15) == (date(2026, 10, 16), False)


def test_reminder_date() -> None:
    # Before Thu 03-12: 03-11 = 1, 03-10 = 2, Mon 03-09 = 3.
    assert reminder_date(CAL, date(2026, 3, 12), 3) == date(2026, 3, 9)
    # Before Mon 03-02: Sat 02-28 (调休) = 1, Fri 02-27 = 2, Thu 02-26 = 3.
    assert reminder_date(CAL, date(2026, 3, 2), 3) == date(2026, 2, 26)
    assert reminder_date(CAL, date(2026, 3, 2), 3, not_before=date(2026, 2, 27)) == date(2026, 2, 27)
    assert reminder_date(CAL, date(2026, 3, 2), 0) == date(2026, 3, 2)


def test_shanghai_instants() -> None:
    assert end_of_day_instant(date(2026, 3, 12)) == datetime(2026, 3, 12, 16, 0, tzinfo=UTC)
    assert start_of_day_instant(date(2026, 3, 12)) == datetime(2026, 3, 11, 16, 0, tzinfo=UTC)
    assert at_local_time(date(2026, 3, 12), 9) == datetime(2026, 3, 12, 1, 0, tzinfo=UTC)
    # 17:00 UTC is already 01:00 the next day in Shanghai.
    assert local_date(datetime(2026, 3, 12, 17, 0, tzinfo=UTC)) == date(2026, 3, 13)
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2026, 3, 12, 17, 0))


# --- invariants ---------------------------------------------------------------------------

receipts = st.dates(min_value=date(2025, 6, 1), max_value=date(2026, 12, 31))
reply_periods = st.integers(min_value=1, max_value=40)


@st.composite
def pauses(draw: st.DrawFn, received_on: date) -> Pause:
    started_on = received_on + timedelta(days=draw(st.integers(0, 40)))
    ended_on = started_on + timedelta(days=draw(st.integers(0, 45)))
    return Pause(
        kind=draw(st.sampled_from(["third-party", "agency", "fee"])),
        label="p",
        started_on=started_on,
        ended_on=ended_on,
    )


def is_working(d: date) -> bool:
    return CAL.workday_or_provisional(d)[0]


@settings(max_examples=150, deadline=None)
@given(receipts, reply_periods, st.integers(0, 20))
def test_without_pauses_the_period_is_exactly_the_working_days_counted(
    received_on: date, reply_days: int, extension_days: int
) -> None:
    result = compute_due(CAL, ClockInput(received_on=received_on, reply_days=reply_days, extension_days=extension_days))
    assert is_working(result.due_on) and is_working(result.start_on)
    assert CAL.workdays_between(result.start_on, result.due_on)[0] == reply_days + extension_days


@settings(max_examples=100, deadline=None)
@given(receipts, reply_periods)
def test_one_more_reply_day_is_a_later_working_day(received_on: date, reply_days: int) -> None:
    assert due(received_on, reply_days) < due(received_on, reply_days + 1)


@settings(max_examples=100, deadline=None)
@given(receipts, reply_periods, st.integers(1, 20))
def test_an_extension_of_k_days_is_k_more_working_days(received_on: date, reply_days: int, k: int) -> None:
    before = due(received_on, reply_days)
    after = due(received_on, reply_days, extension_days=k)
    assert CAL.workdays_between(before, after)[0] == k


@settings(max_examples=150, deadline=None)
@given(st.data(), receipts, reply_periods)
def test_pauses_never_bring_the_due_date_forward(data: st.DataObject, received_on: date, reply_days: int) -> None:
    existing = data.draw(st.lists(pauses(received_on), max_size=2))
    extra = data.draw(pauses(received_on))
    without = due(received_on, reply_days, pauses=existing)
    assert due(received_on, reply_days, pauses=[*existing, extra]) >= without


@settings(max_examples=150, deadline=None)
@given(st.data(), receipts, reply_periods)
def test_due_date_is_a_working_day_outside_every_pause_with_exactly_n_counted(
    data: st.DataObject, received_on: date, reply_days: int
) -> None:
    chosen = data.draw(st.lists(pauses(received_on), max_size=3))
    result = compute_due(CAL, ClockInput(received_on=received_on, reply_days=reply_days, pauses=chosen))

    def paused(d: date) -> bool:
        return any(p.started_on < d <= p.end_for_counting() for p in chosen)

    assert is_working(result.due_on) and not paused(result.due_on)
    counted = [result.start_on + timedelta(days=i) for i in range(1, (result.due_on - result.start_on).days + 1)]
    assert sum(1 for d in counted if is_working(d) and not paused(d)) == reply_days


@settings(max_examples=100, deadline=None)
@given(receipts, reply_periods, st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 3, 31)))
def test_working_days_left_hits_1_on_the_due_date_and_falls_by_one_per_working_day(
    received_on: date, reply_days: int, today: date
) -> None:
    due_on = due(received_on, reply_days)
    assume(today != due_on)
    assert working_days_left(CAL, due_on, due_on) == 1
    left = working_days_left(CAL, today, due_on)
    tomorrow = working_days_left(CAL, today + timedelta(days=1), due_on)
    if today < due_on:
        assert left == tomorrow + (1 if is_working(today) else 0)
    else:
        assert tomorrow == left - (1 if is_working(today + timedelta(days=1)) else 0)

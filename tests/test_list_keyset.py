"""The supervisors' list pages by cursor (keyset on (due_on, id)), caps its count, and filters open ones."""

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from db.repository import InvalidCursor, decode_list_cursor, encode_list_cursor, list_applications, save_application
from db.session import session_scope
from tests.fixtures_db import application_record, engine  # noqa: F401

STATUSES = ("handling", "closed", "awaiting-supplement", "withdrawn")


def _seed(engine: Engine, n: int = 23) -> list[tuple[date | None, str]]:
    """n applications, some sharing a due date, some undated; returns their (due_on, id) in list order."""
    keys = []
    with session_scope(engine) as session:
        for i in range(n):
            application_id = f"GK-2026-{i + 1:06d}"
            due_on = None if i % 7 == 3 else date(2026, 3, 1) + timedelta(days=(i * 5) % 4)
            record = application_record(application_id, status=STATUSES[i % 4], due_on=due_on, overdue=i % 3 == 0,
                                        handler="li", department="综合统计科")
            save_application(session, record, [])
            keys.append((due_on, application_id))
    return sorted(keys, key=lambda k: (k[0] is None, k[0] or date.min, k[1]))


def _walk(session, page_size: int, **filters) -> list[str]:
    seen, cursor = [], None
    while True:
        page = list_applications(session, limit=page_size, after=cursor, **filters)
        seen += [row.id for row in page.rows]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize("page_size", [1, 4, 5, 50])
def test_cursor_pages_give_the_same_order_as_offset_pages(engine: Engine, page_size: int) -> None:  # noqa: F811
    keys = _seed(engine)
    with session_scope(engine) as session:
        assert _walk(session, page_size) == [k[1] for k in keys]
        everything = list_applications(session, limit=100)
        assert [r.id for r in everything.rows] == [k[1] for k in keys] and everything.next_cursor is None
        by_offset = []
        for offset in range(0, len(keys), page_size):
            by_offset += [r.id for r in list_applications(session, offset=offset, limit=page_size).rows]
        assert by_offset == [k[1] for k in keys]
        for filters in ({"status": "handling"}, {"overdue": True}, {"open_only": True}, {"open_only": False},
                        {"due_before": date(2026, 3, 3)}, {"handler": "li", "department": "综合统计科"}):
            expected = [r.id for r in list_applications(session, limit=100, **filters).rows]
            assert _walk(session, page_size, **filters) == expected, filters


def test_open_only_and_the_capped_count(engine: Engine) -> None:  # noqa: F811
    _seed(engine)
    with session_scope(engine) as session:
        open_rows = list_applications(session, open_only=True, limit=100).rows
        assert open_rows and {r.status for r in open_rows} == {"handling", "awaiting-supplement"}
        closed_rows = list_applications(session, open_only=False, limit=100).rows
        assert {r.status for r in closed_rows} == {"closed", "withdrawn"}
        assert len(open_rows) + len(closed_rows) == 23

        page = list_applications(session, limit=2, count_cap=10)
        assert (page.total, page.total_is_lower_bound) == (10, True)
        page = list_applications(session, limit=2, count_cap=100)
        assert (page.total, page.total_is_lower_bound) == (23, False)
        rows, total = list_applications(session, limit=2, count_cap=None)  # still unpacks as before
        assert (len(rows), total) == (2, 23)
        with pytest.raises(ValueError):
            list_applications(session, offset=2, after=page.next_cursor)


def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    for key in ((date(2026, 3, 1), "GK-2026-000001"), (None, "GK-2026-000002")):
        assert decode_list_cursor(encode_list_cursor(*key)) == key
    for bad in ("", "abc", encode_list_cursor(None, "x")[:-2], "WzEsMl0", "WyIyMDI2LTEzLTAxIiwiYSJd"):
        with pytest.raises(InvalidCursor):
            decode_list_cursor(bad)

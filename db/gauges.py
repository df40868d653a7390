"""The SQL behind the API's application gauges (core/observability.py `ApplicationGauges`): one COUNT per scrape."""

from datetime import date

from sqlalchemy import Engine, and_, case, func, or_, select

from db.models import CLOSED_STATUSES, Application


def application_counts(engine: Engine, today: date, due_by: date) -> tuple[int, int, int]:
    """(open, due from today to `due_by` and not overdue, overdue) over the applications not in a final status.
    Overdue: flagged by its workflow, or its due date has passed."""
    overdue = or_(Application.overdue.is_(True), Application.due_on < today)
    due_soon = and_(Application.overdue.is_(False), Application.due_on >= today, Application.due_on <= due_by)
    statement = select(
        func.count(),
        func.coalesce(func.sum(case((due_soon, 1), else_=0)), 0),
        func.coalesce(func.sum(case((overdue, 1), else_=0)), 0),
    ).where(Application.status.not_in(CLOSED_STATUSES))
    with engine.connect() as connection:
        open_count, due_soon_count, overdue_count = connection.execute(statement).one()
    return int(open_count), int(due_soon_count), int(overdue_count)

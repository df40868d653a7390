"""Reads of the 政务公开 tables: the public catalogue search (keyset paged) and staff lists."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, or_, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from clock import start_of_day_instant
from db.models_proactive import AnnualFigure, CatalogueCategory, CatalogueItem, CorrectionRequest, OpinionEvent


def search_catalogue(
    session: Session, *, title: str | None = None, category_id: str | None = None, document_number: str | None = None,
    date_from: date | None = None, date_to: date | None = None, after: tuple[date, str] | None = None, limit: int = 20,
) -> tuple[list[CatalogueItem], tuple[date, str] | None]:
    """Published policy documents and other items (not interpretations), newest first, by keyset
    (produced_on, id) on the partial indexes of migration 0008; returns the page and the next cursor."""
    # The history (JSON) is for staff: not read for the public page.
    query = select(CatalogueItem).options(defer(CatalogueItem.history)).where(
        CatalogueItem.status == "published", CatalogueItem.kind == "document")
    if category_id:
        query = query.where(CatalogueItem.category_id == category_id)
    if document_number:
        query = query.where(CatalogueItem.document_number == document_number)
    if date_from:
        query = query.where(CatalogueItem.produced_on >= date_from)
    if date_to:
        query = query.where(CatalogueItem.produced_on <= date_to)
    if title:
        escaped = title.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(col(CatalogueItem.title).like(f"%{escaped}%", escape="\\"))
        if (few := _few_title_matches(session, title)) is not None:
            query = query.where(col(CatalogueItem.id).in_(few))
    if after is not None:
        on, item_id = after
        query = query.where(or_(CatalogueItem.produced_on < on,
                                and_(CatalogueItem.produced_on == on, CatalogueItem.id < item_id)))
    query = query.order_by(col(CatalogueItem.produced_on).desc(), col(CatalogueItem.id).desc()).limit(limit + 1)
    rows = list(session.exec(query))
    cursor = (rows[limit - 1].produced_on, rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], cursor


# A title word matching at most this many items (any status) is looked up through the trigram index
# and the few rows sorted; a commoner word walks the newest-first index, which finds a page early.
FEW_MATCHES = 200


def _few_title_matches(session: Session, title: str) -> list[str] | None:
    """SQLite: the ids of the items whose title contains `title`, from the FTS5 trigram table (migration
    0009), when there are few; None when the word is common or shorter than a trigram (then LIKE alone).
    PostgreSQL's planner uses the pg_trgm index for the LIKE itself."""
    if len(title) < 3 or session.get_bind().dialect.name != "sqlite":
        return None
    phrase = '"' + title.replace('"', '""') + '"'
    try:
        ids = [row[0] for row in session.connection().execute(
            text("SELECT id FROM catalogue_item_title_fts WHERE catalogue_item_title_fts MATCH :q LIMIT :n"),
            {"q": phrase, "n": FEW_MATCHES + 1})]
    except DBAPIError:  # SQLite only (no aborted transaction): e.g. a database made before migration 0012, or text FTS5 cannot parse: LIKE alone
        return None
    return ids if len(ids) <= FEW_MATCHES else None


def interpretations_of(session: Session, policy_ids: list[str]) -> dict[str, list[CatalogueItem]]:
    """Published interpretations of these documents, through the partial index on policy_id (the
    IS NOT NULL term lets SQLite use it); the few rows found are filtered here."""
    if not policy_ids:
        return {}
    rows = session.exec(select(CatalogueItem).options(defer(CatalogueItem.history)).where(
        col(CatalogueItem.policy_id).is_not(None), col(CatalogueItem.policy_id).in_(policy_ids)))
    found: dict[str, list[CatalogueItem]] = {}
    for row in sorted(rows, key=lambda r: (r.published_at is None, r.published_at, r.id)):
        if row.status == "published" and row.kind == "interpretation":
            found.setdefault(row.policy_id or "", []).append(row)
    return found


def categories(session: Session) -> list[CatalogueCategory]:
    return list(session.exec(select(CatalogueCategory).order_by(CatalogueCategory.id)))


def staff_items(session: Session, *, status: str | None = None, limit: int = 200) -> list[CatalogueItem]:
    query = select(CatalogueItem)
    if status:
        query = query.where(CatalogueItem.status == status)
    return list(session.exec(query.order_by(col(CatalogueItem.due_at).desc()).limit(limit)))


def opinion_events(session: Session, limit: int = 200) -> list[OpinionEvent]:
    return list(session.exec(select(OpinionEvent).order_by(col(OpinionEvent.found_at).desc()).limit(limit)))


def corrections(session: Session, limit: int = 200) -> list[CorrectionRequest]:
    return list(session.exec(select(CorrectionRequest).order_by(col(CorrectionRequest.due_on).desc()).limit(limit)))


def published_counts(session: Session, year: int) -> list[tuple[str, str, int, int]]:
    """Per category: (category id, kind, items first published in `year`, items public at the end of
    it), for the annual report's count of proactively disclosed information."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    from datetime import datetime, time

    from clock import SHANGHAI

    start_at = datetime.combine(start, time(0), tzinfo=SHANGHAI)
    end_at = datetime.combine(end, time(0), tzinfo=SHANGHAI)
    published = session.exec(
        select(CatalogueItem.category_id, CatalogueItem.kind, func.count())
        .where(CatalogueItem.published_at >= start_at, CatalogueItem.published_at < end_at)
        .group_by(CatalogueItem.category_id, CatalogueItem.kind)).all()
    public = session.exec(
        select(CatalogueItem.category_id, CatalogueItem.kind, func.count())
        .where(CatalogueItem.status == "published", CatalogueItem.published_at < end_at)
        .group_by(CatalogueItem.category_id, CatalogueItem.kind)).all()
    new = {(c, k): n for c, k, n in published}
    held = {(c, k): n for c, k, n in public}
    return [(c, k, new.get((c, k), 0), held.get((c, k), 0)) for c, k in sorted(set(new) | set(held))]


def annual_figures(session: Session, year: int) -> dict[str, dict]:
    """Table 二's figures recorded for `year`: row key -> field -> value (reports.annual.PROACTIVE_ROWS)."""
    return {row.row_key: dict(row.cells) for row in session.exec(select(AnnualFigure).where(AnnualFigure.year == year))}


def catalogue_table2(session: Session, year: int) -> dict[str, dict[str, int]]:
    """Table 二's 规章 and 行政规范性文件 rows counted from the catalogue (issue 13 point 1): per legal kind,
    published documents issued (印发) in `year` (made), repealed (废止) in it, and in force on 31 December
    (issued by then, not repealed by then, not withdrawn otherwise). Kinds without any published
    document issued by the year's end are absent (nothing to count from: staff record the figures)."""
    end = date(year, 12, 31)
    rows = session.exec(select(CatalogueItem.legal_kind, CatalogueItem.issued_on, CatalogueItem.repealed_on,
                               CatalogueItem.status)
                        .where(col(CatalogueItem.legal_kind).is_not(None), col(CatalogueItem.published_at).is_not(None),
                               col(CatalogueItem.issued_on) <= end)).all()
    found: dict[str, dict[str, int]] = {}
    for kind, issued, repealed, status in rows:
        cells = found.setdefault(kind, {"made": 0, "repealed": 0, "in_force": 0})
        cells["made"] += issued.year == year
        cells["repealed"] += repealed is not None and repealed.year == year
        cells["in_force"] += (repealed is None or repealed > end) and (status != "withdrawn" or repealed is not None)
    return found


def table2_figures(session: Session, year: int) -> tuple[dict[str, dict], dict[str, dict[str, int]]]:
    """Table 二's figures for `year`: (the figures the report uses, the catalogue's own counts). A
    figure staff recorded overrides the catalogue's; the other rows have only recorded figures."""
    recorded, counted = annual_figures(session, year), catalogue_table2(session, year)
    merged = {key: {**counted.get(key, {}), **recorded.get(key, {})} for key in set(recorded) | set(counted)}
    return merged, counted


def annual_figure_rows(session: Session, year: int) -> list[AnnualFigure]:
    return list(session.exec(select(AnnualFigure).where(AnnualFigure.year == year)))


def recent_request_items(session: Session, since: date, limit: int = 1000) -> list[tuple]:
    """(application, item) pairs of the applications received since `since`, newest first, for the
    search of information several applicants asked for (proactive.from_requests)."""
    from db.models import Application, ApplicationItem

    return list(session.exec(
        select(Application.id, Application.department, Application.applicant_name, Application.applicant_email,
               Application.applicant_phone, Application.received_on, ApplicationItem.item_no,
               ApplicationItem.description, ApplicationItem.outcome)
        .join(ApplicationItem, ApplicationItem.application_id == Application.id)
        .where(Application.received_on >= since)
        .order_by(col(Application.received_on).desc(), col(Application.id).desc()).limit(limit)).all())


def open_deadline_ids_page(session: Session, table: str, due_from: date, after: str | None, limit: int) -> list[str]:
    """A keyset page (by id) of the processes whose working-day deadline a calendar year published now may
    move: catalogue items and interpretations not withdrawn (an item published since answers the signal with
    nothing), corrections being handled; only those due on or after `due_from` (the year's first day: an
    earlier deadline counted no day of that year)."""
    if table in ("inquiries", "drafts"):  # issue 26
        from db.participation_repository import open_deadline_query

        query, key = open_deadline_query(table, due_from)
    elif table == "catalogue":
        since = start_of_day_instant(due_from)  # the year's first instant, Asia/Shanghai
        query = select(CatalogueItem.id).where(CatalogueItem.status != "withdrawn", col(CatalogueItem.due_at) >= since)
        key = col(CatalogueItem.id)
    else:
        query = select(CorrectionRequest.id).where(CorrectionRequest.status == "handling",
                                                   col(CorrectionRequest.due_on) >= due_from)
        key = col(CorrectionRequest.id)
    if after is not None:
        query = query.where(key > after)
    return list(session.exec(query.order_by(key).limit(limit)).all())

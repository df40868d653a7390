"""Issue 23 point 6: the same application sent twice (Back, then 提交 again) is caught.

Two applications are "可能重复" when the same applicant (the same checked identity number, identity/) asks for
the same items (the same descriptions, whitespace aside, in any order) with receipt dates at most a day apart.
At intake the applicant is shown the earlier number and submits again only by saying so; staff see
"可能重复" with a link on both applications' pages. A repeat of an *answered* request months later is
another matter (Reg. 36(6), the similar-earlier-items check of the decision form).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine, select

from db.models import Application, ApplicationItem
from db.models_fees import ApplicantIdentity, normalise_identity

WITHIN = timedelta(days=1)


@dataclass(frozen=True)
class Duplicate:
    application_id: str
    received_on: date
    status: str


def _items_key(descriptions: list[str]) -> tuple[str, ...]:
    return tuple(sorted("".join(d.split()) for d in descriptions))


def same_requests(engine: Engine, id_number: str | None, received_on: date, descriptions: list[str],
                  *, other_than: str | None = None) -> list[Duplicate]:
    """The applications of that applicant with the same items received within a day of `received_on`."""
    identity = normalise_identity(id_number)
    if identity is None:
        return []
    ident, apps = ApplicantIdentity.__table__, Application.__table__  # type: ignore[attr-defined]
    items = ApplicationItem.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        candidates = connection.execute(
            select(apps.c.id, apps.c.received_on, apps.c.status).join(ident, ident.c.application_id == apps.c.id)
            .where(ident.c.identity == identity, ident.c.received_on >= received_on - WITHIN,
                   ident.c.received_on <= received_on + WITHIN)
            .order_by(apps.c.received_on, apps.c.id)).all()
        candidates = [c for c in candidates if c.id != other_than]
        if not candidates:
            return []
        rows = connection.execute(select(items.c.application_id, items.c.description)
                                  .where(items.c.application_id.in_([c.id for c in candidates]))).all()
    by_application: dict[str, list[str]] = {}
    for row in rows:
        by_application.setdefault(row.application_id, []).append(row.description)
    wanted = _items_key(descriptions)
    return [Duplicate(c.id, c.received_on, c.status) for c in candidates
            if _items_key(by_application.get(c.id, [])) == wanted]


def duplicates_of(engine: Engine, application_id: str) -> list[Duplicate]:
    """The other applications that may be the same as this one (staff's "可能重复")."""
    ident, items = ApplicantIdentity.__table__, ApplicationItem.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        own = connection.execute(select(ident.c.identity, ident.c.received_on)
                                 .where(ident.c.application_id == application_id)).first()
        if own is None:
            return []
        descriptions = connection.execute(select(items.c.description)
                                          .where(items.c.application_id == application_id)).scalars().all()
    return same_requests(engine, own.identity, own.received_on, list(descriptions), other_than=application_id)

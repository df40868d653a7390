"""Reads of the public-participation tables (issue 26) for the counts the law asks for."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, col, select

from clock import start_of_day_instant

from db.models_participation import Draft, Inquiry


def participation_figures(session: Session, start: date, end: date) -> dict[str, int]:
    """Drafts published for comment from `start` to `end` (inclusive; by the day published), their comments
    received and how they were dealt with, feedback published (on time); questions received in the period
    and answered (on time). For the annual report's sections 一 and 二 and the 考核评议 figures."""
    drafts = session.exec(select(Draft).where(col(Draft.opens_on) >= start, col(Draft.opens_on) <= end)).all()
    counts = [d.counts for d in drafts]
    published = [d for d in drafts if d.feedback_published_at is not None]
    answered = session.exec(select(Inquiry).where(col(Inquiry.answered_at).is_not(None), col(Inquiry.received_on) >= start,
                                                  col(Inquiry.received_on) <= end)).all()
    return {"drafts_published": len(drafts), "comments_received": sum(c.get("received", 0) for c in counts),
            "comments_adopted": sum(c.get("adopted", 0) for c in counts),
            "comments_partly_adopted": sum(c.get("partly", 0) for c in counts),
            "comments_not_adopted": sum(c.get("not_adopted", 0) for c in counts),
            "feedback_published": len(published), "feedback_on_time": sum(1 for d in published if d.feedback_on_time),
            "inquiries_answered": len(answered), "inquiries_answered_on_time": sum(1 for i in answered if i.on_time)}


OPEN_INQUIRY = ("unrouted", "routed", "in-review", "awaiting-confirmation")
UNFINISHED_DRAFT = ("in-review", "returned", "reviewed", "open")


def open_deadline_query(table: str, due_from: date):
    """(query of ids, key) for the calendar broadcast (workflows/proactive_calendar.py): questions not yet
    answered due on or after `due_from`; drafts not yet closed whose period ends on or after it, or not yet
    published (their calendar is refreshed before the period is counted at publication)."""
    if table == "inquiries":
        return (select(Inquiry.id).where(col(Inquiry.status).in_(OPEN_INQUIRY), col(Inquiry.due_on) >= due_from),
                col(Inquiry.id))
    since = start_of_day_instant(due_from)
    return (select(Draft.id).where(col(Draft.phase).in_(UNFINISHED_DRAFT),
                                   or_(col(Draft.closes_at).is_(None), col(Draft.closes_at) >= since)), col(Draft.id))

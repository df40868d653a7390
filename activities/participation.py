"""The public-participation workflows' writes (workflows/participation.py): the rows the public pages,
staff lists and counts read. Each is an upsert keyed by the business id (draft id, receipt number,
inquiry id), so a retried activity writes the same rows."""

import asyncio

from sqlalchemy import Engine
from temporalio import activity

from contracts.participation import DraftRows, InquiryRecord
from db.models import utcnow
from db.models_participation import Draft, DraftComment, Inquiry
from db.session import session_scope


class ParticipationActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _merge(self, *rows) -> None:
        with session_scope(self._engine) as session:
            for row in rows:
                session.merge(row)

    @activity.defn(name="save_participation_draft")
    async def save_draft(self, rows: DraftRows) -> None:
        draft = Draft(**rows.draft.model_dump(), updated_at=utcnow())
        comments = [DraftComment(**c.model_dump()) for c in rows.comments]
        await asyncio.to_thread(self._merge, draft, *comments)

    @activity.defn(name="save_participation_inquiry")
    async def save_inquiry(self, record: InquiryRecord) -> None:
        await asyncio.to_thread(self._merge, Inquiry(**record.model_dump(), updated_at=utcnow()))


def participation_activities(engine: Engine) -> list:
    acts = ParticipationActivities(engine)
    return [acts.save_draft, acts.save_inquiry]

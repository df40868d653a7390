"""The 政务公开 workflows' writes: the rows the catalogue page, staff lists and reports read.

Each is an upsert keyed by the business id, so a retried activity writes the same row.
"""

import asyncio

from sqlalchemy import Engine
from temporalio import activity

from db import proactive_repository
from db.models_proactive import CatalogueItem, CorrectionRequest, OpinionEvent
from db.session import session_scope
from contracts.calendar import OpenDeadlinesPage
from contracts.corrections import CorrectionRecord
from contracts.proactive import CatalogueRecord, OpinionRecord


class ProactiveActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _merge(self, row) -> None:
        with session_scope(self._engine) as session:
            session.merge(row)

    @activity.defn(name="save_catalogue_item")
    async def save_catalogue_item(self, record: CatalogueRecord) -> None:
        await asyncio.to_thread(self._merge, CatalogueItem(**record.model_dump()))

    @activity.defn(name="save_opinion_event")
    async def save_opinion_event(self, record: OpinionRecord) -> None:
        await asyncio.to_thread(self._merge, OpinionEvent(**record.model_dump()))

    @activity.defn(name="save_correction")
    async def save_correction(self, record: CorrectionRecord) -> None:
        await asyncio.to_thread(self._merge, CorrectionRequest(**record.model_dump()))

    @activity.defn(name="open_deadline_ids_page")
    async def open_deadline_ids_page(self, page: OpenDeadlinesPage) -> list[str]:
        """One page of the calendar broadcast to the 政务公开 processes (workflows/proactive_calendar.py)."""
        def read() -> list[str]:
            with session_scope(self._engine) as session:
                return proactive_repository.open_deadline_ids_page(session, page.table, page.due_from, page.after,
                                                                   page.limit)
        return await asyncio.to_thread(read)


def proactive_activities(engine: Engine) -> list:
    acts = ProactiveActivities(engine)
    return [acts.save_catalogue_item, acts.save_opinion_event, acts.save_correction, acts.open_deadline_ids_page]

"""The 政务公开 workflows' writes: the rows the catalogue page, staff lists and reports read.

Each is an upsert keyed by the business id, so a retried activity writes the same row.
"""

import asyncio

from sqlalchemy import Engine
from temporalio import activity

from db.models_proactive import CatalogueItem, CorrectionRequest, OpinionEvent
from db.session import session_scope
from workflows.proactive_messages import CatalogueRecord, CorrectionRecord, OpinionRecord


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


def proactive_activities(engine: Engine) -> list:
    acts = ProactiveActivities(engine)
    return [acts.save_catalogue_item, acts.save_opinion_event, acts.save_correction]

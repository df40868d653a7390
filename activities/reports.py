"""Report-grade records: the one write the application workflow makes for the annual report (issue 14)."""

import asyncio

from sqlalchemy import Engine
from temporalio import activity

from db import reports_repository
from db.session import session_scope
from reports.records import ReportRecordInput


class ReportActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="record_report_outcome")
    async def record_report_outcome(self, inp: ReportRecordInput) -> None:
        """Insert the record once, keyed by the application id; a retry or a second call changes nothing."""

        def run() -> bool:
            with session_scope(self._engine) as session:
                return reports_repository.insert_report_record(session, inp)

        inserted = await asyncio.to_thread(run)
        activity.logger.info("report record %s (%s, %s): %s", inp.application_id, inp.ending, inp.outcome,
                             "stored" if inserted else "already stored")

"""The public-participation workflows' writes (workflows/participation.py): the rows the public pages,
staff lists and counts read. Each is an upsert keyed by the business id (draft id, receipt number,
inquiry id), so a retried activity writes the same rows."""

import asyncio

from sqlalchemy import Engine
from temporalio import activity

from contracts.participation import AnswerNotice, DraftRows, InquiryRecord
from db.models import OutboundMessage, utcnow
from db.models_participation import Draft, DraftComment, Inquiry
from db.session import session_scope


class ParticipationActivities:
    def __init__(self, engine: Engine, mailer=None) -> None:
        self._engine = engine
        self._mailer = mailer  # activities.disclosure.DisclosureActivities: its once-only, recorded e-mail sending

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


    @activity.defn(name="send_inquiry_answer")
    async def send_inquiry_answer(self, notice: AnswerNotice) -> None:
        """The reviewed answer by e-mail, once per inquiry (the outbox row keyed `<inquiry id>:answer` records
        every attempt; a message already sent is not sent again)."""
        agency = notice.agency_name or "本机关"
        greeting = f"{notice.name}：" if notice.name else "您好："
        body = (f"{greeting}\n\n您于本网站提出的咨询（编号 {notice.inquiry_id}）已答复。\n\n问：{notice.question}\n\n"
                f"答：{notice.answer}\n\n{agency}")
        await self._mailer._send_email_once(OutboundMessage(
            key=f"{notice.inquiry_id}:answer", application_id=notice.inquiry_id, kind="inquiry-answer", method="email",
            recipient_name=notice.name or "咨询人", email=notice.email, subject=f"{agency}对您的咨询（{notice.inquiry_id}）的答复",
            body=body, status="awaiting-staff"))


def participation_activities(engine: Engine, mailer=None) -> list:
    acts = ParticipationActivities(engine, mailer)
    return [acts.save_draft, acts.save_inquiry, acts.send_inquiry_answer]

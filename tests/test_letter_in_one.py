"""Issue 15 point 2: `deliver_letter` composes, issues and tries once to send a letter, in one activity.

Its retries are idempotent on the letter's key (the outbox's rules, activities/letters.py): one document
and one 文号 however often it runs, an e-mail sent once, a try that may have reached the mail server
never repeated; a failed try is returned (for the workflow's rounds) and recorded on the outbox row.
On SQLite and PostgreSQL (the `engine` fixture).
"""

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import ActivityEnvironment

from activities.disclosure import DisclosureActivities
from contracts.models import ComposeLetterInput, DeliverLetterInput, IssueLetterInput, Letter, SendLetterInput
from core.config import Settings
from db import letters_repository as repo
from db.models_letters import LetterDocument
from db.session import session_scope
from tests.fixtures_db import engine, skip_unless_ci  # noqa: F401
from tests.fixtures_smtp import CapturingHandler, SmtpController, spare_port  # noqa: F401
from tests.letters_support import mails_for

APPLICATION_ID = "GK-2026-000042"
KEY = f"{APPLICATION_ID}:ack"


@pytest.fixture(autouse=True)
def _font() -> None:
    if not Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc").exists():
        skip_unless_ci("the CJK font (fonts-wqy-zenhei) is missing: `make test` installs it")


def deliver_input() -> DeliverLetterInput:
    letter_date = date(2026, 11, 20)
    return DeliverLetterInput(
        compose=ComposeLetterInput(application_id=APPLICATION_ID, kind="acknowledgment", agency_name="某市统计局",
                                   recipient_name="张三", letter_date=letter_date, received_on=letter_date,
                                   deadline_on=date(2026, 12, 11)),
        issue=IssueLetterInput(key=KEY, application_id=APPLICATION_ID, letter=Letter(kind="acknowledgment", subject="", body=""),
                               letter_date=letter_date, recipient_name="张三", method="email", email="zhang@example.cn"),
        send=SendLetterInput(key=KEY, application_id=APPLICATION_ID, due_on=date(2026, 12, 11),
                             due_at=datetime(2026, 12, 11, 16, tzinfo=timezone.utc)),
    )


def activities(engine: Engine, tmp_path: Path, port: int) -> DisclosureActivities:
    return DisclosureActivities(engine, Settings(data_dir=tmp_path, database_url=str(engine.url), smtp_host="127.0.0.1",
                                                 smtp_port=port, smtp_timeout_seconds=2))


def documents(engine: Engine) -> list[LetterDocument]:
    with Session(engine) as session:
        return list(session.exec(select(LetterDocument).where(LetterDocument.key == KEY)).all())


def outbox(engine: Engine):
    with session_scope(engine) as session:
        row = repo.get_outbox(session, KEY)
        return row.status, row.attempts, row.last_error


async def test_a_failed_try_is_returned_and_recorded_and_a_retry_sends_the_same_document_once(
        engine: Engine, tmp_path: Path, spare_port: int) -> None:  # noqa: F811
    acts, env = activities(engine, tmp_path, spare_port), ActivityEnvironment()
    failed = await env.run(acts.deliver_letter, deliver_input())  # the mail server is down: refused
    assert failed.sent is None and failed.failed_attempts == 1 and failed.failed_type
    assert failed.letter.subject.startswith("政府信息公开申请登记回执") and failed.issued.document_number
    status, attempts, last_error = outbox(engine)
    assert (status, attempts) == ("failed", 1) and last_error  # staff see the try

    handler = CapturingHandler()
    smtp = SmtpController(handler, port=spare_port)
    smtp.start()
    try:
        sent = await env.run(acts.deliver_letter, deliver_input())  # a retry, or the workflow running it again
        again = await env.run(acts.deliver_letter, deliver_input())
    finally:
        smtp.stop()
    assert sent.sent is not None and sent.sent.status == "sent" and sent.sent.attempts == 2
    assert again.sent == sent.sent  # read from the outbox, not sent again
    assert sent.issued.document_number == failed.issued.document_number  # issued once
    assert len(documents(engine)) == 1
    mails = mails_for(handler.envelopes, APPLICATION_ID)
    assert len(mails) == 1 and failed.issued.document_number in mails[0]["Subject"]


async def test_a_try_that_may_have_reached_the_mail_server_is_not_repeated(
        engine: Engine, tmp_path: Path, spare_port: int) -> None:  # noqa: F811
    handler = CapturingHandler()
    smtp = SmtpController(handler, port=spare_port)
    smtp.start()
    try:
        acts, env = activities(engine, tmp_path, spare_port), ActivityEnvironment()
        first = await env.run(acts.deliver_letter, deliver_input())
        assert first.sent is not None and first.sent.status == "sent"
        with session_scope(engine) as session:  # as if the worker died between DATA and the "sent" commit
            repo.update_outbox(session, KEY, status="sending")
        retried = await env.run(acts.deliver_letter, deliver_input())
    finally:
        smtp.stop()
    assert retried.sent is not None and retried.sent.status == "uncertain"
    assert len(mails_for(handler.envelopes, APPLICATION_ID)) == 1

import email
import email.policy
import logging
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.disclosure import DisclosureActivities, all_activities
from contracts.models import (
    ComposeLetterInput,
    DispatchInput,
    Letter,
    PersistApplicationInput,
    PrescreenInput,
    PrescreenText,
    StaffAlertInput,
)
from core.config import Settings
from db.models import Application, ApplicationEvent, ApplicationItem, OutboundMessage, StaffAlert
from db.repository import get_outbound_message
from db.session import session_scope
from tests.fixtures_db import application_record, engine, event_record  # noqa: F401
from tests.fixtures_smtp import SmtpServer, spare_port, smtp_server  # noqa: F401

LETTER = Letter(kind="reply", subject="政府信息公开申请答复告知书（GK-2026-000001）", body="张三：\n\n经审查，予以公开。\n\n某市统计局")


def activities_for(engine: Engine, smtp_port: int) -> DisclosureActivities:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_timeout_seconds=5, agency_name="某市统计局")
    return DisclosureActivities(engine, settings)


@pytest.fixture
def acts(engine: Engine, smtp_server: SmtpServer) -> DisclosureActivities:
    return activities_for(engine, smtp_server.port)


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()


def dispatch_input(method: str = "email", address: str | None = "zhangsan@example.cn") -> DispatchInput:
    return DispatchInput(
        key="GK-2026-000001:reply",
        application_id="GK-2026-000001",
        recipient_name="张三",
        method=method,
        email=address,
        letter=LETTER,
    )


def outbound(engine: Engine, key: str = "GK-2026-000001:reply") -> OutboundMessage | None:
    with session_scope(engine) as session:
        return get_outbound_message(session, key)


def test_all_activities_lists_every_activity(acts: DisclosureActivities) -> None:
    names = [method.__temporal_activity_definition.name for method in all_activities(acts)]
    assert names == [
        "persist_application",
        "prescreen",
        "compose_letter",
        "deliver_letter",
        "dispatch_letter",
        "raise_staff_alert",
        "open_application_ids",
        "open_application_ids_page",
        "recount_open_page",
        "due_calendar_wakes",
        "forget_calendar_wakes",
        "current_calendar",
        "issue_letter",
        "send_letter",
        "record_letter_delivery",
        "record_report_outcome",
    ]


async def test_persist_twice_keeps_one_set_of_rows(
    acts: DisclosureActivities, env: ActivityEnvironment, engine: Engine
) -> None:
    first = PersistApplicationInput(record=application_record(), events=[event_record(1), event_record(2)])
    await env.run(acts.persist_application, first)
    await env.run(acts.persist_application, first)
    later = PersistApplicationInput(
        record=application_record(status="closed", final_outcome="disclosed"), events=[event_record(2), event_record(3)]
    )
    await env.run(acts.persist_application, later)

    with session_scope(engine) as session:
        [application] = session.exec(select(Application)).all()
        assert (application.status, application.final_outcome) == ("closed", "disclosed")
        assert len(session.exec(select(ApplicationItem)).all()) == 2
        assert [e.seq for e in session.exec(select(ApplicationEvent).order_by(ApplicationEvent.seq)).all()] == [1, 2, 3]
    assert await env.run(acts.open_application_ids) == []


async def test_open_application_ids(acts: DisclosureActivities, env: ActivityEnvironment) -> None:
    await env.run(
        acts.persist_application, PersistApplicationInput(record=application_record("GK-2026-000002"), events=[])
    )
    await env.run(
        acts.persist_application,
        PersistApplicationInput(record=application_record("GK-2026-000001", status="withdrawn"), events=[]),
    )
    assert await env.run(acts.open_application_ids) == ["GK-2026-000002"]


async def test_email_dispatch_twice_sends_exactly_once(
    acts: DisclosureActivities, env: ActivityEnvironment, engine: Engine, smtp_server: SmtpServer
) -> None:
    first = await env.run(acts.dispatch_letter, dispatch_input())
    second = await env.run(acts.dispatch_letter, dispatch_input())

    assert first.status == "sent" and first.message_id and first.sent_at
    assert second == first
    assert len(smtp_server.envelopes) == 1
    envelope = smtp_server.envelopes[0]
    assert envelope.rcpt_tos == ["zhangsan@example.cn"]
    parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert parsed["Subject"] == LETTER.subject
    assert parsed["Message-ID"] == first.message_id
    assert parsed["To"].addresses[0].display_name == "张三"
    assert parsed["From"].addresses[0].display_name == "某市统计局"
    assert parsed.get_content().replace("\r\n", "\n").strip() == LETTER.body
    stored = outbound(engine)
    assert stored is not None and (stored.status, stored.attempts, stored.last_error) == ("sent", 1, None)


async def test_smtp_server_down_raises_and_records_the_error(
    env: ActivityEnvironment, engine: Engine, spare_port: int  # noqa: F811
) -> None:
    acts = activities_for(engine, spare_port)
    for attempt in (1, 2):
        with pytest.raises(OSError):
            await env.run(acts.dispatch_letter, dispatch_input())
        stored = outbound(engine)
        assert stored is not None
        assert (stored.status, stored.attempts) == ("failed", attempt)
        assert "ConnectionRefusedError" in (stored.last_error or "")


async def test_retry_after_server_comes_back_sends(
    env: ActivityEnvironment, engine: Engine, smtp_server: SmtpServer, spare_port: int  # noqa: F811
) -> None:
    with pytest.raises(OSError):
        await env.run(activities_for(engine, spare_port).dispatch_letter, dispatch_input())
    result = await env.run(activities_for(engine, smtp_server.port).dispatch_letter, dispatch_input())
    assert result.status == "sent" and len(smtp_server.envelopes) == 1
    stored = outbound(engine)
    assert stored is not None and (stored.status, stored.attempts, stored.last_error) == ("sent", 2, None)


async def test_email_without_address_is_not_retryable(
    acts: DisclosureActivities, env: ActivityEnvironment, engine: Engine
) -> None:
    with pytest.raises(ApplicationError) as raised:
        await env.run(acts.dispatch_letter, dispatch_input(address=None))
    assert raised.value.non_retryable
    stored = outbound(engine)
    assert stored is not None and stored.status == "failed" and "no e-mail address" in (stored.last_error or "")


async def test_post_is_left_to_staff(
    acts: DisclosureActivities, env: ActivityEnvironment, engine: Engine, smtp_server: SmtpServer
) -> None:
    for _ in range(2):
        result = await env.run(acts.dispatch_letter, dispatch_input(method="post", address=None))
        assert (result.status, result.method, result.sent_at) == ("awaiting-staff", "post", None)
    assert smtp_server.envelopes == []
    stored = outbound(engine)
    assert stored is not None and (stored.status, stored.attempts, stored.body) == ("awaiting-staff", 0, LETTER.body)


async def test_staff_alert_is_idempotent_and_mailed_once(
    acts: DisclosureActivities, env: ActivityEnvironment, engine: Engine, smtp_server: SmtpServer
) -> None:
    alert = StaffAlertInput(
        key="GK-2026-000001:overdue:2026-03-23",
        application_id="GK-2026-000001",
        kind="overdue",
        role="supervisor",
        recipient="leader@agency.example.gov.cn",
        message="申请 GK-2026-000001 已逾期，请督办。",
    )
    await env.run(acts.raise_staff_alert, alert)
    await env.run(acts.raise_staff_alert, alert)

    with session_scope(engine) as session:
        [stored] = session.exec(select(StaffAlert)).all()
    assert (stored.kind, stored.role, stored.acknowledged_at) == ("overdue", "supervisor", None)
    assert len(smtp_server.envelopes) == 1
    parsed = email.message_from_bytes(smtp_server.envelopes[0].original_content, policy=email.policy.default)
    assert parsed["Subject"] == "【逾期警示】GK-2026-000001"
    assert "已逾期，请督办" in parsed.get_content()


async def test_staff_alert_without_recipient_sends_nothing(
    acts: DisclosureActivities, env: ActivityEnvironment, smtp_server: SmtpServer
) -> None:
    alert = StaffAlertInput(
        key="k1", application_id="GK-2026-000001", kind="reminder", role="handler", message="三个工作日后到期"
    )
    await env.run(acts.raise_staff_alert, alert)
    assert smtp_server.envelopes == []


async def test_compose_letter_activity(acts: DisclosureActivities, env: ActivityEnvironment) -> None:
    inp = ComposeLetterInput(
        application_id="GK-2026-000001",
        kind="acknowledgment",
        agency_name="某市统计局",
        recipient_name="张三",
        letter_date=date(2026, 3, 2),
        received_on=date(2026, 3, 2),
        deadline_on=date(2026, 3, 23),
    )
    letter = await env.run(acts.compose_letter, inp)
    assert "2026年3月23日" in letter.body
    with pytest.raises(ApplicationError) as raised:
        await env.run(acts.compose_letter, inp.model_copy(update={"deadline_on": None}))
    assert raised.value.non_retryable


async def test_prescreen_activity_never_logs_numbers(
    acts: DisclosureActivities, env: ActivityEnvironment, caplog: pytest.LogCaptureFixture
) -> None:
    text = "申请人身份证号11010519491231002X，手机13812345678，机密★1年"
    with caplog.at_level(logging.DEBUG):
        inp = PrescreenInput(application_id="GK-2026-000001", texts=[PrescreenText(label="申请", text=text)])
        result = await env.run(acts.prescreen, inp)
    assert [f.kind for f in result.findings] == ["id-card", "phone", "secret-marking"]
    assert not result.clean
    assert "GK-2026-000001" in caplog.text
    assert "11010519491231002X" not in caplog.text and "13812345678" not in caplog.text

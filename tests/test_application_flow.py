"""End-to-end through the API: the paths an application takes, on the real Temporal server."""

from db.repository import list_applications
from sqlmodel import Session
from contracts.application_view import ApplicationOutcome
import pytest

from tests.helpers import act, eventually, mails_about, register, since, state, through_review, today


@pytest.mark.dates
async def test_plain_disclosure_answered_in_time_by_email(api, client, engine, mailbox):
    first = today()
    created = await register(api)
    app_id = created["application_id"]
    deadline = (await api.get("/api/v1/calendar/deadline",
                              params={"received": created["received_on"], "days": 15})).json()
    assert created["due_on"] == deadline["due_on"]
    assert any("15" in step for step in created["due_explanation"])
    assert "网络申请，双方确认之日" in created["due_explanation"][0]

    view = await state(api, app_id)
    assert view["status"] == "handling"
    assert view["due"]["due_on"] == created["due_on"]
    assert [a["action"] for a in view["pending_actions"]] == ["propose-decision"]

    await through_review(api, app_id, {1: ("disclosed", "")})
    signed = await act(api, app_id, "sign", {"by": "chief-liu"})
    assert signed["replied_on"] in since(first)  # signed during the test: the server's day, on the tests' clock

    closed = await eventually(api, app_id, lambda s: s["status"] == "closed")
    assert closed["delivered_on"] == closed["replied_on"]
    reply = [m for m in mails_about(mailbox.envelopes, app_id) if "答复" in m["Subject"]]
    assert len(reply) == 1
    body = reply[0].get_body(preferencelist=("plain",)).get_content()
    assert "予以公开" in body and "2025年全市规模以上工业企业名录" in body
    assert "行政复议" in body and "行政诉讼" in body

    outcome = await client.get_workflow_handle(app_id, result_type=ApplicationOutcome).result()
    assert outcome.on_time is True
    with Session(engine) as session:
        rows, _ = list_applications(session, status="closed")
    row = next(r for r in rows if r.id == app_id)
    assert row.final_outcome == "disclosed"

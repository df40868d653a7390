"""Record the event histories that tests/test_replay.py replays: one per representative path.

    .venv/bin/python scripts/record_histories.py [--out tests/histories]

Starts its own Temporal dev server (the same flags as tests/conftest.py), an in-process worker,
an SMTP server and a temporary SQLite database; drives each scenario through the HTTP API (to the
end, or to where it waits for a person); writes each workflow's history (and, for the consultation scenario, the child's) as
`<out>/<scenario>.json`. The file stem is the workflow id the replay test uses.

Re-record only on purpose: see tests/histories/README.md.
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
# As the tests run (tests/conftest.py): the example agency's settings, marked as such, are allowed here.
os.environ.setdefault("DISCLOSURE_EXAMPLE_AGENCY", "true")

import httpx  # noqa: E402
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from api.main import create_app  # noqa: E402
from core.config import Settings  # noqa: E402
from worker import build_worker  # noqa: E402
from db.session import init_db, make_engine  # noqa: E402
from tests.fixtures_smtp import CapturingHandler, SmtpController, SmtpServer  # noqa: E402
from tests.helpers import (  # noqa: E402
    MAIL_RETURNS_TOKEN,
    TEST_JWT_SECRET,
    email_served,
    some_identity,
    StaffClient,
    act,
    eventually,
    register,
    seed_test_users,
    through_review,
    today,
)
from workflows import search_attributes as sa  # noqa: E402

TEMPORAL_CLI = Path(sys.executable).parent / "temporal"
DEFAULT_OUT = REPO_ROOT / "tests" / "histories"

MAILBOX: SmtpServer  # the recording's SMTP server (set by `record`): its delivery reports go to the API

# A scenario drives one application and returns {file stem: workflow id} of what to record.
Scenario = Callable[[httpx.AsyncClient], Awaitable[dict[str, str]]]


def compact(history_json: str) -> str:
    """The same JSON without indentation: about a fifth smaller, still what WorkflowHistory.from_json reads."""
    return json.dumps(json.loads(history_json), ensure_ascii=False, separators=(",", ":")) + "\n"


def letters_sent(n: int):
    return lambda s: [e["kind"] for e in s["timeline"]].count("letter-sent") >= n


async def sign_and_close(api: httpx.AsyncClient, app_id: str) -> None:
    await act(api, app_id, "sign", {"by": "chief-liu"})
    await eventually(api, app_id, lambda s: s["status"] == "closed")


async def plain_disclosure_by_email(api: httpx.AsyncClient) -> dict[str, str]:
    app_id = (await register(api))["application_id"]
    await eventually(api, app_id, letters_sent(1))
    await through_review(api, app_id, {1: ("disclosed", "")})
    await sign_and_close(api, app_id)
    return {"plain_disclosure_by_email": app_id}


async def supplement_requested_then_received(api: httpx.AsyncClient) -> dict[str, str]:
    app_id = (await register(api))["application_id"]
    await eventually(api, app_id, letters_sent(1))
    await act(api, app_id, "supplement-request", {"needed": ["请写明所需信息的文号", "请提供身份证明复印件"], "by": "wang"})
    await eventually(api, app_id, letters_sent(2))
    await act(api, app_id, "supplement", {"received_on": today().isoformat(), "note": "申请人当面补正", "by": "desk-chen"})
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "reasons": "", "by": "wang"})
    return {"supplement_requested_then_received": app_id}  # left open: a deploy must resume such workflows


async def consultation_objection_overridden(api: httpx.AsyncClient) -> dict[str, str]:
    app_id = (await register(api, items=[{"description": "某化工企业2025年排污监测数据"}]))["application_id"]
    await eventually(api, app_id, letters_sent(1))
    consulting = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某化工有限公司", "email": "ehs@chem.example.cn"},
        "item_nos": [1], "by": "wang"})
    consultation_id = consulting["consultations"][0]["consultation_id"]
    answered = await api.post(f"/api/v1/consultations/{consultation_id}/answer",
                              json={"position": "objection", "reasons": "涉及商业秘密，影响企业声誉"},
                              headers=api.as_user("desk-chen"))
    assert answered.status_code == 200, answered.text
    await eventually(api, app_id,
                     lambda s: s["status"] == "handling" and s["consultations"][0]["position"] == "objection")
    await act(api, app_id, "override", {
        "consultation_id": consultation_id, "reason": "涉及公众健康，不公开会对公共利益造成重大影响", "by": "chief-liu"})
    await eventually(api, app_id, letters_sent(2))
    await through_review(api, app_id, {1: ("disclosed", "")})
    await sign_and_close(api, app_id)
    return {"consultation_objection_overridden": app_id, "consultation_objection_overridden.child": consultation_id}


async def extension_approved(api: httpx.AsyncClient) -> dict[str, str]:
    app_id = (await register(api))["application_id"]
    await eventually(api, app_id, letters_sent(1))
    await act(api, app_id, "extension-request", {"days": 10, "reason": "需要调取档案", "by": "wang"})
    await act(api, app_id, "extension-decision", {"approve": True, "comment": "同意", "by": "chief-liu"})
    await eventually(api, app_id, letters_sent(2))
    return {"extension_approved": app_id}  # left open, like the supplement scenario


async def withdrawal(api: httpx.AsyncClient) -> dict[str, str]:
    app_id = (await register(api))["application_id"]
    await eventually(api, app_id, letters_sent(1))
    await act(api, app_id, "withdraw", {"reason": "已通过其他途径获取", "by": "applicant"})
    return {"withdrawal": app_id}


async def reply_edited_by_email(api: httpx.AsyncClient) -> dict[str, str]:
    """The draft edited before review, approved version checked, reply issued (文号, PDF) and e-mailed, closed."""
    app_id = (await register(api))["application_id"]
    await eventually(api, app_id, letters_sent(1))
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "reasons": "", "by": "wang"})
    await act(api, app_id, "submit", {"by": "wang"})
    draft = (await api.get(f"/api/v1/applications/{app_id}/reply-draft")).json()
    await act(api, app_id, "reply-draft", {"body": draft["body"].replace("经审查，", "经审查核实，"), "by": "wang"})
    await act(api, app_id, "review", {"approve": True, "draft_version": 1, "by": "reviewer-zhao"})
    await sign_and_close(api, app_id)
    return {"reply_edited_by_email": app_id}


async def reply_posted_and_delivered(api: httpx.AsyncClient) -> dict[str, str]:
    """Reply by post: awaiting staff; the tracking number and the signed-for date recorded (outbox row), closed."""
    app_id = (await register(api, delivery_method="post"))["application_id"]
    await eventually(api, app_id, lambda s: any(e["kind"] == "letter-awaiting-staff" for e in s["timeline"]))
    await through_review(api, app_id, {1: ("disclosed", "")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    await eventually(api, app_id, lambda s: [e["kind"] for e in s["timeline"]].count("letter-awaiting-staff") >= 2)
    await act(api, app_id, "delivery", {"delivered_on": today().isoformat(), "method": "post",
                                        "tracking_number": "EMS1234567890CN", "by": "desk-chen"})
    return {"reply_posted_and_delivered": app_id}


async def supplement_served_by_delivery_report(api: httpx.AsyncClient) -> dict[str, str]:
    """RULES §3 Service: the e-mailed supplement notice dispatched by our relay, served by the addressee's delivery
    report (POST /api/v1/mail/returns); left open, awaiting the supplement."""
    app_id = (await register(api))["application_id"]
    await eventually(api, app_id, letters_sent(1))
    await act(api, app_id, "supplement-request", {"needed": ["请写明所需信息的文号"], "by": "wang"})
    await email_served(api, MAILBOX, f"{app_id}:supplement")
    await eventually(api, app_id, lambda s: s["supplement"]["notice_served_on"] is not None)
    return {"supplement_served_by_delivery_report": app_id}


async def fee_posted_served_paid(api: httpx.AsyncClient) -> dict[str, str]:
    """The fee notice: approved, posted (dispatched: the clock stops), signed for (the 20 working days run), paid."""
    applicant = {"name": "钱二", "type": "natural-person", "id_number": some_identity(), "address": "福州市某路3号"}
    app_id = (await register(api, applicant=applicant, delivery_method="post"))["application_id"]
    await act(api, app_id, "fee-proposal", {"standard": "per-page", "quantity": 150,
                                             "reason": "申请公开的信息达150页，数量明显超过合理范围", "by": "wang"})
    await act(api, app_id, "fee-decision", {"approve": True, "by": "chief-liu"})
    await eventually(api, app_id, lambda s: [e["kind"] for e in s["timeline"]].count("letter-awaiting-staff") >= 2)
    key = f"{app_id}:fee"
    for body in ({"method": "post", "posted_on": today().isoformat(), "tracking_number": "EMS9876543210CN"},
                 {"method": "post", "served_on": today().isoformat(), "received_by": "钱二"}):
        response = await api.post(f"/api/v1/applications/{app_id}/letters/{key}/service", json=body,
                                  headers=api.as_user("desk-chen"))
        assert response.status_code == 200, response.text
    await act(api, app_id, "fee-payment", {"paid_on": today().isoformat(), "by": "desk-chen"})
    return {"fee_posted_served_paid": app_id}


async def released_file_sealed_and_emailed(api: httpx.AsyncClient) -> dict[str, str]:
    """Issue 22: a file uploaded for the item (`release_changed` from the API and from its screening: the workflow
    reads the files' state), disclosed, signed (the release sealed under the lock), the file e-mailed with the reply."""
    from tests.release_samples import text_pdf

    app_id = (await register(api))["application_id"]
    await eventually(api, app_id, letters_sent(1))
    uploaded = await api.post(f"/api/v1/applications/{app_id}/items/1/release-files",
                              files={"file": ("统计公报.pdf", text_pdf([["2025年统计公报"]]), "application/pdf")},
                              headers=api.as_user("wang"))
    assert uploaded.status_code == 201, uploaded.text
    await eventually(api, app_id, lambda s: not s["release_reading"] and bool(s["release_files"])
                     and s["release_files"][0]["problems"] == [])
    await through_review(api, app_id, {1: ("disclosed", "")})
    await sign_and_close(api, app_id)
    return {"released_file_sealed_and_emailed": app_id}


async def settled_history(handle: WorkflowHandle) -> WorkflowHistory:
    """The history once nothing is in flight: the workflow completed, or it waits for a person."""
    for _ in range(100):
        description = await handle.describe()
        if description.status != WorkflowExecutionStatus.RUNNING:
            return await handle.fetch_history()
        raw = description.raw_description
        history = await handle.fetch_history()
        if not raw.pending_activities and not raw.HasField("pending_workflow_task"):
            await asyncio.sleep(0.3)
            again = await handle.fetch_history()
            if len(again.events) == len(history.events):
                return history
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{handle.id} did not settle")


SCENARIOS: list[Scenario] = [
    plain_disclosure_by_email,
    supplement_requested_then_received,
    consultation_objection_overridden,
    extension_approved,
    withdrawal,
    reply_edited_by_email,
    reply_posted_and_delivered,
    supplement_served_by_delivery_report,
    fee_posted_served_paid,
    released_file_sealed_and_emailed,
]


async def record(out: Path, only: list[str] | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    global MAILBOX
    handler = CapturingHandler()
    controller = SmtpController(handler)
    controller.start()
    MAILBOX = SmtpServer(host="127.0.0.1", port=controller.port, handler=handler)
    env = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=str(TEMPORAL_CLI),
        dev_server_extra_args=["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"],
        search_attributes=[sa.STATUS, sa.DUE_AT, sa.OVERDUE, sa.AGENCY],
        data_converter=pydantic_data_converter,
    )
    try:
        client: Client = await env.connect_client(data_converter=pydantic_data_converter)
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/record.db", task_queue=f"record-{uuid.uuid4()}",
                smtp_host="127.0.0.1", smtp_port=controller.port, jwt_secret=TEST_JWT_SECRET,
                mail_returns_token=MAIL_RETURNS_TOKEN,
            )
            engine = make_engine(settings.database_url)
            init_db(engine)
            async with build_worker(client, settings, engine):
                app = create_app(settings, client=client, engine=engine)
                seed_test_users(engine)
                # Recorded without payload encryption (readable files); the codec passes such payloads through.
                async with StaffClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api:
                    await api.log_in_all()
                    for scenario in SCENARIOS:
                        if only and scenario.__name__ not in only:
                            continue
                        for stem, workflow_id in (await scenario(api)).items():
                            history = await settled_history(client.get_workflow_handle(workflow_id))
                            path = out / f"{stem}.json"
                            path.write_text(compact(history.to_json()))
                            print(f"{path}: {len(history.events)} events, "
                                  f"{path.stat().st_size // 1024} KiB ({workflow_id})")
            engine.dispose()
    finally:
        await env.shutdown()
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", nargs="*", help="record only these scenarios (new ones), leaving the other files as they are")
    args = parser.parse_args()
    asyncio.run(record(args.out.resolve(), args.only))


if __name__ == "__main__":
    main()

"""Small steps the workflow and API tests share: register, act, wait for background work."""

import asyncio
from datetime import date, datetime, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx

from clock import local_date


def today() -> date:
    return local_date(datetime.now(timezone.utc))


def application_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "online",
        "received_on": today().isoformat(),
        "applicant": {"name": "张三", "type": "natural-person", "email": "zhangsan@example.cn",
                      "phone": "13812345678", "address": "福州市鼓楼区某路1号"},
        "items": [{"description": "2025年全市规模以上工业企业名录"}],
        "delivery_method": "email",
        "registered_by": "desk-chen",
        "handler": "wang",
        "department": "综合统计科",
    }
    body.update(overrides)
    return body


async def register(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await api.post("/api/v1/applications", json=application_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def act(api: httpx.AsyncClient, application_id: str, action: str, body: dict[str, Any], expect: int = 200) -> dict[str, Any]:
    response = await api.post(f"/api/v1/applications/{application_id}/{action}", json=body)
    assert response.status_code == expect, response.text
    return response.json()


async def state(api: httpx.AsyncClient, application_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/v1/applications/{application_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def eventually(api: httpx.AsyncClient, application_id: str, check, timeout: float = 20.0) -> dict[str, Any]:
    """Poll the live state until `check(state)` holds: letters and alerts happen in the background."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        current = await state(api, application_id)
        if check(current):
            return current
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached; last state: status={current['status']} "
                                 f"timeline={[e['kind'] for e in current['timeline']]}")
        await asyncio.sleep(0.2)


def mails_about(envelopes, application_id: str) -> list[EmailMessage]:
    messages = [message_from_bytes(e.original_content, policy=policy.default) for e in envelopes]
    return [m for m in messages if application_id in m.get_body(preferencelist=("plain",)).get_content()]


async def through_review(api: httpx.AsyncClient, application_id: str, outcomes: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """Handler proposes each item's outcome, submits; a different reviewer approves."""
    for item_no, (outcome, reasons) in outcomes.items():
        await act(api, application_id, "decisions",
                  {"item_no": item_no, "outcome": outcome, "reasons": reasons, "by": "wang"})
    await act(api, application_id, "submit", {"by": "wang"})
    return await act(api, application_id, "review", {"approve": True, "by": "reviewer-zhao"})


async def listed_row(api: httpx.AsyncClient, application_id: str, check, timeout: float = 10.0, **filters: Any) -> dict[str, Any]:
    """The application's row in the supervisors' list, once the database has caught up with the workflow."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        page = (await api.get("/api/v1/applications", params={"limit": 100, **filters})).json()
        row = next((r for r in page["items"] if r["application_id"] == application_id), None)
        if row is not None and check(row):
            return row
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{application_id} not listed as expected; last row: {row}")
        await asyncio.sleep(0.2)

"""Small steps the workflow and API tests share: register, act, wait for background work.

The API needs a log-in: `StaffClient` holds a token per test user (TEST_USERS, created once per
stack through services.accounts, logged in through /api/v1/auth/token) and sends the supervisor's by
default. `act` and `register` keep their old signatures: the `by` / `registered_by` a test writes
in the body picks whose token is sent and is removed from the body (the API takes identity only
from the token); `by: "applicant"` goes through the applicant's own endpoint with the query code.
"""

import asyncio
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
from sqlmodel import Session

from tests.dates import since, today  # noqa: F401  (re-exported: the session's clock)

# Fixed test secrets (never used outside tests).
TEST_JWT_SECRET = "test-only-jwt-secret-0123456789-abcdefghijklmnop"
TEST_CODEC_KEYS = ("t2:Z2lmdC1rZXktdHdvLWZvci10ZXN0cy1vbmx5LTAwMDA=,"
                   "t1:dGVzdC1rZXktb25lLWZvci10ZXN0cy1vbmx5LTAwMDA=")
TEST_PASSWORD = "test-password-不用于生产"
# username: (roles, department)
TEST_USERS: dict[str, tuple[list[str], str | None]] = {
    "desk-chen": (["registrar"], None),
    "wang": (["handler"], "综合统计科"),
    "li": (["handler"], "执法监督科"),
    "reviewer-zhao": (["reviewer"], None),
    "chief-liu": (["supervisor"], None),
    "director-liu": (["supervisor"], None),
    "admin": (["admin"], None),
}
DEFAULT_USER = "chief-liu"
ONLINE_FORM = "online-form"
PUBLIC_FIELDS = ("applicant", "items", "delivery_method", "policy")


def seed_test_users(engine, **changed: tuple[list[str], str | None]) -> None:
    """The test users, through the same code path as `admin.py` and the admin API; `changed` overrides some."""
    from services.accounts import create_user
    from db.models_security import StaffUser

    with Session(engine) as session:
        for username, (roles, department) in (TEST_USERS | changed).items():
            if session.get(StaffUser, username) is None:
                create_user(session, username=username, password=TEST_PASSWORD, roles=roles, department=department)
        session.commit()


class StaffClient(httpx.AsyncClient):
    """An httpx client on the app with every test user's token; the supervisor's is the default."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tokens: dict[str, str] = {}
        self.query_codes: dict[str, str] = {}
        self.app: Any = None
        self.env: Any = None  # the WorkflowEnvironment, for the pinned clock (tests/dates.py)
        self.pin_offset: Any = None

    async def log_in(self, username: str, password: str = TEST_PASSWORD) -> str:
        response = await self.post("/api/v1/auth/token", data={"username": username, "password": password},
                                   headers={"Authorization": ""})
        assert response.status_code == 200, response.text
        self.tokens[username] = response.json()["access_token"]
        return self.tokens[username]

    async def log_in_all(self) -> None:
        for username in TEST_USERS:
            await self.log_in(username)
        self.headers["Authorization"] = f"Bearer {self.tokens[DEFAULT_USER]}"

    def as_user(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            raise AssertionError(f"no test user {username!r}: add it to tests.helpers.TEST_USERS")
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def as_applicant(self, application_id: str) -> dict[str, str]:
        return {"X-Query-Code": self.query_codes[application_id], "Authorization": ""}




async def settle_clock(api: "StaffClient", application_id: str) -> None:
    """On a pinned clock, wait until the application's workflow has been fast-forwarded to it."""
    offset = getattr(api, "pin_offset", None)
    if not offset or api.env is None:
        return
    handle = api.env.client.get_workflow_handle(application_id)
    target = datetime.now(timezone.utc) - timedelta(seconds=30)  # the pinned clock (time-machine)
    # The skip happens once the workflow is idle (its acknowledgment sent): a burst waits for its letters.
    deadline = asyncio.get_running_loop().time() + 180
    while await api.env.get_current_time(handle) < target:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{application_id}: its workflow never reached the pinned time {target}")
        await asyncio.sleep(0.1)


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
    received = body.get("received_on")
    if isinstance(received, str) and received[:4].isdigit() and int(received[:4]) != today().year:
        # Issue 24 point 9: a receipt date outside the current year names its evidence (tests of the rule set their own).
        body.setdefault("receipt_evidence", "挂号信签收记录（测试）")
    return body


async def send_registration(api: StaffClient, body: dict[str, Any]) -> httpx.Response:
    """POST an intake body as its `registered_by` (a registrar's token, or the public online form)."""
    body = dict(body)
    registered_by = body.pop("registered_by", "desk-chen")
    if registered_by == ONLINE_FORM:
        public = {k: v for k, v in body.items() if k in PUBLIC_FIELDS}
        response = await api.post("/api/v1/public/applications", json=public, headers={"Authorization": ""})
    else:
        response = await api.post("/api/v1/applications", json=body, headers=api.as_user(registered_by))
    if response.status_code == 201:
        api.query_codes[response.json()["application_id"]] = response.json()["query_code"]
        await settle_clock(api, response.json()["application_id"])
    return response


async def register(api: StaffClient, **overrides: Any) -> dict[str, Any]:
    response = await send_registration(api, application_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def send_action(api: StaffClient, application_id: str, action: str, body: dict[str, Any]) -> httpx.Response:
    """POST a staff action as its `by` (popped from the body); `by: "applicant"` withdraws as the applicant.

    A withdrawal naming nobody is the applicant's letter recorded by the registration desk.
    """
    body = dict(body)
    by = body.pop("by", None)
    if action == "withdraw" and by is None:
        by = "desk-chen"
    if action == "withdraw" and by == "applicant":
        return await api.post(f"/api/v1/applicant/applications/{application_id}/withdraw", json=body,
                              headers=api.as_applicant(application_id))
    headers = api.as_user(by) if by else {}
    return await api.post(f"/api/v1/applications/{application_id}/{action}", json=body, headers=headers)


async def act(api: StaffClient, application_id: str, action: str, body: dict[str, Any], expect: int = 200) -> dict[str, Any]:
    response = await send_action(api, application_id, action, body)
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
        row = None
        params: dict[str, Any] = {"limit": 100, **filters}
        while row is None:  # every page (the session's database holds hundreds of applications)
            page = (await api.get("/api/v1/applications", params=params)).json()
            row = next((r for r in page["items"] if r["application_id"] == application_id), None)
            if not page.get("next_cursor"):
                break
            params = {"limit": 100, **filters, "cursor": page["next_cursor"]}
        if row is not None and check(row):
            return row
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{application_id} not listed as expected; last row: {row}")
        await asyncio.sleep(0.2)


async def view_when(api: httpx.AsyncClient, path: str, check=lambda view: True, timeout: float = 20.0) -> dict[str, Any]:
    """GET `path` until it answers 200 with a view for which `check(view)` holds (work done in the background)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await api.get(path)
        if response.status_code == 200 and check(response.json()):
            return response.json()
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{path}: {response.status_code} {response.text[:800]}")
        await asyncio.sleep(0.2)

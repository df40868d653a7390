"""Small steps the workflow and API tests share: register, act, wait for background work.

The API needs a log-in: `StaffClient` holds a token per test user (TEST_USERS, created once per
stack through services.accounts, logged in through /api/v1/auth/token) and sends the supervisor's by
default. `act` and `register` keep their old signatures: the `by` / `registered_by` a test writes
in the body picks whose token is sent and is removed from the body (the API takes identity only
from the token); `by: "applicant"` goes through the applicant's own endpoint with the query code.
"""

import asyncio
import fnmatch
import re
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
from sqlmodel import Session

from tests.dates import NO_OFFSET, clock_offset, since, today  # noqa: F401  (re-exported: the session's clock)

# How far a workflow's virtual clock may be from the tests' clock right after its start (the fast-forward's
# target is the tests' clock when the start was sent).
PIN_TOLERANCE = timedelta(seconds=5)

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
PUBLIC_FIELDS = ("applicant", "items", "delivery_method", "policy", "resubmit")


def seed_test_users(engine, **changed: tuple[list[str], str | None]) -> None:
    """The test users, through the same code path as `admin.py` and the admin API; `changed` overrides some."""
    from services.accounts import create_user
    from db.models_security import StaffUser

    with Session(engine) as session:
        for username, (roles, department) in (TEST_USERS | changed).items():
            if session.get(StaffUser, username) is None:
                create_user(session, username=username, password=TEST_PASSWORD, roles=roles, department=department)
        session.commit()


def add_staff(api: "StaffClient", username: str, roles: list[str], department: str | None, *,
              active: bool = True) -> str:
    """A staff account in the API's database (services.accounts, as admin.py makes them); its username.

    An application can only be assigned to a real, active handler of its 科室 (issue 23 point 1)."""
    from services.accounts import create_user, update_user
    from db.models_security import StaffUser

    with Session(api.app.state.engine) as session:
        user = session.get(StaffUser, username) or create_user(
            session, username=username, password=TEST_PASSWORD, roles=roles, department=department)
        if not active:
            update_user(session, user, active=False)
        session.commit()
    return username


class StaffClient(httpx.AsyncClient):
    """An httpx client on the app with every test user's token; the supervisor's is the default."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tokens: dict[str, str] = {}
        self.query_codes: dict[str, str] = {}
        self.app: Any = None
        self.env: Any = None  # the WorkflowEnvironment: each workflow's clock (tests/dates.py)

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
    """Check that a new application's workflow runs on the tests' clock (tests/dates.py): when that
    clock is ahead of the real one, the workflow was fast-forwarded to it (a workflow started without
    the pin has no virtual time at all) and is now within a few seconds of it."""
    offset = clock_offset()
    if offset < NO_OFFSET or api.env is None:
        return
    handle = api.env.client.get_workflow_handle(application_id)
    info = await api.env.get_time_skipping_info(handle)
    assert info is not None, f"{application_id}: its workflow was started off the tests' clock (no time skipping)"
    virtual = info.current_time.ToDatetime().replace(tzinfo=timezone.utc)
    now = datetime.now(timezone.utc)  # the tests' clock (time-machine)
    assert abs(virtual - now) < PIN_TOLERANCE, (
        f"{application_id}: its workflow is at {virtual.isoformat()}, the tests' clock at {now.isoformat()}")


def application_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "online",
        "received_on": today().isoformat(),
        "applicant": {"name": "张三", "type": "natural-person", "id_number": some_identity(), "email": "zhangsan@example.cn",
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


def some_identity(applicant_type: str = "natural-person") -> str:
    """A valid identity number nobody else in the session has (issue 23 point 5: Reg. 29 requires one, checked)."""
    import uuid

    from identity import credit_code, resident_id

    n = uuid.uuid4().int  # not the `random` module: tests (hypothesis) seed it, and numbers would repeat
    if applicant_type != "natural-person":
        return credit_code(f"91{n % 10**15:015d}")
    area = f"{110000 + (n // 10**7) % 540000:06d}"  # province codes 11–65
    return resident_id(area, datetime(1950, 1, 1).date() + timedelta(days=n % 18000), (n // 18000) % 1000)


async def send_registration(api: StaffClient, body: dict[str, Any]) -> httpx.Response:
    """POST an intake body as its `registered_by` (a registrar's token, or the public online form).

    An applicant given without an identity number gets a valid one of their own (some_identity); a test of
    the number itself sends `"id_number": ""` or its own."""
    body = dict(body)
    if isinstance(body.get("applicant"), dict) and "id_number" not in body["applicant"]:
        body["applicant"] = body["applicant"] | {"id_number": some_identity(body["applicant"].get("type", "natural-person"))}
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


MAIL_RETURNS_TOKEN = "test-mail-returns-token"  # tests/conftest.py SECURITY_SETTINGS


async def _redated(api, report: bytes) -> bytes:
    """The report dated by its application's clock: with per-workflow time skipping a workflow may be days ahead of
    the process clock the SMTP server dated the report by (in production both are the same clock)."""
    found = re.search(rb"Original-Envelope-Id: ([^\r\n]+)", report)
    env = getattr(api, "env", None)
    if found is None or env is None:
        return report
    # The workflow the letter is about: the application, or its consultation child (whose clock may differ from the
    # application's under per-workflow time skipping); the relay upper-cases the key (aiosmtpd's ENVID).
    application_id, _, child = found.group(1).decode().split(":")[0].partition(".")
    workflow_id = f"{application_id}.{child.lower()}" if child else application_id
    try:
        now = await env.get_current_time(api.app.state.temporal.get_workflow_handle(workflow_id))
    except Exception:  # not a workflow of this session (or no time skipping): as dated
        return report
    stamp = format_datetime(now).encode()
    return re.sub(rb"(Arrival-Date|Last-Attempt-Date): [^\r\n]+", lambda m: m.group(1) + b": " + stamp, report)


async def post_return(api, report: bytes) -> httpx.Response:
    return await api.post("/api/v1/mail/returns", content=await _redated(api, report),
                          headers={"X-Mail-Returns-Token": MAIL_RETURNS_TOKEN, "Content-Type": "message/rfc822"})


def held(handler, report: bytes) -> bool:
    """A report about a recipient the test delivers itself (tests/fixtures_smtp.py `hold` patterns)."""
    found = re.search(rb"Final-Recipient: rfc822; *([^\r\n]+)", report)
    recipient = found.group(1).decode().strip().lower() if found else ""
    return any(fnmatch.fnmatch(recipient, pattern) for pattern in handler.hold)


RELAY_TARGETS: list = []  # the APIs of the session (and of tests with their own database) the relay hands reports to


async def relay_returns(handler) -> None:
    """The agency's mail system, for the session's APIs (RELAY_TARGETS): every delivery report the test SMTP server
    owes is handed to their returns endpoint (an e-mailed notice is served as soon as the addressee's system reports
    it; an API that did not send the letter records it as not its own), except those about addresses a test holds to
    deliver itself (`handler.hold`). Runs until cancelled."""
    tries: dict[bytes, int] = {}
    while True:
        for report in [r for r in handler.returns if not held(handler, r)]:
            done = True
            for api in list(RELAY_TARGETS):
                try:
                    answer = await post_return(api, report)
                    done = done and answer.status_code < 500
                except Exception:  # the API is closing, or a transient failure: tried again (recorded once)
                    done = False
            tries[report] = tries.get(report, 0) + 1
            if (done or tries[report] >= 20) and report in handler.returns:  # a test may have taken it meanwhile
                handler.returns.remove(report)
                handler.relayed.append(report)
        await asyncio.sleep(0.05)


async def deliver_returns(api, mailbox, key: str | None = None) -> list[dict]:
    """Hand the delivery status notifications the test SMTP server holds for the test (tests/fixtures_smtp.py) to the
    API's returns endpoint, as the agency's mail system would (RULES §3 Service: an e-mail is served when the
    addressee's system reports it). `key`: only the reports about that letter (its key travels as the ENVID); the
    others stay pending. Each endpoint answer, in order."""
    answers, kept = [], []
    for report in list(mailbox.handler.returns):
        if key is not None and f"Original-Envelope-Id: {key}".upper().encode() not in report.upper():
            kept.append(report)
            continue
        response = await post_return(api, report)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    mailbox.handler.returns[:] = kept
    return answers


async def email_served(api, mailbox, key: str, timeout: float = 20.0) -> list[dict]:
    """Wait until the letter `key` was e-mailed and its delivery report is owed, then deliver the report. A report
    about an address the test does not hold may already have been handed over by the session's relay
    (relay_returns): then wait until it was, and return no answers of our own."""
    deadline = asyncio.get_running_loop().time() + timeout
    marker = f"Original-Envelope-Id: {key}".upper().encode()

    def about(reports: list[bytes]) -> bool:
        return any(marker in report.upper() for report in reports)

    handler = mailbox.handler
    while not about(handler.reported):
        assert asyncio.get_running_loop().time() < deadline, f"no delivery report for {key}"
        await asyncio.sleep(0.1)
    while not about(handler.returns) and not about(handler.relayed):  # taken by the relay, being handed over
        assert asyncio.get_running_loop().time() < deadline, f"the delivery report for {key} was never handed over"
        await asyncio.sleep(0.05)
    return await deliver_returns(api, mailbox, key) if about(handler.returns) else []

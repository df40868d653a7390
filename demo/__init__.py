"""Demo data: a working office in one minute (`make demo`, `python run.py --demo`, `python -m demo`).

Staff of every role are created through services.accounts (the code path of admin.py and the admin API),
with random passwords kept in `<data_dir>/demo.json` and printed. Then a few dozen applications are
registered and moved along THROUGH THE HTTP API, logged in as those staff (the public form and the
applicant's own endpoints for what applicants do), so every rule, validator and role check applies:
registered, assigned or not, supplement requested and received, extension asked and granted,
consultations open, in review, returned by the reviewer, awaiting signature, replied by e-mail, by
post awaiting and confirmed delivery, withdrawn, overdue.

Running it again adds nothing: each scenario's application number is kept in demo.json and an
application the API still knows is not created again (staff already present are kept).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from core import clock
from identity import credit_code, resident_id
from services.accounts import create_user, update_user
from db import tenancy
from db.models_agency import Agency
from db.models_security import StaffUser
from services.agencies import create_agency, ensure_first_agency

API = "/api/v1"
STATS = "综合统计科"
ENFORCEMENT = "执法监督科"


@dataclass(frozen=True)
class DemoStaff:
    username: str
    full_name: str
    roles: tuple[str, ...]
    department: str | None = None
    agency: str | None = None  # issue 25: None: the installation's own (first) agency


# Issue 25: `make demo` is a platform of three agencies: the installation's own and two more, each with its desk,
# handler and supervisor, and the platform's 主管部门 (every agency's figures).
DEMO_AGENCIES = (("county-a", "某县统计局（演示）", "某市某县", "县统"), ("county-b", "某区统计局（演示）", "某市某区", "区统"))


STAFF = (
    DemoStaff("demo-desk", "陈登记", ("registrar",)),
    DemoStaff("demo-wang", "王承办", ("handler",), STATS),
    DemoStaff("demo-li", "李承办", ("handler",), ENFORCEMENT),
    DemoStaff("demo-zhao", "赵审查", ("reviewer",)),
    DemoStaff("demo-liu", "刘主任", ("supervisor",)),
    DemoStaff("demo-admin", "周管理", ("admin",)),
    DemoStaff("demo-a-desk", "孙登记", ("registrar",), agency="county-a"),
    DemoStaff("demo-a-hu", "胡承办", ("handler",), STATS, agency="county-a"),
    DemoStaff("demo-a-chief", "钱主任", ("supervisor",), agency="county-a"),
    DemoStaff("demo-b-desk", "吴登记", ("registrar",), agency="county-b"),
    DemoStaff("demo-b-chief", "郑主任", ("supervisor",), agency="county-b"),
    DemoStaff("demo-province", "冯处长", ("oversight",)),
)
DESK, WANG, LI, REVIEWER, CHIEF, ADMIN = (s.username for s in STAFF[:6])
HANDLER_OF = {STATS: WANG, ENFORCEMENT: LI}


class DemoError(RuntimeError):
    pass


# --- staff ----------------------------------------------------------------------------------


def ensure_staff(engine: Engine, passwords: dict[str, str]) -> dict[str, str]:
    """Every demo agency and account exists and has the password recorded in `passwords` (filled in when missing)."""
    with Session(engine) as session, tenancy.all_agencies():
        for code, name, region, prefix in DEMO_AGENCIES:
            if session.get(Agency, code) is None:
                create_agency(session, code=code, name=name, region=region, document_number_prefix=prefix)
        for staff in STAFF:
            user = session.get(StaffUser, staff.username)
            if user is None:
                password = passwords.get(staff.username) or secrets.token_urlsafe(12)
                with tenancy.acting_for(staff.agency or tenancy.FIRST_AGENCY):
                    create_user(session, username=staff.username, password=password, roles=list(staff.roles),
                                department=staff.department, full_name=staff.full_name)
                    session.flush()
            elif staff.username not in passwords:  # demo.json lost: the demo account gets a new password
                password = secrets.token_urlsafe(12)
                update_user(session, user, password=password)
            else:
                continue
            passwords[staff.username] = password
        session.commit()
    return passwords


# --- the scenarios ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    key: str
    what: str  # the state it ends in, in words
    expect: Callable[[dict[str, Any]], bool]  # checked on the live view after the steps
    steps: Callable[[Demo, str], Awaitable[None]]
    body: dict[str, Any]
    online: bool = False  # through the public form (no log-in)


def _applicant(n: int, *, kind: str = "natural-person") -> dict[str, Any]:
    people = ["张晓明", "李红梅", "王建国", "赵丽", "孙志强", "周敏", "吴海涛", "郑爽", "冯玉兰", "陈立新",
              "褚卫东", "卫小芳", "蒋文", "沈佳怡", "韩磊", "杨帆", "朱琳", "秦勇"]
    orgs = {"enterprise": "福州某某科技有限公司", "research-institution": "某大学经济研究所",
            "public-interest-org": "某市环保志愿者协会", "legal-service": "某某律师事务所", "other-org": "某社区居民委员会"}
    name = orgs.get(kind) or people[n % len(people)]
    applicant: dict[str, Any] = {"name": name, "type": kind, "phone": f"1380000{n:04d}",
                                 "email": f"applicant{n:02d}@example.cn", "address": f"福州市鼓楼区示例路{n}号"}
    # A real-looking, valid number of each applicant's document (identity: GB 11643 / GB 32100 check characters).
    applicant["id_number"] = (credit_code(f"91350100MA{n:07d}") if kind != "natural-person"
                              else resident_id("350102", date(1960 + n % 40, 1 + n % 12, 1 + n % 28), n % 1000))
    return applicant


ITEMS = [
    "2025年全市规模以上工业企业名录",
    "2025年第三季度居民消费价格指数分区县数据",
    "本局2024年统计执法检查计划及结果",
    "2025年全市人口抽样调查汇总表",
    "某区2025年固定资产投资项目统计台账",
    "本局2025年部门预算及“三公”经费使用情况",
    "2025年农业普查中某乡镇的汇总数据",
    "对某企业统计违法行为的行政处罚决定书",
]


class Demo:
    """One run: the HTTP client, the staff's tokens and what was created."""

    def __init__(self, http: httpx.AsyncClient, passwords: dict[str, str], today: date) -> None:
        self.http = http
        self.passwords = passwords
        self.today = today
        self.tokens: dict[str, str] = {}
        self.codes: dict[str, str] = {}

    async def log_in(self) -> None:
        for staff in STAFF:
            answer = await self.http.post(f"{API}/auth/token", data={"username": staff.username,
                                                                      "password": self.passwords[staff.username]})
            if answer.status_code != 200:
                raise DemoError(f"{staff.username} cannot log in: {answer.status_code} {answer.text}")
            self.tokens[staff.username] = answer.json()["access_token"]

    def as_(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    async def call(self, method: str, url: str, who: str | None, *, expect: int = 200, **kwargs: Any) -> dict[str, Any]:
        headers = self.as_(who) if who else {}
        headers |= kwargs.pop("headers", {})
        answer = await self.http.request(method, url, headers=headers, **kwargs)
        if answer.status_code != expect:
            raise DemoError(f"{method} {url} as {who or 'applicant'}: {answer.status_code} {answer.text[:500]}")
        return answer.json()

    async def act(self, app_id: str, action: str, who: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.call("POST", f"{API}/applications/{app_id}/{action}", who, json=body or {})

    async def view(self, app_id: str) -> dict[str, Any]:
        return await self.call("GET", f"{API}/applications/{app_id}", CHIEF)

    async def exists(self, app_id: str) -> bool:
        answer = await self.http.get(f"{API}/applications/{app_id}", headers=self.as_(CHIEF))
        return answer.status_code == 200

    async def register(self, scenario: Scenario) -> dict[str, Any]:
        if scenario.online:
            created = await self.call("POST", f"{API}/public/applications", None, expect=201, json=scenario.body)
        else:
            created = await self.call("POST", f"{API}/applications", DESK, expect=201, json=scenario.body)
        self.codes[created["application_id"]] = created["query_code"]
        return created

    async def until(self, app_id: str, check: Callable[[dict[str, Any]], bool], what: str, timeout: float = 60) -> dict[str, Any]:
        """The workflow's background work (letters, timers) is asynchronous: poll its view."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            view = await self.view(app_id)
            if check(view):
                return view
            if asyncio.get_running_loop().time() > deadline:
                raise DemoError(f"{app_id} did not reach “{what}”: status {view['status']}")
            await asyncio.sleep(0.5)

    # --- steps shared by scenarios ---

    async def propose_and_submit(self, app_id: str, handler: str, outcomes: list[tuple[str, str]]) -> None:
        for item_no, (outcome, reasons) in enumerate(outcomes, start=1):
            await self.act(app_id, "decisions", handler, {"item_no": item_no, "outcome": outcome, "reasons": reasons})
        await self.act(app_id, "submit", handler)

    async def approve(self, app_id: str) -> None:
        await self.act(app_id, "review", REVIEWER, {"approve": True, "comment": "经审查，未发现涉密及敏感信息"})


def _staff_body(n: int, *, department: str = STATS, channel: str = "letter-registered", received_on: date,
                delivery: str = "email", kind: str = "natural-person", items: int = 1, assign: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": channel, "received_on": received_on.isoformat(),
        "applicant": _applicant(n, kind=kind),
        "items": [{"description": ITEMS[(n + i) % len(ITEMS)]} for i in range(items)],
        "delivery_method": delivery,
    }
    if assign:
        body |= {"handler": HANDLER_OF[department], "department": department}
    if received_on.year != clock.today().year:  # issue 24 point 9: an earlier year's receipt names its evidence
        body["receipt_evidence"] = "挂号信签收记录（演示）"
    return body


def _online_body(n: int, *, delivery: str = "portal", kind: str = "natural-person") -> dict[str, Any]:
    return {"applicant": _applicant(n, kind=kind), "agency": tenancy.FIRST_AGENCY,  # one of several (issue 25)
            "items": [{"description": ITEMS[n % len(ITEMS)]}], "delivery_method": delivery}


async def _nothing(demo: Demo, app_id: str) -> None:
    return None


def _assign(department: str) -> Callable[[Demo, str], Awaitable[None]]:
    async def steps(demo: Demo, app_id: str) -> None:
        await demo.act(app_id, "assign", DESK, {"handler": HANDLER_OF[department], "department": department})
    return steps


def _supplement_requested(handler: str) -> Callable[[Demo, str], Awaitable[None]]:
    async def steps(demo: Demo, app_id: str) -> None:
        await demo.act(app_id, "supplement-request", handler,
                       {"needed": ["请写明所需信息的具体年份和区域范围", "请提供申请人身份证明复印件"]})
    return steps


def _supplement_received(handler: str) -> Callable[[Demo, str], Awaitable[None]]:
    async def steps(demo: Demo, app_id: str) -> None:
        await demo.act(app_id, "supplement-request", handler, {"needed": ["请明确所需信息的时间范围"]})
        await demo.act(app_id, "supplement", DESK, {"received_on": demo.today.isoformat(), "note": "申请人来函补正"})
    return steps


def _extension(handler: str, decided: bool) -> Callable[[Demo, str], Awaitable[None]]:
    async def steps(demo: Demo, app_id: str) -> None:
        await demo.act(app_id, "extension-request", handler, {"days": 15, "reason": "所需信息涉及多个年度档案，需调档汇总"})
        if decided:
            await demo.act(app_id, "extension-decision", CHIEF, {"approve": True, "comment": "同意延期"})
    return steps


def _consulting(handler: str, kind: str) -> Callable[[Demo, str], Awaitable[None]]:
    consultee = ({"kind": "third-party", "name": "福州某某实业有限公司", "email": "legal@company.example.cn"}
                 if kind == "third-party" else {"kind": "agency", "name": "市发展和改革委员会", "email": "fgw@agency.example.cn"})

    async def steps(demo: Demo, app_id: str) -> None:
        await demo.act(app_id, "consultations", handler, {"consultee": consultee, "item_nos": [1]})
    return steps


def _in_review(handler: str, outcomes: list[tuple[str, str]]) -> Callable[[Demo, str], Awaitable[None]]:
    async def steps(demo: Demo, app_id: str) -> None:
        await demo.propose_and_submit(app_id, handler, outcomes)
    return steps


def _returned(handler: str) -> Callable[[Demo, str], Awaitable[None]]:
    async def steps(demo: Demo, app_id: str) -> None:
        await demo.propose_and_submit(app_id, handler, [("disclosed", "")])
        await demo.act(app_id, "review", REVIEWER, {"approve": False, "comment": "答复中引用的条款有误，请核对后重新提交"})
    return steps


def _awaiting_signature(handler: str, outcomes: list[tuple[str, str]]) -> Callable[[Demo, str], Awaitable[None]]:
    async def steps(demo: Demo, app_id: str) -> None:
        await demo.propose_and_submit(app_id, handler, outcomes)
        await demo.approve(app_id)
    return steps


def _signed(handler: str, outcomes: list[tuple[str, str]], *, delivered: bool = False) -> Callable[[Demo, str], Awaitable[None]]:
    async def steps(demo: Demo, app_id: str) -> None:
        await demo.propose_and_submit(app_id, handler, outcomes)
        await demo.approve(app_id)
        await demo.act(app_id, "sign", CHIEF)
        if delivered:
            today = demo.today.isoformat()
            await demo.act(app_id, "delivery", DESK, {
                "delivered_on": today, "posted_on": today, "method": "post",
                "tracking_number": f"EMS{sum(map(ord, app_id)) * 7919 % 10**9:09d}CN", "received_by": "本人"})
    return steps


def _withdrawn_by_applicant(demo: Demo, app_id: str) -> Awaitable[dict[str, Any]]:
    return demo.call("POST", f"{API}/applicant/applications/{app_id}/withdraw", None,
                     headers={"X-Query-Code": demo.codes[app_id]}, json={"reason": "已通过其他途径获取所需信息"})


async def _withdrawn_by_letter(demo: Demo, app_id: str) -> None:
    await demo.act(app_id, "withdraw", DESK, {"reason": "申请人来函撤回申请"})


async def _withdrawn_online(demo: Demo, app_id: str) -> None:
    await _withdrawn_by_applicant(demo, app_id)


def _overdue_in_review(handler: str) -> Callable[[Demo, str], Awaitable[None]]:
    async def steps(demo: Demo, app_id: str) -> None:
        await demo.until(app_id, lambda v: v["overdue"], "overdue")
        await demo.propose_and_submit(app_id, handler, [("withheld-6", "属于内部讨论记录，为过程性信息")])
    return steps


def _timeline_has(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda view: kind in [event["kind"] for event in view["timeline"]]


def scenarios(today: date) -> list[Scenario]:
    """The demo office's applications; `today` is the office's date (core.clock.today())."""
    recent = today - timedelta(days=2)
    long_ago = today - timedelta(days=60)  # more than 15 working days before today, whatever the holidays
    status = lambda s: (lambda view: view["status"] == s)  # noqa: E731
    disclosed = [("disclosed", "")]
    mixed = [("disclosed", ""), ("withheld-6", "属于内部讨论记录，为过程性信息")]
    out: list[Scenario] = []

    def add(key: str, what: str, expect, steps, body, online: bool = False) -> None:
        out.append(Scenario(key, what, expect, steps, body, online))

    n = iter(range(1, 100))
    # registered: through the public form (waiting to be assigned), and at the desk by every channel
    add("online-unassigned-1", "网上申请，待分办", status("handling"), _nothing, _online_body(next(n)), online=True)
    add("online-unassigned-2", "网上申请，待分办", status("handling"), _nothing,
        _online_body(next(n), kind="enterprise", delivery="email"), online=True)
    add("online-assigned", "网上申请，已分办", status("handling"), _assign(ENFORCEMENT), _online_body(next(n)), online=True)
    for channel, dept in (("letter-registered", STATS), ("in-person", ENFORCEMENT), ("fax", STATS), ("email", ENFORCEMENT),
                          ("oral", STATS)):
        add(f"registered-{channel}", f"已登记（{channel}）", status("handling"), _nothing,
            _staff_body(next(n), department=dept, channel=channel, received_on=recent,
                        delivery="post" if channel.startswith("letter") else "email"))
    # supplement
    add("supplement-requested-1", "已发补正告知，待申请人补正", status("awaiting-supplement"), _supplement_requested(WANG),
        _staff_body(next(n), received_on=recent))
    add("supplement-requested-2", "已发补正告知，待申请人补正", status("awaiting-supplement"), _supplement_requested(LI),
        _staff_body(next(n), department=ENFORCEMENT, received_on=recent, kind="legal-service"))
    add("supplement-received", "已补正，期限重新计算", _timeline_has("supplement-received"), _supplement_received(WANG),
        _staff_body(next(n), received_on=recent))
    # extension
    add("extension-requested", "已申请延期，待负责人审批", lambda v: (v.get("extension") or {}).get("decision") == "pending",
        _extension(LI, decided=False), _staff_body(next(n), department=ENFORCEMENT, received_on=recent))
    add("extended-1", "已延期", lambda v: (v.get("extension") or {}).get("decision") == "approved",
        _extension(WANG, decided=True), _staff_body(next(n), received_on=recent, items=2))
    add("extended-2", "已延期", lambda v: (v.get("extension") or {}).get("decision") == "approved",
        _extension(LI, decided=True), _staff_body(next(n), department=ENFORCEMENT, received_on=recent, kind="enterprise"))
    # consultations
    add("consulting-third-party", "征求第三方意见中", status("consulting"), _consulting(LI, "third-party"),
        _staff_body(next(n), department=ENFORCEMENT, received_on=recent))
    add("consulting-agency", "征求其他机关意见中", status("consulting"), _consulting(WANG, "agency"),
        _staff_body(next(n), received_on=recent, kind="research-institution"))
    add("consulting-third-party-2", "征求第三方意见中", status("consulting"), _consulting(WANG, "third-party"),
        _staff_body(next(n), received_on=recent))
    # review
    add("in-review-1", "保密审查中", status("in-review"), _in_review(WANG, disclosed), _staff_body(next(n), received_on=recent))
    add("in-review-2", "保密审查中", status("in-review"), _in_review(LI, [("unavailable-1", "本机关不掌握该信息")]),
        _staff_body(next(n), department=ENFORCEMENT, received_on=recent))
    add("in-review-3", "保密审查中", status("in-review"), _in_review(WANG, mixed),
        _staff_body(next(n), received_on=recent, items=2, kind="public-interest-org"))
    add("returned-1", "审查退回，待承办人修改", _timeline_has("review-returned"), _returned(WANG), _staff_body(next(n), received_on=recent))
    add("returned-2", "审查退回，待承办人修改", _timeline_has("review-returned"), _returned(LI),
        _staff_body(next(n), department=ENFORCEMENT, received_on=recent))
    add("awaiting-signature-1", "审查通过，待负责人签发", status("awaiting-signature"), _awaiting_signature(WANG, disclosed),
        _staff_body(next(n), received_on=recent))
    add("awaiting-signature-2", "审查通过，待负责人签发", status("awaiting-signature"), _awaiting_signature(LI, mixed),
        _staff_body(next(n), department=ENFORCEMENT, received_on=recent, items=2))
    # replied
    add("replied-email-1", "已签发，电子邮件送达，办结", status("closed"), _signed(WANG, disclosed),
        _staff_body(next(n), received_on=recent))
    add("replied-email-2", "已签发，电子邮件送达，办结", status("closed"),
        _signed(LI, [("withheld-7", "属于行政执法案卷信息")]),
        _staff_body(next(n), department=ENFORCEMENT, received_on=recent))
    add("replied-email-3", "已签发，电子邮件送达，办结", status("closed"), _signed(WANG, mixed),
        _staff_body(next(n), received_on=recent, items=2, kind="enterprise"))
    add("replied-post-awaiting", "已签发，邮寄待确认送达", status("awaiting-delivery"), _signed(LI, disclosed),
        _staff_body(next(n), department=ENFORCEMENT, received_on=recent, delivery="post"))
    add("replied-pickup-awaiting", "已签发，待申请人领取", status("awaiting-delivery"), _signed(WANG, disclosed),
        _staff_body(next(n), received_on=recent, delivery="pickup"))
    add("delivered-post-1", "邮寄已送达，办结", status("closed"), _signed(WANG, disclosed, delivered=True),
        _staff_body(next(n), received_on=recent, delivery="post"))
    add("delivered-post-2", "邮寄已送达，办结", status("closed"), _signed(LI, [("unavailable-1", "本机关不掌握该信息")], delivered=True),
        _staff_body(next(n), department=ENFORCEMENT, received_on=recent, delivery="post"))
    # withdrawn
    add("withdrawn-online", "申请人网上撤回", status("withdrawn"), _withdrawn_online, _online_body(next(n)), online=True)
    add("withdrawn-letter", "申请人来函撤回", status("withdrawn"), _withdrawn_by_letter, _staff_body(next(n), received_on=recent))
    # overdue: received long ago and still open
    add("overdue-1", "已逾期，未答复", lambda v: v["overdue"] and v["status"] == "handling", _nothing,
        _staff_body(next(n), received_on=long_ago))
    add("overdue-2", "已逾期，未答复", lambda v: v["overdue"] and v["status"] == "handling", _nothing,
        _staff_body(next(n), department=ENFORCEMENT, received_on=long_ago, kind="enterprise"))
    add("overdue-in-review", "已逾期，保密审查中", lambda v: v["overdue"] and v["status"] == "in-review",
        _overdue_in_review(WANG), _staff_body(next(n), received_on=long_ago))
    return out


# --- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoResult:
    staff: dict[str, str]  # username -> password
    applications: dict[str, str]  # scenario key -> application number
    created: list[str]  # scenario keys created by this run


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _save(path: Path, state: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


async def seed_demo(http: httpx.AsyncClient, engine: Engine, state_file: Path, *, today: date | None = None,
                    concurrency: int = 4, log: Callable[[str], None] = print) -> DemoResult:
    """Create the demo staff and applications (those not created before); `http` reaches the API."""
    state = _load(state_file)
    passwords = ensure_staff(engine, dict(state.get("staff", {})))
    state["staff"] = passwords
    known: dict[str, str] = dict(state.get("applications", {}))
    state["applications"] = known
    state_file.parent.mkdir(parents=True, exist_ok=True)
    _save(state_file, state)
    demo = Demo(http, passwords, today or clock.today())
    await demo.log_in()

    todo = [s for s in scenarios(demo.today) if not (s.key in known and await demo.exists(known[s.key]))]
    saving = asyncio.Lock()
    gate = asyncio.Semaphore(concurrency)

    async def run(scenario: Scenario) -> None:
        async with gate:
            created = await demo.register(scenario)
            app_id = created["application_id"]
            async with saving:  # recorded at once: an interrupted run does not register it again
                known[scenario.key] = app_id
                _save(state_file, state)
            await scenario.steps(demo, app_id)
            await demo.until(app_id, scenario.expect, scenario.what)
            log(f"  {app_id}  {scenario.what}")

    if todo:
        log(f"Demo: {len(todo)} applications to create…")
    results = await asyncio.gather(*(run(s) for s in todo), return_exceptions=True)
    failures = [f"{s.key}: {r}" for s, r in zip(todo, results, strict=True) if isinstance(r, BaseException)]
    if failures:
        raise DemoError("some demo applications could not be created:\n" + "\n".join(failures))
    return DemoResult(staff=passwords, applications=dict(known), created=[s.key for s in todo])


def staff_table(result: DemoResult) -> str:
    agencies = {code: name for code, name, _, _ in DEMO_AGENCIES}
    rows = [f"  {s.username:<12} {result.staff[s.username]:<18} {s.full_name}  {'、'.join(s.roles)}"
            + (f"（{s.department}）" if s.department else "") + (f" · {agencies[s.agency]}" if s.agency else "")
            for s in STAFF]
    return "Demo staff (user name, password, name, roles):\n" + "\n".join(rows) + "\n"


async def seed_demo_at(base_url: str, settings) -> DemoResult:
    """`run.py --demo` / `python -m demo`: against the API at `base_url`, on the settings' database."""
    from db.session import init_db, make_engine

    engine = make_engine(settings.database_url)
    try:
        init_db(engine)
        ensure_first_agency(engine, settings)
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            result = await seed_demo(http, engine, settings.data_dir / "demo.json")
    finally:
        engine.dispose()
    print(f"Demo: {len(result.applications)} applications ({len(result.created)} created now).")
    print(staff_table(result), flush=True)
    return result

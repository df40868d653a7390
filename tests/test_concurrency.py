"""Many staff actions at once on one application leave its database records equal to the workflow's state.

Runs on the session database: SQLite by default, PostgreSQL with DISCLOSURE_TEST_DATABASE=postgres.
"""

import pytest
import asyncio
from typing import Any

import httpx
from sqlmodel import col, select

from services.audit import verify_audit
from db.models import Application, ApplicationEvent, ApplicationItem
from db.models_security import ApplicantAccess, AuditEvent
from db.session import session_scope
from tests.helpers import add_staff, listed_row, application_body, register, send_action, send_registration, since, state, today

PARALLEL_ACTIONS = 20
ITEMS = 3


def action(n: int) -> tuple[str, dict[str, Any]]:
    """The n-th of the parallel actions: mostly item decisions, every third a re-assignment."""
    if n % 3 == 2:
        # Re-assignment within the department: a handler may act only in their own department.
        return "assign", {"handler": f"handler-{n:02d}", "department": "综合统计科", "by": "director-liu"}
    if n % 2:
        return "decisions", {"item_no": n % ITEMS + 1, "outcome": "disclosed", "by": "wang"}
    return "decisions", {"item_no": n % ITEMS + 1, "outcome": "withheld-5", "reasons": f"内部事务信息（第{n}次）",
                         "by": "wang"}


def database_copy(engine, application_id: str) -> tuple[Application, list[ApplicationItem], list[ApplicationEvent]]:
    with session_scope(engine) as session:
        row = session.get(Application, application_id)
        items = session.exec(select(ApplicationItem).where(ApplicationItem.application_id == application_id)
                             .order_by(col(ApplicationItem.item_no))).all()
        events = session.exec(select(ApplicationEvent).where(ApplicationEvent.application_id == application_id)
                              .order_by(col(ApplicationEvent.seq))).all()
        return row, list(items), list(events)


def differences(view: dict[str, Any], row: Application | None, items, events) -> list[str]:
    found = []
    if row is None:
        return ["no application row"]
    timeline = [(e["seq"], e["kind"], e["actor"], e["summary"]) for e in view["timeline"]]
    stored = [(e.seq, e.kind, e.actor, e.summary) for e in events]
    if stored != timeline:
        found.append(f"events {stored} != timeline {timeline}")
    if (row.handler, row.department, row.status) != (view["handler"], view["department"], view["status"]):
        found.append(f"row {(row.handler, row.department, row.status)} != view "
                     f"{(view['handler'], view['department'], view['status'])}")
    expected_items = [
        (i["item_no"], i["description"], i["final_outcome"] or (i["proposal"] or {}).get("outcome"),
         (i["proposal"] or {}).get("reasons", ""))
        for i in view["items"]
    ]
    stored_items = [(i.item_no, i.description, i.outcome, i.reasons) for i in items]
    if stored_items != expected_items:
        found.append(f"items {stored_items} != {expected_items}")
    return found


async def test_parallel_actions_on_one_application_lose_and_duplicate_nothing(api: httpx.AsyncClient, engine):
    created = await register(api, items=[{"description": f"第{n}项 2025年统计资料"} for n in range(1, ITEMS + 1)])
    app_id = created["application_id"]
    before = len((await state(api, app_id))["timeline"])
    for n in range(PARALLEL_ACTIONS):  # the re-assignments name real handlers of the 科室 (issue 23 point 1)
        if action(n)[0] == "assign":
            add_staff(api, action(n)[1]["handler"], ["handler"], "综合统计科")

    async def post(n: int) -> httpx.Response:
        path, body = action(n)
        return await send_action(api, app_id, path, body)

    responses = await asyncio.gather(*(post(n) for n in range(PARALLEL_ACTIONS)))
    refused = [(n, action(n)[0], r.status_code, r.text[:300]) for n, r in enumerate(responses) if r.status_code != 200]
    assert not refused, refused

    view = await state(api, app_id)
    kinds = [e["kind"] for e in view["timeline"]]
    assert kinds.count("assigned") == sum(action(n)[0] == "assign" for n in range(PARALLEL_ACTIONS))
    assert kinds.count("decision-proposed") == sum(action(n)[0] == "decisions" for n in range(PARALLEL_ACTIONS))
    assert len(view["timeline"]) >= before + PARALLEL_ACTIONS

    # Every update persisted before it answered, but background steps (letters) may still record
    # events: wait until the database has caught up with the workflow, then compare exactly.
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        view = await state(api, app_id)
        row, items, events = await asyncio.to_thread(database_copy, engine, app_id)
        found = differences(view, row, items, events)
        if not found:
            break
        assert asyncio.get_running_loop().time() < deadline, found
        await asyncio.sleep(0.2)

    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(view["timeline"]) + 1)), "event numbers must be 1..N without gaps or repeats"

    # The supervisors' list and the recorded events (both read from the database) agree too.
    recorded = (await api.get(f"/api/v1/applications/{app_id}/events")).json()
    assert [e["seq"] for e in recorded] == seqs
    await listed_row(api, app_id, lambda row: True, handler=view["handler"])


PARALLEL_REGISTRATIONS = 30


@pytest.mark.dates  # numbered by the year of the day: run again with the clock pinned (tests/dates.py)
async def test_registrations_at_once_get_dense_distinct_numbers_and_are_listed_and_audited(api, engine):
    """The desk's numbers, first listings and audit rows are committed in groups (db/group_commit.py).
    A year's turn during a burst: tests/test_pinned_clock.py."""
    first = today()
    writes = api.app.state.registration
    batches_before = writes.numbers.batches
    responses = await asyncio.gather(*(send_registration(api, application_body()) for _ in range(PARALLEL_REGISTRATIONS)))
    assert [r.status_code for r in responses] == [201] * PARALLEL_REGISTRATIONS, [r.text for r in responses]
    numbers = sorted(r.json()["application_id"] for r in responses)

    # Numbers run per year (GK-2026-…, then GK-2027-000001): when Shanghai's New Year falls inside the
    # burst, each year's part is dense on its own.
    by_year: dict[str, list[int]] = {}
    for number in numbers:
        year, serial = number.rsplit("-", 2)[1:]
        by_year.setdefault(year, []).append(int(serial))
    assert set(by_year) <= {day[:4] for day in since(first)}, numbers  # the year of the day each was registered
    for serials in by_year.values():
        assert serials == list(range(serials[0], serials[0] + len(serials))), "dense: no gaps, no repeats"
    assert writes.numbers.batches - batches_before < PARALLEL_REGISTRATIONS, "requests waiting together share a commit"

    with session_scope(engine) as session:
        listed = session.exec(select(Application.id).where(col(Application.id).in_(numbers))).all()
        codes = session.exec(select(ApplicantAccess.application_id).where(col(ApplicantAccess.application_id).in_(numbers))).all()
        audited = session.exec(select(AuditEvent).where(col(AuditEvent.application_id).in_(numbers))).all()
    assert sorted(listed) == numbers and sorted(codes) == numbers  # listed at once, query codes usable
    assert sorted(row.application_id for row in audited if row.status_code == 201) == numbers
    assert verify_audit(engine).ok
    for response in responses[:3]:  # the applicant's query code works at once
        app_id = response.json()["application_id"]
        own = await api.get(f"/api/v1/applicant/applications/{app_id}", headers=api.as_applicant(app_id))
        assert own.status_code == 200, own.text

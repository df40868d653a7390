"""Group commit (db/group_commit.py): callers queued while a batch commits share the next one; each gets its own answer."""

import asyncio
import threading

import pytest
from sqlalchemy import Engine

from services.audit import AuditEntry, append_audit, append_audit_rows, verify_audit
from db.group_commit import GroupCommit
from db.repository import allocate_application_number, allocate_application_numbers
from db.session import session_scope
from tests.fixtures_db import engine  # noqa: F401


async def until_queued(writer: GroupCommit, count: int) -> None:
    """Until `count` callers wait in the writer's queue (the writer thread is held in a write meanwhile)."""
    deadline = asyncio.get_running_loop().time() + 10
    while writer._queue.qsize() < count:
        assert asyncio.get_running_loop().time() < deadline, f"{writer._queue.qsize()} of {count} callers queued"
        await asyncio.sleep(0.005)


async def test_callers_waiting_on_a_commit_share_the_next_one_and_get_their_own_results():
    first_batch_started, release = threading.Event(), threading.Event()
    batches: list[list[int]] = []

    def write(items):
        batches.append(list(items))
        if len(batches) == 1:
            first_batch_started.set()
            release.wait(10)  # the first commit is slow: everyone else queues behind it
        return [item * 10 for item in items]

    writer = GroupCommit("test", write)
    first = asyncio.create_task(writer.submit(0))
    await asyncio.to_thread(first_batch_started.wait, 10)
    rest = [asyncio.create_task(writer.submit(n)) for n in range(1, 30)]
    await until_queued(writer, 29)
    release.set()

    assert await asyncio.gather(first, *rest) == [n * 10 for n in range(30)]
    assert batches == [[0], list(range(1, 30))]  # two commits for thirty callers, in order of arrival
    assert (writer.batches, writer.items) == (2, 30)


async def test_a_bad_item_fails_alone():
    writing, gate = threading.Event(), threading.Event()
    seen: list[list[str]] = []

    def write(items):
        seen.append(list(items))
        writing.set()
        gate.wait(10)
        if "bad" in items:
            raise ValueError("refused by the database")
        return [item.upper() for item in items]

    writer = GroupCommit("test", write)
    holding = asyncio.create_task(writer.submit("first"))  # holds the writer while the batch below queues
    await asyncio.to_thread(writing.wait, 10)
    batch = [asyncio.create_task(writer.submit(item)) for item in ["a", "bad", "c"]]
    await until_queued(writer, 3)
    gate.set()

    results = await asyncio.gather(holding, *batch, return_exceptions=True)

    assert results[0] == "FIRST" and results[1] == "A" and results[3] == "C"
    assert isinstance(results[2], ValueError)
    assert seen[1] == ["a", "bad", "c"]  # tried together first, then one by one


def test_numbers_allocated_in_a_block_are_dense_and_follow_single_ones(engine: Engine):  # noqa: F811
    with session_scope(engine) as session:
        first = allocate_application_number(session, 2026)
        block = allocate_application_numbers(session, 2026, 3)
        after = allocate_application_number(session, 2026)
        new_year = allocate_application_numbers(session, 2027, 2, prefix="TJ")
    assert [first, *block, after] == [f"GK-2026-{n:06d}" for n in range(1, 6)]
    assert new_year == ["TJ-2027-000001", "TJ-2027-000002"]


def test_audit_rows_appended_together_chain_like_rows_appended_one_by_one(engine: Engine):  # noqa: F811
    append_audit(engine, actor="desk-chen", role="registrar", action="POST /api/v1/applications",
                 application_id="GK-2026-000001", status_code=201)
    rows = append_audit_rows(engine, [
        AuditEntry("wang", "handler", "POST /api/v1/applications/{application_id}/decisions", "GK-2026-000001", 200),
        AuditEntry("anonymous", "", "GET /api/v1/nowhere", None, 404, "10.0.0.9"),
    ])
    append_audit(engine, actor="chief-liu", role="supervisor", action="GET /api/v1/applications",
                 application_id=None, status_code=200)

    assert [row.seq for row in rows] == [2, 3]
    assert rows[1].prev_hash == rows[0].hash
    check = verify_audit(engine)
    assert check.ok and check.rows == 4, check.problem


def test_an_empty_block_is_refused(engine: Engine):  # noqa: F811
    with session_scope(engine) as session, pytest.raises(ValueError):
        allocate_application_numbers(session, 2026, 0)

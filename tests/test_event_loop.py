"""Issue 12 point 7: request handlers never block the event loop.

Two checks, each with a negative control that shows it can fail:
- a guard records every database statement, fsync and PDF render made on the event loop's thread while
  a request is being served (deterministic: it names the call and the route), over the routes that used
  to do such work in `async def` handlers;
- a loop-lag probe (a task sleeping 5 ms in a loop, recording how late it wakes) while draft previews
  render and a 48 MiB attachment is hashed, written and fsynced: the loop stays responsive, where a
  handler sleeping in the loop is seen at once.
"""

import asyncio
import contextvars
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest_asyncio
from sqlalchemy import event, text

from api.main import create_app
from api.pages.common import CSRF_COOKIE, CSRF_FIELD
from api.pages.staff_session import SESSION_COOKIE
from letters import documents
from letters.documents import render_letter_pdf
from tests.conftest import staff_client
from tests.helpers import act, register, seed_test_users, today
from tests.letters_support import require_pdf_tools

SERVING: contextvars.ContextVar[str | None] = contextvars.ContextVar("serving", default=None)
UPLOAD_BYTES = 48 * 1024 * 1024
BLOCK_SECONDS = 1.0  # the negative control's sleep in the loop
LAG_LIMIT = BLOCK_SECONDS / 2  # generous: the machine is shared; a blocked loop shows the whole block


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False  # a worker thread: fine
    return True


class OnLoopGuard:
    """Blocking calls made on the event loop's thread while a request (SERVING) was being served."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def note(self, what: str) -> None:
        route = SERVING.get()
        if route is not None and _on_loop():
            self.seen.append((route, what))


class Served:
    """The API as an ASGI app that marks each request's context, so the guard knows whose call it is."""

    def __init__(self, app) -> None:
        self.app, self.state = app, app.state

    async def __call__(self, scope, receive, send) -> None:
        token = SERVING.set(f"{scope.get('method', '')} {scope.get('path', '')}")
        try:
            await self.app(scope, receive, send)
        finally:
            SERVING.reset(token)


class LagProbe:
    """How late a task sleeping `interval` in a loop wakes: the longest time the loop was not free."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval, self.worst, self.ticks = interval, 0.0, 0

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(self.interval)
            self.worst = max(self.worst, loop.time() - started - self.interval)
            self.ticks += 1

    async def __aenter__(self) -> "LagProbe":
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(self.interval * 2)
        self.worst = 0.0  # from here on
        return self

    async def __aexit__(self, *exc) -> None:
        ticks = self.ticks
        while self.ticks < ticks + 2:  # the sleep in flight when the work ended wakes, late, and is counted
            await asyncio.sleep(self.interval)
        self._task.cancel()


@pytest_asyncio.fixture
async def watched(settings, engine, client, env, worker, monkeypatch) -> AsyncIterator[tuple]:
    """An API on the session's stack, its requests watched by a guard, plus two routes for the negative controls."""
    require_pdf_tools()
    guard = OnLoopGuard()
    app = create_app(settings.model_copy(update={"max_request_bytes": 64 * 1024 * 1024}), client=client, engine=engine)
    seed_test_users(engine)

    @app.get("/test-only/sleeps-in-the-loop")
    async def sleeps_in_the_loop() -> dict:  # a handler that blocks, as the old preview and upload did
        time.sleep(BLOCK_SECONDS)
        return {}

    @app.get("/test-only/queries-in-the-loop")
    async def queries_in_the_loop() -> dict:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {}

    def statement(*_args) -> None:
        guard.note("database statement")

    event.listen(engine, "before_cursor_execute", statement)
    real_fsync, real_pdf = os.fsync, documents._Typesetter.pdf

    def fsync(fd):
        guard.note("fsync")
        return real_fsync(fd)

    def pdf(self, *args, **kwargs):
        guard.note("PDF render")
        return real_pdf(self, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(documents._Typesetter, "pdf", pdf)
    try:
        async with staff_client(Served(app), env) as http:
            yield http, guard
    finally:
        event.remove(engine, "before_cursor_execute", statement)


async def _submitted(api) -> str:
    """An application with a reply draft (submitted for review), and an attachment on item 1."""
    app_id = (await register(api, items=[{"description": "2025年统计公报"}]))["application_id"]
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "reasons": "", "by": "wang"})
    await act(api, app_id, "submit", {"by": "wang"})
    return app_id


def _attachment_body(size: int) -> tuple[bytes, str]:
    """A multipart body with a `size`-byte file for item 1 (made before any measurement: it is the client's work)."""
    boundary = uuid.uuid4().hex
    head = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                   for k, v in {"item_no": "1", "version": "original"}.items())
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="gongbao.pdf"\r\n'
             "Content-Type: application/pdf\r\n\r\n")
    content = b"%PDF-1.4 " + uuid.uuid4().bytes + bytes(size - 25)
    return head.encode() + content + f"\r\n--{boundary}--\r\n".encode(), boundary


async def _upload(api, app_id: str, size: int, body: tuple[bytes, str] | None = None) -> httpx.Response:
    data, boundary = body or _attachment_body(size)

    async def chunks():  # as a server receives a body: 64 KiB at a time (ASGITransport would pass it whole)
        view = memoryview(data)
        for start in range(0, len(data), 65536):
            yield bytes(view[start:start + 65536])
            await asyncio.sleep(0)

    return await api.post(f"/api/v1/applications/{app_id}/attachments", content=chunks(),
                          headers=api.as_user("wang") | {"Content-Type": f"multipart/form-data; boundary={boundary}",
                                                         "Content-Length": str(len(data))})


def _pages(api, user: str) -> httpx.AsyncClient:
    """The staff pages as `user`: the session cookie and a CSRF token, as the browser holds them."""
    csrf = uuid.uuid4().hex
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://api",
                             cookies={SESSION_COOKIE: api.tokens[user], CSRF_COOKIE: csrf}), csrf


async def test_no_database_file_or_pdf_work_runs_on_the_event_loop_in_a_request(watched):
    api, guard = watched
    app_id = await _submitted(api)
    guard.seen.clear()  # from here on, every route that used to block in an `async def` handler

    assert (await _upload(api, app_id, 2 * 1024 * 1024)).status_code == 201
    assert (await api.get(f"/api/v1/applications/{app_id}/attachments")).status_code == 200
    assert (await api.get(f"/api/v1/applications/{app_id}/letters")).status_code == 200
    preview = await api.get(f"/api/v1/applications/{app_id}/reply-draft.pdf", headers=api.as_user("wang"))
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")
    assert (await api.get(f"/api/v1/applications/{app_id}/similar-earlier")).status_code == 200
    ended = await api.post("/api/v1/applications/NO-SUCH-1/assign", json={"handler": "wang"},
                           headers=api.as_user("desk-chen"))
    assert ended.status_code == 404
    pages, csrf = _pages(api, "chief-liu")
    async with pages:
        assert (await pages.get("/staff/applications", params={"pending": "extension"})).status_code == 200
        assert (await pages.get("/staff/queue")).status_code == 200
        assert (await pages.get("/staff/outbox")).status_code == 200
    admin, csrf = _pages(api, "admin")
    async with admin:
        year = today().year + 1
        preview_page = await admin.post("/staff/admin/calendar", data={
            "year": str(year), "holidays": f"{year}-01-01", "makeup_workdays": "", "source": "测试用放假安排（非官方）",
            CSRF_FIELD: csrf})
        assert preview_page.status_code == 200 and f"请确认：发布 {year} 年放假安排" in preview_page.text
    assert guard.seen == []

    # Negative control: a handler that queries in the loop is caught, with its route.
    assert (await api.get("/test-only/queries-in-the-loop")).status_code == 200
    assert guard.seen == [("GET /test-only/queries-in-the-loop", "database statement")]


async def test_the_loop_stays_responsive_while_previews_render_and_a_large_upload_is_stored(watched):
    api, _ = watched
    app_id = await _submitted(api)
    await api.get(f"/api/v1/applications/{app_id}/reply-draft.pdf")  # the compiler's first start is not the point

    # Negative control: the probe sees a handler that blocks the loop.
    async with LagProbe() as blocked:
        assert (await api.get("/test-only/sleeps-in-the-loop")).status_code == 200
    assert blocked.worst >= BLOCK_SECONDS * 0.9, blocked.worst

    body = _attachment_body(UPLOAD_BYTES)
    async with LagProbe() as probe:
        answers = await asyncio.gather(
            _upload(api, app_id, UPLOAD_BYTES, body),
            *(api.get(f"/api/v1/applications/{app_id}/reply-draft.pdf") for _ in range(6)),
        )
    assert answers[0].status_code == 201, answers[0].text
    assert answers[0].json()["size"] == UPLOAD_BYTES
    assert all(a.status_code == 200 and a.content.startswith(b"%PDF") for a in answers[1:])
    print(f"loop lag: blocking handler {blocked.worst * 1000:.0f} ms; 48 MiB upload + 6 previews "
          f"{probe.worst * 1000:.0f} ms over {probe.ticks} ticks")
    assert probe.worst < LAG_LIMIT, probe.worst


def test_a_preview_render_waits_for_one_of_the_process_render_slots():
    """The API's renders share Settings.renders_at_once with the worker's (2 by default): a third waits."""
    import anyio

    from api.offloop import rendering
    from core.config import Settings

    class Request:
        class app:
            class state:
                settings = Settings(renders_at_once=2)

    import threading

    running, most, lock = 0, 0, threading.Lock()

    def render() -> bytes:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return render_letter_pdf("测试", number=None, issued_on=date(2026, 1, 5), draft=True)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(rendering, Request, render)

    anyio.run(main)
    assert most == 2

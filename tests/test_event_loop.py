"""Issue 12 point 7: request handlers never block the event loop.

Three checks, each with a negative control that shows it can fail:
- every route of the application (enumerated from app.routes, issue 21 point 6): its `async def` endpoint and
  async dependencies, and what they call in the project's code, read from their source: no database session
  call, `Session(...)`, file read or write, fsync or os/shutil file operation is reached except through a
  thread hop (`blocking`, `rendering`; a sync `def` route runs in FastAPI's thread pool);
- a guard records every database statement, fsync and PDF render made on the event loop's thread while
  a request is being served (deterministic: it names the call and the route), over the routes that used
  to do such work in `async def` handlers;
- a loop-lag probe (a task sleeping 5 ms in a loop, recording how late it wakes) while draft previews
  render and a 48 MiB attachment is hashed, written and fsynced: the loop stays responsive, where a
  handler sleeping in the loop is seen at once.
"""

import ast
import asyncio
import contextvars
import inspect
import os
import textwrap
import time
import types
import uuid
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest_asyncio
from fastapi import APIRouter
from fastapi.routing import APIRoute
from sqlalchemy import event, text

from api.deps import SessionDep, SettingsDep
from api.main import create_app
from api.offloop import blocking
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


# --- every route, read from its code (issue 21 point 6) ------------------------------------------------------------

PROJECT = {"api", "services", "db", "letters", "core", "notices", "release", "reports", "screening", "fees", "proactive",
           "participation", "guidance", "identity", "clock", "workcalendar", "policy", "outcomes", "contracts", "application",
           "workflows", "activities", "tests"}
HOPS = {"blocking", "rendering", "run_in_threadpool", "run_sync"}
RECEIVERS = {"session", "engine", "connection", "conn"}
FILE_METHODS = {"read_bytes", "read_text", "write_bytes", "write_text", "unlink", "iterdir", "mkdir", "rglob"}
OS_CALLS = {("os", "fsync"), ("os", "remove"), ("os", "unlink"), ("os", "replace"), ("os", "rename"), ("os", "makedirs"),
            ("os", "listdir"), ("os", "scandir"), ("shutil", "copyfileobj"), ("shutil", "copyfile"), ("shutil", "move"),
            ("shutil", "rmtree")}

def _project(obj) -> bool:
    mod = getattr(obj, "__module__", "") or ""
    return mod.split(".")[0] in PROJECT and mod != "api.offloop"

class LoopReader:
    """What a function does on the thread that calls it, read from its source and its project callees'."""
    def __init__(self):
        self.memo = {}

    def check(self, fn, depth=0):
        """Blocking work `fn` does on the calling thread (the loop, for an async endpoint): [(where, what)]."""
        fn = inspect.unwrap(fn)
        code = getattr(fn, "__code__", None)
        if code is None or depth > 8:
            return []
        if code in self.memo:
            return self.memo[code]
        self.memo[code] = []
        try:
            source = textwrap.dedent(inspect.getsource(fn))
        except (OSError, TypeError):
            return []
        tree = ast.parse(source)
        node = tree.body[0]
        found = []
        nested = {n.name: n for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n is not node}
        where = f"{fn.__module__}.{fn.__qualname__}"
        self._walk(node, fn, where, nested, found, depth, top=True)
        self.memo[code] = found
        return found

    def _walk(self, node, fn, where, nested, found, depth, top=False):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue  # defined here, run where it is called (often a thread): see the call
            # A lambda outside a thread hop is a callback run on the loop (e.g. run_update's `ended`): walked here.
            if isinstance(child, ast.Call):
                name = self._callee_name(child.func)
                if name in HOPS:
                    continue  # the call and its arguments go to a worker thread
                self._call(child, fn, where, nested, found, depth)
            self._walk(child, fn, where, nested, found, depth)

    @staticmethod
    def _callee_name(func):
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
        return None

    def _call(self, call, fn, where, nested, found, depth):
        func = call.func
        g = dict(getattr(fn, "__globals__", {}))
        g.update(inspect.getclosurevars(fn).nonlocals if getattr(fn, "__code__", None) else {})
        if isinstance(func, ast.Name):
            if func.id in ("Session", "session_scope"):
                found.append((where, f"{func.id}(...)")); return
            if func.id == "open":
                found.append((where, "open(...)")); return
            if func.id in nested:
                sub = nested[func.id]
                inner = []
                self._walk(sub, fn, where, {}, inner, depth)
                found.extend(inner); return
            target = g.get(func.id)
        elif isinstance(func, ast.Attribute):
            receiver = func.value
            rname = receiver.id if isinstance(receiver, ast.Name) else receiver.attr if isinstance(receiver, ast.Attribute) else None
            if rname in RECEIVERS and func.attr not in ("get_bind",):
                found.append((where, f"{rname}.{func.attr}(...)")); return
            if func.attr in FILE_METHODS:
                found.append((where, f".{func.attr}(...)")); return
            if isinstance(receiver, ast.Name) and (receiver.id, func.attr) in OS_CALLS:
                found.append((where, f"{receiver.id}.{func.attr}(...)")); return
            target = None
            if isinstance(receiver, ast.Name) and isinstance(g.get(receiver.id), types.ModuleType):
                target = getattr(g[receiver.id], func.attr, None)
            elif isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name):
                made = g.get(receiver.func.id)  # ProjectClass(...).method(...): the method runs here
                if inspect.isclass(made) and _project(made):
                    target = getattr(made, func.attr, None)
        else:
            return
        if target is None or not callable(target) or not _project(target):
            return
        if inspect.isclass(target):
            return
        found.extend(self.check(target, depth + 1))

def on_loop_work(app):
    """Every route of `app`: the blocking work its async endpoint or async dependencies do on the event loop."""
    checker = LoopReader()
    report = {}
    routes = 0
    for route in every_route(app.routes):
        routes += 1
        found = []
        calls = []
        def deps(dependant):
            for d in dependant.dependencies:
                if d.call is not None:
                    calls.append(d.call)
                deps(d)
        if isinstance(route, APIRoute):
            deps(route.dependant)
        calls.append(route.endpoint)
        for call in calls:
            if inspect.iscoroutinefunction(inspect.unwrap(call)) or inspect.iscoroutinefunction(getattr(call, "__call__", None)):
                found.extend(checker.check(call))
        if found:
            report[f"{sorted(route.methods)[0]} {route.path}"] = sorted(set(found))
    return routes, report


def every_route(routes):
    """The application's routes, the included routers' flattened (FastAPI keeps them per router)."""
    from starlette.routing import Mount, Route
    for route in routes:
        if isinstance(route, (APIRoute, Route)):
            yield route
        elif hasattr(route, "original_router"):
            yield from every_route(route.original_router.routes)
        elif isinstance(route, Mount) and getattr(route, "routes", None):
            yield from every_route(route.routes)


def _test_only_routes() -> APIRouter:
    """Routes that break the rule in each way the reader knows, and two that keep it."""
    from sqlmodel import select

    from db.letters_repository import FileStore
    from db.models import Application

    router = APIRouter(prefix="/test-only")

    def count(session) -> int:
        return len(session.exec(select(Application.id)).all())

    @router.get("/a-query-on-the-loop")
    async def a_query_on_the_loop(session: SessionDep) -> int:
        return count(session)  # a sync helper called from the loop

    @router.get("/a-file-on-the-loop")
    async def a_file_on_the_loop(settings: SettingsDep) -> str:
        return FileStore(settings.data_dir).put(b"x")

    @router.get("/a-callback-on-the-loop")
    async def a_callback_on_the_loop(session: SessionDep) -> int:
        later = lambda: session.get(Application, "x")  # noqa: E731  (called on the loop)
        return 0 if later() is None else 1

    @router.get("/a-query-off-the-loop")
    async def a_query_off_the_loop(session: SessionDep) -> int:
        return await blocking(count, session)

    @router.get("/a-sync-route")
    def a_sync_route(session: SessionDep) -> int:  # FastAPI runs it in its thread pool
        return count(session)

    return router


def test_no_route_does_database_or_file_work_on_the_event_loop(settings, engine):
    app = create_app(settings, client=object(), engine=engine)
    routes, found = on_loop_work(app)
    assert routes > 200  # every route of the application was read, the included routers' too
    assert found == {}

    # Negative control: the same reading of routes that break the rule names each of them, and only them.
    app.include_router(_test_only_routes())
    _, found = on_loop_work(app)
    assert set(found) == {"GET /test-only/a-query-on-the-loop", "GET /test-only/a-file-on-the-loop",
                          "GET /test-only/a-callback-on-the-loop"}
    assert ("tests.test_event_loop._test_only_routes.<locals>.count", "session.exec(...)") in \
        found["GET /test-only/a-query-on-the-loop"]
    assert any(where.startswith("db.letters_repository.FileStore.") for where, _ in found["GET /test-only/a-file-on-the-loop"])

"""The browser tests' stack: the session's Temporal dev server and worker (tests/conftest.py), the API
served by a real uvicorn server, and Debian's Chromium driven by Playwright (async API, on the
session's event loop).

The server runs in a background thread with its own event loop and its own Temporal client (a
client must not be shared across threads), on a socket bound to port 0 and handed to uvicorn, so
the port the OS picked is never released and re-bound. It is a second replica of the same API: same
settings, database and task queue as the `api` fixture, which drives the staff's side through JSON.

Chromium is Debian's (`make system-packages` installs it; Playwright's own download cannot work
here). Missing, the tests skip — on CI (tests/ci.py) they fail. Every page a test visits is saved as
`build/screenshots/<name>.png` (full page) and checked with axe-core (no serious or critical violation).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
import uvicorn
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.config import Settings
from tests.ci import skip_unless_ci
from tests.dates import pinned_client

CHROMIUM = os.environ.get("DISCLOSURE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
SERVER_START_SECONDS = 60


class _Server(uvicorn.Server):
    """uvicorn, telling the test thread when it listens (or that it could not start)."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


class LiveServer:
    def __init__(self, url: str, server: _Server, thread: threading.Thread) -> None:
        self.url, self.server, self.thread = url, server, thread
        self.error: BaseException | None = None


@pytest.fixture(scope="session")
def live_server(env: WorkflowEnvironment, settings: Settings, engine, worker, api) -> Iterator[LiveServer]:
    """The API and pages over real HTTP at `live_server.url` (the `api` fixture has seeded the staff)."""
    from tests.conftest import TEST_DATA_CONVERTER

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    target = env.client.service_client.config.target_host
    namespace = env.client.namespace
    ready = threading.Event()
    config = uvicorn.Config(None, log_level="warning", access_log=False, lifespan="off")  # app set in the thread
    server = _Server(config, ready)
    holder: dict[str, BaseException] = {}

    def serve() -> None:
        async def main() -> None:
            # Its workflows start on the tests' clock too (tests/dates.py).
            client = pinned_client(await Client.connect(target, namespace=namespace, data_converter=TEST_DATA_CONVERTER))
            config.app = create_app(settings, client=client, engine=engine)
            await server.serve(sockets=[sock])

        try:
            asyncio.run(main())
        except BaseException as error:  # reported to the test thread
            holder["error"] = error
        finally:
            ready.set()

    thread = threading.Thread(target=serve, name="live-server", daemon=True)
    thread.start()
    if not ready.wait(SERVER_START_SECONDS) or "error" in holder or not server.started:
        raise RuntimeError(f"the live server did not start: {holder.get('error')!r}")
    live = LiveServer(f"http://127.0.0.1:{port}", server, thread)
    yield live
    server.should_exit = True
    thread.join(30)
    sock.close()


def _chromium_or_skip() -> str:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    skip_unless_ci(f"Debian's chromium is not installed at {CHROMIUM} (make system-packages)")


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator:
    executable = _chromium_or_skip()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture
async def page(browser, live_server: LiveServer):
    """A fresh browser profile (no cookies) on the live server, phone-sized unless a test resizes it."""
    context = await browser.new_context(base_url=live_server.url, locale="zh-CN", accept_downloads=True,
                                        viewport={"width": 412, "height": 915}, timezone_id="Asia/Shanghai")
    context.set_default_timeout(30_000)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Console errors, but not a page's own 4xx (a form shown again with its errors answers 422):
    # failed scripts, styles and images are caught by their responses instead.
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and response.request.resource_type != "document" else None)
    page.js_errors = errors  # type: ignore[attr-defined]
    yield page
    await context.close()


async def check_page(page, name: str) -> None:
    """Save the page as build/screenshots/<name>.png (full page) and run axe-core on it.

    Fails on any serious or critical axe violation, and on a JavaScript error or a console error
    (a script or style refused by the Content-Security-Policy shows up there).
    """
    from axe_playwright_python.async_playwright import Axe

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    results = await Axe().run(page)
    violations = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not violations, f"{name}: axe-core found serious problems: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}" for v in violations)
    errors = getattr(page, "js_errors", [])
    assert not errors, f"{name}: errors in the browser console: {errors}"


async def review_and_publish(api, engine, item_id: str) -> None:
    """Through the JSON API, once its row is written: the reviewer approves the registered catalogue item and
    its handler publishes it; returns when the row says published."""
    from tests.test_proactive import _row

    await _row(engine, item_id, lambda r: True)
    assert (await api.post(f"/api/v1/catalogue/items/{item_id}/review", json={"approve": True},
                           headers=api.as_user("reviewer-zhao"))).status_code == 200
    assert (await api.post(f"/api/v1/catalogue/items/{item_id}/publish", json={"url": f"/gk/{item_id}.html"},
                           headers=api.as_user("wang"))).status_code == 200
    await _row(engine, item_id, lambda r: r.status == "published")


async def register_similar_requests(api, subject: str) -> list[str]:
    """The statistics category with its responsible section, and three applications by three applicants
    asking for `subject` in other words (what the requested-often offer groups); their numbers."""
    from tests.helpers import register

    await api.put("/api/v1/catalogue/categories/statistics-data", json={
        "id": "statistics-data", "name": "国民经济和社会发展统计信息", "section": "综合统计科"})
    return [(await register(api, applicant={"name": name, "type": "natural-person", "email": f"{uuid.uuid4().hex[:8]}@example.cn"},
                            items=[{"description": text}]))["application_id"]
            for name, text in (("甲", subject), ("乙", f"2025年{subject}"), ("丙", f"{subject}（分区）"))]

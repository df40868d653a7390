"""Observability: masked JSON logs, API metrics by route template, application gauges, health and
readiness, one trace from an API request through the workflow into an activity, and a worker that
lets a running activity finish when it receives SIGTERM."""

import asyncio
import io
import json
import logging
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import create_engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.service import TLSConfig

from api.main import create_app
from core.config import Settings
from core.observability import (
    PII_MASK,
    ApplicationGauges,
    JsonFormatter,
    PiiMaskingFilter,
    configure_logging,
    configure_tracing,
    mask_pii,
    otlp_traces_url,
)
from core.temporal import connect, tls_config, worker_runtime
from worker import build_worker
from db.models import Application
from tests.helpers import StaffClient, seed_test_users
from db.session import init_db, make_engine
from tests.fixtures_smtp import SmtpServer, spare_port  # noqa: F401
from tests.helpers import register, today
from workcalendar import WorkCalendar, load_calendar_data

REPO_ROOT = Path(__file__).resolve().parent.parent

# A valid 18-digit resident ID (checksum X) and a 15-digit old-style one.
ID_18 = "11010519491231002X"
ID_15 = "110105491231002"


# --------------------------------------------------------------------------------------------
# Logs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        (f"申请人身份证号{ID_18}，请核对", ["申请人身份证号", "，请核对"]),
        (f"old id {ID_15} end", ["old id ", " end"]),
        ("手机 13812345678 或 +86 138-1234-5678", ["手机 ", " 或 "]),
        ("手机１３８１２３４５６７８。", ["手机", "。"]),  # full-width digits
        ("座机 010-62345678，（0591）87654321", ["座机 ", "，"]),
    ],
)
def test_mask_pii_hides_ids_and_phone_numbers(raw: str, kept: list[str]):
    masked = mask_pii(raw)
    assert PII_MASK in masked
    for part in kept:
        assert part in masked
    for secret in (ID_18, ID_15, "13812345678", "1234-5678", "１３８１２３４５６７８", "62345678", "87654321"):
        assert secret not in masked


def test_mask_pii_leaves_application_numbers_dates_and_counts_alone():
    text = "GK-2026-000123 received 2026-03-02, 15 working days, 3 items, trace 4bf92f3577b34da6"
    assert mask_pii(text) == text


def _json_logger(name: str) -> tuple[logging.Logger, io.StringIO]:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PiiMaskingFilter())
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, buffer


def test_json_log_lines_carry_fields_and_never_personal_numbers():
    logger, buffer = _json_logger(f"disclosure.test.{uuid.uuid4().hex}")
    logger.info("applicant phone %s, id %s", "13812345678", ID_18, extra={"application_id": "GK-2026-000123"})
    try:
        raise ValueError(f"bad id card {ID_18}")
    except ValueError:
        logger.exception("could not register applicant 13912345678")
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) >= {"time", "level", "logger", "message", "application_id"}
    assert first["level"] == "INFO" and first["application_id"] == "GK-2026-000123"
    assert first["message"] == f"applicant phone {PII_MASK}, id {PII_MASK}"
    assert second["level"] == "ERROR" and "ValueError" in second["exception"]
    assert "application_id" not in second
    assert "13812345678" not in buffer.getvalue() and "13912345678" not in buffer.getvalue()
    assert ID_18 not in buffer.getvalue()


def test_activity_log_records_name_their_application():
    logger, buffer = _json_logger(f"disclosure.test.{uuid.uuid4().hex}")
    logger.info("dispatch", extra={"temporal_activity": {"workflow_id": "GK-2026-000007", "activity_type": "x"}})
    assert json.loads(buffer.getvalue())["application_id"] == "GK-2026-000007"


def test_configure_logging_is_idempotent_and_masks_every_logger():
    root = logging.getLogger()
    level = root.level
    buffer = io.StringIO()
    handler = configure_logging("INFO", stream=buffer)
    try:
        assert configure_logging("INFO") is handler
        assert sum(1 for h in root.handlers if h is handler) == 1
        logging.getLogger("some.library").warning("called %s", "0591-87654321")
        line = json.loads(buffer.getvalue().splitlines()[-1])
        assert line["logger"] == "some.library" and "87654321" not in line["message"]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


# --------------------------------------------------------------------------------------------
# Connection settings and tracing set-up
# --------------------------------------------------------------------------------------------


def test_tls_settings(tmp_path: Path):
    assert tls_config(Settings()) is None
    assert tls_config(Settings(temporal_tls=True)) is True
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    cert.write_bytes(b"CERT")
    key.write_bytes(b"KEY")
    mtls = tls_config(Settings(temporal_tls_cert_path=cert, temporal_tls_key_path=key))
    assert isinstance(mtls, TLSConfig)
    assert (mtls.client_cert, mtls.client_private_key) == (b"CERT", b"KEY")
    with pytest.raises(ValueError):
        tls_config(Settings(temporal_tls_cert_path=cert))


def test_tracing_provider_is_made_once_and_otlp_url_is_completed():
    provider = configure_tracing("disclosure-test")
    assert configure_tracing("other") is provider
    assert otlp_traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert otlp_traces_url("http://collector:4318/v1/traces") == "http://collector:4318/v1/traces"


async def test_worker_drains_for_the_configured_time(client: Client, settings: Settings, engine):
    own = settings.model_copy(update={"worker_graceful_shutdown_seconds": 12, "task_queue": f"cfg-{uuid.uuid4()}"})
    worker = build_worker(client, own, engine)
    assert worker.config()["graceful_shutdown_timeout"] == timedelta(seconds=12)


# --------------------------------------------------------------------------------------------
# Health and readiness
# --------------------------------------------------------------------------------------------


async def test_healthz_and_readyz_when_everything_answers(api: httpx.AsyncClient):
    alive = await api.get("/healthz")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "temporal": "ok"}


@pytest_asyncio.fixture
async def own_app(client: Client, settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    own = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'obs.db'}",
                                      "task_queue": f"obs-{uuid.uuid4()}"})
    engine = make_engine(own.database_url)
    init_db(engine)
    app = create_app(own, client=client, engine=engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    seed_test_users(engine)
    async with StaffClient(transport=transport, base_url="http://api") as http:
        await http.log_in("chief-liu")
        http.headers["Authorization"] = f"Bearer {http.tokens['chief-liu']}"
        yield app, http
    engine.dispose()


async def test_readyz_fails_when_the_database_is_unreachable(own_app):
    app, http = own_app
    good = app.state.engine
    app.state.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    try:
        response = await http.get("/readyz")
    finally:
        app.state.engine.dispose()
        app.state.engine = good
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["database"]
    assert body["checks"]["temporal"] == "ok" and body["checks"]["database"].startswith("unreachable")
    assert "nobody" not in response.text  # no connection details in the answer
    assert (await http.get("/healthz")).status_code == 200  # alive all the same


async def test_readyz_fails_when_temporal_is_unreachable(own_app):
    app, http = own_app
    good = app.state.temporal
    app.state.temporal = await Client.connect("127.0.0.1:1", lazy=True)
    try:
        response = await http.get("/readyz")
    finally:
        app.state.temporal = good
    assert response.status_code == 503
    assert response.json()["failed"] == ["temporal"]


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text format, or None."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, value = line.rsplit(" ", 1)
        if series.split("{", 1)[0] != name:
            continue
        if all(f'{key}="{val}"' in series for key, val in labels.items()):
            return float(value)
    return None


async def test_request_metrics_use_route_templates_never_raw_paths(own_app):
    app, http = own_app

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("exploded")

    unknown = "GK-2099-999999"
    assert (await http.get(f"/api/v1/applications/{unknown}/events")).status_code == 404
    assert (await http.get(f"/api/v1/applications/{unknown}/events")).status_code == 404
    assert (await http.get("/api/v1/applications?limit=5")).status_code == 200
    assert (await http.get("/boom")).status_code == 500
    assert (await http.get("/no/such/path/GK-2099-999998")).status_code == 404

    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert unknown not in text and "GK-2099-999998" not in text
    template = "/api/v1/applications/{application_id}/events"
    assert _sample(text, "disclosure_api_requests_total", method="GET", route=template, status="404") == 2
    assert _sample(text, "disclosure_api_requests_total", route="/api/v1/applications", status="200") == 1
    assert _sample(text, "disclosure_api_request_duration_seconds_count", method="GET", route=template) == 2
    assert _sample(text, "disclosure_api_requests_total", route="/boom", status="500") == 1
    assert _sample(text, "disclosure_api_request_errors_total", method="GET", route="/boom") == 1
    assert _sample(text, "disclosure_api_request_errors_total", route=template) is None
    assert _sample(text, "disclosure_api_requests_total", route="<unmatched>", status="404") == 1


def _application(number: str, status: str, due_on: date | None, overdue: bool = False) -> Application:
    return Application(
        id=number, received_on=date(2026, 2, 2), channel="online", applicant_name="张三",
        applicant_type="natural-person", delivery_method="email", policy="local", status=status,
        due_on=due_on, overdue=overdue,
    )


def test_application_gauges_count_open_due_soon_and_overdue(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'gauges.db'}")
    init_db(engine)
    monday = date(2026, 3, 2)  # an ordinary week: the 3rd working day after it is Thursday 5 March
    with Session(engine) as session:
        session.add_all([
            _application("A", "in-handling", monday),                          # due today: soon
            _application("B", "in-handling", date(2026, 3, 5)),                # 3rd working day: soon
            _application("C", "in-handling", date(2026, 3, 6)),                # 4th: not yet
            _application("D", "in-handling", date(2026, 2, 27)),               # passed, flag not set yet
            _application("E", "in-review", date(2026, 2, 20), overdue=True),   # flagged overdue
            _application("F", "closed", date(2026, 3, 3)),                     # final statuses never count
            _application("G", "withdrawn", date(2026, 2, 1), overdue=True),
            _application("H", "abandoned", date(2026, 3, 4)),
            _application("I", "awaiting-supplement", None),                    # clock stopped: open only
        ])
        session.commit()
    calendar = WorkCalendar(load_calendar_data())
    assert ApplicationGauges(engine, lambda: calendar, today=lambda: monday).counts() == (6, 2, 2)
    # On a Friday the window runs over the weekend to Wednesday.
    friday = date(2026, 3, 6)
    assert ApplicationGauges(engine, lambda: calendar, today=lambda: friday).counts() == (6, 1, 4)
    engine.dispose()


async def test_metrics_endpoint_serves_application_gauges_from_the_database(own_app):
    app, http = own_app
    # The gauges count against the product's today (core.clock): held on a working Tuesday, so that
    # neither Shanghai's midnight nor the day the suite runs can move a count.
    now = date(2026, 3, 10)
    with time_machine.travel(datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        with Session(app.state.engine) as session:
            session.add_all([
                _application("M1", "in-handling", now),
                _application("M2", "in-handling", now - timedelta(days=1)),
                _application("M3", "closed", now),
            ])
            session.commit()
        text = (await http.get("/metrics")).text
    assert _sample(text, "disclosure_application_metrics_up") == 1
    assert _sample(text, "disclosure_applications_open") == 2
    assert _sample(text, "disclosure_applications_due_within_3_working_days") == 1
    assert _sample(text, "disclosure_applications_overdue") == 1



def test_application_gauges_say_when_the_database_cannot_be_read():
    broken = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    try:
        families = list(ApplicationGauges(broken, lambda: WorkCalendar(load_calendar_data())).collect())
    finally:
        broken.dispose()
    assert [(f.name, [s.value for s in f.samples]) for f in families] == [("disclosure_application_metrics_up", [0])]


async def test_api_log_lines_name_the_application_of_the_request(own_app):
    app, http = own_app
    logger, buffer = _json_logger("disclosure.test.request")

    @app.get("/probe/{application_id}")
    async def probe(application_id: str) -> dict[str, str]:
        logger.info("probing")
        return {}

    assert (await http.get("/probe/GK-2026-000042")).status_code == 200
    assert json.loads(buffer.getvalue())["application_id"] == "GK-2026-000042"


async def test_worker_runtime_serves_sdk_metrics(client: Client, monkeypatch: pytest.MonkeyPatch,
                                                 spare_port: int):  # noqa: F811
    import core.temporal

    monkeypatch.setattr(core.temporal, "_worker_runtime", None)
    from urllib.request import urlopen

    address = f"127.0.0.1:{spare_port}"  # held by the test; the runtime's listener binds it too (SO_REUSEADDR)
    own = Settings(temporal_address=client.service_client.config.target_host, temporal_namespace=client.namespace,
                   worker_metrics_address=address)
    assert worker_runtime(own) is worker_runtime(Settings())  # made once per process
    metered = await connect(own, worker_process=True)
    await metered.count_workflows()
    body = await asyncio.to_thread(lambda: urlopen(f"http://{address}/metrics", timeout=5).read().decode())
    assert "temporal_request" in body
    plain = await connect(own)  # the API's client: no runtime of its own
    assert plain.service_client.config.runtime is None


# --------------------------------------------------------------------------------------------
# One trace: API request → StartWorkflow → RunWorkflow → activity
# --------------------------------------------------------------------------------------------


async def test_one_trace_from_api_request_to_activity(client: Client, mailbox: SmtpServer, tmp_path: Path):
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    traced = Client(**{**client.config(), "interceptors": [TracingInterceptor(provider.get_tracer("test"))]})
    own = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'traced.db'}", task_queue=f"traced-{uuid.uuid4()}",
        smtp_host=mailbox.host, smtp_port=mailbox.port, application_number_prefix=f"TR{uuid.uuid4().hex[:6].upper()}",
    )
    engine = make_engine(own.database_url)
    init_db(engine)
    try:
        async with build_worker(traced, own, engine):
            app = create_app(own, client=traced, engine=engine, tracer_provider=provider)
            seed_test_users(engine)
            async with StaffClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
                await http.log_in("desk-chen")
                assert (await http.get("/healthz")).status_code == 200
                application_id = (await register(http))["application_id"]
                deadline = asyncio.get_running_loop().time() + 20
                while not any(s.name.startswith("RunActivity:") for s in spans.get_finished_spans()):
                    assert asyncio.get_running_loop().time() < deadline, [s.name for s in spans.get_finished_spans()]
                    await asyncio.sleep(0.1)
    finally:
        engine.dispose()
        provider.shutdown()

    finished = spans.get_finished_spans()
    assert not [s.name for s in finished if "/healthz" in s.name]  # probes are not traced
    api_span = next(s for s in finished if s.name == "POST /api/v1/applications" and s.kind.name == "SERVER")
    trace_id = api_span.context.trace_id
    by_prefix = {prefix: [s for s in finished if s.name.startswith(prefix)]
                 for prefix in ("StartWorkflow:", "RunWorkflow:", "RunActivity:")}
    for prefix, found in by_prefix.items():
        assert found, f"no {prefix} span: {[s.name for s in finished]}"
        assert all(s.context.trace_id == trace_id for s in found), (prefix, [s.name for s in found])
    assert by_prefix["StartWorkflow:"][0].attributes.get("temporalWorkflowID") == application_id


# --------------------------------------------------------------------------------------------
# Draining on SIGTERM
# --------------------------------------------------------------------------------------------


async def _wait_for(path: Path, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"worker exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{path.name} not written after {timeout}s:\n{log.read_text(errors='replace')}")
        await asyncio.sleep(0.05)


async def test_worker_lets_a_running_activity_finish_on_sigterm(client: Client, tmp_path: Path):
    queue = f"drain-{uuid.uuid4()}"
    activity_seconds = 3.0
    env = {
        **os.environ,
        "DISCLOSURE_TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "DISCLOSURE_TEMPORAL_NAMESPACE": client.namespace,
        "DISCLOSURE_TASK_QUEUE": queue,
        "DISCLOSURE_WORKER_GRACEFUL_SHUTDOWN_SECONDS": "20",
        "DRAIN_MARKER_DIR": str(tmp_path),
    }
    log = tmp_path / "worker.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-c", "import tests.drain_worker as m; m.main()"],
                                cwd=REPO_ROOT, env=env, stdout=out, stderr=out)
    workflow_id = f"drain-{uuid.uuid4()}"
    try:
        handle = await client.start_workflow("DrainTestWorkflow", activity_seconds, id=workflow_id, task_queue=queue)
        await _wait_for(tmp_path / "started", proc, log, timeout=20)
        proc.send_signal(signal.SIGTERM)
        signalled = asyncio.get_running_loop().time()
        await asyncio.sleep(0.5)
        assert proc.poll() is None, "worker exited while its activity was still running"
        assert not (tmp_path / "finished").exists()

        returncode = await asyncio.to_thread(proc.wait, 30)
        waited = asyncio.get_running_loop().time() - signalled
        assert returncode == 0, log.read_text(errors="replace")
        assert (tmp_path / "finished").read_text() == workflow_id
        assert waited < activity_seconds + 10

        # The server recorded the activity as completed by the stopping worker (not timed out, not retried).
        history = await handle.fetch_history()
        completed = [e for e in history.events if e.HasField("activity_task_completed_event_attributes")]
        failed = [e for e in history.events if e.HasField("activity_task_failed_event_attributes")
                  or e.HasField("activity_task_timed_out_event_attributes")]
        assert len(completed) == 1 and not failed
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        messages = [line["message"] for line in lines]
        assert any(m.startswith("worker stopping") for m in messages), messages
        assert messages[-1] == "worker stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        await client.get_workflow_handle(workflow_id).terminate("test over")

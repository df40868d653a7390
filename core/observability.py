"""Logs, traces and metrics for the API and the worker: one place, so every process looks the same.

- `configure_logging()`: JSON lines on stderr (time, level, logger, message, application_id when
  known, trace ids), with ID-card and phone numbers masked before anything is written.
- `configure_tracing(service_name)`: the process's OpenTelemetry TracerProvider; spans go to
  `DISCLOSURE_OTLP_ENDPOINT` (OTLP/HTTP) when set. The Temporal client's TracingInterceptor
  (core.temporal.connect) carries the trace from an API request into workflows and activities.
- `install_api_metrics(app, ...)`: `GET /metrics` with request counts, latencies and errors by
  route template, and the open / due-soon / overdue application counts read at scrape time.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from opentelemetry import trace

log = logging.getLogger("disclosure.observability")

# ---------------------------------------------------------------------------------------------
# Personal data in logs
# ---------------------------------------------------------------------------------------------

# The confidentiality pre-screen's own public patterns, so logs and pre-screen agree on what a number is.
from screening.prescreen import HALF_WIDTH as _HALF_WIDTH  # noqa: E402
from screening.prescreen import ID_15, ID_18, LANDLINE, MOBILE  # noqa: E402

_PII_PATTERNS: tuple[re.Pattern[str], ...] = (ID_18, ID_15, MOBILE, LANDLINE)

PII_MASK = "[已遮蔽]"


def mask_pii(text: str) -> str:
    """`text` with every resident ID number (15/18 digits) and mobile or landline number replaced.

    Matching is done on a half-width copy (full-width digits are common in Chinese text); the
    mapping is one-to-one, so positions found there are positions in the original. ID numbers are
    masked whether or not their checksum is valid: a log is no place to be precise about this.
    """
    if not text or not any(ch.isdigit() for ch in text):
        return text
    normalised = text.translate(_HALF_WIDTH)
    spans: list[tuple[int, int]] = []
    for pattern in _PII_PATTERNS:
        spans.extend(m.span() for m in pattern.finditer(normalised))
    if not spans:
        return text
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:  # overlapping matches: extend the masked region
            if end > last:
                last = end
            continue
        out.append(text[last:start])
        out.append(PII_MASK)
        last = end
    out.append(text[last:])
    return "".join(out)


class PiiMaskingFilter(logging.Filter):
    """Masks ID-card and phone numbers in the message, its arguments and any traceback.

    Attach it to handlers (not loggers): a handler's filters see records from every logger that
    propagates to it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep what we can, masked
            message = f"{record.msg} {record.args}"
        record.msg, record.args = mask_pii(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_pii(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_pii(record.stack_info)
        return True


# ---------------------------------------------------------------------------------------------
# JSON log lines
# ---------------------------------------------------------------------------------------------

# The application an API request is about (set by the request middleware from the route's
# {application_id}); activities and workflows are found through Temporal's own log extras.
current_application_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_application_id", default=None
)


def _application_id(record: logging.LogRecord) -> str | None:
    explicit = getattr(record, "application_id", None)
    if explicit:
        return str(explicit)
    for extra in ("temporal_activity", "temporal_workflow"):
        details = getattr(record, extra, None)
        if isinstance(details, dict) and details.get("workflow_id"):
            return str(details["workflow_id"])
    return current_application_id.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, application_id, trace_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        application_id = _application_id(record)
        if application_id:
            entry["application_id"] = application_id
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


_HANDLER_MARK = "_disclosure_json_handler"


def configure_logging(level: str | int = "INFO", stream=None) -> logging.Handler:
    """JSON lines with personal numbers masked, for every logger in the process. Idempotent.

    Uvicorn's loggers are pointed at the same handler so access and error lines look the same.
    """
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, _HANDLER_MARK, False)), None)
    if handler is None:
        handler = logging.StreamHandler(stream or sys.stderr)
        setattr(handler, _HANDLER_MARK, True)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(PiiMaskingFilter())
        root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    return handler


# ---------------------------------------------------------------------------------------------
# Tracing
# ---------------------------------------------------------------------------------------------

_tracer_provider = None


def otlp_traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a collector base URL ("http://collector:4318")."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


def configure_tracing(service_name: str, *, otlp_endpoint: str | None = None):
    """The process's TracerProvider, made once and set as the global one.

    Spans are exported over OTLP/HTTP when `otlp_endpoint` (or DISCLOSURE_OTLP_ENDPOINT) is set
    and the exporter package is installed; otherwise they are created (so trace ids still tie
    log lines together) and dropped.
    """
    global _tracer_provider
    if _tracer_provider is not None:
        return _tracer_provider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    endpoint = otlp_endpoint or os.environ.get("DISCLOSURE_OTLP_ENDPOINT")
    if endpoint:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            log.warning("DISCLOSURE_OTLP_ENDPOINT is set but the OTLP exporter is not installed; spans are dropped")
        else:
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_traces_url(endpoint))))
    trace.set_tracer_provider(provider)
    # Another library may have set the global provider first; use whichever is in force.
    _tracer_provider = trace.get_tracer_provider()
    return _tracer_provider


def shutdown_observability() -> None:
    """Export the spans still buffered and flush every log handler (before a process exits)."""
    if _tracer_provider is not None and hasattr(_tracer_provider, "shutdown"):
        try:
            _tracer_provider.shutdown()
        except Exception:  # pragma: no cover - never let exporting block an exit
            log.warning("tracer provider did not shut down cleanly", exc_info=True)
    logging.shutdown()


# Probes and scrapes would drown the traces that matter.
UNTRACED_PATHS = ("/healthz", "/readyz", "/metrics")


def instrument_app(app, tracer_provider=None) -> None:
    """Server spans for every request (named by route template), continuing an incoming traceparent."""
    try:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    except ImportError:  # pragma: no cover - the package is a dependency; this is the fallback
        app.add_middleware(ServerSpanMiddleware, tracer_provider=tracer_provider)
        return
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=tracer_provider,
        excluded_urls=",".join(f"{path}$" for path in UNTRACED_PATHS),  # searched in the full URL
        exclude_spans=["receive", "send"],
    )


class ServerSpanMiddleware:
    """A minimal server-span middleware, used only when opentelemetry-instrumentation-fastapi is absent."""

    def __init__(self, app, tracer_provider=None) -> None:
        self.app = app
        self.tracer = trace.get_tracer("disclosure.api", tracer_provider=tracer_provider)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] in UNTRACED_PATHS:
            await self.app(scope, receive, send)
            return
        from opentelemetry.propagate import extract

        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        template, _ = route_template(scope)
        status_code = 500

        async def send_with_status(message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        with self.tracer.start_as_current_span(
            f"{scope['method']} {template}", context=extract(headers), kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": scope["method"], "http.route": template},
        ) as span:
            await self.app(scope, receive, send_with_status)
            span.set_attribute("http.response.status_code", status_code)


# ---------------------------------------------------------------------------------------------
# API metrics
# ---------------------------------------------------------------------------------------------

UNMATCHED_ROUTE = "<unmatched>"


def _iter_route_contexts(routes):
    """Every route with its full template (FastAPI >= 0.137.2 nests included routers).

    FastAPI is imported on the first request, not with this module: the worker imports this module
    for logging and tracing and has no use for FastAPI (about 11 MiB of its memory).
    """
    global _iter_route_contexts
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI: routes are flat already
        def iter_route_contexts(routes):
            return iter(routes)
    _iter_route_contexts = iter_route_contexts
    return iter_route_contexts(routes)


def route_template(scope) -> tuple[str, dict[str, Any]]:
    """The route template a request matches (`/api/v1/applications/{application_id}`) and its parameters.

    Never the raw path: that would put application numbers into metric labels.
    """
    from starlette.routing import Match

    app = scope.get("app")
    routes = getattr(getattr(app, "router", None), "routes", ())
    partial: str | None = None
    for route in _iter_route_contexts(routes):
        match, child_scope = route.matches(scope)
        if match == Match.FULL:
            return getattr(route, "path", None) or UNMATCHED_ROUTE, child_scope.get("path_params", {})
        if match == Match.PARTIAL and partial is None:  # right path, wrong method (405)
            partial = getattr(route, "path", None)
    return partial or UNMATCHED_ROUTE, {}


class ApiMetrics:
    """The API's request metrics, in their own registry (one per app, so tests can build many apps)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "disclosure_api_requests", "HTTP requests handled, by method, route template and status.",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "disclosure_api_request_duration_seconds", "Time to answer an HTTP request, by method and route template.",
            ["method", "route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.errors = Counter(
            "disclosure_api_request_errors", "HTTP requests that failed on the server side (5xx or unhandled).",
            ["method", "route"], registry=self.registry,
        )


class RequestMetricsMiddleware:
    """Counts and times every HTTP request by route template; tags log lines with the application id."""

    def __init__(self, app, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        template, params = route_template(scope)
        token = current_application_id.set(params.get("application_id"))
        status_code = 500
        started = time.perf_counter()

        async def send_with_status(message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        except BaseException:
            status_code = 500
            raise
        finally:
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
            self.metrics.requests.labels(method, template, str(status_code)).inc()
            if status_code >= 500:
                self.metrics.errors.labels(method, template).inc()
            current_application_id.reset(token)


class ApplicationGauges:
    """Open, due within 3 working days and overdue applications, counted in the database at scrape time.

    One COUNT query per scrape over the open applications. "Due within 3 working days": not
    overdue and due between today and the end of the 3rd working day after today (today being
    day 0, moved to the next working day when it is not one). "Overdue": flagged overdue by its
    workflow, or its due date has passed (Shanghai time). Final statuses: db.models.CLOSED_STATUSES.
    """

    DUE_SOON_WORKING_DAYS = 3

    def __init__(self, engine, calendar: Callable[[], Any], today: Callable[[], date] | None = None) -> None:
        self._engine = engine
        self._calendar = calendar  # () -> WorkCalendar
        self._today = today or _shanghai_today

    def counts(self) -> tuple[int, int, int]:
        from clock import add_working_days_from
        from db.gauges import application_counts  # the SQL lives with the tables

        today = self._today()
        horizon, _ = add_working_days_from(self._calendar(), today, self.DUE_SOON_WORKING_DAYS)
        return application_counts(self._engine, today, horizon)

    def collect(self) -> Iterator:
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily(
            "disclosure_application_metrics_up", "1 if the application counts below could be read from the database."
        )
        try:
            open_count, due_soon_count, overdue_count = self.counts()
        except Exception as exc:  # a scrape must still answer with the request metrics
            log.warning("application counts unavailable: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("disclosure_applications_open", "Applications not yet closed, withdrawn or abandoned.",
                                value=open_count)
        yield GaugeMetricFamily(
            "disclosure_applications_due_within_3_working_days",
            "Open applications, not overdue, due by the end of the 3rd working day from today.", value=due_soon_count,
        )
        yield GaugeMetricFamily("disclosure_applications_overdue", "Open applications past their due date.",
                                value=overdue_count)

    def describe(self) -> Iterable:
        return []  # counted at scrape time; nothing to read at registration


def _shanghai_today() -> date:
    from core import clock

    return clock.today()


def install_api_metrics(app, engine, calendar: Callable[[], Any]) -> ApiMetrics:
    """`GET /metrics` (Prometheus text format) and the request-metrics middleware on `app`."""
    from fastapi import Response
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    metrics = ApiMetrics()
    metrics.registry.register(ApplicationGauges(engine, calendar))
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.state.metrics = metrics
    return metrics

"""The FastAPI application: thin HTTP translation over workflows (actions) and the database (lists)."""

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from opentelemetry.trace import TracerProvider
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api.deps import CalendarSource
from api.routes import applications, calendar, consultations, health, letters
from core.config import Settings, get_settings
from core.observability import configure_logging, configure_tracing, install_api_metrics, instrument_app
from core.temporal import connect
from db.session import init_db, make_engine
from workcalendar import WorkCalendar

log = logging.getLogger("disclosure.api")


def create_app(
    settings: Settings | None = None,
    *,
    client: Client | None = None,
    engine: Engine | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """Tests pass a client and engine; the running system lets the lifespan make them.

    The running system (no client given) also sets up JSON logs and the process's tracer
    provider; tests keep pytest's logging and may pass their own `tracer_provider`.
    """
    settings = settings or get_settings()
    if client is None:
        configure_logging(settings.log_level)
        tracer_provider = tracer_provider or configure_tracing("disclosure-api", otlp_endpoint=settings.otlp_endpoint)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if getattr(app.state, "temporal", None) is None:
            app.state.temporal = await connect(settings)
        yield

    app = FastAPI(
        title="政府信息公开申请办理 API",
        version="0.1.0",
        description="Disclosure applications (依申请公开) as durable workflows.",
        lifespan=lifespan,
    )
    engine = engine or make_engine(settings.database_url)
    init_db(engine)
    app.state.settings, app.state.engine, app.state.temporal = settings, engine, client
    app.state.calendar = CalendarSource(engine)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
            content={"detail": "系统内部错误，操作未完成，请稍后重试或联系管理员"},
        )

    for module in (applications, consultations, calendar, health, letters):
        app.include_router(module.router)
    install_api_metrics(app, engine, lambda: WorkCalendar(app.state.calendar.current()))
    instrument_app(app, tracer_provider)
    return app

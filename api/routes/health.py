"""Liveness and readiness for orchestrators and load balancers.

`GET /healthz`: the process answers (no I/O). `GET /readyz`: the database answers `SELECT 1` and
the Temporal frontend reports healthy; otherwise 503 naming the dependency that failed. Error
details go to the log, not to the response (a database error can name hosts and users).
"""

import asyncio
import logging
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])
log = logging.getLogger("disclosure.api.health")

CHECK_TIMEOUT_SECONDS = 3.0


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _select_one(engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1")).scalar_one()


async def _check_database(request: Request) -> str | None:
    try:
        await asyncio.wait_for(asyncio.to_thread(_select_one, request.app.state.engine), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("readiness: database check failed: %r", exc)
        return f"unreachable ({type(exc).__name__})"
    return None


async def _check_temporal(request: Request) -> str | None:
    client = getattr(request.app.state, "temporal", None)
    if client is None:
        return "not connected"
    try:
        healthy = await asyncio.wait_for(
            client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT_SECONDS)),
            CHECK_TIMEOUT_SECONDS + 1,
        )
    except Exception as exc:
        log.warning("readiness: Temporal check failed: %r", exc)
        return f"unreachable ({type(exc).__name__})"
    return None if healthy else "not serving"


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    database, temporal = await asyncio.gather(_check_database(request), _check_temporal(request))
    checks = {"database": database or "ok", "temporal": temporal or "ok"}
    failed = [name for name, problem in (("database", database), ("temporal", temporal)) if problem]
    if failed:
        return JSONResponse(status_code=503, content={"status": "unavailable", "failed": failed, "checks": checks})
    return JSONResponse(content={"status": "ready", "checks": checks})

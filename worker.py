"""The worker process: runs application workflows and their activities until told to stop.

`python worker.py` reads its settings from DISCLOSURE_* environment variables (core/config.py).
It logs JSON lines, traces through the client's OpenTelemetry interceptor and, when
DISCLOSURE_WORKER_METRICS_ADDRESS is set, serves the Temporal SDK's Prometheus metrics there.
On SIGINT/SIGTERM it stops polling and lets activities in flight finish (up to
DISCLOSURE_WORKER_GRACEFUL_SHUTDOWN_SECONDS) before exiting.
"""

import asyncio
import compileall
import logging
import os
import signal
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, NoReturn

from temporalio.worker import Worker

from core.config import get_settings
from core.observability import configure_logging, configure_tracing, shutdown_observability
from core.temporal import build_worker, connect
from db.session import init_db, make_engine
from services.agencies import ensure_first_agency

log = logging.getLogger("disclosure.worker")
PROJECT_ROOT = Path(__file__).resolve().parent
NOT_SHIPPED = {"tests", "bench", "scripts", "build"}


def ensure_bytecode(root: Path = PROJECT_ROOT) -> None:
    """Write the project's missing or stale .pyc files before the first workflow runs.

    The workflow sandbox imports workflows/*.py afresh for every workflow instance it creates; with
    no .pyc beside the source (PYTHONDONTWRITEBYTECODE=1, as in the Dockerfile and many CI set-ups)
    each import compiles the source again, about a quarter of the worker's CPU per new application.
    PYTHONDONTWRITEBYTECODE only stops the import system writing .pyc files; they are still read,
    and compileall writes them whatever sys.dont_write_bytecode says. Up-to-date files are skipped
    (a stat each); an unwritable tree (the image compiles at build time) is only logged.
    """
    started = time.perf_counter()
    packages = sorted(p for p in root.iterdir()
                      if p.is_dir() and p.name not in NOT_SHIPPED and (p / "__init__.py").exists())
    ok = True
    for package in packages:
        try:
            ok = compileall.compile_dir(package, quiet=2, workers=1) and ok
        except OSError as error:
            ok = False
            log.warning("cannot write bytecode for %s: %s", package, error)
    log.info("bytecode of %d project packages checked in %.2f s%s", len(packages), time.perf_counter() - started,
             "" if ok else " (some files could not be compiled or written; they compile at each import)")


async def serve(worker: Worker, ready_message: str, *args: object) -> None:
    """Run `worker` until SIGINT/SIGTERM, then shut it down gracefully.

    Leaving `async with worker` is `worker.shutdown()`: polling stops at once, activities in
    flight get the worker's graceful_shutdown_timeout to finish (then they are cancelled).
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with worker:
            log.info(ready_message, *args)
            await stop.wait()
            log.info("worker stopping; activities in flight get up to %s to finish",
                     worker.config().get("graceful_shutdown_timeout"))
        log.info("worker stopped")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def main() -> None:
    settings = get_settings()
    settings.refuse_example_values()  # issue 24 point 6: no letter in the example agency's name outside `make run`
    ensure_bytecode()
    configure_tracing("disclosure-worker", otlp_endpoint=settings.otlp_endpoint)
    engine = make_engine(settings.database_url)
    init_db(engine)
    ensure_first_agency(engine, settings)  # issue 25: rows written outside a request belong to the first agency
    client = await connect(settings, worker_process=True)
    worker = build_worker(client, settings, engine)
    if settings.worker_metrics_address:
        log.info("Temporal SDK metrics on http://%s/metrics", settings.worker_metrics_address)
    try:
        await serve(worker, "worker polling task queue %s on %s", settings.task_queue, settings.temporal_address)
    finally:
        engine.dispose()


def run_then_exit(main_coroutine: Coroutine[Any, Any, None]) -> NoReturn:
    """Run the process's main coroutine; after a clean stop, exit without interpreter finalization.

    The Temporal SDK's native threads can outlive the event loop and abort CPython's
    finalization ("PyGILState_Release ... finalizing", SIGABRT; temporalio sdk-python issue 300),
    which would turn a clean drain into exit code 134. Everything worth keeping (spans, log lines)
    is flushed first. An exception still propagates and exits non-zero the ordinary way.
    """
    asyncio.run(main_coroutine)
    shutdown_observability()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    configure_logging(get_settings().log_level)
    run_then_exit(main())

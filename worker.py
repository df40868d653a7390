"""The worker process: runs application workflows and their activities until told to stop.

`python worker.py` reads its settings from DISCLOSURE_* environment variables (core/config.py).
It logs JSON lines, traces through the client's OpenTelemetry interceptor and, when
DISCLOSURE_WORKER_METRICS_ADDRESS is set, serves the Temporal SDK's Prometheus metrics there.
On SIGINT/SIGTERM it stops polling and lets activities in flight finish (up to
DISCLOSURE_WORKER_GRACEFUL_SHUTDOWN_SECONDS) before exiting.
"""

import asyncio
import compileall
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import signal
import sys
import time
from collections.abc import Coroutine, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from core.config import Settings, get_settings
from core.observability import configure_logging, configure_tracing, shutdown_observability
from core.temporal import connect
from db.session import init_db, make_engine
from services.agencies import ensure_first_agency

log = logging.getLogger("disclosure.worker")
PROJECT_ROOT = Path(__file__).resolve().parent
NOT_SHIPPED = {"tests", "bench", "scripts", "build"}


# --- what the worker runs: its workflows, activities and sandbox (assembled here, not in core/) ----------------

def workflow_classes() -> Sequence[type]:
    from workflows.application import DisclosureApplicationWorkflow
    from workflows.calendar_broadcast import CalendarBroadcastBatchesWorkflow, CalendarBroadcastWorkflow
    from workflows.consultation import ConsultationWorkflow

    from workflows.corrections import CorrectionWorkflow
    from workflows.proactive import CatalogueItemWorkflow, PublicOpinionWorkflow  # 政务公开 (issue 13)
    from workflows.proactive_calendar import DeadlineCalendarBroadcastWorkflow
    from workflows.inquiry import InquiryWorkflow  # issue 26
    from workflows.participation import DraftForCommentWorkflow  # issue 26
    from workflows.release_screening import (  # issue 22: released files screened and redacted
        ReleaseFileRedactionWorkflow,
        ReleaseFileScreeningWorkflow,
    )

    return [DisclosureApplicationWorkflow, ConsultationWorkflow, CalendarBroadcastWorkflow,
            CalendarBroadcastBatchesWorkflow, CatalogueItemWorkflow, PublicOpinionWorkflow, CorrectionWorkflow,
            DeadlineCalendarBroadcastWorkflow, DraftForCommentWorkflow, InquiryWorkflow,
            ReleaseFileScreeningWorkflow, ReleaseFileRedactionWorkflow]


def build_worker(client: Client, settings: Settings, engine) -> Worker:
    """The worker; interceptors (tracing) come from the client.

    On shutdown it stops polling at once and gives activities in flight
    `worker_graceful_shutdown_seconds` to finish before cancelling them.
    """
    from activities.disclosure import DisclosureActivities, all_activities
    from activities.participation import participation_activities
    from activities.proactive import proactive_activities
    from activities.release import release_activities

    share_workflow_code()
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=workflow_classes(),
        activities=all_activities(disclosure := DisclosureActivities(engine, settings)) + proactive_activities(engine)
                   + participation_activities(engine, disclosure)  # issue 26
                   + release_activities(engine, settings),  # issue 22
        workflow_runner=SANDBOX,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_graceful_shutdown_seconds),
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_cached_workflows=settings.worker_max_cached_workflows,
    )


class _SharedWorkflowCodeLoader(importlib.machinery.SourceFileLoader):
    """Loads a workflows.* module's code once per process, however many sandboxes import it.

    The sandbox imports the workflow's module afresh for every workflow instance (its globals must be
    its own), and each import unmarshalled the module's .pyc again: for workflows/application.py about
    210 KiB of code objects per cached application, two thirds of what one costs a worker
    (bench/sandbox_instance.py). Code objects are immutable, so the instances share them; executing the
    shared code still gives every instance its own module, functions and classes. A file changed on disk
    (another size or mtime) is compiled again, as before.
    """

    _codes: dict[tuple[str, int, int], Any] = {}

    def get_code(self, fullname: str) -> Any:
        stat = os.stat(self.path)
        key = (self.path, stat.st_mtime_ns, stat.st_size)
        code = self._codes.get(key)
        if code is None:
            code = self._codes[key] = super().get_code(fullname)
        return code


class _SharedWorkflowCodeFinder(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        # Where each workflows.* module was found: the search of sys.path (a few stat calls per entry)
        # is made once per process, not for every workflow instance's imports (issue 15 point 2).
        self._found: dict[tuple[str, tuple[str, ...] | None], tuple[str, list[str] | None]] = {}

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "workflows" and not fullname.startswith("workflows."):
            return None
        key = (fullname, tuple(path) if path is not None else None)
        found = self._found.get(key)
        if found is None:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader or spec.origin is None:
                return spec
            locations = spec.submodule_search_locations
            found = self._found[key] = (spec.origin, list(locations) if locations is not None else None)
        origin, locations = found
        return importlib.util.spec_from_file_location(
            fullname, origin, loader=_SharedWorkflowCodeLoader(fullname, origin),
            submodule_search_locations=list(locations) if locations is not None else None)


def share_workflow_code() -> None:
    """Install the finder above (once) ahead of the path finder; the sandbox's imports go through it."""
    if not any(isinstance(finder, _SharedWorkflowCodeFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SharedWorkflowCodeFinder())


# Pydantic's e-mail validation runs when workflow messages are built; its modules are pure and
# stateless, so they are shared with the sandbox instead of re-imported for every workflow.
# OpenTelemetry is shared too: the tracing interceptor's workflow side uses the process's context.
# The application workflow's own module is shared as well (issue 15 point 2): re-executing it for every new
# application (its class with some forty handlers, each inspected by @workflow.defn, and its hundred imports
# through the sandbox's importer) was a fifth of a worker's CPU on the way to an acknowledgment. Every module
# it imports was already passed through (its rules, messages and letter delivery); it keeps no module state
# (constants only: each workflow's state is its instance's), and what it commands is checked against every
# recorded history by tests/test_replay.py. What the sandbox no longer catches in that one file is a direct
# non-deterministic call (datetime.now(), random): it uses workflow.now() only, as the rest of the workflows.
# The safety net kept for it: tests/test_replay.py also replays every recorded history in STRICT_SANDBOX, where
# the module is executed in the sandbox with its restrictions, so such a call on a recorded path fails there.
SHARED_WORKFLOW_MODULES = ("workflows.application", "workflows.application_intake", "workflows.application_period",
                           "workflows.application_fees", "workflows.application_consultations",
                           "workflows.application_reply", "workflows.application_service",
                           "workflows.application_calendar", "workflows.application_records")


_SHARED_LIBRARIES = ("email_validator", "idna", "opentelemetry")


SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(*_SHARED_LIBRARIES, *SHARED_WORKFLOW_MODULES)
)


STRICT_SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(*_SHARED_LIBRARIES)
)


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

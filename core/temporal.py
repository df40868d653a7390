"""How every process reaches Temporal and what a worker runs: one place, so API, worker and tests agree."""

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.converter import DataConverter
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.service import TLSConfig
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from core.codec import encrypted_data_converter
from core.config import Settings

# The worker process's Temporal runtime, made once: it owns the Prometheus listener (a second
# runtime on the same address would fail to bind) and forwards the SDK core's own log lines
# (otherwise plain text on stderr) into Python logging, so they come out as JSON like the rest.
_worker_runtime: Runtime | None = None
CORE_LOGGER = "temporalio.core"


def worker_runtime(settings: Settings) -> Runtime:
    """The process's worker runtime; the first call's settings decide it (metrics address included)."""
    global _worker_runtime
    if _worker_runtime is None:
        _worker_runtime = Runtime(
            telemetry=TelemetryConfig(
                logging=LoggingConfig(
                    filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                    forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
                ),
                metrics=(
                    PrometheusConfig(bind_address=settings.worker_metrics_address)
                    if settings.worker_metrics_address
                    else None
                ),
            )
        )
    return _worker_runtime


class TemporalTLSError(ValueError):
    """A TLS setting that cannot work: the message names the DISCLOSURE_ variable and what to fix."""


def _pem(variable: str, path: Path | None) -> bytes | None:
    """The bytes of one PEM file of the TLS settings, or a TemporalTLSError naming the setting."""
    if path is None:
        return None
    if not path.is_file():
        raise TemporalTLSError(f"{variable}={path}: no such file (mount it into the container, or unset the setting)")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise TemporalTLSError(f"{variable}={path}: cannot be read ({error.strerror})") from error
    if not data.strip():
        raise TemporalTLSError(f"{variable}={path}: the file is empty")
    return data


def tls_config(settings: Settings) -> bool | TLSConfig | None:
    """TLS to Temporal from settings, off unless a TLS setting is given.

    mTLS: client certificate + key (DISCLOSURE_TEMPORAL_TLS_CERT_PATH, _KEY_PATH); a private CA for the
    server's certificate (_SERVER_CA_PATH); the name that certificate must carry (_SERVER_NAME). Any of
    them gives a TLSConfig; DISCLOSURE_TEMPORAL_TLS=true alone gives TLS with the system's roots (True).
    None lets the SDK decide: TLS on when an API key is set (Temporal Cloud), off otherwise.
    A missing, unreadable or empty file is a TemporalTLSError naming the setting, at start-up.
    """
    cert_path, key_path = settings.temporal_tls_cert_path, settings.temporal_tls_key_path
    if (cert_path is None) != (key_path is None):
        raise TemporalTLSError(
            "DISCLOSURE_TEMPORAL_TLS_CERT_PATH and DISCLOSURE_TEMPORAL_TLS_KEY_PATH must be set together")
    cert = _pem("DISCLOSURE_TEMPORAL_TLS_CERT_PATH", cert_path)
    key = _pem("DISCLOSURE_TEMPORAL_TLS_KEY_PATH", key_path)
    ca = _pem("DISCLOSURE_TEMPORAL_TLS_SERVER_CA_PATH", settings.temporal_tls_server_ca_path)
    server_name = settings.temporal_tls_server_name
    if cert is not None or ca is not None or server_name:
        return TLSConfig(client_cert=cert, client_private_key=key, server_root_ca_cert=ca, domain=server_name or None)
    if settings.temporal_tls:
        return True
    return None


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic JSON, then AES-GCM (core/codec.py) with DISCLOSURE_CODEC_KEYS: required, never plain."""
    spec = settings.codec_keys.get_secret_value() if settings.codec_keys else ""
    return encrypted_data_converter(spec)


async def connect(settings: Settings, *, worker_process: bool = False) -> Client:
    """A client with the Pydantic converter and OpenTelemetry tracing (also used by workers built from it).

    `worker_process=True` (worker.py) gives it the worker runtime: the SDK's Prometheus metrics on
    `settings.worker_metrics_address` when that is set, and the SDK core's logs in Python logging.
    """
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        interceptors=[TracingInterceptor()],
        tls=tls_config(settings),
        api_key=settings.temporal_api_key or None,
        runtime=worker_runtime(settings) if worker_process else None,
    )


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

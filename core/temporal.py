"""How every process reaches Temporal: one place, so API, worker and tests agree (what a worker runs: worker.py)."""

import logging
from pathlib import Path

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



"""Settings from the environment (prefix DISCLOSURE_), one object for API, worker and commands."""

from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISCLOSURE_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = "sqlite:///data/disclosure.db"

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "disclosure"
    # An existing cluster or Temporal Cloud: mTLS with a client certificate and key (paths to PEM
    # files), plain TLS with the system's trust store (`temporal_tls=true`), or an API key (which
    # turns TLS on by itself).
    temporal_tls: bool = False
    temporal_tls_cert_path: Path | None = None
    temporal_tls_key_path: Path | None = None
    temporal_api_key: str | None = None
    # A private CA for a self-hosted cluster's server certificate (PEM); None = the system's roots.
    temporal_tls_server_ca_path: Path | None = None
    # The worker's Temporal SDK runtime metrics (Prometheus), e.g. "0.0.0.0:9464"; None = off.
    worker_metrics_address: str | None = None
    # On SIGTERM the worker stops polling and waits this long for activities in flight to finish.
    worker_graceful_shutdown_seconds: float = 30.0
    # OpenTelemetry traces go to this OTLP/HTTP endpoint (e.g. "http://otel-collector:4318"); None = not exported.
    otlp_endpoint: str | None = None
    log_level: str = "INFO"

    api_host: str = "127.0.0.1"
    api_port: int = 8000

    agency_name: str = "某市统计局"
    application_number_prefix: str = "GK"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_sender: str = "gkb@agency.example.gov.cn"
    smtp_timeout_seconds: float = 10.0
    supervisor_email: str | None = None
    reminder_days_before_due: int = 3
    # A receipt date older than this is almost always a typing error (2003 for 2026); a genuinely
    # late registration that old needs an administrator to raise the limit.
    max_receipt_age_days: int = 366

    @field_validator(
        "temporal_tls_cert_path", "temporal_tls_key_path", "temporal_tls_server_ca_path", "temporal_api_key",
        "supervisor_email", "worker_metrics_address", "otlp_endpoint", mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`VAR=` in an environment file or `${VAR:-}` in docker-compose.yml means "not set" (not Path("."))."""
        return None if isinstance(value, str) and not value.strip() else value


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Settings from the environment (prefix DISCLOSURE_), one object for API, worker and commands."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISCLOSURE_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = "sqlite:///data/disclosure.db"

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "disclosure"

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


@lru_cache
def get_settings() -> Settings:
    return Settings()

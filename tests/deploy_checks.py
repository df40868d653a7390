"""Shared by tests/test_compose.py and tests/test_deploy.py: would the API and the worker start on this environment?

The deployment files (docker-compose.yml, deploy/kubernetes/) each give the application's processes an
environment; this builds Settings from exactly that environment (none of the test process's own DISCLOSURE_*
variables, no .env file) and runs what the API and the worker check before they serve: the agency's own values
(issue 24 point 6), the token secret, the payload encryption keys, the TLS settings, a PostgreSQL database.
"""

import base64
import os
from unittest import mock

from core.config import Settings
from core.temporal import data_converter, tls_config

# What an operator types for the secrets (a valid shape, not a real key).
OPERATOR_SECRETS = {
    "POSTGRES_PASSWORD": "operator-postgres-password",
    "DISCLOSURE_JWT_SECRET": "operator-jwt-secret-of-more-than-32-characters",
    "DISCLOSURE_CODEC_KEYS": "k1:" + base64.b64encode(bytes(range(32))).decode(),
}
# The agency's own values as an operator fills them in (none of them an example value).
OPERATOR_AGENCY = {
    "DISCLOSURE_AGENCY_NAME": "福州市统计局",
    "DISCLOSURE_DOCUMENT_NUMBER_PREFIX": "榕统",
    "DISCLOSURE_RECONSIDERATION_BODY": "福州市人民政府",
    "DISCLOSURE_COURT": "福州市鼓楼区人民法院",
    "DISCLOSURE_SMTP_HOST": "smtp.agency.gov.cn",
    "DISCLOSURE_SMTP_SENDER": "gkb@tjj.fuzhou.gov.cn",
}


def settings_from(environment: dict[str, str]) -> Settings:
    """Settings as a process whose whole DISCLOSURE_* environment is `environment` builds them."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("DISCLOSURE_")}
    with mock.patch.dict(os.environ, {**kept, **environment}, clear=True):
        return Settings(_env_file=None)


def check_the_app_starts(environment: dict[str, str]) -> Settings:
    """Raise what the API or the worker would raise at start on this environment; the settings otherwise."""
    settings = settings_from(environment)
    settings.refuse_example_values()
    settings.require_jwt_secret()
    data_converter(settings)  # DISCLOSURE_CODEC_KEYS parsed: required, never plain
    tls_config(settings)
    if not settings.database_url.startswith("postgresql+psycopg://"):
        raise RuntimeError(f"DISCLOSURE_DATABASE_URL is not PostgreSQL: {settings.database_url!r}")
    return settings

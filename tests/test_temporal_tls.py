"""TLS between the API/workers and Temporal (issue 25 point 7): off by default, on by settings.

The settings are given as an operator gives them, DISCLOSURE_* variables in the environment (compose's
`${VAR:-}` makes an unset one an empty string), and core.temporal.tls_config turns them into what
temporalio's Client.connect takes. No server is needed: what is checked is the TLSConfig itself.
"""

from pathlib import Path

import pytest
from temporalio.service import TLSConfig

from core.config import Settings
from core.temporal import TemporalTLSError, tls_config

TLS_VARIABLES = ("DISCLOSURE_TEMPORAL_TLS", "DISCLOSURE_TEMPORAL_TLS_CERT_PATH", "DISCLOSURE_TEMPORAL_TLS_KEY_PATH",
                 "DISCLOSURE_TEMPORAL_TLS_SERVER_CA_PATH", "DISCLOSURE_TEMPORAL_TLS_SERVER_NAME",
                 "DISCLOSURE_TEMPORAL_API_KEY")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Settings from exactly these TLS variables, read in a directory without a .env file."""
    monkeypatch.chdir(tmp_path)

    def settings(**variables: str) -> Settings:
        for name in TLS_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(f"DISCLOSURE_{name.upper()}", value)
        return Settings()

    return settings


@pytest.fixture
def pem_files(tmp_path: Path) -> dict[str, Path]:
    files = {"cert": b"-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n",
             "key": b"-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n",
             "ca": b"-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n"}
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name}.pem"
        paths[name].write_bytes(content)
    return paths


def test_tls_is_off_by_default_and_with_empty_values(environment) -> None:
    assert tls_config(environment()) is None
    # docker-compose.yml passes every optional setting as ${VAR:-}: empty means unset, not Path(".").
    assert tls_config(environment(temporal_tls="false", temporal_tls_cert_path="", temporal_tls_key_path="",
                                  temporal_tls_server_ca_path="", temporal_tls_server_name="")) is None


def test_plain_tls_uses_the_system_roots(environment) -> None:
    assert tls_config(environment(temporal_tls="true")) is True


def test_mutual_tls_with_a_private_ca_and_a_server_name(environment, pem_files) -> None:
    config = tls_config(environment(temporal_tls_cert_path=str(pem_files["cert"]),
                                    temporal_tls_key_path=str(pem_files["key"]),
                                    temporal_tls_server_ca_path=str(pem_files["ca"]),
                                    temporal_tls_server_name="temporal-frontend"))
    assert isinstance(config, TLSConfig)
    assert config.client_cert == pem_files["cert"].read_bytes()
    assert config.client_private_key == pem_files["key"].read_bytes()
    assert config.server_root_ca_cert == pem_files["ca"].read_bytes()
    assert config.domain == "temporal-frontend"


def test_a_private_ca_alone_is_server_authenticated_tls(environment, pem_files) -> None:
    config = tls_config(environment(temporal_tls_server_ca_path=str(pem_files["ca"])))
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert == pem_files["ca"].read_bytes()
    assert (config.client_cert, config.client_private_key, config.domain) == (None, None, None)


def test_a_server_name_alone_turns_tls_on_with_the_system_roots(environment) -> None:
    config = tls_config(environment(temporal_tls_server_name="temporal.example.gov.cn"))
    assert isinstance(config, TLSConfig)
    assert config.domain == "temporal.example.gov.cn" and config.server_root_ca_cert is None


def test_a_missing_file_is_named_with_its_setting(environment, pem_files, tmp_path) -> None:
    missing = tmp_path / "certs" / "client.pem"
    with pytest.raises(TemporalTLSError, match=r"DISCLOSURE_TEMPORAL_TLS_CERT_PATH=.*certs/client\.pem: no such file"):
        tls_config(environment(temporal_tls_cert_path=str(missing), temporal_tls_key_path=str(pem_files["key"])))
    with pytest.raises(TemporalTLSError, match=r"DISCLOSURE_TEMPORAL_TLS_SERVER_CA_PATH=.*nowhere\.pem: no such file"):
        tls_config(environment(temporal_tls_server_ca_path="/nowhere.pem"))


def test_an_empty_file_or_a_directory_is_refused(environment, pem_files, tmp_path) -> None:
    empty = tmp_path / "empty.key"
    empty.write_bytes(b"\n")
    with pytest.raises(TemporalTLSError, match="DISCLOSURE_TEMPORAL_TLS_KEY_PATH=.*empty"):
        tls_config(environment(temporal_tls_cert_path=str(pem_files["cert"]), temporal_tls_key_path=str(empty)))
    with pytest.raises(TemporalTLSError, match="DISCLOSURE_TEMPORAL_TLS_SERVER_CA_PATH=.*no such file"):
        tls_config(environment(temporal_tls_server_ca_path=str(tmp_path)))


def test_a_certificate_without_its_key_is_refused(environment, pem_files) -> None:
    with pytest.raises(TemporalTLSError, match="must be set together"):
        tls_config(environment(temporal_tls_cert_path=str(pem_files["cert"])))
    with pytest.raises(TemporalTLSError, match="must be set together"):
        tls_config(environment(temporal_tls_key_path=str(pem_files["key"])))

"""docker-compose.yml: valid against the Compose Specification's schema, production-shaped, no secrets.

The schema is the official one, vendored from a registry package (tests/schemas/README.md). Compose
validates a file after interpolating ${...}; so does this test, with the values of .env.example and
placeholders for the secrets an operator must fill in.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from core.config import Settings
from core.temporal import TemporalTLSError, tls_config
from tests.deploy_checks import OPERATOR_AGENCY, OPERATOR_SECRETS, check_the_app_starts
from workflows.search_attributes import REGISTRATION

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "compose-spec.json").read_text())

INTERPOLATION = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.IGNORECASE)
URL_CREDENTIALS = re.compile(r"://[^/:@\s]+:(?P<password>[^@\s]+)@")
ONLY_REQUIRED_VARIABLE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}$")
ONLY_OPTIONAL_EMPTY_VARIABLE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-)?\}$")


def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def operator_environment() -> dict[str, str]:
    """.env.example as an operator fills it in: every empty required value gets a placeholder."""
    return {name: value or f"placeholder-{name.lower()}" for name, value in env_example().items()}


def interpolate(value: Any, environment: dict[str, str]) -> Any:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error} and $$."""
    if isinstance(value, dict):
        return {key: interpolate(item, environment) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, environment) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        current = environment.get(name)
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if op in ("?", ":?") and unset:
            raise KeyError(f"{name}: {arg}")
        if op in ("-", ":-") and unset:
            return arg
        return current or ""

    return INTERPOLATION.sub(substitute, value)


def resolved(environment: dict[str, str] | None = None) -> dict[str, Any]:
    return interpolate(raw(), operator_environment() if environment is None else environment)


def strings(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every (path, string) in the file, keys of mappings included in the path."""
    if isinstance(node, dict):
        return [found for key, item in node.items() for found in strings(item, f"{path}.{key}")]
    if isinstance(node, list):
        return [found for i, item in enumerate(node) for found in strings(item, f"{path}[{i}]")]
    return [(path, str(node))] if isinstance(node, str | int | float | bool) else []


# --- the Compose Specification ----------------------------------------------------------------------


def test_the_vendored_schema_is_the_compose_specification() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["title"] == "Compose Specification"
    assert {"services", "volumes", "include", "models"} <= set(SCHEMA["properties"])


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    errors = sorted(jsonschema.Draft7Validator(SCHEMA).iter_errors(resolved()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_the_schema_check_catches_a_mistake() -> None:
    broken = resolved()
    broken["services"]["worker"]["deploy"]["replicas"] = [3]
    broken["services"]["api"]["depends_on"]["postgresql"]["condition"] = "service_ready"
    assert len(list(jsonschema.Draft7Validator(SCHEMA).iter_errors(broken))) == 2


def test_required_settings_are_refused_when_missing() -> None:
    environment = operator_environment()
    del environment["POSTGRES_PASSWORD"]
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        resolved(environment)


@pytest.mark.skipif(not (shutil.which("docker-compose") or shutil.which("docker")), reason="no docker compose CLI")
def test_docker_compose_itself_accepts_the_file(tmp_path: Path) -> None:
    """Where the real CLI is installed (docker compose or docker-compose), it must agree: `config -q`."""
    standalone = shutil.which("docker-compose")
    command = [standalone] if standalone else [shutil.which("docker"), "compose"]
    if subprocess.run([*command, "version"], capture_output=True).returncode != 0:
        pytest.skip("the docker CLI has no compose plugin")
    environment = {"PATH": "/usr/bin:/bin", **operator_environment()}
    done = subprocess.run([*command, "-f", str(COMPOSE_FILE), "--project-directory", str(ROOT), "config", "-q"],
                          env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# --- production shape: Temporal deployed as Temporal recommends (issue 25 point 7) -------------------------------

APP_SERVICES = ("api", "worker", "migrate")
SCALED = ("api", "worker")
ONE_SHOT = ("temporal-schema", "temporal-namespace", "temporal-search-attributes", "migrate")


def test_services_and_their_images_are_pinned() -> None:
    services = resolved()["services"]
    assert set(services) == {"postgresql", "temporal-schema", "temporal", "temporal-namespace",
                             "temporal-search-attributes", "temporal-ui", "migrate", "api", "proxy", "worker"}
    assert services["postgresql"]["image"] == "postgres:16"
    for name, service in services.items():
        image = service.get("image", "")
        if "build" in service:
            continue
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: image {image!r} must be pinned to a version"
    # The server image runs the server only; auto-setup (schema and namespace at every start) is not for production.
    assert services["temporal"]["image"].startswith("temporalio/server:")
    assert not any("auto-setup" in service.get("image", "") for service in services.values())
    for name in ("temporal-schema", "temporal-namespace", "temporal-search-attributes"):
        assert services[name]["image"].startswith("temporalio/admin-tools:")
    # admin-tools ships the schema of its own server version: the two move together.
    server_version = services["temporal"]["image"].rpartition(":")[2]
    assert services["temporal-schema"]["image"].rpartition(":")[2].startswith(server_version)
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")


def test_the_schema_job_runs_before_the_server_and_before_it_nothing_temporal() -> None:
    services = resolved()["services"]
    schema = services["temporal-schema"]
    assert schema["depends_on"] == {"postgresql": {"condition": "service_healthy"}}
    assert schema["restart"] == "no", "a one-shot job: it runs to completion, once per `up`"
    assert services["temporal"]["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully"
    assert services["temporal"]["depends_on"]["postgresql"]["condition"] == "service_healthy"
    assert services["temporal-namespace"]["depends_on"]["temporal"]["condition"] == "service_healthy"
    assert (services["temporal-search-attributes"]["depends_on"]["temporal-namespace"]["condition"]
            == "service_completed_successfully")
    assert services["temporal-ui"]["depends_on"]["temporal"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"] == {"postgresql": {"condition": "service_healthy"}}
    for name in SCALED:
        depends = services[name]["depends_on"]
        assert depends["postgresql"]["condition"] == "service_healthy"
        assert depends["temporal"]["condition"] == "service_healthy"
        assert depends["temporal-search-attributes"]["condition"] == "service_completed_successfully"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"


def test_health_checks() -> None:
    services = resolved()["services"]
    assert "pg_isready" in " ".join(services["postgresql"]["healthcheck"]["test"])
    assert services["temporal"]["healthcheck"]["test"][-1] == "7233"
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])


def test_the_schema_job_creates_and_upgrades_both_stores_the_server_uses() -> None:
    services = resolved()["services"]
    job, server = services["temporal-schema"], services["temporal"]["environment"]
    script = job["command"][0]
    assert job["entrypoint"][:2] == ["/bin/sh", "-ec"], "stop at the first failing step: the server must not start"
    assert job["environment"]["SQL_PLUGIN"] == server["DB"] == "postgres12"
    assert job["environment"]["SQL_HOST"] == server["POSTGRES_SEEDS"] == "postgresql"
    assert job["environment"]["SQL_USER"] == server["POSTGRES_USER"]
    assert job["environment"]["SQL_PASSWORD"] == server["POSTGRES_PWD"]
    stores = dict(store.split(":") for store in re.search(r"for store in ([^;]+);", script).group(1).split())
    assert stores == {server["DBNAME"]: "temporal", server["VISIBILITY_DBNAME"]: "visibility"}
    for step in ('temporal-sql-tool --db "$database" create-database',
                 'temporal-sql-tool --db "$database" setup-schema -v 0.0',
                 'temporal-sql-tool --db "$database" update-schema -d "$directory"'):
        assert step in script
    assert script.index("create-database") < script.index("setup-schema") < script.index("update-schema")
    assert "schema=/etc/temporal/schema/postgresql/v12" in script


def test_the_namespace_has_a_retention_and_is_the_one_the_app_uses() -> None:
    services = resolved()["services"]
    job = services["temporal-namespace"]
    script = job["command"][0]
    assert 'namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_RETENTION"' in script
    assert 'namespace update --namespace "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_RETENTION"' in script
    assert re.fullmatch(r"\d+[dh]", job["environment"]["TEMPORAL_RETENTION"])
    namespace = job["environment"]["TEMPORAL_NAMESPACE"]
    assert namespace != "default", "our own namespace, with our retention"
    assert services["temporal-search-attributes"]["environment"]["TEMPORAL_NAMESPACE"] == namespace
    assert services["temporal-ui"]["environment"]["TEMPORAL_DEFAULT_NAMESPACE"] == namespace
    for name in APP_SERVICES:
        assert services[name]["environment"]["DISCLOSURE_TEMPORAL_NAMESPACE"] == namespace
    changed = resolved({**operator_environment(), "TEMPORAL_RETENTION": "90d", "DISCLOSURE_TEMPORAL_NAMESPACE": "gk"})
    assert changed["services"]["temporal-namespace"]["environment"] == {
        "TEMPORAL_ADDRESS": "temporal:7233", "TEMPORAL_NAMESPACE": "gk", "TEMPORAL_RETENTION": "90d"}
    assert changed["services"]["worker"]["environment"]["DISCLOSURE_TEMPORAL_NAMESPACE"] == "gk"


def test_the_dynamic_config_file_is_mounted_where_the_server_reads_it() -> None:
    temporal = resolved()["services"]["temporal"]
    source, target, mode = temporal["volumes"][0].split(":")
    assert mode == "ro" and target == "/etc/temporal/config/dynamicconfig"
    path = temporal["environment"]["DYNAMIC_CONFIG_FILE_PATH"]  # relative to the image's /etc/temporal
    assert path.startswith("config/dynamicconfig/")
    mounted = ROOT / source / path.removeprefix("config/dynamicconfig/")
    dynamic = yaml.safe_load(mounted.read_text())
    assert dynamic["frontend.enableUpdateWorkflowExecution"] == [{"value": True, "constraints": {}}]
    for key, values in dynamic.items():
        assert isinstance(values, list) and all("value" in value for value in values), key


def test_temporal_runs_on_the_postgresql_service_with_a_named_volume() -> None:
    compose = resolved()
    temporal = compose["services"]["temporal"]["environment"]
    assert temporal["DB"] == "postgres12" and temporal["POSTGRES_SEEDS"] == "postgresql"
    # One PostgreSQL server, three databases: ours and Temporal's two.
    ours = compose["services"]["postgresql"]["environment"]["POSTGRES_DB"]
    assert ours not in (temporal["DBNAME"], temporal["VISIBILITY_DBNAME"])
    assert compose["services"]["api"]["environment"]["DISCLOSURE_DATABASE_URL"].endswith(f"@postgresql:5432/{ours}")
    volume = compose["services"]["postgresql"]["volumes"][0].split(":")[0]
    assert volume in compose["volumes"], "PostgreSQL's data must live in a named volume"
    assert compose["services"]["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert "7233" not in json.dumps(compose["services"]["temporal"].get("ports", [])), "Temporal's gRPC stays inside"


def test_api_and_workers_are_this_image_and_scale_out() -> None:
    """`docker compose up --scale api=2 --scale worker=2`: no fixed name or host port on what is scaled."""
    services = resolved()["services"]
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
    assert services["api"]["command"][:3] == ["uvicorn", "--factory", "api.main:create_app"]
    assert services["api"]["command"][3:5] == ["--host", "0.0.0.0"]
    assert "--proxy-headers" in services["api"]["command"]
    assert services["worker"]["command"] == ["python", "worker.py"]
    assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
    assert int(services["worker"]["deploy"]["replicas"]) == 3
    assert int(services["api"]["deploy"]["replicas"]) == 2
    for name in SCALED:
        assert "container_name" not in services[name], f"{name}: a fixed container name prevents replicas"
        assert "ports" not in services[name], f"{name}: a published host port prevents replicas"
    for name, service in services.items():
        assert "container_name" not in service, f"{name}: no fixed container names (several projects on one host)"
    # The one published port for the API is the proxy's, which follows the replicas through compose's DNS.
    assert services["proxy"]["ports"] == ["8000:8000"]
    config = (ROOT / services["proxy"]["volumes"][0].split(":")[0]).read_text()
    assert "resolver 127.0.0.11" in config and "set $api http://api:8000;" in config and "proxy_pass $api;" in config
    for name in ONE_SHOT:
        assert services[name]["restart"] in ("no", "on-failure:5"), f"{name} is a one-shot job"


def test_the_project_search_attributes_are_registered() -> None:
    script = " ".join(resolved()["services"]["temporal-search-attributes"]["command"])
    registered = dict(re.findall(r"\b(Disclosure\w+)=(\w+)", script))
    assert registered == REGISTRATION
    assert "temporal operator search-attribute create" in script


def test_every_setting_the_app_requires_is_provided() -> None:
    """The API, worker and migrate environments, as an operator fills .env in, pass the checks the processes run
    at start (tests/deploy_checks.py); without the agency's name they would refuse to start."""
    environment = {**operator_environment(), **OPERATOR_SECRETS, **OPERATOR_AGENCY}
    services = resolved(environment)["services"]
    for name in APP_SERVICES:
        settings = check_the_app_starts(services[name]["environment"])
        assert settings.temporal_address == "temporal:7233" and settings.agency_name == "福州市统计局"
        assert tls_config(settings) is None, "TLS to Temporal is off unless set"
    without = dict(services["worker"]["environment"])
    del without["DISCLOSURE_AGENCY_NAME"]
    with pytest.raises(RuntimeError, match="DISCLOSURE_AGENCY_NAME"):
        check_the_app_starts(without)


def test_tls_to_temporal_is_set_by_the_environment_and_the_certificates_are_mounted(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n")
    environment = {**operator_environment(), **OPERATOR_SECRETS, **OPERATOR_AGENCY,
                   "DISCLOSURE_TEMPORAL_TLS_DIR": str(tmp_path),
                   "DISCLOSURE_TEMPORAL_TLS_SERVER_CA_PATH": str(tmp_path / "ca.pem"),
                   "DISCLOSURE_TEMPORAL_TLS_SERVER_NAME": "temporal-frontend"}
    services = resolved(environment)["services"]
    for name in APP_SERVICES:
        assert f"{tmp_path}:/certs:ro" in services[name]["volumes"]
        config = tls_config(check_the_app_starts(services[name]["environment"]))
        assert config.domain == "temporal-frontend" and config.server_root_ca_cert.startswith(b"-----BEGIN")
    assert resolved()["services"]["api"]["volumes"][1] == "./deploy/certs:/certs:ro"


def test_every_replica_shares_one_file_store() -> None:
    """Letters and released files are written by a worker and read by any API replica (FileStore under
    DISCLOSURE_DATA_DIR, which the image sets to /app/data): one named volume mounted there in each."""
    assert re.search(r"^\s*DISCLOSURE_DATA_DIR=/app/data\b", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    compose = resolved()
    for name in APP_SERVICES:
        assert "app-data:/app/data" in compose["services"][name]["volumes"], name
    assert "app-data" in compose["volumes"]


def test_configuration_is_only_disclosure_settings_from_the_environment() -> None:
    fields = {f"DISCLOSURE_{name.upper()}" for name in Settings.model_fields}
    for name in APP_SERVICES:
        environment = raw()["services"][name]["environment"]
        assert set(environment) <= fields, f"unknown settings: {set(environment) - fields}"
        for key, value in environment.items():
            assert "${" in str(value), f"{name}.{key} is fixed in the file; it must come from the environment"


def test_dockerfile_is_python_slim_installs_the_package_and_runs_as_a_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.MULTILINE)
    assert re.search(r"^RUN pip install '?\.(\[[a-z,]+\])?'?", dockerfile, re.MULTILINE)  # the package, with its extras
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv", "data"} <= set(ignored)


# --- no secrets ------------------------------------------------------------------------------------


def test_no_secret_is_written_in_the_file() -> None:
    for path, value in strings(raw()):
        key = path.rsplit(".", 1)[-1]
        if SECRET_NAME.search(key):
            assert ONLY_REQUIRED_VARIABLE.match(value) or ONLY_OPTIONAL_EMPTY_VARIABLE.match(value), (
                f"{path} = {value!r}: a secret must be ${{VAR:?...}} (or ${{VAR:-}}), never a value or a default")
        for credentials in URL_CREDENTIALS.finditer(value):
            assert ONLY_REQUIRED_VARIABLE.match(credentials.group("password")), (
                f"{path}: the password in {value!r} must be a required ${{VAR:?...}}")
        for match in INTERPOLATION.finditer(value):
            if match.group("name") and SECRET_NAME.search(match.group("name")) and match.group("op") in ("-", ":-"):
                assert match.group("arg") == "", f"{path}: {match.group(0)} gives a secret a default"


def test_env_example_names_every_required_variable_and_holds_no_secret() -> None:
    example = env_example()
    required = {m.group("name") for _, value in strings(raw()) for m in INTERPOLATION.finditer(value)
                if m.group("op") in ("?", ":?")}
    assert required <= set(example), f"missing from .env.example: {required - set(example)}"
    for name, value in example.items():
        if SECRET_NAME.search(name):
            assert value == "", f".env.example must leave {name} empty for the operator"
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".env" in ignored


# --- optional mTLS to the bundled server: deploy/compose/temporal-tls.yml -------------------------------------------

TLS_OVERRIDE = ROOT / "deploy" / "compose" / "temporal-tls.yml"
CERTIFICATE_FILES = ("ca.pem", "cluster.pem", "cluster.key", "client.pem", "client.key")


def merged_with_tls_override(environment: dict[str, str]) -> dict[str, Any]:
    """`docker compose -f docker-compose.yml -f deploy/compose/temporal-tls.yml`: environment mappings merged key by
    key, volumes merged by their mount point (the later file wins), as Compose merges them."""
    base = resolved(environment)
    override = interpolate(yaml.safe_load(TLS_OVERRIDE.read_text()), environment)
    for name, service in override["services"].items():
        target = base["services"][name]
        target["environment"] = {**target.get("environment", {}), **service.get("environment", {})}
        mounts = {volume.split(":")[1]: volume for volume in target.get("volumes", [])}
        mounts.update({volume.split(":")[1]: volume for volume in service.get("volumes", [])})
        if mounts:
            target["volumes"] = list(mounts.values())
    return base


def test_the_tls_override_is_valid_and_wires_every_client_to_the_same_certificates(tmp_path: Path) -> None:
    for name in CERTIFICATE_FILES:
        (tmp_path / name).write_bytes(f"-----BEGIN {name}-----\n-----END {name}-----\n".encode())
    environment = {**operator_environment(), **OPERATOR_SECRETS, **OPERATOR_AGENCY,
                   "DISCLOSURE_TEMPORAL_TLS_DIR": str(tmp_path), "TEMPORAL_TLS_SERVER_NAME": "temporal.gk.internal"}
    compose = merged_with_tls_override(environment)
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(compose))
    assert not errors, [error.message for error in errors]
    services = compose["services"]

    def on_the_host(path: str, service: str) -> Path:
        """A path inside a container, as the file on the host its read-only mount shows."""
        for volume in services[service]["volumes"]:
            source, target, *mode = volume.split(":")
            if path.startswith(target + "/"):
                assert mode == ["ro"], f"{service}: certificates are mounted read-only"
                return Path(source) / path.removeprefix(target + "/")
        raise AssertionError(f"{service}: {path} is in no mounted volume")

    server = services["temporal"]["environment"]
    assert server["TEMPORAL_TLS_REQUIRE_CLIENT_AUTH"] == "true"
    for key in ("TEMPORAL_TLS_SERVER_CA_CERT", "TEMPORAL_TLS_SERVER_CERT", "TEMPORAL_TLS_SERVER_KEY",
                "TEMPORAL_TLS_FRONTEND_CERT", "TEMPORAL_TLS_FRONTEND_KEY", "TEMPORAL_TLS_CLIENT1_CA_CERT"):
        assert on_the_host(server[key], "temporal").is_file(), key
    name = server["TEMPORAL_TLS_FRONTEND_SERVER_NAME"]
    assert name == server["TEMPORAL_TLS_INTERNODE_SERVER_NAME"] == "temporal.gk.internal"
    for service in ("temporal-namespace", "temporal-search-attributes", "temporal-ui"):
        client = services[service]["environment"]
        assert client["TEMPORAL_TLS_SERVER_NAME"] == name
        for key in ("TEMPORAL_TLS_CA", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY"):
            assert on_the_host(client[key], service).is_file(), f"{service} {key}"
    for service in APP_SERVICES:
        inside = services[service]["environment"]
        on_host = {key: str(on_the_host(value, service)) if key.endswith("_PATH") and value else value
                   for key, value in inside.items()}
        config = tls_config(check_the_app_starts(on_host))
        assert config.domain == name
        assert config.client_cert == (tmp_path / "client.pem").read_bytes()
        assert config.server_root_ca_cert == (tmp_path / "ca.pem").read_bytes()
    # Without the override nothing of this is on: TLS to Temporal is off by default.
    assert "TEMPORAL_TLS_FRONTEND_CERT" not in resolved(environment)["services"]["temporal"]["environment"]


def test_the_tls_override_names_a_missing_certificate(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    environment = {**operator_environment(), **OPERATOR_SECRETS, **OPERATOR_AGENCY,
                   "DISCLOSURE_TEMPORAL_TLS_DIR": str(tmp_path)}
    worker = merged_with_tls_override(environment)["services"]["worker"]["environment"]
    on_host = {key: value.replace("/certs", str(tmp_path)) if key.endswith("_PATH") else value
               for key, value in worker.items()}
    with pytest.raises(TemporalTLSError, match="DISCLOSURE_TEMPORAL_TLS_CERT_PATH=.*client.pem: no such file"):
        check_the_app_starts(on_host)

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


# --- production shape --------------------------------------------------------------------------------


def test_services_and_their_images_are_pinned() -> None:
    services = resolved()["services"]
    assert set(services) >= {"postgresql", "temporal", "temporal-search-attributes", "temporal-ui", "api", "worker"}
    assert services["postgresql"]["image"] == "postgres:16"
    for name, service in services.items():
        image = service.get("image", "")
        if "build" in service:
            continue
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: image {image!r} must be pinned to a version"
    assert services["temporal"]["image"].startswith("temporalio/auto-setup:")
    assert services["temporal-search-attributes"]["image"].startswith("temporalio/admin-tools:")
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")


def test_health_checks_and_start_order() -> None:
    services = resolved()["services"]
    assert "pg_isready" in " ".join(services["postgresql"]["healthcheck"]["test"])
    for name in ("postgresql", "temporal", "api"):
        assert services[name]["healthcheck"]["test"], f"{name} has no health check"
    assert services["temporal"]["depends_on"]["postgresql"]["condition"] == "service_healthy"
    assert services["temporal-search-attributes"]["depends_on"]["temporal"]["condition"] == "service_healthy"
    assert services["temporal-ui"]["depends_on"]["temporal"]["condition"] == "service_healthy"
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["postgresql"]["condition"] == "service_healthy"
        assert depends["temporal"]["condition"] == "service_healthy"
        assert depends["temporal-search-attributes"]["condition"] == "service_completed_successfully"


def test_temporal_runs_on_the_postgresql_service_with_a_named_volume() -> None:
    compose = resolved()
    temporal = compose["services"]["temporal"]["environment"]
    assert temporal["DB"] == "postgres12" and temporal["POSTGRES_SEEDS"] == "postgresql"
    volume = compose["services"]["postgresql"]["volumes"][0].split(":")[0]
    assert volume in compose["volumes"], "PostgreSQL's data must live in a named volume"
    assert compose["services"]["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_api_and_workers_are_this_image_and_workers_scale_out() -> None:
    services = resolved()["services"]
    for name in ("api", "worker"):
        assert services[name]["build"] == "."
    assert services["api"]["command"][:3] == ["uvicorn", "--factory", "api.main:create_app"]
    assert services["api"]["command"][3:5] == ["--host", "0.0.0.0"]
    assert services["worker"]["command"] == ["python", "worker.py"]
    assert int(services["worker"]["deploy"]["replicas"]) == 3
    assert "container_name" not in services["worker"], "a fixed container name prevents replicas"
    assert "ports" not in services["worker"]


def test_the_project_search_attributes_are_registered() -> None:
    script = " ".join(resolved()["services"]["temporal-search-attributes"]["command"])
    registered = dict(re.findall(r"\b(Disclosure\w+)=(\w+)", script))
    assert registered == REGISTRATION
    assert "temporal operator search-attribute create" in script


def test_configuration_is_only_disclosure_settings_from_the_environment() -> None:
    fields = {f"DISCLOSURE_{name.upper()}" for name in Settings.model_fields}
    for name in ("api", "worker"):
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

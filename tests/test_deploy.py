"""deploy/kubernetes/: our manifests valid against Kubernetes' own schema, Temporal's Helm values as Temporal's chart
expects them, and both agreeing with docker-compose.yml (issue 25 point 7). No cluster, no helm, no docker.

The manifests are checked by kubernetes-validate (PyPI), which bundles the JSON schemas of Kubernetes' OpenAPI
documents; "strict" refuses a field Kubernetes does not know (a typo such as `replica:` would otherwise be
dropped silently by the API server). The Helm values are checked against what chart 1.x of temporalio/helm-charts
reads (server.config.persistence.datastores.<store>.sql, the namespaces list, server.dynamicConfig) and refuses (the
removed sub-chart keys: the chart fails on them).
"""

import copy
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from core.config import Settings
from tests.deploy_checks import OPERATOR_SECRETS, check_the_app_starts
from tests.test_compose import SECRET_NAME, raw, resolved
from workflows.search_attributes import REGISTRATION

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES = ROOT / "deploy" / "kubernetes"
APP = KUBERNETES / "app"
HELM_VALUES = KUBERNETES / "temporal-values.yaml"
DYNAMIC_CONFIG = ROOT / "deploy" / "temporal" / "dynamicconfig" / "production.yaml"
KUBERNETES_VERSION = "1.34.0"
NAMESPACE = "disclosure"
# The Secret the operator makes (never committed): deploy/kubernetes/app/config.yaml shows the command.
SECRET = "disclosure-secrets"
# The chart's 1.x releases fail on these (its templates/_deprecations.tpl): the sub-charts were removed.
REMOVED_CHART_KEYS = {"cassandra", "elasticsearch", "prometheus", "grafana", "mysql", "postgresql"}


def manifests() -> list[tuple[str, dict[str, Any]]]:
    return [(path.name, document) for path in sorted(APP.glob("*.yaml"))
            for document in yaml.safe_load_all(path.read_text()) if document]


def objects(kind: str) -> dict[str, dict[str, Any]]:
    return {document["metadata"]["name"]: document for _, document in manifests() if document["kind"] == kind}


def helm_values() -> dict[str, Any]:
    return yaml.safe_load(HELM_VALUES.read_text())


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1
    return containers[0]


def schema_errors(document: dict[str, Any]) -> list[str]:
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [str(error)]
    return []


def secret_keys_in_the_instructions() -> set[str]:
    """The keys of the operator's `kubectl create secret generic disclosure-secrets --from-literal=...`."""
    command = (APP / "config.yaml").read_text()
    assert f"kubectl -n {NAMESPACE} create secret generic {SECRET}" in command
    return set(re.findall(r"--from-literal=(DISCLOSURE_\w+)=", command))


def environment_of(workload: dict[str, Any], secret: dict[str, str]) -> dict[str, str]:
    """The DISCLOSURE_* environment the container gets: its envFrom (ConfigMap, the Secret) then its env."""
    found: dict[str, str] = {}
    spec = container(workload)
    for source in spec.get("envFrom", []):
        if "configMapRef" in source:
            found.update(objects("ConfigMap")[source["configMapRef"]["name"]]["data"])
        else:
            assert source["secretRef"]["name"] == SECRET
            found.update(secret)
    found.update({variable["name"]: variable["value"] for variable in spec.get("env", []) if "value" in variable})
    return found


def operator_secret() -> dict[str, str]:
    return {"DISCLOSURE_DATABASE_URL": "postgresql+psycopg://disclosure:operator-password@postgresql:5432/disclosure",
            "DISCLOSURE_JWT_SECRET": OPERATOR_SECRETS["DISCLOSURE_JWT_SECRET"],
            "DISCLOSURE_CODEC_KEYS": OPERATOR_SECRETS["DISCLOSURE_CODEC_KEYS"]}


# --- Kubernetes' schema ------------------------------------------------------------------------------------------


def test_every_manifest_is_valid_against_the_kubernetes_schema() -> None:
    found = manifests()
    assert {document["kind"] for _, document in found} == {
        "ConfigMap", "Job", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
        "PersistentVolumeClaim"}
    errors = [f"{name} {document['kind']}/{document['metadata']['name']}: {error}"
              for name, document in found for error in schema_errors(document)]
    assert not errors, "\n".join(errors)


def test_the_schema_check_catches_a_mistake() -> None:
    deployment = copy.deepcopy(objects("Deployment")["disclosure-worker"])
    deployment["spec"]["replica"] = 3  # a typo Kubernetes would silently drop
    assert schema_errors(deployment)
    deployment = copy.deepcopy(objects("Deployment")["disclosure-worker"])
    container(deployment)["ports"][0]["containerPort"] = "metrics"
    assert schema_errors(deployment)
    job = copy.deepcopy(objects("Job")["disclosure-migrate"])
    del job["spec"]["template"]["spec"]["containers"][0]["name"]
    assert schema_errors(job)


def test_no_secret_is_committed() -> None:
    for name, document in manifests():
        assert document["kind"] != "Secret", f"{name}: secrets are made by the operator, never committed"
    for key, value in objects("ConfigMap")["disclosure-config"]["data"].items():
        assert not SECRET_NAME.search(key), f"{key} is a secret: it belongs in {SECRET}"
        assert "://" not in value or "@" not in value, f"{key} carries credentials"
    assert secret_keys_in_the_instructions() == set(operator_secret())


# --- our workloads ---------------------------------------------------------------------------------------------


def test_everything_is_in_one_namespace_and_every_reference_resolves() -> None:
    for name, document in manifests():
        assert document["metadata"]["namespace"] == NAMESPACE, name
    deployments, services = objects("Deployment"), objects("Service")
    for deployment in deployments.values():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert services["disclosure-api"]["spec"]["selector"].items() <= (
        deployments["disclosure-api"]["spec"]["template"]["metadata"]["labels"].items())
    for hpa in objects("HorizontalPodAutoscaler").values():
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
        assert hpa["spec"]["minReplicas"] >= 2, "one replica is no availability during a rolling restart"
    for pdb in objects("PodDisruptionBudget").values():
        assert any(pdb["spec"]["selector"]["matchLabels"].items()
                   <= deployment["spec"]["template"]["metadata"]["labels"].items()
                   for deployment in deployments.values())
    claims, config_maps = objects("PersistentVolumeClaim"), objects("ConfigMap")
    for workload in [*deployments.values(), *objects("Job").values()]:
        for source in container(workload).get("envFrom", []):
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] in config_maps
        for volume in pod_spec(workload).get("volumes", []):
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims


def test_api_and_workers_are_our_image_with_the_commands_compose_runs() -> None:
    deployments, jobs = objects("Deployment"), objects("Job")
    compose = resolved()["services"]
    images = {container(workload)["image"] for workload in (deployments["disclosure-api"],
                                                             deployments["disclosure-worker"],
                                                             jobs["disclosure-migrate"])}
    assert len(images) == 1, "the API, the workers and the migrations run one image"
    image = images.pop()
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)
    assert image == f"disclosure-workflow:{version}", "the release's own tag, never latest"
    assert container(deployments["disclosure-api"])["command"] == compose["api"]["command"]
    assert container(deployments["disclosure-worker"])["command"] == compose["worker"]["command"]
    assert container(jobs["disclosure-migrate"])["command"] == compose["migrate"]["command"]
    api = container(deployments["disclosure-api"])
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["ports"][0]["containerPort"] == 8000
    for name in ("disclosure-api", "disclosure-worker"):
        assert "hostPort" not in str(deployments[name]), "a host port pins one replica per node"
        security = pod_spec(deployments[name])["securityContext"]
        assert security["runAsNonRoot"] and security["runAsUser"] == 10001  # the image's user (Dockerfile)


def test_workers_drain_before_they_are_killed() -> None:
    worker = objects("Deployment")["disclosure-worker"]
    environment = {variable["name"]: variable["value"] for variable in container(worker)["env"]}
    drain = float(environment["DISCLOSURE_WORKER_GRACEFUL_SHUTDOWN_SECONDS"])
    assert pod_spec(worker)["terminationGracePeriodSeconds"] > drain
    assert environment == {key: value for key, value in resolved()["services"]["worker"]["environment"].items()
                           if key in environment}


def test_every_replica_shares_one_file_store() -> None:
    claim = objects("PersistentVolumeClaim")["disclosure-files"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"], "API and worker pods on different nodes write it"
    for name in ("disclosure-api", "disclosure-worker"):
        deployment = objects("Deployment")[name]
        volumes = {volume["name"]: volume for volume in pod_spec(deployment)["volumes"]}
        mounts = {mount["mountPath"]: mount["name"] for mount in container(deployment)["volumeMounts"]}
        assert volumes[mounts["/app/data"]]["persistentVolumeClaim"]["claimName"] == "disclosure-files"
        assert pod_spec(deployment)["securityContext"]["fsGroup"] == 10001


def test_the_settings_are_the_ones_compose_gives_and_the_app_starts_on_them() -> None:
    """ConfigMap + the operator's Secret (+ the worker's own env) = compose's environment, and the processes'
    start-up checks pass on it; a setting missing from the ConfigMap makes them refuse to start."""
    fields = {f"DISCLOSURE_{name.upper()}" for name in Settings.model_fields}
    compose = raw()["services"]
    deployments, jobs = objects("Deployment"), objects("Job")
    for workload, service in ((deployments["disclosure-api"], "api"), (deployments["disclosure-worker"], "worker"),
                              (jobs["disclosure-migrate"], "migrate")):
        environment = environment_of(workload, operator_secret())
        assert set(environment) <= fields, f"unknown settings: {set(environment) - fields}"
        # Compose's optional Temporal Cloud API key aside (a secret: add it to the Secret when used).
        assert set(compose[service]["environment"]) - set(environment) <= {"DISCLOSURE_TEMPORAL_API_KEY"}
        assert set(environment) <= set(compose[service]["environment"])
        settings = check_the_app_starts(environment)
        assert settings.temporal_namespace == helm_values()["server"]["config"]["namespaces"]["namespace"][0]["name"]
    without = environment_of(deployments["disclosure-worker"], operator_secret())
    del without["DISCLOSURE_COURT"]
    with pytest.raises(RuntimeError, match="DISCLOSURE_COURT"):
        check_the_app_starts(without)


def test_temporal_tls_certificates_are_an_optional_secret_mounted_read_only() -> None:
    for name in ("disclosure-api", "disclosure-worker"):
        deployment = objects("Deployment")[name]
        volumes = {volume["name"]: volume for volume in pod_spec(deployment)["volumes"]}
        mount = next(mount for mount in container(deployment)["volumeMounts"] if mount["mountPath"] == "/certs")
        assert mount["readOnly"] is True
        assert volumes[mount["name"]]["secret"] == {"secretName": "disclosure-temporal-tls", "optional": True}
    data = objects("ConfigMap")["disclosure-config"]["data"]
    assert data["DISCLOSURE_TEMPORAL_TLS"] == "false" and data["DISCLOSURE_TEMPORAL_TLS_SERVER_CA_PATH"] == ""


def test_the_search_attributes_job_registers_what_the_workflows_set() -> None:
    job = objects("Job")["disclosure-search-attributes"]
    script = " ".join(container(job)["args"])
    assert dict(re.findall(r"\b(Disclosure\w+)=(\w+)", script)) == REGISTRATION
    assert "temporal operator search-attribute create" in script
    environment = {variable["name"]: variable["valueFrom"]["configMapKeyRef"]["key"] for variable in container(job)["env"]}
    assert environment == {"TEMPORAL_ADDRESS": "DISCLOSURE_TEMPORAL_ADDRESS",
                           "TEMPORAL_NAMESPACE": "DISCLOSURE_TEMPORAL_NAMESPACE"}
    assert container(job)["image"] == f"temporalio/admin-tools:{helm_values()['admintools']['image']['tag']}"
    for job in objects("Job").values():
        assert pod_spec(job)["restartPolicy"] == "OnFailure" and job["spec"]["ttlSecondsAfterFinished"] > 0


# --- Temporal's Helm chart ---------------------------------------------------------------------------------------


def test_the_helm_values_run_the_server_image_on_postgresql() -> None:
    values = helm_values()
    assert not REMOVED_CHART_KEYS & set(values), "chart 1.x fails on the removed sub-chart keys"
    server = values["server"]
    assert server["image"]["repository"] == "temporalio/server"
    persistence = server["config"]["persistence"]
    assert "default" not in persistence and "visibility" not in persistence, "the chart's pre-1.0 layout"
    stores = persistence["datastores"]
    assert set(stores) == {persistence["defaultStore"], persistence["visibilityStore"]} == {"default", "visibility"}
    databases = {}
    for name, store in stores.items():
        assert set(store) == {"sql"}, f"{name}: PostgreSQL only (no Elasticsearch, no Cassandra)"
        sql = store["sql"]
        assert sql["pluginName"] == sql["driverName"] == "postgres12"
        assert sql["createDatabase"] is True and sql["manageSchema"] is True, "the chart's schema job, before the server"
        assert "password" not in sql and sql["existingSecret"] and sql["secretKey"]
        assert re.fullmatch(r"[a-z0-9.-]+:5432", sql["connectAddr"])
        databases[name] = sql["databaseName"]
    compose = resolved()["services"]["temporal"]["environment"]
    assert databases == {"default": compose["DBNAME"], "visibility": compose["VISIBILITY_DBNAME"]}
    assert persistence["numHistoryShards"] == int(compose["NUM_HISTORY_SHARDS"])


def test_the_helm_values_disable_what_we_do_not_run() -> None:
    values = helm_values()
    server = values["server"]
    assert server["internal-frontend"]["enabled"] is False
    assert server["frontend"]["ingress"]["enabled"] is False, "Temporal's gRPC stays inside the cluster"
    assert server["frontend"]["service"]["type"] == "ClusterIP"
    assert values["web"]["ingress"]["enabled"] is False
    assert server["metrics"]["serviceMonitor"]["enabled"] is False
    assert values["shims"] == {"dockerize": False, "elasticsearchTool": False}
    assert values["schema"]["useHelmHooks"] is True, "schema jobs as pre-install/pre-upgrade hooks: before the server"


def test_the_helm_values_set_the_namespace_retention_and_agree_with_compose() -> None:
    values = helm_values()
    namespaces = values["server"]["config"]["namespaces"]
    assert namespaces["create"] is True
    assert [namespace["name"] for namespace in namespaces["namespace"]] == [
        objects("ConfigMap")["disclosure-config"]["data"]["DISCLOSURE_TEMPORAL_NAMESPACE"]]
    compose = resolved()["services"]
    assert namespaces["namespace"][0]["retention"] == compose["temporal-namespace"]["environment"]["TEMPORAL_RETENTION"]
    assert namespaces["namespace"][0]["name"] == compose["temporal-namespace"]["environment"]["TEMPORAL_NAMESPACE"]
    # One Temporal version everywhere: the server, its schema (admin-tools) and compose's.
    server_tag = values["server"]["image"]["tag"]
    assert values["admintools"]["image"]["tag"] == server_tag
    assert compose["temporal"]["image"] == f"temporalio/server:{server_tag}"
    assert compose["temporal-schema"]["image"] == f"temporalio/admin-tools:{server_tag}"
    assert compose["temporal-ui"]["image"] == f"temporalio/ui:{values['web']['image']['tag']}"
    assert values["server"]["dynamicConfig"] == yaml.safe_load(DYNAMIC_CONFIG.read_text())


def test_the_app_reaches_the_charts_frontend_service() -> None:
    """Release "temporal" of chart "temporal": its frontend Service is temporal-frontend (the chart's
    temporal.componentname), on the port the values give."""
    port = helm_values()["server"]["frontend"]["service"]["port"]
    assert objects("ConfigMap")["disclosure-config"]["data"]["DISCLOSURE_TEMPORAL_ADDRESS"] == f"temporal-frontend:{port}"
    assert "helm install temporal temporal" in HELM_VALUES.read_text()
    assert "--version 1.6.0" in HELM_VALUES.read_text()


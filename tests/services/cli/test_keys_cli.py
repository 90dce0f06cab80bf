"""``tidings keys``: the first admin key comes from the command line and works at once; revoke stops it."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import Engine

from tests.support import run_cli


def test_create_list_and_revoke_a_key(platform: dict[str, str], db: Engine) -> None:
    created = run_cli("keys", "create", "--scope", "admin", "--name", "first admin")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert re.fullmatch(r"tdg_[0-9A-Za-z]{38}", key), "stdout holds the key alone"
    key_id = re.search(r"created key ([0-9a-f-]{36})", created.stderr).group(1)  # type: ignore[union-attr]

    with httpx.Client(base_url=platform["ingest"], headers={"Authorization": f"Bearer {key}"}) as client:
        assert client.get("/v1/api-keys").status_code == 200
        listed = run_cli("keys", "list")
        assert key_id in listed.stdout and key[:12] in listed.stdout and key not in listed.stdout

        assert run_cli("keys", "revoke", key_id).returncode == 0
        assert client.get("/v1/api-keys").status_code == 401
    assert key_id not in run_cli("keys", "list").stdout
    assert key_id in run_cli("keys", "list", "--all").stdout


def test_bad_arguments_are_refused() -> None:
    assert run_cli("keys", "create", "--scope", "root").returncode == 2
    assert run_cli("keys", "create").returncode == 2
    assert run_cli("keys", "revoke", "not-a-uuid").returncode == 2
    assert run_cli("keys", "revoke", "00000000-0000-7000-8000-000000000000").returncode == 1

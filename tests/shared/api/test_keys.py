"""API key format: recognisable prefix, checksum, only the hash stored; secrets scrubbed from logs."""

from __future__ import annotations

import logging

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from shared.api.auth import Principal
from shared.api.keys import KEY_PREFIX, Scope, generate_key, hash_key, looks_like_key, new_key
from shared.config import ObservabilitySettings
from shared.logging import RedactingFormatter, configure_logging
from shared.redaction import redact


def test_a_new_key_is_prefixed_checksummed_and_unique() -> None:
    keys = {generate_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert key.startswith(KEY_PREFIX) and len(key) == 42 and key[4:].isalnum()
        assert looks_like_key(key)


def test_a_mistyped_key_fails_its_checksum() -> None:
    key = generate_key()
    flipped = key[:10] + ("A" if key[10] != "A" else "B") + key[11:]
    assert not looks_like_key(flipped)
    assert not looks_like_key(key[:-1])
    assert not looks_like_key("ghp_" + key[4:])


@given(st.text(max_size=60))
def test_arbitrary_text_is_not_taken_for_a_key(text: str) -> None:
    assert not looks_like_key(text) or text.startswith(KEY_PREFIX)


def test_only_the_hash_is_kept_and_the_scopes_are_checked() -> None:
    made = new_key(name="importer", scopes=["ingest", Scope.query, "ingest"])
    assert made.values["key_hash"] == hash_key(made.key) and made.key not in repr(made.values)
    assert made.values["prefix"] == made.key[:12]
    assert made.values["scopes"] == ["ingest", "query"]
    with pytest.raises(ValueError):
        new_key(name="nothing", scopes=[])
    with pytest.raises(ValueError):
        new_key(name="typo", scopes=["amdin"])


def test_admin_allows_every_scope_and_others_only_their_own() -> None:
    admin = Principal(key_id=None, name="a", scopes=frozenset({"admin"}))
    ingest = Principal(key_id=None, name="i", scopes=frozenset({"ingest"}))
    assert all(admin.allows(s) for s in Scope)
    assert ingest.allows(Scope.ingest) and not ingest.allows(Scope.query) and not ingest.allows(Scope.admin)


def test_secrets_are_redacted_from_text() -> None:
    key = generate_key()
    line = f"auth {key} hook whsec_c2VjcmV0c2VjcmV0 db postgresql://app:hunter2@db/x Authorization: Bearer abc.def"
    cleaned = redact(line)
    for secret in (key, "c2VjcmV0c2VjcmV0", "hunter2", "abc.def"):
        assert secret not in cleaned
    assert "postgresql://app:[redacted]@db/x" in cleaned
    assert redact("broker redis://:s3cret@cache:6379/0") == "broker redis://:[redacted]@cache:6379/0"


def test_log_lines_never_carry_a_key(capsys: pytest.CaptureFixture[str]) -> None:
    key = generate_key()
    configure_logging(ObservabilitySettings(log_json=True), service="test")
    structlog.get_logger("t").warning("request refused", detail=f"key {key}", authorization=f"Bearer {key}")
    record = logging.LogRecord("uvicorn", logging.WARNING, __file__, 1, "header was %s", (key,), None)
    out = capsys.readouterr().err + RedactingFormatter("%(message)s").format(record)
    assert "request refused" in out and "header was" in out
    assert key not in out and key[4:] not in out

"""Standard Webhooks signatures: a valid delivery passes; anything tampered, stale or unsigned fails with
the reason; several secrets (rotation) and several signatures per header are honoured."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.channels.signing import (
    SignatureError,
    new_secret,
    secret_key,
    sign,
    verify,
    verify_websub,
    webhook_headers,
    websub_signature,
)

NOW = 1_709_630_000
BODY = b'{"title": "t", "body": "b"}'


def check(secrets: list[str], headers: dict[str, str], body: bytes = BODY, now: float = NOW) -> None:
    verify(
        secrets,
        msg_id=headers.get("webhook-id"),
        timestamp=headers.get("webhook-timestamp"),
        signature=headers.get("webhook-signature"),
        body=body,
        now=now,
        tolerance_s=300,
    )


def test_secret_form() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(secret_key(secret)) == 32
    assert new_secret() != secret


def test_signature_matches_the_specification() -> None:
    # The Standard Webhooks reference: HMAC-SHA256 over "id.timestamp.body", base64, prefixed "v1,".
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    expected = hmac.new(
        base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), b"msg_1.1614265330." + BODY, hashlib.sha256
    )
    assert sign(secret, "msg_1", 1614265330, BODY) == "v1," + base64.b64encode(expected.digest()).decode()


def test_a_valid_delivery_passes() -> None:
    secret = new_secret()
    check([secret], webhook_headers(secret, BODY, timestamp=NOW))


def test_a_tampered_body_fails() -> None:
    secret = new_secret()
    headers = webhook_headers(secret, BODY, timestamp=NOW)
    with pytest.raises(SignatureError, match="does not match") as caught:
        check([secret], headers, body=BODY.replace(b'"b"', b'"B"'))
    assert caught.value.header == "webhook-signature"


def test_another_id_fails() -> None:
    secret = new_secret()
    headers = {**webhook_headers(secret, BODY, timestamp=NOW), "webhook-id": "msg_other"}
    with pytest.raises(SignatureError, match="does not match"):
        check([secret], headers)


@pytest.mark.parametrize(("offset", "reason"), [(-301, "old"), (301, "future")])
def test_a_timestamp_outside_the_tolerance_fails(offset: int, reason: str) -> None:
    secret = new_secret()
    headers = webhook_headers(secret, BODY, timestamp=NOW + offset)
    with pytest.raises(SignatureError, match=reason) as caught:
        check([secret], headers)
    assert caught.value.header == "webhook-timestamp"


def test_the_edge_of_the_tolerance_passes() -> None:
    secret = new_secret()
    check([secret], webhook_headers(secret, BODY, timestamp=NOW - 300))


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_named(missing: str) -> None:
    secret = new_secret()
    headers = webhook_headers(secret, BODY, timestamp=NOW)
    del headers[missing]
    with pytest.raises(SignatureError, match=f"missing {missing}") as caught:
        check([secret], headers)
    assert caught.value.header == missing


@pytest.mark.parametrize("value", ["v2,abc", "v1,", "v1,!!!not-base64", "garbage"])
def test_a_header_without_a_usable_v1_signature_fails(value: str) -> None:
    secret = new_secret()
    headers = {**webhook_headers(secret, BODY, timestamp=NOW), "webhook-signature": value}
    with pytest.raises(SignatureError, match="no v1 signature"):
        check([secret], headers)


def test_any_of_several_secrets_and_signatures_passes() -> None:
    old, new = new_secret(), new_secret()
    # Sender signs with the old secret only; we hold both during the grace period.
    check([new, old], webhook_headers(old, BODY, timestamp=NOW))
    # Sender signs with both (the header carries two signatures); we hold only the new one.
    check([new], webhook_headers([old, new], BODY, timestamp=NOW))
    with pytest.raises(SignatureError):
        check([new_secret()], webhook_headers([old, new], BODY, timestamp=NOW))


def test_no_secret_means_no_delivery() -> None:
    headers = webhook_headers(new_secret(), BODY, timestamp=NOW)
    with pytest.raises(SignatureError, match="no active signing secret"):
        check([], headers)


@given(body=st.binary(max_size=500), flip=st.integers(min_value=0, max_value=499))
def test_any_changed_byte_breaks_the_signature(body: bytes, flip: int) -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    headers = webhook_headers(secret, body, msg_id="msg_1", timestamp=NOW)
    check([secret], headers, body=body)
    if body:
        i = flip % len(body)
        changed = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
        with pytest.raises(SignatureError):
            check([secret], headers, body=changed)


def test_websub_signature() -> None:
    secret = new_secret()
    value = websub_signature(secret, BODY)
    assert value == "sha256=" + hmac.new(secret.encode(), BODY, hashlib.sha256).hexdigest()
    verify_websub([new_secret(), secret], signature=value, body=BODY, header="x-hub-signature-256")
    with pytest.raises(SignatureError, match="does not match"):
        verify_websub([secret], signature=value, body=BODY + b" ", header="x-hub-signature-256")
    with pytest.raises(SignatureError, match="sha256=<hex>"):
        md5 = "md5=" + hmac.new(secret.encode(), BODY, hashlib.md5).hexdigest()
        verify_websub([secret], signature=md5, body=BODY, header="x-hub-signature")


def test_websub_sha1_is_accepted_as_the_recommendation_allows() -> None:
    """W3C WebSub lists sha1 among the signature methods; hubs in service still send it."""
    secret = new_secret()
    sha1 = "sha1=" + hmac.new(secret.encode(), BODY, hashlib.sha1).hexdigest()
    assert websub_signature(secret, BODY, "sha1") == sha1
    verify_websub([secret], signature=sha1, body=BODY, header="x-hub-signature")
    with pytest.raises(SignatureError, match="does not match"):
        verify_websub([secret], signature=sha1, body=BODY + b"!", header="x-hub-signature")

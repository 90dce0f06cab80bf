"""Standard Webhooks signing and verification (https://www.standardwebhooks.com), and WebSub's
``X-Hub-Signature-256``.

A secret is ``whsec_`` + base64 of 32 random bytes; the signature is ``v1,`` + base64 of
HMAC-SHA256(key, ``{webhook-id}.{webhook-timestamp}.{body}``). A header may carry several signatures
(space-separated) and a source may have several active secrets (during a rotation): any match passes.
Comparisons are constant-time. WebSub hubs sign the body alone with the secret string given as
``hub.secret``, as ``<algorithm>=`` + hex, the algorithm being one the W3C WebSub recommendation lists: sha1,
sha256, sha384 or sha512. SHA-1 is accepted because hubs in service still send it and the recommendation
allows it; its collision weakness does not reach HMAC, whose forgery would need a preimage-style attack on the
keyed construction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as random_secrets
import time
import uuid
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
_WEBSUB_ALGORITHMS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


class SignatureError(ValueError):
    """Why a delivery is not authentic; ``header`` names the header at fault."""

    def __init__(self, reason: str, *, header: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.header = header


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks form."""
    return SECRET_PREFIX + base64.b64encode(random_secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_`` secret."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one delivery."""
    mac = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION},{base64.b64encode(mac.digest()).decode()}"


def webhook_headers(
    secret: str | Sequence[str], body: bytes, *, msg_id: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers for sending ``body`` (signed with every secret given)."""
    keys = [secret] if isinstance(secret, str) else list(secret)
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(k, msg_id, timestamp, body) for k in keys),
    }


def verify(
    secrets: Sequence[str],
    *,
    msg_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    tolerance_s: int,
) -> None:
    """Raise :class:`SignatureError` with the reason unless the delivery is authentic and fresh."""
    if not msg_id:
        raise SignatureError("missing webhook-id header", header="webhook-id")
    if not timestamp:
        raise SignatureError("missing webhook-timestamp header", header="webhook-timestamp")
    if not signature:
        raise SignatureError("missing webhook-signature header", header="webhook-signature")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureError(
            "webhook-timestamp must be integer seconds since the epoch", header="webhook-timestamp"
        ) from None
    if sent_at < now - tolerance_s:
        raise SignatureError(
            f"webhook-timestamp is more than {tolerance_s} seconds old: a stale or replayed delivery",
            header="webhook-timestamp",
        )
    if sent_at > now + tolerance_s:
        raise SignatureError(
            f"webhook-timestamp is more than {tolerance_s} seconds in the future", header="webhook-timestamp"
        )
    given = []
    for part in signature.split():
        version, _, value = part.partition(",")
        if version == SIGNATURE_VERSION and value:
            try:
                given.append(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError):
                continue
    if not given:
        raise SignatureError("webhook-signature holds no v1 signature", header="webhook-signature")
    if not secrets:
        raise SignatureError("the source has no active signing secret", header="webhook-signature")
    signed = f"{msg_id}.{sent_at}.".encode() + body
    # Every pair is compared, so the time taken does not tell which secret or signature came close.
    matched = False
    for secret in secrets:
        expected = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
        for candidate in given:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError("webhook-signature does not match the body", header="webhook-signature")


def websub_signature(secret: str, body: bytes, algorithm: str = "sha256") -> str:
    """The ``X-Hub-Signature-256`` value a WebSub hub sends: ``sha256=`` + hex HMAC of the body."""
    return f"{algorithm}={hmac.new(secret.encode(), body, _WEBSUB_ALGORITHMS[algorithm]).hexdigest()}"


def verify_websub(secrets: Sequence[str], *, signature: str, body: bytes, header: str) -> None:
    """Raise :class:`SignatureError` unless ``signature`` (``sha256=<hex>``, or sha1/sha384/sha512) matches one
    of the secrets."""
    algorithm, _, value = signature.strip().partition("=")
    digest = _WEBSUB_ALGORITHMS.get(algorithm.lower())
    if digest is None or not value:
        raise SignatureError(f"{header} must be sha256=<hex> (or sha1, sha384, sha512)", header=header)
    try:
        given = bytes.fromhex(value)
    except ValueError:
        raise SignatureError(f"{header} is not hexadecimal", header=header) from None
    if not secrets:
        raise SignatureError("the source has no active signing secret", header=header)
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(hmac.new(secret.encode(), body, digest).digest(), given)
    if not matched:
        raise SignatureError(f"{header} does not match the body", header=header)

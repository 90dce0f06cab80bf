"""The one dependency that checks API keys on every request (key format and creation: ``shared.api.keys``).

Every route of a service app requires a key (``authenticate`` is an app-level dependency added by
``create_service_app``) except the public paths: liveness, readiness and, on the ingest service, signed
webhooks, which prove themselves with their signature. A key carries scopes: ``ingest`` (the write API),
``query`` (the read API), ``admin`` (everything, including keys and dead letters), ``unlimited`` (no rate limit; see
``shared.api.ratelimit`` for how a key's limit is chosen). Callers send the key as
``Authorization: Bearer tdg_...`` or ``X-API-Key: tdg_...``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import func, or_, select, update

from shared.api.errors import ApiError
from shared.api.keys import Scope, hash_key, looks_like_key
from shared.api.ratelimit import RateLimiter, limit_for
from shared.config import settings_getter
from shared.db.models import ApiKey
from shared.metrics import AUTH_FAILURES, RATE_LIMITED


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_AUTH_", extra="ignore")

    # Serve the query API without keys, for a laptop or a trusted network. Never the ingest API.
    open_query: bool = False
    # How long a process trusts a key it has checked: a revoked or changed key takes effect within this
    # many seconds (0: look every key up on every request).
    key_cache_ttl_s: float = Field(default=5.0, ge=0)


get_auth_settings = settings_getter(AuthSettings)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, name, scopes and granted sources (``key_id`` None when the service is
    open). ``sources`` None: the key was granted no list (it may write to sources nobody registered)."""

    key_id: uuid.UUID | None
    name: str
    scopes: frozenset[str]
    rate_limit_per_minute: int | None = None
    sources: frozenset[str] | None = None

    @property
    def is_admin(self) -> bool:
        return Scope.admin.value in self.scopes

    def allows(self, scope: Scope) -> bool:
        return self.is_admin or scope.value in self.scopes


@dataclass(frozen=True)
class AuthPolicy:
    """What a service demands: the scope every route needs, the paths left public, whether it is open."""

    service_scope: Scope | None
    public_paths: frozenset[str] = frozenset({"/healthz", "/readyz"})
    public_prefixes: tuple[str, ...] = ()
    open: bool = False

    def is_public(self, path: str) -> bool:
        return path in self.public_paths or path.startswith(self.public_prefixes)


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer tdg_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: tdg_...`")

_UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="tidings"'}


def _refuse(reason: str, message: str) -> ApiError:
    AUTH_FAILURES.labels(reason=reason).inc()
    return ApiError(401, message, code="unauthorized", headers=_UNAUTHORIZED_HEADERS)


class KeyCache:
    """The keys one process has checked lately, by digest: a request with a known key costs no database
    look-up. An entry is trusted until its deadline (the TTL, or the key's own expiry if sooner) and only
    while the key epoch it was read under is current: every change to a key (revoke, grants) bumps the
    epoch in Redis, each request learns the epoch in the rate limiter's round trip, and a new epoch drops
    every entry. So a change takes effect on the next request everywhere; the TTL bounds it when Redis is
    unreachable or a key is changed behind the API's back. Only valid keys are kept.

    When an entry lapses, every request in flight with that key misses at once; :meth:`load` lets them share
    one database look-up rather than send one each."""

    MAX_KEYS = 10_000  # past this the cache starts afresh rather than grow with every key ever seen

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self.epoch: int | None = None
        self._keys: dict[bytes, tuple[float, int | None, Principal]] = {}
        self._loading: dict[bytes, asyncio.Future[tuple[Principal, datetime | None] | None]] = {}

    async def load(
        self, digest: bytes, lookup: Callable[[], Awaitable[tuple[Principal, datetime | None] | None]]
    ) -> tuple[Principal, datetime | None] | None:
        """``lookup()``'s answer for ``digest``, shared by every caller that asks while it runs. Shielded: a
        caller that goes away (its client disconnected) does not cancel the look-up the others wait on."""
        pending = self._loading.get(digest)
        if pending is None:
            pending = asyncio.ensure_future(lookup())
            self._loading[digest] = pending
            pending.add_done_callback(lambda _: self._loading.pop(digest, None))
        return await asyncio.shield(pending)

    def get(self, digest: bytes) -> Principal | None:
        entry = self._keys.get(digest)
        if entry is None:
            return None
        deadline, epoch, principal = entry
        if deadline <= time.monotonic() or epoch != self.epoch:
            del self._keys[digest]
            return None
        return principal

    def put(self, digest: bytes, principal: Principal, *, epoch: int | None, expires_at: datetime | None) -> None:
        """Keep ``principal``, read from the database under ``epoch`` (the epoch known before the read)."""
        if self.ttl_s <= 0:
            return
        ttl = self.ttl_s
        if expires_at is not None:
            ttl = min(ttl, (expires_at - datetime.now(UTC)).total_seconds())
        if len(self._keys) >= self.MAX_KEYS:
            self._keys.clear()
        self._keys[digest] = (time.monotonic() + ttl, epoch, principal)

    def saw(self, epoch: int | None) -> bool:
        """Note the epoch a request learned; True when it is new (every entry is then dropped)."""
        if epoch is None or epoch == self.epoch:
            return False
        self.epoch = epoch
        self._keys.clear()
        return True


async def _lookup(request: Request, digest: bytes) -> tuple[Principal, datetime | None] | None:
    """The key's principal and expiry, when it is known, not revoked and not expired."""
    async with request.app.state.sessionmaker() as session:
        row = (
            await session.execute(
                select(
                    ApiKey.id,
                    ApiKey.name,
                    ApiKey.scopes,
                    ApiKey.rate_limit_per_minute,
                    ApiKey.sources,
                    ApiKey.expires_at,
                    or_(
                        ApiKey.last_used_at.is_(None),
                        ApiKey.last_used_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 1),
                    ).label("stale"),
                ).where(
                    ApiKey.key_hash == digest,
                    ApiKey.revoked_at.is_(None),
                    or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > func.now()),
                )
            )
        ).first()
        if row is None:
            return None
        if row.stale:  # last_used_at is kept to the minute: one write per key per minute, not per request
            await session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=func.now()))
            await session.commit()
    principal = Principal(
        key_id=row.id,
        name=row.name,
        scopes=frozenset(row.scopes),
        rate_limit_per_minute=row.rate_limit_per_minute,
        sources=frozenset(row.sources) if row.sources is not None else None,
    )
    return principal, row.expires_at


async def authenticate(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
    header_key: str | None = Depends(_header),
) -> Principal | None:
    """The app-level dependency: find the caller's key, check the service's scope and the key's rate limit."""
    policy: AuthPolicy = request.app.state.auth_policy
    if policy.is_public(request.scope["path"]):
        return None
    if policy.open:
        anonymous = Principal(key_id=None, name="anonymous", scopes=frozenset({Scope.query.value}))
        request.state.principal = anonymous
        return anonymous
    key = bearer.credentials if bearer is not None else header_key
    if not key:
        raise _refuse("missing", "an API key is required: send 'Authorization: Bearer tdg_...'")
    principal = await verify_key(request, key, policy.service_scope)
    request.state.principal = principal
    return principal


async def verify_key(request: Request, key: str, scope: Scope | None) -> Principal:
    """The principal of ``key`` if it is valid, holds ``scope`` and is within its rate limit; else the
    ``ApiError`` (401, 403 or 429) an API caller gets. The web interface checks its cookie's key with it."""
    key = key.strip()
    if not looks_like_key(key):
        raise _refuse("malformed", "invalid API key")
    digest = hash_key(key)
    cache: KeyCache = request.app.state.key_cache
    principal = cache.get(digest)
    cached = principal is not None
    if principal is None:
        epoch = cache.epoch
        found = await cache.load(digest, lambda: _lookup(request, digest))
        if found is None:
            raise _refuse("unknown", "invalid, expired or revoked API key")
        principal, expires_at = found
        cache.put(digest, principal, epoch=epoch, expires_at=expires_at)
    if scope is not None and not principal.allows(scope):
        raise ApiError(403, f"this API key lacks the {scope.value!r} scope", code="forbidden", field="scopes")
    limiter: RateLimiter = request.app.state.rate_limiter
    per_minute = limit_for(limiter.settings, scopes=principal.scopes, own=principal.rate_limit_per_minute)
    decision = await limiter.hit(str(principal.key_id), per_minute)
    if cache.saw(decision.key_epoch) and cached:
        # A key changed since this one was read: read it again (the cache was just emptied).
        return await verify_key(request, key, scope)
    if not decision.allowed:
        RATE_LIMITED.inc()
        raise ApiError(
            429,
            f"rate limit exceeded; retry in {decision.retry_after_s} s",
            code="rate_limited",
            headers={"Retry-After": str(decision.retry_after_s)},
        )
    return principal


def require_scope(scope: Scope) -> Callable[..., Awaitable[Principal | None]]:
    """A router- or route-level dependency demanding a scope beyond the service's own (e.g. ``admin``)."""

    async def _require(request: Request, principal: Principal | None = Depends(authenticate)) -> Principal | None:
        if principal is not None and not principal.allows(scope):
            raise ApiError(403, f"this API key lacks the {scope.value!r} scope", code="forbidden", field="scopes")
        if principal is None and not request.app.state.auth_policy.is_public(request.scope["path"]):
            raise _refuse("missing", "an API key is required")
        return principal

    return _require

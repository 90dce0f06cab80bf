"""Which sources a caller may write to: the rule that keeps one client out of another source's stories.

- An ``admin`` key writes to any source.
- A key granted a list of sources (``tidings keys create --source NAME``, ``sources`` on ``/v1/api-keys``)
  writes to those sources only.
- A key granted no list writes to any source nobody has registered (``POST /v1/sources``): registering a
  source reserves its name for the keys granted it, admin keys and its own signed webhooks. So a source that
  receives signed webhooks cannot be written by an ordinary ingest key, and its ``(source, external_id)``
  ids cannot be claimed ahead of its signed deliveries.

Webhooks are not checked here: their signature proves the source named in their URL.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.api.auth import Principal
from shared.api.errors import ApiError
from shared.db.models import Source


async def refused_sources(session: AsyncSession, principal: Principal, sources: Iterable[str]) -> set[str]:
    """The sources among ``sources`` that ``principal`` may not write to (one query at most)."""
    wanted = set(sources)
    if principal.is_admin or not wanted:
        return set()
    if principal.sources is not None:
        return wanted - principal.sources
    registered = await session.scalars(select(Source.name).where(Source.name.in_(sorted(wanted))))
    return set(registered)


def refusal(source: str, *, field: str = "source") -> ApiError:
    """The 403 naming the field: what the key may write is the operator's grant, not the client's choice."""
    return ApiError(
        403,
        f"this API key may not write to source {source!r}: a key writes only to the sources it was granted, "
        "or, granted none, to sources nobody has registered",
        code="source_forbidden",
        field=field,
    )


async def require_sources(session: AsyncSession, principal: Principal, sources: Iterable[str]) -> None:
    """Raise the 403 for the first source ``principal`` may not write to."""
    refused = await refused_sources(session, principal, sources)
    if refused:
        raise refusal(sorted(refused)[0])

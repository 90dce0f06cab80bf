"""An article's revisions, in the sender's order, and a paragraph-level diff between two of them.

The texts are the ingestion payloads as sent (``article_revisions``; an article never revised has one
revision, its current payload). The diff compares paragraphs (blank-line separated) with :mod:`difflib`.
"""

from __future__ import annotations

import difflib
import re
import uuid
from functools import cmp_to_key
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.query.schemas import FieldChange, ParagraphChange, RevisionDiff, RevisionOut, RevisionsOut
from shared.db.models import ArticleRevision, Ingestion
from shared.revisions import Order, supersedes

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def paragraphs(body: str) -> list[str]:
    """The body's paragraphs, whitespace inside each collapsed, empty ones dropped."""
    return [" ".join(p.split()) for p in _PARAGRAPH_BREAK.split(body or "") if p.strip()]


def paragraph_diff(old: str, new: str) -> list[ParagraphChange]:
    """Runs of equal, replaced, deleted and inserted paragraphs, in order."""
    a, b = paragraphs(old), paragraphs(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [
        ParagraphChange(op=op, old=a[i1:i2], new=b[j1:j2], old_start=i1, new_start=j1)
        for op, i1, i2, j1, j2 in matcher.get_opcodes()
    ]


def _order(r: RevisionOut) -> Order:
    return Order(r.version, r.version_created, r.revision)


async def load_revisions(session: AsyncSession, article_id: uuid.UUID) -> RevisionsOut | None:
    """Every revision of the article, oldest first by the sender's ordering; None for no such article."""
    ingestion = (
        await session.execute(
            select(
                Ingestion.id, Ingestion.revision, Ingestion.payload, Ingestion.version, Ingestion.version_created,
                Ingestion.received_at, Ingestion.channel, Ingestion.withdrawn_at, Ingestion.withdrawal_reason,
            ).where(Ingestion.id == article_id)
        )
    ).first()  # fmt: skip
    if ingestion is None:
        return None
    rows = (await session.execute(select(ArticleRevision).where(ArticleRevision.article_id == article_id))).scalars()
    items = [_item(r.revision, r.payload, r.version, r.version_created, r.received_at, r.channel) for r in rows]
    if not any(i.revision == ingestion.revision for i in items):
        items.append(
            _item(
                ingestion.revision,
                ingestion.payload,
                ingestion.version,
                ingestion.version_created,
                ingestion.received_at,
                ingestion.channel,
            )
        )
    items.sort(key=cmp_to_key(lambda x, y: 1 if supersedes(_order(x), _order(y)) else -1))
    for item in items:
        item.current = item.revision == ingestion.revision
    return RevisionsOut(
        article_id=article_id,
        current_revision=ingestion.revision,
        withdrawn_at=ingestion.withdrawn_at,
        withdrawal_reason=ingestion.withdrawal_reason,
        items=items,
    )


def _item(
    revision: int, payload: dict[str, Any], version: Any, version_created: Any, received_at: Any, channel: str
) -> RevisionOut:
    return RevisionOut(
        revision=revision,
        version=version,
        version_created=version_created,
        received_at=received_at,
        channel=channel,
        title=payload.get("title", ""),
        summary=payload.get("summary"),
        body=payload.get("body", ""),
    )


def diff(revisions: RevisionsOut, a: int, b: int) -> RevisionDiff | None:
    """What changed from revision ``a`` to revision ``b``; None when either is not held."""
    by_number = {r.revision: r for r in revisions.items}
    if a not in by_number or b not in by_number:
        return None
    old, new = by_number[a], by_number[b]
    changes = paragraph_diff(old.body, new.body)
    return RevisionDiff(
        article_id=revisions.article_id,
        from_revision=a,
        to_revision=b,
        title=FieldChange(old=old.title, new=new.title, changed=old.title != new.title),
        summary=FieldChange(old=old.summary, new=new.summary, changed=old.summary != new.summary),
        paragraphs=changes,
        changed_paragraphs=sum(max(len(c.old), len(c.new)) for c in changes if c.op != "equal"),
    )

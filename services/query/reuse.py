"""Partial reuse links of one article, read both ways: the rows measured when it arrived (against earlier
articles) and the rows measured when a later article arrived against it, each seen from the article's side."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from services.query.schemas import ReuseLink
from shared.db.models import Article, DedupReuse


async def reuse_links(session: AsyncSession, article_id: uuid.UUID, *, limit: int = 50) -> list[ReuseLink]:
    """The article's reuse links, the largest share first, in one statement."""
    r = DedupReuse

    def side(mine: bool) -> Select[*tuple[Any, ...]]:
        other = r.other_id if mine else r.article_id
        return (
            select(
                other.label("other"),
                Article.title,
                Article.source,
                Article.published_at,
                Article.cluster_id,
                (r.share_of_article if mine else r.share_of_other).label("share_of_this"),
                (r.share_of_other if mine else r.share_of_article).label("share_of_other"),
                (r.article_passages if mine else r.other_passages).label("passages_here"),
                (r.other_passages if mine else r.article_passages).label("passages_there"),
                r.decision,
                r.article_id.label("decided_by"),
                r.engine_version,
                literal(mine).label("mine"),
            )
            .join(Article, Article.id == other)
            .where((r.article_id if mine else r.other_id) == article_id)
        )

    both = union_all(side(True), side(False)).subquery()
    largest = func.greatest(both.c.share_of_this, both.c.share_of_other)
    rows = await session.execute(select(both).order_by(largest.desc(), both.c.other).limit(limit))
    return [
        ReuseLink(
            article_id=row.other,
            title=row.title,
            source=row.source,
            published_at=row.published_at,
            cluster_id=row.cluster_id,
            share_of_this=row.share_of_this,
            share_of_other=row.share_of_other,
            passages_here=row.passages_here,
            passages_there=row.passages_there,
            decision=row.decision,
            decided_by=row.decided_by,
            version=row.engine_version,
        )
        for row in rows
    ]

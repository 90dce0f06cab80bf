"""``/v1/articles``: one processed article, and search over them with filters and keyset pagination."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import Select, func, select, tuple_

from services.query.cursor import decode_cursor, encode_cursor
from services.query.deps import SessionDep
from shared.api.errors import ApiError
from shared.db.models import Article
from shared.schemas.articles import ArticleOut, ArticlePage, ArticleSummary, DedupDecision
from shared.schemas.errors import error_responses

router = APIRouter(prefix="/v1/articles", tags=["articles"])

SNIPPET_OPTIONS = 'MaxFragments=2, MaxWords=30, MinWords=10, StartSel=<mark>, StopSel=</mark>, FragmentDelimiter=" … "'


def to_out(a: Article) -> ArticleOut:
    return ArticleOut(
        id=a.id,
        title=a.title,
        summary=a.summary,
        body=a.body,
        credit=a.credit,
        caption=a.caption,
        url=a.url,
        canonical_url=a.canonical_url,
        source=a.source,
        external_id=a.external_id,
        authors=a.authors,
        section=a.section,
        language=a.language,
        language_score=a.language_score,
        word_count=a.word_count,
        published_at=a.published_at,
        received_at=a.received_at,
        processed_at=a.processed_at,
        metadata=a.metadata_,
        dedup=DedupDecision(
            cluster_id=a.cluster_id,
            duplicate_of=a.duplicate_of,
            is_canonical=a.is_canonical,
            similarity=a.dedup_similarity,
            method=a.dedup_method,
            version=a.dedup_version,
        ),
    )


@router.get(
    "/{article_id}",
    response_model=ArticleOut,
    summary="One processed article",
    responses=error_responses(400, 404),
)
async def get_article(article_id: uuid.UUID, session: SessionDep) -> ArticleOut:
    article = await session.get(Article, article_id)
    if article is None:
        raise ApiError(404, f"no processed article {article_id}", field="article_id")
    return to_out(article)


def _filtered(
    stmt: Select,
    *,
    q: str | None,
    source: list[str] | None,
    language: list[str] | None,
    date_from: datetime | None,
    date_to: datetime | None,
    include_duplicates: bool,
) -> Select:
    if q:
        stmt = stmt.where(Article.search_vector.op("@@")(func.websearch_to_tsquery("english", q)))
    if source:
        stmt = stmt.where(Article.source.in_(source))
    if language:
        stmt = stmt.where(Article.language.in_(language))
    if date_from:
        stmt = stmt.where(Article.published_at >= date_from)
    if date_to:
        stmt = stmt.where(Article.published_at < date_to)
    if not include_duplicates:
        stmt = stmt.where(Article.is_canonical)
    return stmt


@router.get(
    "",
    response_model=ArticlePage,
    summary="Search and filter processed articles, newest first",
    responses=error_responses(400),
)
async def list_articles(
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=500, description="Web-search syntax: phrases, OR, -term.")] = None,
    source: Annotated[list[str] | None, Query(description="Repeatable.")] = None,
    language: Annotated[list[str] | None, Query(description="ISO 639-1; repeatable.")] = None,
    date_from: Annotated[datetime | None, Query(alias="from", description="Published at or after (ISO 8601).")] = None,
    date_to: Annotated[datetime | None, Query(alias="to", description="Published before (ISO 8601).")] = None,
    include_duplicates: Annotated[bool, Query(description="Show non-canonical copies too.")] = False,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ArticlePage:
    if q is not None and ("\x00" in q or not q.strip()):
        raise ApiError(400, "q must be non-empty text", field="q")
    stmt = select(
        Article.id,
        Article.title,
        Article.summary,
        Article.url,
        Article.source,
        Article.language,
        Article.published_at,
        Article.cluster_id,
        Article.is_canonical,
    )
    stmt = _filtered(
        stmt,
        q=q,
        source=source,
        language=language,
        date_from=date_from,
        date_to=date_to,
        include_duplicates=include_duplicates,
    )
    if cursor:
        after = decode_cursor(cursor, required=("p", "i"))
        try:
            key = (datetime.fromisoformat(after["p"]), uuid.UUID(after["i"]))
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "invalid cursor", field="cursor") from exc
        stmt = stmt.where(tuple_(Article.published_at, Article.id) < key)
    stmt = stmt.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit + 1)
    rows = (await session.execute(stmt)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]

    snippets: dict[uuid.UUID, str] = {}
    if q and rows:
        # Highlighting is costly: only for the page's rows, in one query.
        found = await session.execute(
            select(
                Article.id,
                func.ts_headline("english", Article.body, func.websearch_to_tsquery("english", q), SNIPPET_OPTIONS),
            ).where(Article.id.in_([r.id for r in rows]))
        )
        snippets = {i: s for i, s in found}
    items = [
        ArticleSummary(
            id=r.id,
            title=r.title,
            summary=r.summary,
            url=r.url,
            source=r.source,
            language=r.language,
            published_at=r.published_at,
            cluster_id=r.cluster_id,
            is_canonical=r.is_canonical,
            snippet=snippets.get(r.id),
        )
        for r in rows
    ]
    next_cursor = encode_cursor({"p": rows[-1].published_at.isoformat(), "i": str(rows[-1].id)}) if has_more else None
    return ArticlePage(items=items, next_cursor=next_cursor)

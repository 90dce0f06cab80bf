"""The article search: filters, sort and keyset pagination, highlighted snippets and tags, in one query per page.

Pagination is by keyset, never OFFSET: the cursor carries the sort key of the page's last row, so page 500
costs what page 1 costs. Each sort has its key, unique thanks to the id as the last tie-breaker:
``-published`` (published_at, id) descending, ``published`` ascending, ``relevance`` (rank, published_at, id)
descending. The rank is ``ts_rank`` cast to float8, which survives the JSON round trip exactly.

One statement per page: the inner query finds the page's ids (the plan PostgreSQL picks: GIN bitmap or an
ordered index scan), and the outer one adds, for those rows only, the snippet (``ts_headline``, which parses
the text and is too costly for anything but the page) and the tags as one JSON array per article.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Float, Select, cast, func, literal_column, select, true, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.query.cursor import decode_cursor, encode_cursor
from services.query.schemas import ArticleItem, ArticlePage, TagOut, TagsByKind
from shared.api.errors import ApiError
from shared.db.models import Article, ArticleTag
from shared.schemas.articles import DedupDecision
from shared.search.filters import SEARCH_CONFIG, SearchFilters, conditions, tsquery

Sort = Literal["relevance", "published", "-published"]
SORTS: tuple[str, ...] = ("relevance", "published", "-published")
SNIPPET_OPTIONS = 'MaxFragments=2, MaxWords=30, MinWords=10, StartSel=<mark>, StopSel=</mark>, FragmentDelimiter=" … "'

ITEM_COLUMNS = (
    Article.id,
    Article.title,
    Article.summary,
    Article.url,
    Article.source,
    Article.language,
    Article.published_at,
    Article.cluster_id,
    Article.is_canonical,
    Article.duplicate_of,
    Article.dedup_similarity,
    Article.dedup_method,
    Article.dedup_version,
)


def resolve_sort(sort: Sort | None, filters: SearchFilters) -> Sort:
    if sort is None:
        return "relevance" if filters.q else "-published"
    if sort == "relevance" and not filters.q:
        raise ApiError(400, "sort=relevance needs a full-text query `q`", field="sort")
    return sort


def rank_of(query: Any) -> Any:
    # Normalisation 1 divides by 1 + log(length), so a long article does not win on length alone.
    return cast(func.ts_rank(Article.search_vector, query, 1), Float)


def tags_json(article_id: Any) -> Any:
    """A lateral subquery: the article's tags as one JSON array, grouped by kind, best score first."""
    tag = func.jsonb_build_object(
        "kind", ArticleTag.kind, "value", ArticleTag.value, "name", ArticleTag.name, "score", ArticleTag.score,
        "mentions", ArticleTag.mentions, "tagger", ArticleTag.tagger, "tagger_version", ArticleTag.tagger_version,
        "attrs", ArticleTag.attrs,
    )  # fmt: skip
    return (
        select(func.jsonb_agg(aggregate_order_by(tag, ArticleTag.kind, ArticleTag.score.desc())).label("tags"))
        .where(ArticleTag.article_id == article_id)
        .lateral("tg")
    )


def group_tags(tags: Sequence[dict[str, Any]] | None) -> TagsByKind:
    out: TagsByKind = {}
    for t in tags or ():
        out.setdefault(t["kind"], []).append(TagOut.model_validate(t))
    return out


def _key_values(sort: Sort, key: Any) -> tuple[Any, ...]:
    try:
        if sort == "relevance":
            return float(key[0]), datetime.fromisoformat(key[1]), uuid.UUID(key[2])
        return datetime.fromisoformat(key[0]), uuid.UUID(key[1])
    except (TypeError, ValueError, IndexError, KeyError) as exc:
        raise ApiError(400, "invalid cursor: pass back the next_cursor of a previous page", field="cursor") from exc


def page_cursor(filters: SearchFilters, sort: Sort, last_row: Any) -> str:
    """The opaque cursor after ``last_row``: the sort, the search's fingerprint and the row's sort key."""
    key = [last_row.published_at.isoformat(), str(last_row.id)]
    if sort == "relevance":
        key = [last_row.rank, *key]
    return encode_cursor({"s": sort, "f": filters.fingerprint(), "k": key})


def _after(cursor: str | None, filters: SearchFilters, sort: Sort) -> tuple[Any, ...] | None:
    if not cursor:
        return None
    state = decode_cursor(cursor, required=("s", "f", "k"))
    if state["s"] != sort or state["f"] != filters.fingerprint() or not isinstance(state["k"], list):
        raise ApiError(400, "invalid cursor: it belongs to another search or sort", field="cursor")
    return _key_values(sort, state["k"])


def ids_statement(
    filters: SearchFilters,
    sort: Sort,
    *,
    cursor: str | None,
    limit: int,
    relevance_window: int,
    columns: Sequence[Any] = ITEM_COLUMNS,
) -> Select[Any]:
    """The inner query: the page's rows (``limit`` of them) in sort order, after the cursor.

    Relevance ranks the ``relevance_window`` most recent matches (all of them when fewer match): ranking
    reads every candidate's tsvector, so an unbounded ranking of a term found in 100,000 articles would cost
    seconds. The window is found the cheap way round, by the planner's choice: the GIN index for a rare term,
    the ``published_at`` index read backwards for a common one.
    """
    query = tsquery(filters.q) if filters.q else None
    where = conditions(filters, query=query)
    after = _after(cursor, filters, sort)
    if sort != "relevance":
        stmt = select(*columns).where(*where)
        if after is not None:
            key = tuple_(Article.published_at, Article.id)
            stmt = stmt.where(key > tuple_(*after) if sort == "published" else key < tuple_(*after))
        if sort == "published":
            return stmt.order_by(Article.published_at.asc(), Article.id.asc()).limit(limit)
        return stmt.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)
    window = (
        select(Article.id.label("wid"), Article.published_at.label("wpub"), rank_of(query).label("rank"))
        .where(*where)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(relevance_window)
        .subquery("win")
    )
    stmt = select(*columns, window.c.rank).join(window, window.c.wid == Article.id)
    if after is not None:
        stmt = stmt.where(tuple_(window.c.rank, window.c.wpub, window.c.wid) < tuple_(*after))
    return stmt.order_by(window.c.rank.desc(), window.c.wpub.desc(), window.c.wid.desc()).limit(limit)


async def search_page(
    session: AsyncSession,
    filters: SearchFilters,
    sort: Sort,
    *,
    cursor: str | None,
    limit: int,
    snippet_max_chars: int,
    relevance_window: int,
) -> ArticlePage:
    page = ids_statement(filters, sort, cursor=cursor, limit=limit + 1, relevance_window=relevance_window).subquery(
        "page"
    )
    body = aliased(Article, name="b")
    tg = tags_json(page.c.id)
    snippet: Any = literal_column("NULL")
    if filters.q:
        snippet = func.ts_headline(
            SEARCH_CONFIG, func.left(body.body, snippet_max_chars), tsquery(filters.q), SNIPPET_OPTIONS
        )
    stmt = (
        select(page, snippet.label("snippet"), tg.c.tags)
        .join(body, body.id == page.c.id)
        .outerjoin(tg, true())
        .order_by(*outer_order(sort, page))
    )
    rows = (await session.execute(stmt)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = page_cursor(filters, sort, rows[-1]) if has_more else None
    return ArticlePage(items=[to_item(r) for r in rows], next_cursor=next_cursor)


def outer_order(sort: Sort, page: Any) -> list[Any]:
    """The sort order again, on the columns of the page subquery."""
    if sort == "relevance":
        return [page.c.rank.desc(), page.c.published_at.desc(), page.c.id.desc()]
    if sort == "published":
        return [page.c.published_at.asc(), page.c.id.asc()]
    return [page.c.published_at.desc(), page.c.id.desc()]


def to_item(r: Any) -> ArticleItem:
    m = r._mapping
    return ArticleItem(
        id=r.id,
        title=r.title,
        summary=r.summary,
        url=r.url,
        source=r.source,
        language=r.language,
        published_at=r.published_at,
        cluster_id=r.cluster_id,
        is_canonical=r.is_canonical,
        snippet=m.get("snippet"),
        rank=m.get("rank"),
        dedup=DedupDecision(
            cluster_id=r.cluster_id,
            duplicate_of=r.duplicate_of,
            is_canonical=r.is_canonical,
            similarity=r.dedup_similarity,
            method=r.dedup_method,
            version=r.dedup_version,
        ),
        tags=group_tags(m.get("tags")),
    )


def items_by_ids(ids: Sequence[uuid.UUID]) -> Select:
    """Summaries and tags of the given articles, in one statement (for clusters, similar, the stream)."""
    tg = tags_json(Article.id)
    return select(*ITEM_COLUMNS, tg.c.tags).outerjoin(tg, true()).where(Article.id.in_(ids))

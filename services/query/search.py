"""The article search: filters, sort and keyset pagination, highlighted snippets and tags.

Pagination is by keyset, never OFFSET: the cursor carries the sort key of the page's last row, so page 500
costs what page 1 costs. Each sort has its key, unique thanks to the id as the last tie-breaker:
``-published`` (published_at, id) descending, ``published`` ascending, ``relevance`` (rank, published_at, id)
descending. The rank is ``ts_rank`` cast to float8, which survives the JSON round trip exactly.

Finding the newest matches of a full-text query (or a tag filter) is where PostgreSQL's planner can go badly
wrong: asked for 21 rows in ``published_at`` order, it reads the date index backwards and tests each row,
which is instant for a common word and a full scan of the table for a phrase that matches nothing but that it
estimated at a thousand rows. ``recent_matches`` therefore never lets it gamble: it first finds, from the
covering date index alone, the date of the ``budget``-th newest row the indexed filters allow, and searches
only the window after that date (a bounded cost: the planner tests the window's rows or intersects the GIN
and date bitmaps, whichever is cheaper); only when the window holds too few matches does it ask for the rest
through the GIN and tag indexes and sort them (a cost bounded too, since the matches are then known to be
rare).

Relevance ranks recent matches, not all of them: ranking reads each candidate's tsvector, and ranking a term
found in 100,000 articles would cost seconds. The candidates are the ``relevance_window`` newest matches, or,
for a common term, its matches among the newest ``scan_budget`` rows the other filters allow; a rare term
is ranked over all its matches. ``from``/``to`` move the window back in time.

The page itself is one statement: the rows by id, with, for those rows only, the snippet (``ts_headline``
parses the text and is too costly for anything but the page) and the tags as one JSON array per article.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, Literal

from sqlalchemy import Float, Select, Text, any_, bindparam, cast, func, literal_column, select, true, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, UUID, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from services.query.cursor import decode_cursor, decode_key, encode_cursor
from services.query.schemas import ArticleItem, ArticlePage, BriefTagsByKind, TagOut, TagsByKind
from shared.api.errors import ApiError
from shared.db.models import Article, ArticleTag
from shared.schemas.articles import DedupDecision
from shared.search.filters import (
    SEARCH_CONFIG,
    SearchFilters,
    has_scope,
    index_conditions,
    selective_conditions,
    tsquery,
)

Sort = Literal["relevance", "published", "-published"]
SNIPPET_OPTIONS = 'MaxFragments=2, MaxWords=30, MinWords=10, StartSel=<mark>, StopSel=</mark>, FragmentDelimiter=" … "'
# An interval of zero added to the date: the same order, but one no index provides, so the planner must find
# all the (known to be few) matches first and then sort them.
_NO_INDEX_ORDER: Any = literal_column("interval '0 seconds'")

ITEM_COLUMNS = (
    Article.id,
    Article.title,
    Article.summary,
    Article.url,
    Article.source,
    Article.language,
    Article.published_at,
    Article.cluster_id,
    Article.event_id,
    Article.is_canonical,
    Article.duplicate_of,
    Article.dedup_similarity,
    Article.dedup_method,
    Article.dedup_version,
    Article.revision,
    Article.withdrawn_at,
)


def id_in(column: Any, ids: Sequence[uuid.UUID]) -> Any:
    """``column = ANY(:ids)`` with one array parameter, rather than an IN list of thousands of parameters."""
    return column == any_(bindparam(None, list(ids), type_=ARRAY(UUID(as_uuid=True))))


def resolve_sort(sort: Sort | None, filters: SearchFilters) -> Sort:
    if sort is None:
        return "relevance" if filters.q else "-published"
    if sort == "relevance" and not filters.q:
        raise ApiError(400, "sort=relevance needs a full-text query `q`", field="sort")
    return sort


def rank_of(query: Any) -> Any:
    # Normalisation 1 divides by 1 + log(length), so a long article does not win on length alone.
    return cast(func.ts_rank(Article.search_vector, query, 1), Float)


def tags_json(article_id: Any, *, full: bool = True) -> Any:
    """A lateral subquery: the article's tags as one JSON array, grouped by kind, best score first, with all
    their fields (an article's own page). Lists use ``brief_tags_json``."""
    tag = func.jsonb_build_object(
        "kind", ArticleTag.kind, "value", ArticleTag.value, "name", ArticleTag.name, "score", ArticleTag.score,
        "mentions", ArticleTag.mentions, "tagger", ArticleTag.tagger, "tagger_version", ArticleTag.tagger_version,
        "attrs", ArticleTag.attrs,
    )  # fmt: skip
    if not full:
        return brief_tags_json(article_id)
    return (
        select(func.jsonb_agg(aggregate_order_by(tag, ArticleTag.kind, ArticleTag.score.desc())).label("tags"))
        .where(ArticleTag.article_id == article_id)
        .lateral("tg")
    )


def brief_tags_json(article_id: Any) -> Any:
    """A lateral subquery: ``{kind: [{value, name, score}, ...]}``, best score first, built by PostgreSQL in the
    answer's final shape, so a page of results costs no per-tag work in Python."""
    # Entity and place tags bring their mentions; other kinds have none, and the null key is stripped.
    tag = func.jsonb_strip_nulls(
        func.jsonb_build_object(
            "value", ArticleTag.value, "name", ArticleTag.name, "score", ArticleTag.score,
            "mentions", ArticleTag.attrs["mentions"],
        )
    )  # fmt: skip
    per_kind = (
        select(ArticleTag.kind, func.jsonb_agg(aggregate_order_by(tag, ArticleTag.score.desc())).label("list"))
        .where(ArticleTag.article_id == article_id)
        .group_by(ArticleTag.kind)
        .correlate_except(ArticleTag)
        .subquery("per_kind")
    )
    return select(func.jsonb_object_agg(per_kind.c.kind, per_kind.c.list).label("tags")).lateral("tg")


def group_tags(tags: Sequence[dict[str, Any]] | None) -> TagsByKind:
    """Full tags by kind (an article's detail)."""
    out: TagsByKind = {}
    for t in tags or ():
        out.setdefault(t["kind"], []).append(TagOut.model_construct(**{k: v for k, v in t.items() if k != "kind"}))
    return out


def brief_tags(tags: dict[str, list[dict[str, Any]]] | list[dict[str, Any]] | None) -> BriefTagsByKind:
    """Value, name, score (and mentions, for entities and places) by kind (result lists). PostgreSQL already grouped them (``brief_tags_json``);
    they are passed on as they are, with no model per tag (the answer is serialised without re-validation)."""
    if isinstance(tags, list):  # the full form: group it here
        grouped: dict[str, list[Any]] = {}
        for t in tags:
            brief = {"value": t["value"], "name": t["name"], "score": t["score"]}
            if (t.get("attrs") or {}).get("mentions") is not None:
                brief["mentions"] = t["attrs"]["mentions"]
            grouped.setdefault(t["kind"], []).append(brief)
        return grouped
    return tags or {}  # type: ignore[return-value]


def _key_values(sort: Sort, key: Any) -> tuple[Any, ...]:
    if sort == "relevance":
        return decode_key(key, "float", "moment", "uuid")
    return decode_key(key, "moment", "uuid")


def page_cursor(filters: SearchFilters, sort: Sort, last_row: Any) -> str:
    """The opaque cursor after ``last_row``: the sort, the search's fingerprint and the row's sort key."""
    key = [last_row.published_at.isoformat(), str(last_row.id)]
    if sort == "relevance":
        key = [last_row.rank, *key]
    return encode_cursor({"s": sort, "f": filters.fingerprint(), "k": key})


def decode_after(cursor: str | None, filters: SearchFilters, sort: Sort) -> tuple[Any, ...] | None:
    if not cursor:
        return None
    state = decode_cursor(cursor, required=("s", "f", "k"))
    if state["s"] != sort or state["f"] != filters.fingerprint() or not isinstance(state["k"], list):
        raise ApiError(400, "invalid cursor: it belongs to another search or sort", field="cursor")
    return _key_values(sort, state["k"])


class Matches:
    """The statements that find a search's newest matches (oldest with ``ascending``), window first.

    ``edge`` finds the window: the date of the ``budget``-th newest row the indexed filters allow, from the
    covering date index alone (no heap, no tsvector). ``window`` searches the rows after it: bounded so, the
    planner may test each row or intersect the GIN and date bitmaps and visit only the matches; either way
    the cost is the window's, not the table's. ``beyond`` and ``everywhere`` find matches the GIN and tag
    indexes yield, then sort them: an order no index provides keeps the planner from walking the date index
    to the end of the table for matches it wrongly believes common.
    """

    def __init__(self, filters: SearchFilters, *, ascending: bool = False, after: tuple[Any, ...] | None = None):
        self.filters, self.ascending, self.after = filters, ascending, after
        self.query = tsquery(filters.q) if filters.q else None
        keyset: list[Any] = []
        if after is not None:
            key = tuple_(Article.published_at, Article.id)
            keyset.append(key > tuple_(*after) if ascending else key < tuple_(*after))
        self.indexed = [*index_conditions(filters), *keyset]
        self.selective = self._selective(None)
        self.order: list[Any] = (
            [Article.published_at.asc(), Article.id.asc()]
            if ascending
            else [Article.published_at.desc(), Article.id.desc()]
        )
        shifted = Article.published_at + _NO_INDEX_ORDER
        self.unindexed_order = [shifted.asc() if ascending else shifted.desc(), self.order[1]]

    def _selective(self, bound: Callable[[Any], Any] | None) -> list[Any]:
        """The full-text and tag conditions; the tag filters get the same date bounds as the articles (the
        cursor's, the window's), so they read only those dates of their index."""

        def dates(column: Any) -> list[Any]:
            out = []
            if self.after is not None:
                out.append(column >= self.after[0] if self.ascending else column <= self.after[0])
            if bound is not None:
                out.append(bound(column))
            return out

        return selective_conditions(self.filters, query=self.query, dates=dates)

    async def edge(self, session: AsyncSession, budget: int) -> datetime | None:
        """None when the indexed filters allow no more than ``budget`` rows: the window is then everything."""
        stmt = select(Article.published_at).where(*self.indexed).order_by(*self.order).offset(budget - 1).limit(1)
        edge: datetime | None = await session.scalar(stmt)
        return edge

    def newest(self, *columns: Any) -> Select[Any]:
        """Without full text or tags: the indexed filters in index order."""
        return select(*columns).where(*self.indexed, *self.selective).order_by(*self.order)

    def window(self, edge: datetime, *columns: Any) -> Select[Any]:
        """The matches from the edge on, in index order."""
        return self._bounded(edge, columns, beyond=False).order_by(*self.order)

    def beyond(self, edge: datetime, *columns: Any) -> Select[Any]:
        """The matches past the edge, sorted once found."""
        return self._bounded(edge, columns, beyond=True).order_by(*self.unindexed_order)

    def _bounded(self, edge: datetime, columns: tuple[Any, ...], *, beyond: bool) -> Select[Any]:
        # Newest first, the window is on or after the edge and what lies beyond is before it (the reverse
        # when oldest first); the tag filters get the same bound.
        def bound(column: Any) -> Any:
            if beyond:
                return column > edge if self.ascending else column < edge
            return column <= edge if self.ascending else column >= edge

        return select(*columns).where(*self._selective(bound), *self.indexed, bound(Article.published_at))

    def everywhere(self, *columns: Any) -> Select[Any]:
        return select(*columns).where(*self.selective, *self.indexed).order_by(*self.unindexed_order)


async def recent_matches(
    session: AsyncSession,
    filters: SearchFilters,
    *,
    n: int,
    budget: int,
    enough: int | None = None,
    ascending: bool = False,
    after: tuple[Any, ...] | None = None,
) -> list[Any]:
    """(id, published_at) of the ``n`` newest matches (oldest with ``ascending``) after the keyset ``after``.

    Exact when ``enough`` is None. With ``enough`` (for a relevance window, which need not be the very
    newest), finding that many matches among the newest ``budget`` rows suffices: the answer is then the
    matches among those rows, and the search beyond them runs only for rare ones.
    """
    m = Matches(filters, ascending=ascending, after=after)
    columns = (Article.id, Article.published_at)
    if not m.selective:
        return list((await session.execute(m.newest(*columns).limit(n))).all())
    edge = await m.edge(session, budget)
    if edge is None:
        return list((await session.execute(m.everywhere(*columns).limit(n))).all())
    rows = list((await session.execute(m.window(edge, *columns).limit(n))).all())
    if len(rows) >= (n if enough is None else min(n, enough)):
        return rows
    # Rare matches: the rest lie beyond the window.
    return rows + list((await session.execute(m.beyond(edge, *columns).limit(n - len(rows)))).all())


def _html_escaped(text: Any) -> Any:
    """The snippet is HTML (matches wrapped in ``<mark>``): escape the article text first, so markup in an
    article arrives as text and never as a tag a client would render."""
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = func.replace(text, raw, entity)
    return text


def _page_statement(
    filters: SearchFilters, ids: Sequence[uuid.UUID], *, snippet_max_chars: int, rank: bool
) -> tuple[Select[Any], dict[str, Any]]:
    """The page's statement and its parameters. Its shape depends only on whether there is a term (and of which
    kind), whether to rank and the snippet's length: built once per shape, it is then only executed, since
    building and hashing this statement cost more CPU than PostgreSQL spends running it for a page."""
    params: dict[str, Any] = {"page_ids": list(ids)}
    if filters.q and not has_scope(filters.q):
        params["page_q"] = filters.q
        return _page_shape(True, rank, snippet_max_chars), params
    if not filters.q:
        return _page_shape(False, False, 0), params
    return _build_page(tsquery(filters.q), rank=rank, snippet_max_chars=snippet_max_chars), params


@cache
def _page_shape(with_q: bool, rank: bool, snippet_max_chars: int) -> Select[Any]:
    query = func.websearch_to_tsquery(SEARCH_CONFIG, bindparam("page_q", type_=Text), type_=TSQUERY)
    return _build_page(query if with_q else None, rank=rank, snippet_max_chars=snippet_max_chars)


def _build_page(query: Any, *, rank: bool, snippet_max_chars: int) -> Select[Any]:
    tg = tags_json(Article.id, full=False)
    columns: list[Any] = [*ITEM_COLUMNS, tg.c.tags]
    if query is not None and snippet_max_chars > 0:
        columns.append(
            func.ts_headline(
                SEARCH_CONFIG, _html_escaped(func.left(Article.body, snippet_max_chars)), query, SNIPPET_OPTIONS
            ).label("snippet")
        )
    if query is not None and rank:
        columns.append(rank_of(query).label("rank"))
    ids = bindparam("page_ids", type_=ARRAY(UUID(as_uuid=True)))
    return select(*columns).outerjoin(tg, true()).where(Article.id == any_(ids))


async def search_page(
    session: AsyncSession,
    filters: SearchFilters,
    sort: Sort,
    *,
    cursor: str | None,
    limit: int,
    snippet_max_chars: int,
    relevance_window: int,
    scan_budget: int,
) -> ArticlePage:
    after = decode_after(cursor, filters, sort)
    if sort == "relevance":
        rows = await _ranked(
            session,
            filters,
            after,
            limit=limit + 1,
            window=relevance_window,
            budget=scan_budget,
            snippet_max_chars=snippet_max_chars,
        )
    else:
        found = await recent_matches(
            session, filters, n=limit + 1, budget=scan_budget, ascending=sort == "published", after=after
        )
        rows = []
        if found:
            stmt, params = _page_statement(
                filters, [r.id for r in found], snippet_max_chars=snippet_max_chars, rank=False
            )
            by_id = {r.id: r for r in await session.execute(stmt, params)}
            rows = [by_id[r.id] for r in found if r.id in by_id]
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = page_cursor(filters, sort, rows[-1]) if has_more else None
    return ArticlePage.model_construct(items=[to_item(r) for r in rows], next_cursor=next_cursor)


async def _ranked(
    session: AsyncSession,
    filters: SearchFilters,
    after: tuple[Any, ...] | None,
    *,
    limit: int,
    window: int,
    budget: int,
    snippet_max_chars: int,
) -> list[Any]:
    candidates = await recent_matches(session, filters, n=window, budget=budget, enough=limit * 5)
    if not candidates:
        return []
    rank = rank_of(tsquery(filters.q or "")).label("rank")
    ranked = select(Article.id, Article.published_at, rank).where(id_in(Article.id, [r.id for r in candidates]))
    if after is not None:
        ranked = ranked.where(tuple_(rank, Article.published_at, Article.id) < tuple_(*after))
    ranked = ranked.order_by(rank.desc(), Article.published_at.desc(), Article.id.desc()).limit(limit)
    ids = [r.id for r in await session.execute(ranked)]
    if not ids:
        return []
    stmt, params = _page_statement(filters, ids, snippet_max_chars=snippet_max_chars, rank=True)
    by_id = {r.id: r for r in await session.execute(stmt, params)}
    return [by_id[i] for i in ids if i in by_id]


def to_item(r: Any) -> ArticleItem:
    """A result row as an item, built without re-validating what the database guarantees."""
    m = r._mapping
    return ArticleItem.model_construct(
        id=r.id,
        title=r.title,
        summary=r.summary,
        url=r.url,
        source=r.source,
        language=r.language,
        published_at=r.published_at,
        cluster_id=r.cluster_id,
        event_id=r.event_id,
        is_canonical=r.is_canonical,
        revision=r.revision,
        withdrawn=r.withdrawn_at is not None,
        snippet=m.get("snippet"),
        rank=m.get("rank"),
        dedup=DedupDecision.model_construct(
            cluster_id=r.cluster_id,
            duplicate_of=r.duplicate_of,
            is_canonical=r.is_canonical,
            similarity=r.dedup_similarity,
            method=r.dedup_method,
            version=r.dedup_version,
        ),
        tags=brief_tags(m.get("tags")),
    )


def items_by_ids(ids: Sequence[uuid.UUID]) -> Select:
    """Summaries and tags of the given articles, in one statement (for clusters, similar, the stream)."""
    tg = tags_json(Article.id, full=False)
    return select(*ITEM_COLUMNS, tg.c.tags).outerjoin(tg, true()).where(Article.id.in_(ids))

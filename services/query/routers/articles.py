"""``/v1/articles``: search with filters and keyset pagination; one article with its tags and dedup decision;
its duplicates; related articles."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.query.deps import QuerySettingsDep, SessionDep
from services.query.params import FiltersDep
from services.query.responses import json_response
from services.query.reuse import reuse_links
from services.query.revisions import diff, load_revisions
from services.query.schemas import (
    ArticleDetail,
    ArticlePage,
    DuplicatesOut,
    ReuseOut,
    RevisionDiff,
    RevisionsOut,
    SimilarOut,
)
from services.query.search import Sort, resolve_sort, search_page
from services.query.similar import similar_articles
from services.query.stories import cluster_members, load_article
from shared.api.errors import ApiError
from shared.schemas.errors import error_responses

router = APIRouter(prefix="/v1/articles", tags=["articles"])


@router.get(
    "",
    response_model=ArticlePage,
    summary="Search and filter processed articles",
    description="Full-text search in web-search syntax with field scopes, filters, three sorts and keyset "
    "pagination. Non-canonical duplicates are hidden unless `include_duplicates=true`.",
    responses=error_responses(400),
)
async def list_articles(
    session: SessionDep,
    settings: QuerySettingsDep,
    filters: FiltersDep,
    sort: Annotated[
        Sort | None,
        Query(
            description="`relevance` (the default with `q`; it ranks the recent matches: the newest 500, or for "
            "a common term those among the newest 3,000 articles the filters allow), `-published` (newest first, "
            "the default without `q`) or `published` (oldest first)."
        ),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=1000, description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    page = await search_page(
        session,
        filters,
        resolve_sort(sort, filters),
        cursor=cursor,
        limit=limit,
        snippet_max_chars=settings.snippet_max_chars,
        relevance_window=settings.relevance_window,
        scan_budget=settings.scan_budget,
    )
    return json_response(page)


@router.get(
    "/{article_id}",
    response_model=ArticleDetail,
    summary="One processed article, with its tags by kind and its dedup decision",
    responses=error_responses(400, 404),
)
async def get_article(article_id: uuid.UUID, session: SessionDep, response: Response) -> ArticleDetail:
    article = await load_article(session, article_id)
    if article is None:
        raise ApiError(404, f"no processed article {article_id}", field="article_id")
    article.reuse = await reuse_links(session, article_id)
    # The revision as an entity tag: the ingest API's If-Match takes it back.
    response.headers["ETag"] = f'"{article.revision}"'
    return article


@router.get(
    "/{article_id}/revisions",
    response_model=RevisionsOut,
    summary="Every revision of an article, oldest first, the current one marked",
    description="Revisions are numbered by arrival and ordered by the sender's version, else its modification "
    "time, else arrival; an older revision that arrived late is listed in its place and is not current.",
    responses=error_responses(400, 404),
)
async def get_revisions(article_id: uuid.UUID, session: SessionDep) -> RevisionsOut:
    revisions = await load_revisions(session, article_id)
    if revisions is None:
        raise ApiError(404, f"no article {article_id}", field="article_id")
    return revisions


@router.get(
    "/{article_id}/revisions/{from_revision}/diff/{to_revision}",
    response_model=RevisionDiff,
    summary="What changed between two revisions: headline, standfirst and the body paragraph by paragraph",
    responses=error_responses(400, 404),
)
async def get_revision_diff(
    article_id: uuid.UUID, from_revision: int, to_revision: int, session: SessionDep
) -> RevisionDiff:
    revisions = await load_revisions(session, article_id)
    if revisions is None:
        raise ApiError(404, f"no article {article_id}", field="article_id")
    found = diff(revisions, from_revision, to_revision)
    if found is None:
        missing = "from_revision" if from_revision not in {r.revision for r in revisions.items} else "to_revision"
        raise ApiError(404, f"article {article_id} has no such revision", field=missing)
    return found


@router.get(
    "/{article_id}/duplicates",
    response_model=DuplicatesOut,
    summary="The other members of the article's story cluster, with the similarity that decided each",
    responses=error_responses(400, 404),
)
async def get_duplicates(
    article_id: uuid.UUID,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DuplicatesOut:
    article = await load_article(session, article_id, with_tags=False)
    if article is None:
        raise ApiError(404, f"no processed article {article_id}", field="article_id")
    cluster_id = article.dedup.cluster_id
    members, _ = await cluster_members(
        session, cluster_id, article_id=article_id, limit=limit + 1, include_withdrawn=True
    )
    members = [m for m in members if m.id != article_id][:limit]
    return DuplicatesOut(
        article_id=article_id, cluster_id=cluster_id, items=members, reuse=await reuse_links(session, article_id)
    )


@router.get(
    "/{article_id}/reuse",
    response_model=ReuseOut,
    summary="Partial reuse: articles sharing passages with this one, the share of each found in the other",
    description="Both ways: the share of this article's text found in the other and the share of the other's "
    "text found in this one, the reused passages of each as character offsets into the bodies, and whether the "
    "later article joined the other's cluster by it (`joined`) or the two stay apart (`linked`).",
    responses=error_responses(400, 404),
)
async def get_reuse(
    article_id: uuid.UUID,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReuseOut:
    article = await load_article(session, article_id, with_tags=False)
    if article is None:
        raise ApiError(404, f"no processed article {article_id}", field="article_id")
    return ReuseOut(article_id=article_id, items=await reuse_links(session, article_id, limit=limit))


@router.get(
    "/{article_id}/similar",
    response_model=SimilarOut,
    summary="Related articles: other stories sharing the article's rarer entities, places, topics and terms",
    responses=error_responses(400, 404),
)
async def get_similar(
    article_id: uuid.UUID,
    session: SessionDep,
    settings: QuerySettingsDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    article = await load_article(session, article_id)
    if article is None:
        raise ApiError(404, f"no processed article {article_id}", field="article_id")
    items = await similar_articles(session, article, limit=limit, per_tag=settings.similar_candidates_per_tag)
    return json_response(SimilarOut.model_construct(article_id=article_id, items=items))

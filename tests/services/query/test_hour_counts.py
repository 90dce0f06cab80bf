"""The counts kept per hour follow every write a writer makes (new articles, tags from two taggers, a tagger's
tags replaced, duplicates marked, revisions moving an article's date, withdrawals, deletions), and the facets
and time series answered from them are those counted live from the articles."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.query.facets import DEFAULT_FACETS, facet_counts
from services.query.timeseries import time_series
from shared.search.filters import SearchFilters
from tests.support import with_async_session

pytestmark = pytest.mark.e2e

T0 = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)

LIVE_ARTICLES = """
SELECT date_trunc('hour', published_at, 'UTC') AS hour, source, coalesce(language, '') AS language, count(*)
FROM articles WHERE is_canonical AND withdrawn_at IS NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""
LIVE_TAGS = """
SELECT date_trunc('hour', a.published_at, 'UTC') AS hour, p.kind, p.value, count(*)
FROM (SELECT DISTINCT article_id, kind, value FROM article_tags) p
JOIN articles a ON a.id = p.article_id AND a.is_canonical AND a.withdrawn_at IS NULL
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""


def _add_article(
    conn: Any, *, source: str, language: str | None, at: datetime, tags: list[tuple[str, str, str]]
) -> uuid.UUID:
    article_id = uuid.uuid4()
    conn.execute(
        text(
            "INSERT INTO ingestions (id, source, external_id, channel, payload, state, attempts, received_at, "
            "updated_at) VALUES (:id, :source, :ext, 'api', '{}', 'processed', 1, :at, :at)"
        ),
        {"id": article_id, "source": source, "ext": str(article_id), "at": at},
    )
    body = f"body of {article_id}"
    conn.execute(
        text(
            "INSERT INTO articles (id, source, external_id, title, body, language, content_hash, title_hash, "
            "published_at, received_at, pipeline_version) VALUES (:id, :source, :ext, 'title', :body, :language, "
            ":hash, :hash, :at, :at, '1')"
        ),
        {"id": article_id, "source": source, "ext": str(article_id), "body": body, "language": language,
         "hash": hashlib.sha256(body.encode()).digest(), "at": at},
    )  # fmt: skip
    _tag(conn, article_id, tags)
    return article_id


def _tag(conn: Any, article_id: uuid.UUID, tags: list[tuple[str, str, str]]) -> None:
    # As the tag store writes them: one multi-row upsert per batch.
    for kind, value, tagger in tags:
        conn.execute(
            text(
                "INSERT INTO article_tags (article_id, kind, value, tagger, name, tagger_version) "
                "VALUES (:a, :k, :v, :t, :v, '1') ON CONFLICT (article_id, kind, value, tagger) "
                "DO UPDATE SET score = excluded.score"
            ),
            {"a": article_id, "k": kind, "v": value, "t": tagger},
        )


def _assert_counts_follow(engine: Engine) -> None:
    with engine.connect() as conn:
        kept_articles = conn.execute(
            text("SELECT hour, source, language, n FROM article_hour_counts WHERE n <> 0 ORDER BY 1, 2, 3")
        ).all()
        kept_tags = conn.execute(
            text("SELECT hour, kind, value, n FROM tag_hour_counts WHERE n <> 0 ORDER BY 1, 2, 3")
        ).all()
        assert kept_articles == conn.execute(text(LIVE_ARTICLES)).all()
        assert kept_tags == conn.execute(text(LIVE_TAGS)).all()


REQUESTS: list[dict[str, Any]] = [
    {},
    {"from": T0.isoformat(), "to": (T0 + timedelta(days=2)).isoformat()},
    {"source": ["wire"]},
    {"language": ["fr"]},
    {"place": ["Lyon"]},
    {"topic": ["04000000"], "from": (T0 - timedelta(hours=1)).isoformat()},
]


def _answers(filters: SearchFilters, *, use_hour_counts: bool) -> tuple[Any, ...]:
    async def work(session: AsyncSession) -> tuple[Any, ...]:
        facets = await facet_counts(
            session, filters, facets=DEFAULT_FACETS, size=50, sample_size=10_000, budget=10_000,
            use_hour_counts=use_hour_counts,
        )  # fmt: skip
        series = [
            await time_series(session, filters, interval=interval, tz=tz, max_buckets=5_000,
                              use_hour_counts=use_hour_counts)
            for interval, tz in (("hour", "UTC"), ("day", "Europe/Paris"), ("week", "America/New_York"))
        ]  # fmt: skip
        return facets.model_dump(exclude={"sampled", "considered"}), facets.considered, series

    return with_async_session(work)


def _assert_answers_match_live(engine: Engine) -> None:
    for params in REQUESTS:
        filters = SearchFilters.model_validate(params)
        assert _answers(filters, use_hour_counts=True) == _answers(filters, use_hour_counts=False), params


def test_counts_kept_per_hour_follow_every_write(db: Engine) -> None:
    with db.begin() as conn:
        a = _add_article(conn, source="wire", language="en", at=T0,
                         tags=[("place", "Lyon", "gazetteer"), ("place", "Lyon", "spacy-ner"), ("topic", "04000000", "iptc")])  # fmt: skip
        b = _add_article(conn, source="wire", language="fr", at=T0 + timedelta(minutes=30),
                         tags=[("place", "Lyon", "gazetteer"), ("person", "Ada Lovelace", "spacy-ner")])  # fmt: skip
        c = _add_article(conn, source="daily", language=None, at=T0 + timedelta(hours=5),
                         tags=[("topic", "04000000", "iptc"), ("organisation", "Acme", "spacy-ner")])  # fmt: skip
        d = _add_article(conn, source="daily", language="en", at=T0 + timedelta(days=1, hours=2),
                         tags=[("topic", "11000000", "iptc"), ("place", "Lyon", "gazetteer")])  # fmt: skip
    _assert_counts_follow(db)
    _assert_answers_match_live(db)

    with db.begin() as conn:
        # One of two taggers' tags withdrawn: the article still has the place.
        conn.execute(text("DELETE FROM article_tags WHERE article_id = :a AND tagger = 'spacy-ner'"), {"a": a})
        # A tagger's tags replaced (delete, then insert).
        conn.execute(text("DELETE FROM article_tags WHERE article_id = :c AND tagger = 'iptc'"), {"c": c})
        _tag(conn, c, [("topic", "16000000", "iptc"), ("topic", "04000000", "iptc")])
        # The same tag upserted again changes nothing.
        _tag(conn, d, [("place", "Lyon", "gazetteer")])
    _assert_counts_follow(db)

    with db.begin() as conn:
        # A duplicate found: b is no longer canonical.
        conn.execute(
            text("UPDATE articles SET is_canonical = false, duplicate_of = :a WHERE id = :b"), {"a": a, "b": b}
        )
        # A revision moves c's publication date to another hour and changes its source.
        conn.execute(
            text("UPDATE articles SET published_at = :at, source = 'wire', revision = 2, revised_at = :at "
                 "WHERE id = :c"),
            {"at": T0 + timedelta(hours=9, minutes=10), "c": c},
        )  # fmt: skip
        # An update that moves nothing.
        conn.execute(text("UPDATE articles SET title = 'new title' WHERE id = :a"), {"a": a})
    _assert_counts_follow(db)
    _assert_answers_match_live(db)

    with db.begin() as conn:
        conn.execute(
            text("UPDATE articles SET withdrawn_at = now(), withdrawal_reason = 'legal' WHERE id = :a"), {"a": a}
        )
        _tag(conn, a, [("topic", "15000000", "iptc")])  # tags of a withdrawn article count nowhere
        conn.execute(text("UPDATE articles SET is_canonical = true, duplicate_of = NULL WHERE id = :b"), {"b": b})
    _assert_counts_follow(db)
    _assert_answers_match_live(db)

    with db.begin() as conn:
        conn.execute(text("UPDATE articles SET withdrawn_at = NULL WHERE id = :a"), {"a": a})
        conn.execute(text("DELETE FROM ingestions WHERE id = :d"), {"d": d})  # cascades to the article and tags
    _assert_counts_follow(db)
    _assert_answers_match_live(db)
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM articles")).scalar() == 3

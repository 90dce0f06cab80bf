"""The dedup stage on a real database: exact and near duplicates, clusters, canonical policy, reprocessing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, text

from services.worker.pipeline import process_batch
from shared.config import get_settings
from shared.db.engine import make_sessionmaker
from shared.db.models import Ingestion
from shared.dedup.index import expire
from shared.dedup.keys import uuid7_floor
from shared.dedup.settings import DedupSettings
from tests.factories import article_payload
from tests.services.worker.dedup_support import (
    articles,
    assert_consistent,
    clusters,
    composed,
    credited,
    run,
    stages,
    story,
    trimmed,
)


def test_unrelated_articles_are_singleton_clusters(db: Engine) -> None:
    ids = run(db, [dict(zip(("title", "body"), composed("business", n), strict=True)) for n in (1, 2, 3)])
    arts = articles(db)
    assert len({a["cluster_id"] for a in arts.values()}) == 3
    for i in ids:
        a = arts[i]
        assert (a["cluster_id"], a["is_canonical"], a["duplicate_of"], a["dedup_method"]) == (i, True, None, "unique")
    assert {c["size"] for c in clusters(db).values()} == {1}
    assert_consistent(db)


def test_republished_copies_join_the_original_with_method_and_similarity(db: Engine) -> None:
    title, body = story("school-budget")
    original = run(db, [{"title": title, "body": body, "published_at": "2005-01-01T10:00:00+00:00"}])[0]
    copies = run(
        db,
        [
            {"title": "A new headline entirely", "body": body.replace("  ", " "), "source": "wire-a"},
            {"title": title, "body": trimmed(body), "source": "wire-b"},
            {"title": title + " (update)", "body": credited(body), "source": "wire-c"},
            {"title": "Other", "body": composed("sport", 5)[1]},
        ],
    )
    arts = articles(db)
    headline, trim, credit, other = (arts[i] for i in copies)
    assert headline["dedup_method"] == "exact_hash" and headline["dedup_similarity"] == 1.0
    assert trim["dedup_method"] in ("minhash", "containment") and trim["dedup_similarity"] >= 0.5
    assert credit["dedup_method"] == "minhash" and 0.8 < credit["dedup_similarity"] < 1.0
    for copy in (headline, trim, credit):
        assert copy["cluster_id"] == original
        assert copy["duplicate_of"] == original and copy["is_canonical"] is False
    assert other["cluster_id"] == other["id"] and other["dedup_method"] == "unique"
    assert arts[original]["is_canonical"] is True
    assert clusters(db)[original]["size"] == 4
    with db.connect() as conn:
        evidence = conn.execute(text("SELECT * FROM dedup_decisions WHERE article_id = :id"), {"id": trim["id"]}).one()
    assert evidence.matched_id == original
    assert evidence.containment > 0.95 and evidence.jaccard < 1.0
    assert evidence.engine_version == trim["dedup_version"]
    assert_consistent(db)


def test_duplicates_within_one_batch_form_one_cluster(db: Engine) -> None:
    title, body = story("phone-recall")
    ids = run(
        db, [{"title": title, "body": body}, {"title": title, "body": credited(body)}, {"title": "x", "body": body}]
    )
    arts = articles(db)
    # Decided in id order: the lowest id founds the cluster, whose id is its own.
    assert {arts[i]["cluster_id"] for i in ids} == {min(ids)}
    assert clusters(db)[min(ids)]["size"] == 3
    assert_consistent(db)


def test_an_earlier_copy_arriving_later_becomes_canonical_and_members_follow(db: Engine) -> None:
    title, body = story("film-festival")
    first = run(db, [{"title": title, "body": body, "published_at": "2005-03-02T00:00:00+00:00"}])[0]
    second = run(db, [{"title": title, "body": credited(body), "published_at": "2005-03-03T00:00:00+00:00"}])[0]
    earlier = run(db, [{"title": title, "body": trimmed(body, 0.9), "published_at": "2005-03-01T00:00:00+00:00"}])[0]
    arts = articles(db)
    assert {arts[i]["cluster_id"] for i in (first, second, earlier)} == {first}
    assert arts[earlier]["is_canonical"] is True and arts[earlier]["duplicate_of"] is None
    assert arts[first]["is_canonical"] is False and arts[first]["duplicate_of"] == earlier
    assert arts[second]["duplicate_of"] == earlier
    assert clusters(db)[first]["canonical_id"] == earlier
    assert_consistent(db)


def test_canonical_policy_longest(db: Engine) -> None:
    title, body = story("harbour-strike")
    short = run(db, [{"title": title, "body": trimmed(body, 0.8)}], canonical_policy="longest")[0]
    long = run(db, [{"title": title, "body": credited(body)}], canonical_policy="longest")[0]
    assert clusters(db)[short]["canonical_id"] == long
    assert articles(db)[short]["duplicate_of"] == long
    assert_consistent(db)


def test_canonical_policy_preferred_source(db: Engine) -> None:
    title, body = story("cup-final")
    policy = {"canonical_policy": "preferred_source", "preferred_sources": ["agency", "partner"]}
    first = run(db, [{"title": title, "body": body, "source": "blog"}], **policy)[0]
    partner = run(db, [{"title": title, "body": credited(body), "source": "partner"}], **policy)[0]
    assert clusters(db)[first]["canonical_id"] == partner
    agency = run(db, [{"title": title, "body": trimmed(body, 0.9), "source": "agency"}], **policy)[0]
    assert clusters(db)[first]["canonical_id"] == agency
    assert_consistent(db)


def test_canonical_url_and_per_source_title_keys(db: Engine) -> None:
    a, b = composed("sport", 11), composed("sport", 12)
    first = run(
        db,
        [
            {"title": a[0], "body": a[1], "url": "https://news.example.com/story/1?utm_source=rss", "source": "desk"},
            {"title": "Markets close higher on strong earnings news", "body": b[1], "source": "desk"},
        ],
    )
    second = run(
        db,
        [
            {"title": "Changed", "body": composed("sport", 13)[1], "url": "https://NEWS.example.com/story/1/#top"},
            {
                "title": "Markets close higher on strong earnings news",
                "body": composed("sport", 14)[1],
                "source": "desk",
            },
            {
                "title": "Markets close higher on strong earnings news",
                "body": composed("sport", 15)[1],
                "source": "other",
            },
        ],
    )
    arts = articles(db)
    assert arts[second[0]]["cluster_id"] == first[0] and arts[second[0]]["dedup_method"] == "canonical_url"
    assert arts[second[1]]["cluster_id"] == first[1] and arts[second[1]]["dedup_method"] == "title"
    assert arts[second[2]]["dedup_method"] == "unique", "the title key is per source"
    assert_consistent(db)


def test_reprocessing_keeps_every_decision(db: Engine) -> None:
    title, body = story("waiting-lists")
    ids = run(db, [{"title": title, "body": body}, {"title": title, "body": credited(body)}])
    ids += run(db, [{"title": title, "body": trimmed(body)}])
    before = articles(db)
    with db.begin() as conn:
        conn.execute(text("UPDATE ingestions SET state = 'accepted'"))
    # Reprocess in the opposite grouping: the decisions must not move.
    outcome = process_batch(make_sessionmaker(db), get_settings(), stages(), list(reversed(ids)))
    assert sorted(outcome.processed) == sorted(ids)
    after = articles(db)
    ignore = {"processed_at", "search_vector"}
    assert [{k: v for k, v in r.items() if k not in ignore} for r in after.values()] == [
        {k: v for k, v in r.items() if k not in ignore} for r in before.values()
    ]
    assert_consistent(db)


def _ingest_received(db: Engine, received: datetime, **payload: Any) -> uuid.UUID:
    """An accepted ingestion whose UUIDv7 id says it was received at ``received``."""
    article_id = uuid.UUID(int=uuid7_floor(received).int | (uuid.uuid4().int & ((1 << 76) - 1)) | (0x7 << 76))
    with db.begin() as conn:
        conn.execute(insert(Ingestion).values(id=article_id, source="", payload=article_payload(**payload)))
    return article_id


def test_articles_outside_the_time_window_are_not_matched_and_expire(db: Engine) -> None:
    title, body = story("satellite-launch")
    now = datetime.now(UTC)
    old = _ingest_received(db, now - timedelta(days=40), title=title, body=body)
    sessions = make_sessionmaker(db)
    # Indexed under a 60-day window; the default window is 30 days.
    assert process_batch(sessions, get_settings(), stages(window_days=60), [old]).processed == [old]
    recent = _ingest_received(db, now - timedelta(days=10), title=title, body=body)
    new = run(db, [{"title": title, "body": credited(body)}])[0]
    assert process_batch(sessions, get_settings(), stages(), [recent]).processed == [recent]
    arts = articles(db)
    assert arts[recent]["cluster_id"] == new, "inside the window: matched"
    assert arts[new]["cluster_id"] == new != arts[old]["cluster_id"], "outside the window: not matched"
    assert_consistent(db)

    with db.begin() as conn:
        assert conn.scalar(text("SELECT count(*) FROM lsh_buckets WHERE :old = ANY(article_ids)"), {"old": old}) == 0
        conn.execute(text("UPDATE lsh_buckets SET updated_at = now() - interval '31 days' WHERE band < 20"))
        conn.execute(text("UPDATE dedup_keys SET updated_at = now() - interval '2 days' WHERE kind = 'title'"))
        stale_buckets = conn.scalar(text("SELECT count(*) FROM lsh_buckets WHERE band < 20"))
    with sessions.begin() as session:
        expired = expire(session, now=now, window_days=30, title_window_days=1, limit=10_000)
    assert expired.buckets == stale_buckets > 0
    assert expired.keys >= 1
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM lsh_buckets WHERE band < 20")) == 0
        assert conn.scalar(text("SELECT count(*) FROM lsh_buckets WHERE band >= 20")) > 0
        assert conn.scalar(text("SELECT count(*) FROM dedup_keys WHERE kind = 'title'")) == 0
        assert conn.scalar(text("SELECT count(*) FROM dedup_keys WHERE kind = 'exact_hash'")) > 0


def test_a_copy_trimmed_to_its_opening_is_found_through_passage_fingerprints_without_lead_bands(db: Engine) -> None:
    title, body = story("school-budget")
    original = run(db, [{"title": title, "body": body}])[0]
    copy = run(db, [{"title": "Budget: the opening only", "body": trimmed(body, 0.3), "source": "wire-b"}])[0]
    arts = articles(db)
    assert arts[copy]["cluster_id"] == original and arts[copy]["dedup_method"] == "containment"
    s = DedupSettings()
    with db.connect() as conn:
        written = set(conn.execute(text("SELECT DISTINCT band FROM lsh_buckets")).scalars())
        evidence = conn.execute(text("SELECT * FROM dedup_decisions WHERE article_id = :id"), {"id": copy}).one()
    # The fingerprints do the lead bands' job, so no lead band row is written: fewer rows per story.
    assert s.passage_band in written and written.isdisjoint(range(s.bands, s.bands + s.lead_bands))
    assert evidence.matched_id == original and evidence.containment == 1.0
    assert_consistent(db)

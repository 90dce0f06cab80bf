"""Helpers for the dedup tests: the project's wire stories and composed articles, republication transforms,
running the pipeline."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, text

from services.worker.pipeline import process_batch
from services.worker.stages import Stage
from services.worker.stages.dedup import DedupStage
from services.worker.stages.language import LanguageStage
from services.worker.stages.normalise import NormaliseStage
from shared.config import get_settings
from shared.db.engine import make_sessionmaker
from shared.dedup.settings import DedupSettings
from tests.factories import article_payload, insert_ingestions
from tests.fixtures import newsgen
from tests.support import wire_story

story = wire_story  # (headline, body) of a hand-written wire story: ten paragraphs, long enough to trim


def composed(desk: str, number: int) -> tuple[str, str]:
    """(headline, body) of a composed article: distinct from every other one and from the wire stories."""
    article = newsgen.article(desk, number)
    return article.title, article.body


def paragraphs(body: str) -> list[str]:
    return [p for p in body.split("\n") if p.strip()]


def trimmed(body: str, keep: float = 0.6) -> str:
    """The first ``keep`` of the paragraphs: a republisher that cut the story's tail."""
    paras = paragraphs(body)
    assert len(paras) >= 8, "pick a long article for trimming"
    return "\n\n".join(paras[: int(len(paras) * keep)])


def credited(body: str) -> str:
    return (
        "LONDON (Wire) - "
        + body
        + "\n\nThis story was first published by Northern Wire and is republished with permission.\n\nSource: NW"
    )


def stages(**dedup: Any) -> list[Stage]:
    """The pipeline's first stages with dedup settings of the test's choice."""
    return [NormaliseStage(), LanguageStage(), DedupStage(DedupSettings(**dedup))]


def run(db: Engine, payloads: Sequence[dict[str, Any]], **dedup: Any) -> list[uuid.UUID]:
    """Insert the payloads as accepted ingestions and process them as one batch."""
    ids = insert_ingestions(db, [article_payload(**p) for p in payloads])
    outcome = process_batch(make_sessionmaker(db), get_settings(), stages(**dedup), ids)
    assert sorted(outcome.processed) == sorted(ids), outcome.failed
    return ids


def articles(db: Engine) -> dict[uuid.UUID, dict[str, Any]]:
    with db.connect() as conn:
        rows = conn.execute(text("SELECT * FROM articles ORDER BY id")).mappings().all()
    return {r["id"]: dict(r) for r in rows}


def clusters(db: Engine) -> dict[uuid.UUID, dict[str, Any]]:
    with db.connect() as conn:
        rows = conn.execute(text("SELECT * FROM clusters")).mappings().all()
    return {r["id"]: dict(r) for r in rows}


def assert_consistent(db: Engine) -> None:
    """The cluster contract: every article in an existing cluster, sizes and canonical flags agree."""
    arts, cls = articles(db), clusters(db)
    members: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for a in arts.values():
        assert a["cluster_id"] in cls, f"article {a['id']} has no cluster"
        members.setdefault(a["cluster_id"], []).append(a)
    assert set(members) == set(cls), "every cluster has members"
    for cid, c in cls.items():
        group = members[cid]
        assert c["size"] == len(group)
        assert [a["id"] for a in group if a["is_canonical"]] == [c["canonical_id"]]
        for a in group:
            assert a["duplicate_of"] == (None if a["is_canonical"] else c["canonical_id"])
            assert a["dedup_version"] and a["dedup_method"]
        assert c["first_published_at"] == min(a["published_at"] for a in group)
        assert c["last_published_at"] == max(a["published_at"] for a in group)

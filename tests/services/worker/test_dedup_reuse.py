"""Partial reuse through the dedup stage on a real database: join, link, both shares, passages, no false merge."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, text

from tests.services.worker.dedup_support import articles, assert_consistent, run
from tests.shared.dedup.reuse_support import payload


def reuse_rows(db: Engine) -> dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]]:
    with db.connect() as conn:
        rows = conn.execute(text("SELECT * FROM dedup_reuse")).mappings().all()
    return {(r["article_id"], r["other_id"]): dict(r) for r in rows}


def decision(db: Engine, article_id: uuid.UUID) -> dict[str, Any]:
    with db.connect() as conn:
        row = conn.execute(text("SELECT * FROM dedup_decisions WHERE article_id = :a"), {"a": article_id})
        return dict(row.mappings().one())


def test_a_rewrite_joins_the_wire_story_and_a_feature_is_only_linked(db: Engine) -> None:
    (wire,) = run(db, [payload("wire")])
    rewrite, feature = run(db, [payload("rewrite"), payload("feature")])
    arts = articles(db)
    assert arts[rewrite]["cluster_id"] == wire
    assert arts[rewrite]["dedup_method"] == "reuse"
    assert arts[feature]["cluster_id"] == feature  # a cluster of its own
    d = decision(db, rewrite)
    assert (d["method"], d["matched_id"]) == ("reuse", wire)
    assert d["similarity"] >= 0.6 and d["jaccard"] < 0.5  # the rule that decided, not whole-text similarity

    links = reuse_rows(db)
    joined = links[(rewrite, wire)]
    assert joined["decision"] == "joined"
    assert joined["share_of_article"] >= 0.6 and joined["share_of_other"] >= 0.6
    assert d["similarity"] == max(joined["share_of_article"], joined["share_of_other"])
    # The passages are character offsets into both stored bodies, and they hold the shared paragraphs.
    here = [arts[rewrite]["body"][a:b] for a, b in joined["article_passages"]]
    there = [arts[wire]["body"][a:b] for a, b in joined["other_passages"]]
    assert any("We either grow or we become a ferry stop" in p for p in here)
    assert any("We either grow or we become a ferry stop" in p for p in there)

    linked = links[(feature, wire)]
    assert linked["decision"] == "linked"
    assert 0.3 <= max(linked["share_of_article"], linked["share_of_other"]) < 0.6
    # The feature also quotes the rewrite, which is in another cluster: a link of its own, recorded once by
    # whichever of the two the batch decided second (ids of one batch are decided in id order).
    between = [links[k] for k in ((feature, rewrite), (rewrite, feature)) if k in links]
    assert [r["decision"] for r in between] == ["linked"]
    assert len(links) == 3
    assert_consistent(db)


def test_a_wire_story_and_its_rewrite_in_one_batch_end_in_one_cluster(db: Engine) -> None:
    rewrite, wire = run(db, [payload("rewrite"), payload("wire")])
    arts = articles(db)
    # Ids of one batch are decided in id order, and ids made in the same millisecond are in random order:
    # whichever is decided second joins the first by reuse.
    first, second = sorted((rewrite, wire))
    assert arts[first]["cluster_id"] == arts[second]["cluster_id"] == first
    assert arts[second]["dedup_method"] == "reuse"
    assert reuse_rows(db)[(second, first)]["decision"] == "joined"
    assert_consistent(db)


def test_thresholds_come_from_the_settings(db: Engine) -> None:
    (wire,) = run(db, [payload("wire")], reuse_join_threshold=0.9, reuse_link_threshold=0.5)
    (rewrite,) = run(db, [payload("rewrite")], reuse_join_threshold=0.9, reuse_link_threshold=0.5)
    arts = articles(db)
    assert arts[rewrite]["cluster_id"] == rewrite
    assert arts[rewrite]["dedup_method"] == "unique"
    assert reuse_rows(db)[(rewrite, wire)]["decision"] == "linked"


def test_two_briefs_sharing_boilerplate_stay_apart(db: Engine) -> None:
    a, b = run(db, [payload("brief_a"), payload("brief_b")])
    arts = articles(db)
    assert arts[a]["cluster_id"] == a and arts[b]["cluster_id"] == b
    assert all(r["decision"] == "linked" for r in reuse_rows(db).values())
    assert_consistent(db)

"""Exact copies take their original's stored tags instead of being tagged again; rules still run on each copy."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, text

from services.worker.pipeline import build_stages, process_batch
from shared.config import get_settings
from shared.db.engine import make_sessionmaker
from shared.ids import uuid7
from tests.factories import article_payload, insert_ingestions

# Far from anything a tagger would compute: a copy showing it was copied, not tagged again.
MARK = 0.0123

BODY = (
    "Fighting broke out on Tuesday near the northern city of Aleppo, activists said. The Syrian army, backed by "
    "Russian air strikes, pushed towards Idlib while aid groups in Turkey warned of a new wave of refugees."
)


def _process(db: Engine, ids: list[uuid.UUID]) -> None:
    settings = get_settings()
    outcome = process_batch(make_sessionmaker(db), settings, build_stages(settings), ids)
    assert sorted(outcome.processed) == sorted(ids) and not outcome.failed


def _tags(db: Engine, article_id: uuid.UUID) -> dict[tuple[str, str, str], tuple[float, str, object]]:
    with db.connect() as conn:
        rows = conn.execute(
            text("SELECT kind, value, tagger, score, tagger_version, attrs FROM article_tags WHERE article_id = :a"),
            {"a": article_id},
        )
        return {(r.kind, r.value, r.tagger): (r.score, r.tagger_version, r.attrs) for r in rows}


def _mark_scores(db: Engine, article_id: uuid.UUID, **set_version: str) -> None:
    version = ", tagger_version = :v" if set_version else ""
    with db.begin() as conn:
        conn.execute(
            text(f"UPDATE article_tags SET score = :m{version} WHERE article_id = :a AND kind <> 'rule'"),
            {"m": MARK, "a": article_id, "v": set_version.get("version")},
        )


def _add_rule(db: Engine, tag: str, expression: str) -> None:
    with db.begin() as conn:
        conn.execute(
            text("INSERT INTO tag_rules (id, name, tag, expression, enabled) VALUES (:id, :n, :t, :e, true)"),
            {"id": uuid7(), "n": tag, "t": tag, "e": expression},
        )


def test_copies_inherit_the_stored_tags_and_copies_in_one_batch_share_one_tagging(db: Engine) -> None:
    payload = article_payload(title="Syrian army pushes towards Idlib", body=BODY)
    [original] = insert_ingestions(db, [payload])
    _process(db, [original])
    first = _tags(db, original)
    assert ("place", "Aleppo", "places") in first
    _mark_scores(db, original)
    _add_rule(db, "from-wire", "source:wire")

    copy, copy_of_copy, other_title = insert_ingestions(
        db,
        [
            payload | {"source": "wire", "external_id": "w-1"},
            payload | {"source": "wire", "external_id": "w-2"},
            payload | {"title": "Refugees fear new wave as army nears Idlib", "external_id": "w-3"},
        ],
    )
    _process(db, [copy, copy_of_copy, other_title])

    for article in (copy, copy_of_copy):
        tags = _tags(db, article)
        models = {k: v for k, v in tags.items() if k[0] != "rule"}
        assert models.keys() == first.keys()
        assert all(score == MARK for score, _, _ in models.values()), "copied from the stored original"
        assert {k: (v, a) for k, (_, v, a) in models.items()} == {k: (v, a) for k, (_, v, a) in first.items()}
        assert ("rule", "from-wire") in {k[:2] for k in tags}, "rules run on every copy"
    # Another headline is other text to tag: tagged afresh.
    fresh = _tags(db, other_title)
    assert ("place", "Aleppo", "places") in fresh
    assert all(score != MARK for score, _, _ in fresh.values())


def test_a_copy_of_an_article_tagged_by_an_older_tagger_is_tagged_again(db: Engine) -> None:
    payload = article_payload(title="Syrian army pushes towards Idlib", body=BODY)
    [original] = insert_ingestions(db, [payload])
    _process(db, [original])
    current = _tags(db, original)
    _mark_scores(db, original, version="0/old")

    [copy] = insert_ingestions(db, [payload | {"external_id": "w-9"}])
    _process(db, [copy])
    tags = _tags(db, copy)
    assert tags.keys() == current.keys()
    assert all(score != MARK and version != "0/old" for score, version, _ in tags.values())

"""The events stage on a real database, with the real taggers: one event across outlets, unrelated stories of
the same day and country apart, the time window, copies, reprocessing and corrections that stick."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, text

from services.worker.pipeline import build_stages, process_batch
from services.worker.stages.events import EventsStage, events_stages
from shared.config import get_settings, reset_settings
from shared.db.engine import make_sessionmaker
from shared.events.corrections import merge_events, split_article
from shared.events.settings import EventSettings
from tests.factories import article_payload, insert_ingestions
from tests.fixtures.events import ARTICLES
from tests.support import with_async_session

STAGES = build_stages(get_settings())


def _run(db: Engine, names: list[str], **overrides: Any) -> dict[str, uuid.UUID]:
    """Ingest the named fixture articles and process them as one batch."""
    payloads = [article_payload(**{**ARTICLES[n], **overrides}) for n in names]
    ids = insert_ingestions(db, payloads)
    outcome = process_batch(make_sessionmaker(db), get_settings(), STAGES, ids)
    assert sorted(outcome.processed) == sorted(ids), outcome.failed
    return dict(zip(names, ids, strict=True))


def _event(db: Engine, article_id: uuid.UUID) -> uuid.UUID:
    with db.connect() as conn:
        return conn.scalar(text("SELECT event_id FROM articles WHERE id = :id"), {"id": article_id})


def _decision(db: Engine, article_id: uuid.UUID) -> dict[str, Any]:
    with db.connect() as conn:
        row = conn.execute(text("SELECT * FROM event_decisions WHERE article_id = :id"), {"id": article_id})
        return dict(row.mappings().one())


def _events(db: Engine) -> dict[uuid.UUID, dict[str, Any]]:
    with db.connect() as conn:
        return {r["id"]: dict(r) for r in conn.execute(text("SELECT * FROM events")).mappings()}


def _reprocess(db: Engine, ids: list[uuid.UUID]) -> None:
    with db.begin() as conn:
        conn.execute(text("UPDATE ingestions SET state = 'accepted'"))
    outcome = process_batch(make_sessionmaker(db), get_settings(), STAGES, list(reversed(ids)))
    assert sorted(outcome.processed) == sorted(ids)


def test_two_outlets_on_one_event_share_it_and_the_same_day_stories_sharing_the_country_do_not(
    db: Engine,
) -> None:
    ids = _run(db, ["quake_wire"]) | _run(db, ["central_bank"]) | _run(db, ["quake_local"]) | _run(db, ["derby"])
    quake = _event(db, ids["quake_wire"])
    assert quake == ids["quake_wire"]  # the first article founds the event
    assert _event(db, ids["quake_local"]) == quake
    assert _event(db, ids["central_bank"]) == ids["central_bank"]
    assert _event(db, ids["derby"]) == ids["derby"]

    joined = _decision(db, ids["quake_local"])
    assert joined["rule"] in ("text+entity", "strong_text")
    assert joined["matched_id"] == ids["quake_wire"]
    assert "place:Malatya" in joined["shared_entities"]
    assert joined["text_similarity"] >= EventSettings().text_threshold
    assert joined["engine_version"].startswith("events-")
    assert _decision(db, ids["quake_wire"])["rule"] == "founded"
    assert _decision(db, ids["central_bank"])["rule"] == "founded"

    events = _events(db)
    assert events[quake]["size"] == 2 and events[quake]["source_count"] == 2 and events[quake]["cluster_count"] == 2
    assert events[quake]["first_published_at"].isoformat().startswith("2026-11-30T06:10")
    assert events[ids["central_bank"]]["size"] == 1


def test_an_outlet_in_another_language_joins_the_event_and_a_same_day_story_of_its_language_does_not(
    db: Engine,
) -> None:
    # Separate batches: the German articles meet the English one through the index and its stored features.
    ids = _run(db, ["quake_local"]) | _run(db, ["quake_de"]) | _run(db, ["derby_de"])
    quake = _event(db, ids["quake_local"])
    assert _event(db, ids["quake_de"]) == quake
    assert _event(db, ids["derby_de"]) == ids["derby_de"]
    joined = _decision(db, ids["quake_de"])
    assert joined["rule"] == "anchors"
    assert joined["matched_id"] == ids["quake_local"]
    assert "name:afad" in joined["shared_entities"]
    assert joined["details"]["language"] == "de"
    assert _events(db)[quake]["size"] == 2


def test_a_report_in_chinese_joins_on_its_stored_meaning_and_a_chinese_story_of_the_same_day_does_not(
    db: Engine,
) -> None:
    # Separate batches: the Chinese articles compare with the English one's embedding as its decision kept it.
    ids = _run(db, ["quake_wire"]) | _run(db, ["quake_zh"]) | _run(db, ["central_bank_zh"])
    quake = _event(db, ids["quake_wire"])
    assert _event(db, ids["quake_zh"]) == quake
    assert _event(db, ids["central_bank_zh"]) == ids["central_bank_zh"]
    joined = _decision(db, ids["quake_zh"])
    assert joined["rule"] == "embedding"
    assert joined["matched_id"] == ids["quake_wire"]
    assert joined["details"]["language"] == "zh"
    assert joined["details"]["embedding_similarity"] >= EventSettings().embedding_threshold
    assert "#6.8" in joined["shared_entities"]
    assert joined["details"]["embedding"] and _decision(db, ids["quake_wire"])["details"]["embedding"]
    assert _events(db)[quake]["size"] == 2


def test_a_report_in_other_words_joins_on_a_second_look_at_the_stored_body_and_a_same_day_story_does_not(
    db: Engine,
) -> None:
    # Separate batches: the French report's short list is an English article whose body is read back.
    ids = _run(db, ["ferry_en"]) | _run(db, ["ferry_fr"]) | _run(db, ["strike_fr"])
    assert _event(db, ids["ferry_fr"]) == ids["ferry_en"]
    assert _event(db, ids["strike_fr"]) == ids["strike_fr"]
    joined = _decision(db, ids["ferry_fr"])
    assert joined["rule"] == "second_look" and joined["matched_id"] == ids["ferry_en"]
    assert joined["details"]["body_similarity"] >= EventSettings().second_look_threshold
    assert joined["details"]["embedding_similarity"] >= EventSettings().second_look_floor
    assert _decision(db, ids["strike_fr"])["rule"] == "founded"


def test_in_one_batch_the_second_look_reads_the_batch_s_own_bodies(db: Engine) -> None:
    ids = _run(db, ["ferry_en", "strike_fr", "ferry_fr"])
    # The batch is decided in id order: the earlier of the two ferry reports founds the event.
    first, later = sorted((ids["ferry_en"], ids["ferry_fr"]))
    assert _event(db, later) == _event(db, first) == first
    assert _decision(db, later)["rule"] == "second_look" and _decision(db, later)["matched_id"] == first
    assert _event(db, ids["strike_fr"]) == ids["strike_fr"]


def test_articles_of_one_batch_are_grouped_as_if_they_came_one_by_one(db: Engine) -> None:
    ids = _run(db, ["derby", "quake_local", "central_bank", "quake_wire", "quake_follow_up"])
    events = {name: _event(db, i) for name, i in ids.items()}
    assert events["quake_local"] == events["quake_wire"] == events["quake_follow_up"]
    assert len({events["derby"], events["central_bank"], events["quake_wire"]}) == 3


def test_the_time_window_closes_an_event(db: Engine) -> None:
    ids = _run(db, ["quake_wire"]) | _run(db, ["quake_follow_up"]) | _run(db, ["quake_much_later"])
    assert _event(db, ids["quake_follow_up"]) == ids["quake_wire"]  # two days later
    assert _event(db, ids["quake_much_later"]) == ids["quake_much_later"]  # nine days later: a new event


def test_a_copy_joins_the_event_of_its_cluster(db: Engine) -> None:
    ids = _run(db, ["quake_wire"])
    wire = ARTICLES["quake_wire"]
    copy = _run(db, ["quake_wire"], source="regional-portal", body=wire["body"] + "\n\nSource: Anatolia Wire")
    with db.connect() as conn:
        cluster = conn.scalar(text("SELECT cluster_id FROM articles WHERE id = :id"), {"id": copy["quake_wire"]})
    assert cluster == ids["quake_wire"]
    assert _event(db, copy["quake_wire"]) == ids["quake_wire"]
    assert _decision(db, copy["quake_wire"])["rule"] == "copy"
    assert _events(db)[ids["quake_wire"]]["cluster_count"] == 1


def test_reprocessing_keeps_every_event_and_corrections_stick(db: Engine) -> None:
    ids = _run(db, ["quake_wire"]) | _run(db, ["quake_local"]) | _run(db, ["quake_follow_up"]) | _run(db, ["derby"])
    quake = ids["quake_wire"]
    assert {_event(db, ids[n]) for n in ("quake_wire", "quake_local", "quake_follow_up")} == {quake}

    async def split(session):  # type: ignore[no-untyped-def]
        done = await split_article(
            session, article_id=ids["quake_follow_up"], note="aftershock story", settings=EventSettings()
        )
        await session.commit()
        return done

    done = with_async_session(split)
    assert done.moved and done.previous_event_id == quake
    split_event = done.event_id

    async def merge(session):  # type: ignore[no-untyped-def]
        merged = await merge_events(session, event_id=ids["derby"], into=quake, note="minute's silence")
        await session.commit()
        return merged

    assert with_async_session(merge).moved == 1
    expected = {
        "quake_wire": quake,
        "quake_local": quake,
        "quake_follow_up": split_event,
        "derby": quake,
    }
    assert {n: _event(db, i) for n, i in ids.items()} == expected
    events = _events(db)
    assert events[ids["derby"]]["merged_into"] == quake and events[ids["derby"]]["size"] == 0
    assert events[quake]["size"] == 3 and events[split_event]["size"] == 1
    assert _decision(db, ids["quake_follow_up"])["rule"] == "correction"

    _reprocess(db, list(ids.values()))
    assert {n: _event(db, i) for n, i in ids.items()} == expected
    assert _events(db)[quake]["size"] == 3

    # A new article matching a member of the merged-away event lands in the event it was merged into.
    later = _run(db, ["derby"], source="evening-sports", title="Galatasaray edge Fenerbahce in Istanbul derby")
    assert _event(db, later["derby"]) == quake


def test_index_rows_untouched_for_the_retention_period_expire_and_decisions_stay(db: Engine) -> None:
    from services.worker.event_tasks import expire_index

    ids = _run(db, ["quake_wire"])
    with db.begin() as conn:
        rows = conn.scalar(text("SELECT count(*) FROM event_keys"))
        assert rows > 0
        conn.execute(text("UPDATE event_keys SET updated_at = now() - interval '31 days' WHERE period % 2 = 0"))
        stale = conn.scalar(text("SELECT count(*) FROM event_keys WHERE updated_at < now() - interval '30 days'"))
    assert expire_index(make_sessionmaker(db), EventSettings(expiry_batch=3)) == stale
    with db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM event_keys")) == rows - stale
    assert _event(db, ids["quake_wire"]) == ids["quake_wire"]


def test_the_fast_profile_groups_events_without_the_sentence_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_TAGGING_PROFILE", "fast")
    reset_settings()
    try:
        (stage,) = events_stages()
        assert isinstance(stage, EventsStage)
        assert stage.settings.embedding_words == 0
        assert ":m0p" in stage.version  # no opening words embedded
    finally:
        monkeypatch.delenv("TIDINGS_TAGGING_PROFILE")
        reset_settings()
    (full,) = events_stages()
    assert isinstance(full, EventsStage) and full.settings.embedding_words > 0

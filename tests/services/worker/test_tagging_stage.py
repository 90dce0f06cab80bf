"""The tagging stage on a real database: tags written per batch, idempotent, rules applied, other languages."""

from __future__ import annotations

from sqlalchemy import Engine, text

from services.worker.pipeline import build_stages, process_batch
from shared.config import get_settings
from shared.db.engine import make_sessionmaker
from shared.ids import uuid7
from shared.text.plaintext import parse_plain_article
from tests.factories import article_payload, insert_ingestions
from tests.support import NEWSROOM_ARTICLE


def _seed_payload() -> dict:
    article = parse_plain_article(NEWSROOM_ARTICLE.read_text(encoding="utf-8"))
    return article_payload(
        title=article.title, summary=article.summary, caption=article.caption, body=article.body, credit=article.credit
    )


def _tags(db: Engine) -> list[dict]:
    with db.connect() as conn:
        rows = conn.execute(text("SELECT * FROM article_tags ORDER BY article_id, kind, value, tagger"))
        return [dict(r._mapping) for r in rows]


def _add_rule(db: Engine, tag: str, expression: str, *, enabled: bool = True) -> str:
    rule_id = uuid7()
    with db.begin() as conn:
        conn.execute(
            text("INSERT INTO tag_rules (id, name, tag, expression, enabled) VALUES (:id, :n, :t, :e, :en)"),
            {"id": rule_id, "n": f"rule for {tag}", "t": tag, "e": expression, "en": enabled},
        )
    return str(rule_id)


def test_a_batch_is_tagged_and_reprocessing_rewrites_the_same_tags(db: Engine) -> None:
    settings = get_settings()
    sessions = make_sessionmaker(db)
    rule_id = _add_rule(db, "sudan-conflict", '(sudan* OR "rapid support forces") AND NOT title:football')
    _add_rule(db, "never", "zzzz", enabled=True)
    _add_rule(db, "disabled", "omdurman", enabled=False)
    seed, german = insert_ingestions(
        db,
        [
            _seed_payload(),
            article_payload(
                title="Sudanesische Armee greift Omdurman an",
                body="Die sudanesische Armee hat am Mittwoch die westlichen Viertel von Omdurman angegriffen. Die "
                "Regierung will die Kontrolle über die Hauptstadt Khartum zurückgewinnen, berichten Helfer vor Ort.",
            ),
        ],
    )
    outcome = process_batch(sessions, settings, build_stages(settings), [seed, german])
    assert sorted(outcome.processed) == sorted([seed, german]) and not outcome.failed

    tags = _tags(db)
    seed_tags = {(t["kind"], t["value"]): t for t in tags if t["article_id"] == seed}
    assert seed_tags[("language", "en")]["tagger"] == "language"
    for place in ("Omdurman", "Khartoum", "Cairo", "Egypt", "Chad", "Saudi Arabia"):
        attrs = seed_tags[("place", place)]["attrs"]
        assert attrs["country_code"] and attrs["geonames_id"] and attrs["lat"] is not None
    assert ("person", "Hassan Mirghani") in seed_tags
    for org in ("Rapid Support Forces", "African Union", "World Food Programme", "United Nations"):
        assert ("organisation", org) in seed_tags
    assert seed_tags[("topic", "16000000")]["name"] == "conflict, war and peace"
    assert ("topic", "11000000") in seed_tags
    rule_tag = seed_tags[("rule", "sudan-conflict")]
    assert rule_tag["tagger"] == f"rule:{rule_id}" and rule_tag["tagger_version"] == "1"
    assert ("rule", "never") not in seed_tags and ("rule", "disabled") not in seed_tags

    german_kinds = {t["kind"] for t in tags if t["article_id"] == german}
    assert {"language", "keyword", "rule"} <= german_kinds
    assert german_kinds.isdisjoint({"person", "organisation", "place", "topic", "tone"})

    with db.begin() as conn:
        conn.execute(text("UPDATE ingestions SET state = 'accepted'"))
    process_batch(sessions, settings, build_stages(settings), [seed, german])
    assert _tags(db) == tags

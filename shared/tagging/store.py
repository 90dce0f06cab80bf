"""Reading rules and writing tags: one statement per batch, whatever its size. And reading the tags an exact
copy inherits (:func:`tags_of_copies`), one statement per batch too.

The statement ships the whole batch as one JSON parameter unpacked by ``jsonb_to_recordset`` (a multi-row
VALUES of 200 articles with 40 tags each would pass the driver's 65,535-parameter cap), deletes the tags the
articles no longer have and upserts the rest; the two touch different rows, so they can share one statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shared.db import jsoncodec
from shared.db.models import TagRule
from shared.tagging.base import Document, Tag
from shared.tagging.rules import Rule
from shared.tagging.vocabulary import RULE

# Held shared by every pipeline transaction that reads the rules, and taken exclusively by a rule backfill
# before it starts: so the backfill waits for batches that read the rules before the change, and every
# article is either seen by the backfill or tagged with the new rules (see services/worker/backfill.py).
RULES_LOCK_KEY = 0x74696467  # "tidg"


def lock_rules_shared(session: Session) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": RULES_LOCK_KEY})


def wait_for_rule_readers(session: Session) -> None:
    """Block until every transaction that read the rules before now has finished."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RULES_LOCK_KEY})


def load_rules(session: Session, *, rule_ids: Sequence[uuid.UUID] | None = None) -> list[Rule]:
    """The enabled rules (or the given ones, enabled or not), one query."""
    stmt = select(TagRule.id, TagRule.name, TagRule.tag, TagRule.expression, TagRule.version)
    stmt = stmt.where(TagRule.id.in_(rule_ids)) if rule_ids is not None else stmt.where(TagRule.enabled)
    return [Rule(str(r.id), r.name, r.tag, r.expression, r.version) for r in session.execute(stmt)]


class ArticleFields(Protocol):
    """What the taggers read of an article: a row of ``articles`` or the record the worker is about to write."""

    id: Any
    title: str
    body: str
    summary: str | None
    caption: str | None
    source: str
    section: str | None
    language: str | None
    language_score: float | None


def document_of(article: ArticleFields) -> Document:
    """The taggers' view of an article, its language the one decided and stored for it."""
    return Document(
        id=article.id,
        title=article.title or "",
        body=article.body or "",
        summary=article.summary,
        caption=article.caption,
        source=article.source or "",
        section=article.section,
        language=article.language,
        language_score=article.language_score,
    )


_REPLACE = text(
    """
    WITH incoming AS (
        SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
            article_id uuid, kind text, value text, tagger text, name text, score float8, mentions int,
            tagger_version text, attrs jsonb
        )
    ), stale AS (
        DELETE FROM article_tags t
        WHERE t.article_id = ANY(CAST(:ids AS uuid[]))
          AND (CAST(:taggers AS text[]) IS NULL OR t.tagger = ANY(CAST(:taggers AS text[])))
          AND NOT EXISTS (
              SELECT 1 FROM incoming i
              WHERE (i.article_id, i.kind, i.value, i.tagger) = (t.article_id, t.kind, t.value, t.tagger)
          )
    )
    INSERT INTO article_tags (article_id, kind, value, tagger, name, score, mentions, tagger_version, attrs)
    SELECT article_id, kind, value, tagger, name, score, mentions, tagger_version, attrs FROM incoming
    ON CONFLICT (article_id, kind, value, tagger) DO UPDATE
    SET name = EXCLUDED.name, score = EXCLUDED.score, mentions = EXCLUDED.mentions,
        tagger_version = EXCLUDED.tagger_version, attrs = EXCLUDED.attrs
    WHERE (article_tags.name, article_tags.score, article_tags.mentions, article_tags.tagger_version,
           article_tags.attrs)
          IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.score, EXCLUDED.mentions, EXCLUDED.tagger_version, EXCLUDED.attrs)
    """
)


def replace_tags(
    session: Session,
    tags: Mapping[uuid.UUID, Sequence[Tag]],
    *,
    taggers: Sequence[str] | None = None,
) -> int:
    """Make these articles' tags exactly ``tags`` (only those of ``taggers``, if given), in one statement: the
    tags they no longer have are deleted, the rest upserted (unchanged rows are left alone). Returns the number
    of tags the articles now have."""
    if not tags:
        return 0
    rows = []
    for article_id, article_tags in tags.items():
        seen: set[tuple[str, str, str]] = set()
        for tag in article_tags:
            if tag.key in seen or (taggers is not None and tag.tagger not in taggers):
                continue
            seen.add(tag.key)
            rows.append(
                {
                    "article_id": str(article_id),
                    "kind": tag.kind,
                    "value": tag.value,
                    "tagger": tag.tagger,
                    "name": tag.name,
                    "score": tag.score,
                    "mentions": tag.mentions,
                    "tagger_version": tag.tagger_version,
                    "attrs": tag.attrs,
                }
            )
    session.execute(
        _REPLACE,
        {"rows": jsoncodec.dumps(rows), "ids": list(tags), "taggers": list(taggers) if taggers is not None else None},
    )
    return len(rows)


# What the registered taggers read of an article: two articles equal in these get the same tags from them.
CopyKey = tuple[bytes, str, str | None, str | None, str | None]


class CopyFields(ArticleFields, Protocol):
    content_hash: bytes


def copy_key(article: CopyFields) -> CopyKey:
    """The text the taggers read (body by its hash, title, standfirst, caption) and the language it is in."""
    return (article.content_hash, article.title or "", article.summary, article.caption, article.language)


_COPIES = text(
    """
    WITH source AS (
        SELECT DISTINCT ON (a.content_hash, a.title, a.summary, a.caption, a.language)
               a.id, a.content_hash, a.title, a.summary, a.caption, a.language
        FROM articles a
        WHERE a.content_hash = ANY(CAST(:hashes AS bytea[])) AND a.id <> ALL(CAST(:ids AS uuid[]))
        ORDER BY a.content_hash, a.title, a.summary, a.caption, a.language, a.is_canonical DESC, a.id
    )
    SELECT s.id, s.content_hash, s.title, s.summary, s.caption, s.language,
           t.kind, t.value, t.tagger, t.name, t.score, t.mentions, t.tagger_version, t.attrs
    FROM source s JOIN article_tags t ON t.article_id = s.id AND t.kind <> :rule
    """
)


def tags_of_copies(
    session: Session, articles: Sequence[CopyFields], versions: Mapping[str, str]
) -> dict[CopyKey, list[Tag]]:
    """The stored tags of articles the taggers would read exactly as they read ``articles`` (same body, title,
    standfirst, caption and language; other articles than these), by :func:`copy_key`, in one query.

    Rule tags are left out (rules also read the source and section, and are cheap: they run on the copy). A
    stored article counts only when every tag it has comes from a tagger in ``versions`` at that version (a
    tagger since upgraded or switched off means tagging the copy afresh); an article with no tags counts not
    at all (it may never have been tagged).
    """
    wanted = {copy_key(a) for a in articles}
    if not wanted:
        return {}
    rows = session.execute(
        _COPIES,
        {
            "hashes": sorted({k[0] for k in wanted}),
            "ids": [a.id for a in articles],
            "rule": RULE.name,
        },
    )
    found: dict[CopyKey, list[Tag]] = {}
    stale: set[CopyKey] = set()
    for r in rows:
        key: CopyKey = (bytes(r.content_hash), r.title or "", r.summary, r.caption, r.language)
        if key not in wanted:
            continue
        if versions.get(r.tagger) != r.tagger_version:
            stale.add(key)
            continue
        found.setdefault(key, []).append(
            Tag(
                kind=r.kind,
                value=r.value,
                name=r.name,
                tagger=r.tagger,
                tagger_version=r.tagger_version,
                score=r.score,
                mentions=r.mentions,
                attrs=r.attrs or {},
            )
        )
    return {k: tags for k, tags in found.items() if k not in stale}

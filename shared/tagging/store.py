"""Reading rules and writing tags: one delete and one insert per batch, whatever its size.

The insert ships the whole batch as one JSON parameter unpacked by ``jsonb_to_recordset``, so a batch of 200
articles with 40 tags each is one statement (a multi-row VALUES would hit the driver's 65,535-parameter cap).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Float, Integer, Table, Text, bindparam, column, delete, func, select, text
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.orm import Session

from shared.db.models import ArticleTag, TagRule
from shared.tagging.base import Document, Tag
from shared.tagging.rules import Rule

# Held shared by every pipeline transaction that reads the rules, and taken exclusively by a rule backfill
# before it starts: so the backfill waits for batches that read the rules before the change, and every
# article is either seen by the backfill or tagged with the new rules (see services/worker/backfill.py).
RULES_LOCK_KEY = 0x74696467  # "tidg"

_COLUMNS = ("article_id", "kind", "value", "tagger", "name", "score", "mentions", "tagger_version", "attrs")


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


def document_from_record(record: Mapping[str, Any]) -> Document:
    """The taggers' view of an ``articles`` row (or of the record the pipeline is about to write)."""
    return Document(
        id=record["id"],
        title=record.get("title") or "",
        body=record.get("body") or "",
        summary=record.get("summary"),
        caption=record.get("caption"),
        source=record.get("source") or "",
        section=record.get("section"),
        language=record.get("language"),
        language_score=record.get("language_score"),
    )


def replace_tags(
    session: Session,
    tags: Mapping[uuid.UUID, Sequence[Tag]],
    *,
    taggers: Sequence[str] | None = None,
) -> int:
    """Make these articles' tags exactly ``tags``: delete what they had (from ``taggers`` only, if given), then
    insert. Returns the number of tag rows written."""
    if not tags:
        return 0
    table = cast(Table, ArticleTag.__table__)
    ids = list(tags)
    wipe = delete(table).where(table.c.article_id.in_(ids))
    if taggers is not None:
        wipe = wipe.where(table.c.tagger.in_(list(taggers)))
    session.execute(wipe)
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
    if not rows:
        return 0
    source = (
        func.jsonb_to_recordset(bindparam("rows", type_=JSONB))
        .table_valued(
            column("article_id", UUID(as_uuid=True)),
            column("kind", Text),
            column("value", Text),
            column("tagger", Text),
            column("name", Text),
            column("score", Float),
            column("mentions", Integer),
            column("tagger_version", Text),
            column("attrs", JSONB),
        )
        .render_derived(name="r", with_types=True)
    )
    stmt = insert(table).from_select(list(_COLUMNS), select(*(source.c[name] for name in _COLUMNS)))
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.article_id, table.c.kind, table.c.value, table.c.tagger],
        set_={name: stmt.excluded[name] for name in ("name", "score", "mentions", "tagger_version", "attrs")},
    )
    session.execute(stmt, {"rows": rows})
    return len(rows)

"""Claim ingestions, and write the processed articles with one upsert per batch.

The batch's rows travel as one JSON parameter unpacked by ``jsonb_to_recordset`` (``shared.db.bulk``): a
multi-row VALUES of 200 articles has 6,600 placeholders, which the driver re-parses on every batch (too long
for its statement cache) at a cost that was a sixth of a fast worker's time; one parameter costs nothing to
parse.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, case, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.worker.context import ArticleRecord, WorkItem
from shared.db.bulk import recordset
from shared.db.models import Article, Ingestion, IngestionState

PIPELINE_VERSION = "1"


def mark_processing(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Count an attempt for each unfinished ingestion and show it as processing; returns the attempts so far
    by id. Own transaction, so the attempt is counted even if the worker dies in the middle of the batch.
    Parked (failed) rows are left alone: only a replay brings them back."""
    stmt = (
        update(Ingestion)
        .where(
            Ingestion.id.in_(ids),
            Ingestion.state.in_([IngestionState.accepted.value, IngestionState.processing.value]),
        )
        .values(state=IngestionState.processing.value, attempts=Ingestion.attempts + 1, updated_at=func.now())
        .returning(Ingestion.id, Ingestion.attempts)
    )
    return {row.id: row.attempts for row in session.execute(stmt)}


def lock_items(session: Session, ids: Sequence[uuid.UUID]) -> list[WorkItem]:
    """Lock the rows for this transaction; rows another worker holds are skipped (it is doing them)."""
    rows = session.execute(
        select(
            Ingestion.id, Ingestion.source, Ingestion.external_id, Ingestion.payload, Ingestion.received_at,
            Ingestion.revision, Ingestion.withdrawn_at, Ingestion.withdrawal_reason, Ingestion.pending_event,
        )
        .where(Ingestion.id.in_(ids), Ingestion.state == IngestionState.processing.value)
        .order_by(Ingestion.id)
        .with_for_update(skip_locked=True)
    )  # fmt: skip
    return [
        WorkItem(
            id=r.id,
            source=r.source,
            external_id=r.external_id,
            payload=r.payload,
            received_at=r.received_at,
            revision=r.revision,
            withdrawn_at=r.withdrawn_at,
            withdrawal_reason=r.withdrawal_reason,
            pending_event=r.pending_event,
        )
        for r in rows
    ]


def _row(r: ArticleRecord) -> dict[str, Any]:
    """The ``articles`` columns of a record, by column name."""
    row: dict[str, Any] = {
        "id": r.id,
        "source": r.source,
        "external_id": r.external_id,
        "url": r.url,
        "canonical_url": r.canonical_url,
        "title": r.title,
        "summary": r.summary,
        "body": r.body,
        "credit": r.credit,
        "caption": r.caption,
        "authors": r.authors,
        "section": r.section,
        "metadata": r.metadata,
        "language": r.language,
        "language_score": r.language_score,
        "word_count": r.word_count,
        "content_hash": r.content_hash,
        "title_hash": r.title_hash,
        "published_at": r.published_at,
        "published_at_given": r.published_at_given,
        "received_at": r.received_at,
        "pipeline_version": PIPELINE_VERSION,
        "event_id": r.event_id,
        "revision": r.revision,
        "withdrawn_at": r.withdrawn_at,
        "withdrawal_reason": r.withdrawal_reason,
    }
    d = r.dedup
    row |= {
        "cluster_id": d.cluster_id if d else None,
        "is_canonical": d.is_canonical if d else True,
        "duplicate_of": d.duplicate_of if d else None,
        "dedup_similarity": d.dedup_similarity if d else None,
        "dedup_method": d.dedup_method if d else None,
        "dedup_version": d.dedup_version if d else None,
    }
    return row


_DEDUP = ("cluster_id", "is_canonical", "duplicate_of", "dedup_similarity", "dedup_method", "dedup_version")


def upsert_articles(session: Session, records: Sequence[ArticleRecord]) -> None:
    """One multi-row upsert keyed by the ingestion id: re-running a batch rewrites the same rows.

    The dedup and event columns of an existing row are rewritten only when their stage ran on the batch (a
    stage switched off leaves what an earlier run decided); every item of a batch goes through the same stages.
    """
    if not records:
        return
    table = cast(Table, Article.__table__)
    rows = [_row(r) for r in records]
    names = list(rows[0])
    revision: ColumnElement[int] = literal_column("r.revision")
    # A revision's first arrival dates its revised_at.
    incoming = recordset(table, rows, extra=[case((revision > 1, func.now()), else_=None).label("revised_at")])
    stmt = insert(table).from_select([*names, "revised_at"], incoming)
    skip = {"id"}
    if all(r.dedup is None for r in records):
        skip.update(_DEDUP)
    if all(r.event_id is None for r in records):
        skip.add("event_id")
    updates: dict[str, Any] = {name: stmt.excluded[name] for name in names if name not in skip}
    updates["processed_at"] = func.now()
    # Revised when the revision changed; reprocessing the same revision keeps its date.
    updates["revised_at"] = case(
        (stmt.excluded.revision > table.c.revision, stmt.excluded.revised_at), else_=table.c.revised_at
    )
    session.execute(stmt.on_conflict_do_update(index_elements=[table.c.id], set_=updates))


def mark_processed(session: Session, ids: Sequence[uuid.UUID]) -> None:
    session.execute(
        update(Ingestion)
        .where(Ingestion.id.in_(ids))
        .values(
            state=IngestionState.processed.value,
            error=None,
            processed_at=func.now(),
            updated_at=func.now(),
            pending_event=None,
        )
    )


def touch_processing(session: Session, ids: Sequence[uuid.UUID]) -> None:
    """A heartbeat for claimed rows still waiting their turn in this task, so the sweeper does not take
    them for lost while the task works through the others."""
    session.execute(
        update(Ingestion)
        .where(Ingestion.id.in_(ids), Ingestion.state == IngestionState.processing.value)
        .values(updated_at=func.now())
    )

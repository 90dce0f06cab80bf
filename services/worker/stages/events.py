"""The events stage: each article joins an event (different stories about one happening) or founds one.

Runs after tagging, whose entities and places it compares (read from the batch's tag rows, by kind).

``process`` (before the articles upsert):
1. articles decided before keep their event (reprocessing never moves one, and a user's split or merge
   stays where the user put it);
2. a copy of an article already in an event (the same dedup cluster) joins that event;
3. the others are embedded in one call (``shared.events.embedding``), featurized (``shared.events.engine``), indexed and looked up in one upsert plus one read
   of ``event_keys`` (``shared.events.index``), which takes the rows' locks until commit: two workers with
   articles on one event are serialised and the second sees the first;
4. the candidates' kept features are loaded in one query, scored and verified; the batch's earlier
   articles are candidates too, through an in-memory index; an article no rule joined gets the second look
   at its short list, whose bodies (the batch's, else read from ``articles``) are embedded only then, once
   per batch;
5. the events joined are locked in id order (a user's merge meanwhile is followed).

``after_store`` records each decision's evidence and rebuilds the touched events from their members.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from prometheus_client import Counter as Metric
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.worker.context import BatchContext, WorkItem
from services.worker.stages import Stage
from shared.db.bulk import upsert
from shared.db.models import Article, EventDecision
from shared.events.embedding import Vector, body_vectors, embed, opening, pack
from shared.events.engine import (
    BodyVectors,
    EventFeatures,
    MemoryIndex,
    Rule,
    Verdict,
    best_verdict,
    featurize,
    top_candidates,
)
from shared.events.index import index_batch, period_of
from shared.events.settings import EventSettings, engine_version, get_event_settings
from shared.events.store import cluster_events, load_bodies, load_known, lock_events, refresh_statements
from shared.tagging.settings import get_tagging_settings
from shared.tagging.vocabulary import vocabulary

EVENT_DECISIONS = Metric("tidings_event_decisions_total", "Event decisions by the rule that decided", ["rule"])


@dataclass
class EventDecisionDraft:
    """How the stage decided one article's event, kept on the item for ``after_store`` (``event_decisions``)."""

    event_id: uuid.UUID
    rule: Rule
    features: EventFeatures
    verdict: Verdict | None = None
    matched: uuid.UUID | None = None
    candidates: int = 0


def entities_of(item: WorkItem) -> list[str]:
    """``kind:value`` of the article's people, organisations, places and other named entities."""
    entities = vocabulary().entity_kinds
    return sorted({f"{t.kind}:{t.value}" for t in item.tags if t.kind in entities})


class EventsStage:
    name = "events"

    def __init__(self, settings: EventSettings) -> None:
        self.settings = settings
        self.version = engine_version(settings)

    def warm_up(self) -> None:
        from datetime import UTC, datetime

        if self.settings.embedding_words:
            embed(["The event engine loads its sentence encoder once per process."])
        featurize(
            title="Warming up",
            body="The event engine loads its word frequencies once per process.",
            language="en",
            entities=(),
            published_at=datetime.now(UTC),
            settings=self.settings,
        )

    def process(self, ctx: BatchContext) -> None:
        s = self.settings
        items = sorted(ctx.items, key=lambda i: i.id)
        if not items:
            return
        session = ctx.session
        kept: dict[uuid.UUID, uuid.UUID] = {
            r.id: r.event_id
            for r in session.execute(
                select(Article.id, Article.event_id).where(
                    Article.id.in_([i.id for i in items]), Article.event_id.is_not(None)
                )
            )
        }
        new = [i for i in items if i.id not in kept]
        vectors = (
            embed([opening(i.record.title, i.record.body, s.embedding_words) for i in new], s.embedding_tokens)
            if s.embedding_words
            else None
        )
        feats = {
            i.id: featurize(
                title=i.record.title,
                body=i.record.body,
                language=i.record.language,
                entities=entities_of(i),
                published_at=i.record.published_at,
                settings=s,
                embedding=None if vectors is None else vectors[n],
            )
            for n, i in enumerate(new)
        }
        copies = {i.id: c for i in new if (c := i.record.cluster_id) not in (None, i.id)}
        rows = index_batch(
            session,
            [(feats[i.id].day, feats[i.id].keys, i.id) for i in new],
            window_days=s.window_days,
            cap=s.bucket_cap,
        )
        # Counted as integers: a UUID hashes in Python, an int in C, and every article counts the same rows.
        by_key = {k: [i.int for i in ids] for k, ids in rows.items()}
        new_ids = {i.id.int for i in new}
        from_index = {i.id: self._candidates(feats[i.id], by_key, new_ids) for i in new}
        known = load_known(session, sorted({c for found in from_index.values() for c in found}))
        by_cluster = cluster_events(session, sorted(set(copies.values())))

        bodies = _BatchBodies(session, {i.id: i.record.body for i in new}, s)
        decisions: dict[uuid.UUID, EventDecisionDraft] = {}
        batch_clusters: dict[uuid.UUID, uuid.UUID] = {}
        local = MemoryIndex(s)
        for item in new:
            f = feats[item.id]
            cluster = copies.get(item.id)
            event = batch_clusters.get(cluster) if cluster else None
            event = event or (by_cluster.get(cluster) if cluster else None)
            if event is not None:
                decisions[item.id] = EventDecisionDraft(event, Rule.copy, f, matched=cluster)
            else:
                decisions[item.id] = self._decide(item, f, from_index[item.id], known, local, decisions, bodies)
                local.add(item.id, f)
            if (own := item.record.cluster_id) is not None:
                batch_clusters.setdefault(own, decisions[item.id].event_id)

        joined = sorted({d.event_id for i, d in decisions.items() if d.event_id != i} | set(kept.values()))
        merged = {r.id: r.merged_into for r in session.execute(lock_events(joined)) if r.merged_into}
        for item in items:
            if item.id in kept:
                item.record.event_id = kept[item.id]
                continue
            d = decisions[item.id]
            d.event_id = merged.get(d.event_id, d.event_id)
            item.record.event_id = d.event_id
            item.event = d
            item.announce = {
                "event": "event.created" if d.rule is Rule.founded else "event.grew",
                "event_id": str(d.event_id),
            }
            EVENT_DECISIONS.labels(rule=d.rule.value).inc()

    def _candidates(self, f: EventFeatures, rows: dict[tuple[int, int], list[int]], batch: set[int]) -> list[uuid.UUID]:
        """The stored articles sharing the most keys with ``f`` in the periods around it (the earliest id on a
        tie, as ``top_candidates`` orders them: a UUID's text sorts as its integer), the batch's own left out."""
        p = period_of(f.day, self.settings.window_days)
        found = (rows.get((period, key), ()) for period in (p - 1, p, p + 1) for key in f.keys)
        shared = Counter(chain.from_iterable(found))
        for own in batch & shared.keys():
            del shared[own]
        return [uuid.UUID(int=c) for c in top_candidates(shared, self.settings.max_candidates)]

    def _decide(
        self,
        item: WorkItem,
        f: EventFeatures,
        found: list[uuid.UUID],
        known: dict[uuid.UUID, Any],
        local: MemoryIndex,
        decided: dict[uuid.UUID, EventDecisionDraft],
        bodies: _BatchBodies,
    ) -> EventDecisionDraft:
        s = self.settings
        candidates: list[tuple[object, EventFeatures]] = [(c, known[c].features) for c in found if c in known]
        in_batch = top_candidates(local.query(f), s.max_candidates)
        candidates += [(c, decided[c].features) for c in in_batch if isinstance(c, uuid.UUID)]
        verdict, scored = best_verdict(f, candidates, s, bodies.of(item.id))
        if verdict is None:
            return EventDecisionDraft(item.id, Rule.founded, f, candidates=scored)
        matched = uuid.UUID(str(verdict.candidate))
        event = decided[matched].event_id if matched in decided else known[matched].event_id
        assert verdict.rule is not None
        return EventDecisionDraft(event, verdict.rule, f, verdict=verdict, matched=matched, candidates=scored)

    def after_store(self, ctx: BatchContext) -> None:
        rows = []
        for item in ctx.items:
            d = item.event
            if d is None:
                continue
            v = d.verdict
            rows.append(
                {
                    "article_id": item.id,
                    "event_id": d.event_id,
                    "matched_id": d.matched,
                    "rule": d.rule.value,
                    "score": v.score if v else None,
                    "text_similarity": v.text_similarity if v else None,
                    "shared_entities": list(v.shared) if v else [],
                    "hours_apart": v.hours_apart if v else None,
                    "candidates": d.candidates,
                    "engine_version": self.version,
                    "vector": {k: round(w, 4) for k, w in d.features.vector.items()},
                    "entities": sorted(d.features.entities),
                    # What the next articles in other languages compare with (read back by load_known).
                    "details": {
                        "language": d.features.language,
                        "anchors": {k: round(w, 4) for k, w in d.features.anchors.items()},
                        **({"embedding": pack(d.features.embedding)} if d.features.embedding is not None else {}),
                        **(
                            {"embedding_similarity": round(v.embedding_similarity, 4)}
                            if v and v.embedding_similarity is not None
                            else {}
                        ),
                        **(
                            {"body_similarity": round(v.body_similarity, 4)}
                            if v and v.body_similarity is not None
                            else {}
                        ),
                    },
                }
            )
        if rows:
            ctx.session.execute(upsert(EventDecision, rows, keys=["article_id"]))
        touched = sorted({e for item in ctx.items if (e := item.record.event_id) is not None})
        for refresh in refresh_statements(touched):
            ctx.session.execute(refresh)


class _BatchBodies:
    """The second look's body vectors for one batch: embedded when first asked, then kept for the batch; the
    batch's own bodies are at hand, a stored article's are read in one query per look."""

    def __init__(self, session: Session, batch: dict[uuid.UUID, str], s: EventSettings) -> None:
        self.session, self.batch, self.s = session, batch, s
        self.vectors: dict[uuid.UUID, Vector | None] = {}

    def of(self, article: uuid.UUID) -> BodyVectors | None:
        if not self.s.second_look_candidates or not self.s.embedding_words:
            return None

        def vectors(candidates: Sequence[object]) -> tuple[Vector | None, list[Vector | None]]:
            ids = [uuid.UUID(str(c)) for c in candidates]
            wanted = [i for i in dict.fromkeys([article, *ids]) if i not in self.vectors]
            stored = load_bodies(self.session, [i for i in wanted if i not in self.batch])
            texts = {i: self.batch[i] if i in self.batch else stored.get(i, "") for i in wanted}
            found = body_vectors(list(texts.values()), self.s.second_look_sentences, self.s.second_look_tokens)
            self.vectors.update(zip(texts, found, strict=True))
            return self.vectors[article], [self.vectors[i] for i in ids]

        return vectors


def events_stages() -> list[Stage]:
    s = get_event_settings()
    if get_tagging_settings().profile == "fast":
        # The fast profile runs no neural model: events compare words, names, places and anchors only.
        s = s.model_copy(update={"embedding_words": 0})
    return [EventsStage(s)] if s.enabled else []

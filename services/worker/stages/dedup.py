"""The deduplication stage: exact keys and MinHash/LSH over the batch, decided on the shared index.

``process`` (before the articles upsert):
1. reads what the batch's articles already have (a reprocessed article keeps its cluster; a corrected
   one stays out of the cluster it was taken from);
2. computes the batch's features in one vectorised pass (``shared.dedup.engine.featurize``);
3. indexes the batch and looks it up in one statement per index table (``shared.dedup.index``), which
   also takes the keys' row locks until commit: the race-free part;
4. loads the candidates' texts in one query, verifies them, and decides each article in id order, the
   earlier articles of the same batch being candidates too;
5. locks the existing clusters it joins, in id order.

``after_store`` (the articles exist) records each decision's evidence and its reuse links (both shares and
the reused passages), and rebuilds the touched clusters from their members: size, span, canonical article by
the policy, ``is_canonical`` and ``duplicate_of``.

Passage fingerprints (partial reuse) travel in the same ``lsh_buckets`` upsert as the bands, under their own
band number, so they are as race-free as the bands and cost no extra statement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from services.worker.context import BatchContext, DedupColumns, WorkItem
from services.worker.stages import Stage
from shared.db.bulk import upsert
from shared.db.models import Article, DedupCorrection, DedupDecision, DedupReuse
from shared.dedup.clusters import lock_clusters, refresh_statements
from shared.dedup.engine import Candidate, Features, Match, MemoryIndex, Method, decide, featurize
from shared.dedup.index import IndexHits, index_batch
from shared.dedup.keys import exact_keys, window_floor
from shared.dedup.reuse import Reuse, character_spans
from shared.dedup.settings import DedupSettings, engine_version, get_dedup_settings
from shared.metrics import DEDUP_DECISIONS


@dataclass
class _Known:
    """An article decided in an earlier batch, as far as this batch needs it."""

    cluster_id: uuid.UUID | None
    features: Features | None = None
    body: str | None = None  # kept for the reuse passages' character offsets


@dataclass
class DedupOutcome:
    """How the stage decided one article, kept on the item for ``after_store`` (the decision's evidence)."""

    cluster_id: uuid.UUID
    method: Method
    match: Match | None
    links: list[dict[str, Any]] | None = None  # rows of dedup_reuse


class DedupStage:
    name = "dedup"

    def __init__(self, settings: DedupSettings) -> None:
        self.settings = settings
        self.version = engine_version(settings)

    def warm_up(self) -> None:
        featurize(
            ["Warming up the dedup engine before the first article arrives, once per process."], ["-"], self.settings
        )

    def process(self, ctx: BatchContext) -> None:
        s = self.settings
        items = sorted(ctx.items, key=lambda i: i.id)
        if not items:
            return
        now = datetime.now(UTC)
        session = ctx.session
        kept = _previous_decisions(ctx, items)
        feats = featurize([i.record.body for i in items], [i.record.title for i in items], s)
        floor = window_floor(now, s.window_days)
        keys = {
            item.id: exact_keys(
                content_hash=item.record.content_hash,
                body=item.record.body,
                title=item.record.title,
                canonical_url=item.record.canonical_url,
                source=item.source,
                external_id=item.external_id,
                title_hash=item.record.title_hash,
                thin=f.thin,
                min_title_words=s.min_title_words,
            )
            for item, f in zip(items, feats, strict=True)
        }
        # Articles received before the window are decided but not indexed: the index forgets them anyway.
        indexed = [(item, f) for item, f in zip(items, feats, strict=True) if item.id >= floor]
        passage_band = s.passage_band
        hits = index_batch(
            session,
            bands=[(b, int(h), item.id) for item, f in indexed for b, h in enumerate(f.bands.tolist())]
            + [(passage_band, h, item.id) for item, f in indexed for h in f.passages.tolist()],
            keys=[(kind.value, key, item.id) for item, _ in indexed for kind, key in keys[item.id].items()],
            now=now,
            window_days=s.window_days,
            cap=s.bucket_cap,
        )
        batch_ids = {i.id for i in items}
        title_floor = window_floor(now, s.title_window_days)
        from_index = {
            item.id: _index_candidates(
                item, f, keys[item.id], hits, batch_ids, title_floor, passage_band, s.reuse_common_ids
            )
            for item, f in zip(items, feats, strict=True)
            if item.id not in kept
        }
        known = _load_candidates(ctx, from_index, s)

        decisions: dict[uuid.UUID, DedupOutcome] = {}
        bodies = {i.id: i.record.body for i in items} | {k: v.body for k, v in known.items() if v.body}
        local_bands = MemoryIndex()
        local_passages = MemoryIndex()
        local_keys: dict[bytes, list[uuid.UUID]] = {}
        local_features: dict[uuid.UUID, Features] = {}
        for item, f in zip(items, feats, strict=True):
            if item.id in kept:
                # Kept as it was; later articles of the batch may still join its cluster.
                decisions[item.id] = DedupOutcome(kept[item.id].cluster_id, Method.unique, None)
            else:
                candidates = _merge_candidates(
                    from_index[item.id],
                    known,
                    local_bands.query(f.bands),
                    local_passages.query(from_index[item.id].rare),
                    keys[item.id],
                    local_keys,
                    local_features,
                )
                decisions[item.id] = self._decide(item, f, candidates, known, decisions, bodies)
            local_bands.add(item.id, f.bands)
            local_passages.add(item.id, f.passages)
            for key in keys[item.id].values():
                local_keys.setdefault(key, []).append(item.id)
            local_features[item.id] = f

        existing = {d.cluster_id for i, d in decisions.items() if d.cluster_id != i}
        if existing:
            session.execute(lock_clusters(sorted(existing))).all()
        for item in items:
            d = decisions[item.id]
            if item.id in kept:
                item.record.dedup = kept[item.id]
                continue
            m = d.match
            item.record.dedup = DedupColumns(
                cluster_id=d.cluster_id,
                # Provisional: after_store points every member at the canonical article.
                is_canonical=m is None,
                duplicate_of=None,
                dedup_similarity=m.similarity if m else None,
                dedup_method=d.method.value,
                dedup_version=self.version,
            )
            item.dedup = d
            DEDUP_DECISIONS.labels(method=d.method.value).inc()

    def _decide(
        self,
        item: WorkItem,
        f: Features,
        candidates: list[Candidate],
        known: dict[uuid.UUID, _Known],
        decided: dict[uuid.UUID, DedupOutcome],
        bodies: dict[uuid.UUID, str],
    ) -> DedupOutcome:
        def cluster_of(other: uuid.UUID) -> uuid.UUID | None:
            return decided[other].cluster_id if other in decided else known[other].cluster_id

        verdict = decide(f, candidates, self.settings)
        match = verdict.match
        if match is None:
            cluster, method = item.id, Method.unique
        else:
            found = cluster_of(uuid.UUID(str(match.matched)))
            assert found is not None
            cluster, method = found, match.method
        # Reuse of an article of the cluster it joined is a copy, not a link: only the deciding one is kept.
        by_reuse = match.matched if match is not None and match.method is Method.reuse else None
        links = [
            _reuse_row(item, f.mode, r, bodies, joined=r.other == by_reuse)
            for r in verdict.reuses
            if r.other == by_reuse or cluster_of(uuid.UUID(str(r.other))) != cluster
        ]
        return DedupOutcome(cluster_id=cluster, method=method, match=match, links=links)

    def after_store(self, ctx: BatchContext) -> None:
        rows = [
            {
                "article_id": item.id,
                "matched_id": uuid.UUID(str(d.match.matched)) if d.match else None,
                "method": d.method.value,
                "similarity": d.match.similarity if d.match else None,
                "jaccard": d.match.jaccard if d.match else None,
                "containment": d.match.containment if d.match else None,
                "title_similarity": d.match.title_similarity if d.match else None,
                "shared_bands": d.match.shared_bands if d.match else 0,
                "engine_version": self.version,
            }
            for item in ctx.items
            if (d := item.dedup) is not None
        ]
        if rows:
            ctx.session.execute(upsert(DedupDecision, rows, keys=["article_id"]))
        links = sorted(
            (
                link | {"engine_version": self.version}
                for item in ctx.items
                if (d := item.dedup) is not None
                for link in d.links or ()
            ),
            key=lambda r: (r["article_id"], r["other_id"]),
        )
        if links:
            ctx.session.execute(upsert(DedupReuse, links, keys=["article_id", "other_id"]))
        clusters = sorted(
            {c for item in ctx.items if (c := item.record.cluster_id) is not None}
            | {item.left_cluster for item in ctx.items if item.left_cluster is not None}
        )
        for refresh in refresh_statements(clusters, self.settings):
            ctx.session.execute(refresh)


def _reuse_row(item: WorkItem, mode: Any, r: Reuse, bodies: dict[uuid.UUID, str], *, joined: bool) -> dict[str, Any]:
    """A ``dedup_reuse`` row: both shares, the passages of both texts as character offsets, the decision."""
    other = uuid.UUID(str(r.other))
    return {
        "article_id": item.id,
        "other_id": other,
        "share_of_article": r.of_doc,
        "share_of_other": r.of_other,
        "article_passages": character_spans(bodies[item.id], mode, r.doc_runs),
        "other_passages": character_spans(bodies.get(other, ""), mode, r.other_runs),
        "shared_fingerprints": r.shared_fingerprints,
        "decision": "joined" if joined else "linked",
    }


def _previous_decisions(ctx: BatchContext, items: list[WorkItem]) -> dict[uuid.UUID, DedupColumns]:
    """Articles of the batch that were decided before (reprocessing): they keep their decision, and a
    corrected one its correction, so a replay never moves an article between clusters.

    A new revision of an article is decided again (its text changed: it may join another story or leave
    its own), unless a user corrected it; the cluster it leaves is rebuilt after the store."""
    by_id = {i.id: i for i in items}
    rows = ctx.session.execute(
        select(
            Article.id,
            Article.cluster_id,
            Article.is_canonical,
            Article.duplicate_of,
            Article.dedup_similarity,
            Article.dedup_method,
            Article.dedup_version,
            Article.revision,
            DedupCorrection.article_id.label("corrected"),
        )
        .outerjoin(DedupCorrection, DedupCorrection.article_id == Article.id)
        .where(Article.id.in_(list(by_id)), Article.cluster_id.is_not(None))
    )
    out = {}
    for r in rows:
        if r.corrected is None and by_id[r.id].revision > r.revision:
            by_id[r.id].left_cluster = r.cluster_id
            continue
        out[r.id] = DedupColumns(
            cluster_id=r.cluster_id,
            is_canonical=r.is_canonical,
            duplicate_of=r.duplicate_of,
            dedup_similarity=r.dedup_similarity,
            dedup_method=Method.correction.value if r.corrected is not None else r.dedup_method,
            dedup_version=r.dedup_version,
        )
    return out


@dataclass
class _FromIndex:
    exact: dict[uuid.UUID, set[Method]]
    bands: dict[uuid.UUID, int]
    passages: dict[uuid.UUID, int]
    rare: np.ndarray  # the article's fingerprints that are not boilerplate, for the batch's own articles


def _index_candidates(
    item: WorkItem,
    f: Features,
    keys: dict[Method, bytes],
    hits: IndexHits,
    batch_ids: set[uuid.UUID],
    title_floor: uuid.UUID,
    passage_band: int,
    common: int,
) -> _FromIndex:
    """Articles of other batches that share a key with this one (the batch's own are matched in memory)."""
    exact: dict[uuid.UUID, set[Method]] = {}
    for kind, key in keys.items():
        for other in hits.keys.get((kind.value, key), ()):
            if other in batch_ids or (kind is Method.same_title and other < title_floor):
                continue
            exact.setdefault(other, set()).add(kind)
    bands: dict[uuid.UUID, int] = {}
    for b, h in enumerate(f.bands.tolist()):
        for other in hits.buckets.get((b, h), ()):
            if other not in batch_ids:
                bands[other] = bands.get(other, 0) + 1
    passages: dict[uuid.UUID, int] = {}
    rare = []
    for h in f.passages.tolist():
        carriers = hits.buckets.get((passage_band, h), ())
        if len(carriers) >= common:
            continue  # boilerplate (a release's closing lines, a daily notice's template): no evidence of reuse
        rare.append(h)
        for other in carriers:
            if other not in batch_ids:
                passages[other] = passages.get(other, 0) + 1
    return _FromIndex(exact=exact, bands=bands, passages=passages, rare=np.array(rare, dtype=np.int64))


def _load_candidates(
    ctx: BatchContext, from_index: dict[uuid.UUID, _FromIndex], s: DedupSettings
) -> dict[uuid.UUID, _Known]:
    """One query for every candidate's cluster, and the texts of those worth verifying (the most shared
    bands first, ``max_candidates`` per article), featurized in one pass."""
    wanted: set[uuid.UUID] = set()
    texts: set[uuid.UUID] = set()
    for found in from_index.values():
        wanted.update(found.exact)
        if not found.exact:
            best = sorted(found.bands.items(), key=lambda kv: (-kv[1], kv[0]))[: s.max_candidates]
            texts.update(i for i, _ in best)
        # Reuse candidates are verified whatever decided the article: their links are evidence too.
        sharing = [(i, n) for i, n in found.passages.items() if n >= s.reuse_min_shared]
        texts.update(i for i, _ in sorted(sharing, key=lambda kv: (-kv[1], kv[0]))[: s.reuse_candidates])
    wanted |= texts
    if not wanted:
        return {}
    rows = ctx.session.execute(
        select(Article.id, Article.cluster_id, Article.title, Article.body).where(Article.id.in_(sorted(wanted)))
    ).all()
    known = {r.id: _Known(cluster_id=r.cluster_id) for r in rows if r.cluster_id is not None}
    verify = [r for r in rows if r.id in texts and r.id in known]
    if verify:
        feats = featurize([r.body for r in verify], [r.title for r in verify], s)
        for r, f in zip(verify, feats, strict=True):
            known[r.id].features, known[r.id].body = f, r.body
    return known


def _merge_candidates(
    found: _FromIndex,
    known: dict[uuid.UUID, _Known],
    local_bands: Any,
    local_passages: Any,
    keys: dict[Method, bytes],
    local_keys: dict[bytes, list[uuid.UUID]],
    local_features: dict[uuid.UUID, Features],
) -> list[Candidate]:
    out: dict[uuid.UUID, Candidate] = {}
    for other, kinds in found.exact.items():
        if other in known:
            out[other] = Candidate(id=other, rank=(other,), exact=set(kinds))
    for other, n in found.bands.items():
        if other in known:
            c = out.setdefault(other, Candidate(id=other, rank=(other,)))
            c.shared_bands, c.features = n, known[other].features
    for other, n in found.passages.items():
        if other in known and known[other].features is not None:
            c = out.setdefault(other, Candidate(id=other, rank=(other,)))
            c.shared_passages, c.features = n, known[other].features
    for kind, key in keys.items():
        for other in local_keys.get(key, ()):
            out.setdefault(other, Candidate(id=other, rank=(other,))).exact.add(kind)
    for other, n in local_bands.items():
        c = out.setdefault(other, Candidate(id=other, rank=(other,)))
        c.shared_bands, c.features = n, local_features[other]
    for other, n in local_passages.items():
        c = out.setdefault(other, Candidate(id=other, rank=(other,)))
        c.shared_passages, c.features = n, local_features[other]
    return list(out.values())


def dedup_stages() -> list[Stage]:
    return [DedupStage(get_dedup_settings())]

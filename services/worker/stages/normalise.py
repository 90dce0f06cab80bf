"""Normalise the text and compute the exact-match keys: content hash, title hash, canonical URL."""

from __future__ import annotations

from datetime import datetime

from services.worker.context import ArticleRecord, BatchContext
from shared.dates import in_window
from shared.text.normalise import clean_inline, content_hash, credit_name, normalise_body, title_hash, words
from shared.text.urls import canonical_url


def _published(value: str | None) -> datetime | None:
    """The payload's date; None when it has none, or one outside the date window. Ingest refuses such a date,
    but a row accepted before the window was enforced (or narrowed) still gets processed, dated by its
    arrival like an article sent without a date, rather than dead-lettered. A value that is no date at all
    cannot come through ingest: it raises, and the article is retried and parked as any corrupt row."""
    if value is None:
        return None
    published = datetime.fromisoformat(value)
    try:
        return in_window(published)
    except ValueError:
        return None


class NormaliseStage:
    name = "normalise"

    def process(self, ctx: BatchContext) -> None:
        for item in ctx.items:
            p = item.payload
            normalised = normalise_body(p["body"])
            lifted = "; ".join(credit_name(c) for c in normalised.credits)
            credit = "; ".join(x for x in (p.get("credit"), lifted) if x) or None
            title = clean_inline(p["title"])
            body = normalised.body or clean_inline(p["body"])
            published = _published(p.get("published_at"))
            item.article = ArticleRecord(
                id=item.id,
                source=item.source,
                external_id=item.external_id,
                url=p.get("url"),
                canonical_url=canonical_url(p.get("url")),
                title=title,
                summary=clean_inline(p["summary"]) if p.get("summary") else None,
                body=body,
                credit=clean_inline(credit) if credit else None,
                caption=clean_inline(p["caption"]) if p.get("caption") else None,
                authors=[clean_inline(a) for a in p.get("authors", []) if clean_inline(a)],
                section=clean_inline(p["section"]) if p.get("section") else None,
                metadata=p.get("metadata", {}),
                word_count=len(words(body)),
                content_hash=content_hash(body),
                title_hash=title_hash(title),
                published_at=published or item.received_at,
                published_at_given=published is not None,
                received_at=item.received_at,
                revision=item.revision,
                withdrawn_at=item.withdrawn_at,
                withdrawal_reason=item.withdrawal_reason,
            )

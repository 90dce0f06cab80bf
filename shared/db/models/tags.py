"""Article tags with their provenance: the contract between the tagging stage and the query service.

The kinds a tag may have are the tag vocabulary's (``shared/tagging/vocabulary.py``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models.base import Base


class ArticleTag(Base):
    """One tag on one article, with its score and provenance (tagger and version), so a backfill can
    re-tag exactly what a tagger change touched."""

    __tablename__ = "article_tags"

    article_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text, primary_key=True)
    tagger: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False, server_default="1")
    mentions: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    tagger_version: Mapped[str] = mapped_column(Text, nullable=False)
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    # The article's date and canonical flag, copied by triggers (migration 0007) so a tag filter reads the
    # (kind, value, published_at) index for just the dates asked for. Never written by the application.
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_canonical: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_article_tags_kind_value_article_id", "kind", "value", "article_id"),
        Index(
            "ix_article_tags_kind_value_published_at",
            "kind",
            "value",
            text("published_at DESC"),
            postgresql_include=["article_id", "is_canonical"],
            postgresql_where=text("kind <> 'keyword'"),
        ),
        Index("ix_article_tags_tagger_tagger_version", "tagger", "tagger_version"),
    )

"""Query service: saved searches and deliveries, the indexes the query plans need, tag statistics.

The covering indexes let counts (time series, facets) run as index-only scans: the articles heap holds the
body and the tsvector, three rows to a page, so fetching it per matching row costs more than anything else.

``tag_stats`` is a materialised view of the tags in use and their article counts, refreshed by a periodic
worker task (``REFRESH ... CONCURRENTLY``): counting 10+ million tag rows per request is out of the question.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("filters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
    )
    op.create_index(
        "ix_saved_searches_active",
        "saved_searches",
        ["id"],
        postgresql_where=sa.text("active AND webhook_url IS NOT NULL"),
    )
    op.create_table(
        "saved_search_matches",
        sa.Column("saved_search_id", sa.UUID(), nullable=False),
        sa.Column("article_id", sa.UUID(), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["saved_search_id"],
            ["saved_searches.id"],
            name=op.f("fk_saved_search_matches_saved_search_id_saved_searches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("saved_search_id", "article_id", name=op.f("pk_saved_search_matches")),
    )
    op.create_index("ix_saved_search_matches_matched_at", "saved_search_matches", ["matched_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("saved_search_id", sa.UUID(), nullable=False),
        sa.Column("article_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_status_code", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name=op.f("ck_deliveries_status")),
        sa.ForeignKeyConstraint(
            ["saved_search_id"],
            ["saved_searches.id"],
            name=op.f("fk_deliveries_saved_search_id_saved_searches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    op.create_index("ix_deliveries_saved_search_id_created_at", "deliveries", ["saved_search_id", "created_at"])
    op.create_index(
        "ix_deliveries_pending", "deliveries", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("delivery_id", sa.UUID(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_attempts_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", "attempt", name=op.f("pk_delivery_attempts")),
    )

    # Time series and facets over the canonical articles, without touching the heap.
    op.execute(
        "CREATE INDEX ix_articles_canonical_published_at ON articles (published_at DESC, id DESC) "
        "INCLUDE (source, language) WHERE is_canonical"
    )
    # Tag filters join from article_tags to articles by id: these probes are then index-only too.
    op.execute(
        "CREATE INDEX ix_articles_id_covering ON articles (id) INCLUDE (published_at, is_canonical, source, language)"
    )
    op.execute(
        "CREATE INDEX ix_articles_source_published_at_covering ON articles (source, published_at DESC) "
        "INCLUDE (is_canonical, language)"
    )
    op.execute(
        "CREATE INDEX ix_articles_language_published_at_covering ON articles (language, published_at DESC) "
        "INCLUDE (is_canonical, source)"
    )
    # Tag values are very skewed (one country in a third of the articles, a person in three): a longer
    # most-common-values list and joint (kind, value) statistics keep the tag filters' estimates honest.
    op.execute("ALTER TABLE article_tags ALTER COLUMN value SET STATISTICS 1000")
    op.execute(
        "CREATE STATISTICS IF NOT EXISTS st_article_tags_kind_value (mcv, ndistinct) ON kind, value FROM article_tags"
    )
    op.execute(TAG_STATS_VIEW)
    op.execute("CREATE UNIQUE INDEX uq_tag_stats_kind_value ON tag_stats (kind, value)")
    op.execute("CREATE INDEX ix_tag_stats_kind_articles ON tag_stats (kind, articles DESC)")
    op.execute("CREATE INDEX ix_tag_stats_kind_lower_name ON tag_stats (kind, lower(name) text_pattern_ops)")


TAG_STATS_VIEW = """
CREATE MATERIALIZED VIEW tag_stats AS
SELECT c.kind, c.value, coalesce(n.name, c.value) AS name, c.articles, now() AS counted_at
FROM (
    -- One row per article and tag whichever taggers agree, read in index order: no sort.
    SELECT kind, value, count(*) AS articles
    FROM (SELECT kind, value, article_id FROM article_tags GROUP BY kind, value, article_id) AS per_article
    GROUP BY kind, value
) AS c
CROSS JOIN LATERAL (
    SELECT t.name FROM article_tags t WHERE t.kind = c.kind AND t.value = c.value LIMIT 1
) AS n
"""


def downgrade() -> None:
    op.execute("DROP MATERIALIZED VIEW IF EXISTS tag_stats")
    op.execute("DROP STATISTICS IF EXISTS st_article_tags_kind_value")
    op.execute("ALTER TABLE article_tags ALTER COLUMN value SET STATISTICS -1")
    for name in (
        "ix_articles_canonical_published_at",
        "ix_articles_id_covering",
        "ix_articles_source_published_at_covering",
        "ix_articles_language_published_at_covering",
    ):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_table("delivery_attempts", if_exists=True)
    op.drop_table("deliveries", if_exists=True)
    op.drop_table("saved_search_matches", if_exists=True)
    op.drop_table("saved_searches", if_exists=True)

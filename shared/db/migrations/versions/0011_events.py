"""Events: a level above copy clusters, with their candidate index, decisions and corrections.

Revision ID: 0011
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)
NOW = sa.text("now()")


def upgrade() -> None:
    op.add_column("articles", sa.Column("event_id", UUID, nullable=True))
    op.create_index("ix_articles_event_id_published_at", "articles", ["event_id", sa.text("published_at DESC")])
    op.create_table(
        "events",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("size", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cluster_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("source_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("first_published_at", sa.DateTime(timezone=True)),
        sa.Column("last_published_at", sa.DateTime(timezone=True)),
        sa.Column("merged_into", UUID),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index(
        "ix_events_last_published_at",
        "events",
        [sa.text("last_published_at DESC")],
        postgresql_where=sa.text("size > 0"),
    )
    op.create_index(
        "ix_events_size_last_published_at", "events", [sa.text("size DESC"), sa.text("last_published_at DESC")]
    )
    op.create_table(
        "event_keys",
        sa.Column("period", sa.Integer(), primary_key=True),
        sa.Column("key", sa.BigInteger(), primary_key=True),
        sa.Column("article_ids", postgresql.ARRAY(UUID), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index("ix_event_keys_updated_at", "event_keys", ["updated_at"])
    op.create_table(
        "event_decisions",
        sa.Column("article_id", UUID, sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("matched_id", UUID),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("score", sa.Float()),
        sa.Column("text_similarity", sa.Float()),
        sa.Column("shared_entities", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"),
        sa.Column("hours_apart", sa.Float()),
        sa.Column("candidates", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("vector", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("entities", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"),
        sa.Column("engine_version", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index("ix_event_decisions_event_id", "event_decisions", ["event_id"])
    op.create_table(
        "event_corrections",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("article_id", UUID),
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("previous_event_id", UUID),
        sa.Column("note", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index("ix_event_corrections_article_id", "event_corrections", ["article_id"])


def downgrade() -> None:
    op.drop_table("event_corrections")
    op.drop_table("event_decisions")
    op.drop_table("event_keys")
    op.drop_table("events")
    op.drop_index("ix_articles_event_id_published_at", table_name="articles")
    op.drop_column("articles", "event_id")

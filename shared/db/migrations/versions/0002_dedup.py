"""Deduplication: signatures, LSH buckets, clusters, corrections.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lsh_buckets",
        sa.Column("band", sa.SmallInteger(), nullable=False),
        sa.Column("hash", sa.BigInteger(), nullable=False),
        sa.Column("article_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("band", "hash", name=op.f("pk_lsh_buckets")),
    )
    op.create_index("ix_lsh_buckets_updated_at", "lsh_buckets", ["updated_at"], unique=False)
    op.create_table(
        "dedup_keys",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("article_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_dedup_keys")),
    )
    op.create_index("ix_dedup_keys_updated_at", "dedup_keys", ["updated_at"], unique=False)
    op.create_table(
        "dedup_decisions",
        sa.Column("article_id", sa.UUID(), nullable=False),
        sa.Column("matched_id", sa.UUID(), nullable=True),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("jaccard", sa.Float(), nullable=True),
        sa.Column("containment", sa.Float(), nullable=True),
        sa.Column("title_similarity", sa.Float(), nullable=True),
        sa.Column("shared_bands", sa.Integer(), server_default="0", nullable=False),
        sa.Column("engine_version", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_dedup_decisions_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_dedup_decisions")),
    )
    op.create_index("ix_dedup_decisions_matched_id", "dedup_decisions", ["matched_id"], unique=False)
    op.create_table(
        "dedup_corrections",
        sa.Column("article_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.Text(), server_default="not_duplicate", nullable=False),
        sa.Column("previous_cluster_id", sa.UUID(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_dedup_corrections_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_dedup_corrections")),
    )


def downgrade() -> None:
    op.drop_table("dedup_corrections")
    op.drop_index("ix_dedup_decisions_matched_id", table_name="dedup_decisions")
    op.drop_table("dedup_decisions")
    op.drop_index("ix_dedup_keys_updated_at", table_name="dedup_keys")
    op.drop_table("dedup_keys")
    op.drop_index("ix_lsh_buckets_updated_at", table_name="lsh_buckets")
    op.drop_table("lsh_buckets")

"""Partial reuse between articles: both shares, the reused passages and the decision.

Passage fingerprints share ``lsh_buckets`` with the LSH bands (their own band number), so the index itself
needs no change.

Revision ID: 0010
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dedup_reuse",
        sa.Column("article_id", sa.UUID(), nullable=False),
        sa.Column("other_id", sa.UUID(), nullable=False),
        sa.Column("share_of_article", sa.Float(), nullable=False),
        sa.Column("share_of_other", sa.Float(), nullable=False),
        sa.Column("article_passages", postgresql.JSONB(), nullable=False),
        sa.Column("other_passages", postgresql.JSONB(), nullable=False),
        sa.Column("shared_fingerprints", sa.Integer(), server_default="0", nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("engine_version", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_dedup_reuse_article_id_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["other_id"], ["articles.id"], name=op.f("fk_dedup_reuse_other_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", "other_id", name=op.f("pk_dedup_reuse")),
    )
    op.create_index("ix_dedup_reuse_other_id", "dedup_reuse", ["other_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_dedup_reuse_other_id", table_name="dedup_reuse")
    op.drop_table("dedup_reuse")

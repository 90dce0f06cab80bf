"""Article revisions and withdrawals: the revision an ingestion holds, the texts it replaced, its withdrawal.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)
NOW = sa.text("now()")


def upgrade() -> None:
    for table in ("ingestions", "articles"):
        op.add_column(table, sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
        op.add_column(table, sa.Column("withdrawn_at", sa.DateTime(timezone=True)))
        op.add_column(table, sa.Column("withdrawal_reason", sa.Text()))
    op.add_column("ingestions", sa.Column("version", sa.BigInteger()))
    op.add_column("ingestions", sa.Column("version_created", sa.DateTime(timezone=True)))
    op.add_column("ingestions", sa.Column("pending_event", sa.Text()))
    op.add_column("articles", sa.Column("revised_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_articles_revised_at",
        "articles",
        [sa.text("revised_at DESC")],
        postgresql_where=sa.text("revised_at IS NOT NULL"),
    )
    op.create_table(
        "article_revisions",
        sa.Column("article_id", UUID, sa.ForeignKey("ingestions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("content_digest", sa.LargeBinary(), nullable=False),
        sa.Column("version", sa.BigInteger()),
        sa.Column("version_created", sa.DateTime(timezone=True)),
        sa.Column("channel", sa.Text(), nullable=False, server_default="api"),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("article_id", "revision", name="pk_article_revisions"),
    )
    # A revised article is delivered to a saved search again, once per revision.
    op.add_column("saved_search_matches", sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
    op.drop_constraint("pk_saved_search_matches", "saved_search_matches", type_="primary")
    op.create_primary_key(
        "pk_saved_search_matches", "saved_search_matches", ["saved_search_id", "article_id", "revision"]
    )


def downgrade() -> None:
    op.drop_constraint("pk_saved_search_matches", "saved_search_matches", type_="primary")
    op.execute("DELETE FROM saved_search_matches WHERE revision > 1")
    op.create_primary_key("pk_saved_search_matches", "saved_search_matches", ["saved_search_id", "article_id"])
    op.drop_column("saved_search_matches", "revision")
    op.drop_table("article_revisions")
    op.drop_index("ix_articles_revised_at", table_name="articles")
    op.drop_column("articles", "revised_at")
    for column in ("pending_event", "version_created", "version"):
        op.drop_column("ingestions", column)
    for table in ("ingestions", "articles"):
        for column in ("withdrawal_reason", "withdrawn_at", "revision"):
            op.drop_column(table, column)

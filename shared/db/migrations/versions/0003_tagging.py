"""Tagging: user rules, backfill jobs, tagger versions.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tag_rules",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("tag", sa.Text(), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_rules")),
    )
    op.create_index("ix_tag_rules_created_at", "tag_rules", ["created_at"], unique=False)
    op.create_table(
        "backfill_jobs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tagger", sa.Text(), nullable=False),
        sa.Column("tagger_version", sa.Text(), nullable=False),
        sa.Column("rule_id", sa.UUID(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), server_default="retag", nullable=False),
        sa.Column("state", sa.Text(), server_default="pending", nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cursor", sa.UUID(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tagged", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'running', 'done', 'failed', 'superseded')", name=op.f("ck_backfill_jobs_state")
        ),
        sa.CheckConstraint("action IN ('retag', 'remove')", name=op.f("ck_backfill_jobs_action")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backfill_jobs")),
    )
    op.create_index(
        "ix_backfill_jobs_rule_id_created_at",
        "backfill_jobs",
        ["rule_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_index(
        "ix_backfill_jobs_active",
        "backfill_jobs",
        ["updated_at"],
        unique=False,
        postgresql_where=sa.text("state IN ('pending', 'running')"),
    )
    op.create_table(
        "tagger_versions",
        sa.Column("tagger", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("tagger", name=op.f("pk_tagger_versions")),
    )


def downgrade() -> None:
    op.drop_table("tagger_versions")
    op.drop_index(
        "ix_backfill_jobs_active",
        table_name="backfill_jobs",
        postgresql_where=sa.text("state IN ('pending', 'running')"),
    )
    op.drop_index("ix_backfill_jobs_rule_id_created_at", table_name="backfill_jobs")
    op.drop_table("backfill_jobs")
    op.drop_index("ix_tag_rules_created_at", table_name="tag_rules")
    op.drop_table("tag_rules")

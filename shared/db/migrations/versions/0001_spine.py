"""The spine: ingestions, articles, idempotency keys, and the cluster and tag tables other stages fill.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clusters",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("canonical_id", sa.UUID(), nullable=False),
        sa.Column("size", sa.Integer(), server_default="1", nullable=False),
        sa.Column("first_published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clusters")),
    )
    op.create_index(
        "ix_clusters_last_published_at", "clusters", [sa.literal_column("last_published_at DESC")], unique=False
    )
    op.create_index(
        "ix_clusters_size_last_published_at",
        "clusters",
        [sa.literal_column("size DESC"), sa.literal_column("last_published_at DESC")],
        unique=False,
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.LargeBinary(), nullable=False),
        sa.Column("response_status", sa.SmallInteger(), nullable=False),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], unique=False)
    op.create_table(
        "ingestions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("source", sa.Text(), server_default="", nullable=False),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("channel", sa.Text(), server_default="api", nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.Text(), server_default="accepted", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('accepted', 'processing', 'processed', 'failed')", name=op.f("ck_ingestions_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingestions")),
    )
    op.create_index(
        "ix_ingestions_pending",
        "ingestions",
        ["updated_at"],
        unique=False,
        postgresql_where=sa.text("state IN ('accepted', 'processing')"),
    )
    op.create_index(
        "uq_ingestions_source_external_id",
        "ingestions",
        ["source", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("source", sa.Text(), server_default="", nullable=False),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("canonical_url", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("credit", sa.Text(), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("authors", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("section", sa.Text(), nullable=True),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("language", sa.Text(), nullable=True),
        sa.Column("language_score", sa.Float(), nullable=True),
        sa.Column("word_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("content_hash", sa.LargeBinary(), nullable=False),
        sa.Column("title_hash", sa.LargeBinary(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at_given", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("pipeline_version", sa.Text(), nullable=False),
        sa.Column("cluster_id", sa.UUID(), nullable=True),
        sa.Column("duplicate_of", sa.UUID(), nullable=True),
        sa.Column("is_canonical", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("dedup_similarity", sa.Float(), nullable=True),
        sa.Column("dedup_method", sa.Text(), nullable=True),
        sa.Column("dedup_version", sa.Text(), nullable=True),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(summary, '')), 'B') || setweight(to_tsvector('english', left(body, 200000)), 'C')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["id"], ["ingestions.id"], name=op.f("fk_articles_id_ingestions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
    )
    op.create_index("ix_articles_canonical_url", "articles", ["canonical_url"], unique=False)
    op.create_index("ix_articles_cluster_id", "articles", ["cluster_id"], unique=False)
    op.create_index("ix_articles_content_hash", "articles", ["content_hash"], unique=False)
    op.create_index(
        "ix_articles_language_published_at",
        "articles",
        ["language", sa.literal_column("published_at DESC")],
        unique=False,
    )
    op.create_index(
        "ix_articles_published_at_id",
        "articles",
        [sa.literal_column("published_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index("ix_articles_search_vector", "articles", ["search_vector"], unique=False, postgresql_using="gin")
    op.create_index(
        "ix_articles_source_published_at", "articles", ["source", sa.literal_column("published_at DESC")], unique=False
    )
    op.create_table(
        "article_tags",
        sa.Column("article_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("tagger", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), server_default="1", nullable=False),
        sa.Column("mentions", sa.Integer(), server_default="1", nullable=False),
        sa.Column("tagger_version", sa.Text(), nullable=False),
        sa.Column("attrs", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_tags_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", "kind", "value", "tagger", name=op.f("pk_article_tags")),
    )
    op.create_index(
        "ix_article_tags_kind_value_article_id", "article_tags", ["kind", "value", "article_id"], unique=False
    )
    op.create_index("ix_article_tags_tagger_tagger_version", "article_tags", ["tagger", "tagger_version"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_article_tags_tagger_tagger_version", table_name="article_tags")
    op.drop_index("ix_article_tags_kind_value_article_id", table_name="article_tags")
    op.drop_table("article_tags")
    op.drop_index("ix_articles_source_published_at", table_name="articles")
    op.drop_index("ix_articles_search_vector", table_name="articles", postgresql_using="gin")
    op.drop_index("ix_articles_published_at_id", table_name="articles")
    op.drop_index("ix_articles_language_published_at", table_name="articles")
    op.drop_index("ix_articles_content_hash", table_name="articles")
    op.drop_index("ix_articles_cluster_id", table_name="articles")
    op.drop_index("ix_articles_canonical_url", table_name="articles")
    op.drop_table("articles")
    op.drop_index(
        "uq_ingestions_source_external_id", table_name="ingestions", postgresql_where=sa.text("external_id IS NOT NULL")
    )
    op.drop_index(
        "ix_ingestions_pending",
        table_name="ingestions",
        postgresql_where=sa.text("state IN ('accepted', 'processing')"),
    )
    op.drop_table("ingestions")
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_clusters_size_last_published_at", table_name="clusters")
    op.drop_index("ix_clusters_last_published_at", table_name="clusters")
    op.drop_table("clusters")

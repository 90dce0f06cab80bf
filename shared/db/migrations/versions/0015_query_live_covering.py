"""The covering indexes of the query service carry ``withdrawn_at``, so the live-article filter keeps them index-only.

Every search, facet and time series asks for articles that are not withdrawn (``withdrawn_at IS NULL``,
migration 0013), a column the covering indexes of 0004 lacked: each row they yielded was then fetched from
the heap (three rows to a page, beside the body and the tsvector) just to read it. Finding the edge of a
listing's window over two sources visited 20,000 heap rows (~0.5 s cold on the 1M-article benchmark) for
what the index alone answers in a few milliseconds. Each index is rebuilt with the column included; their
keys and predicates are unchanged, so no other plan moves. On the 1M-article benchmark each build takes
seconds to a minute (writes to ``articles`` wait meanwhile).

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# name in 0004 → (new name, definition)
REPLACED = {
    "ix_articles_canonical_published_at": (
        "ix_articles_canonical_date_live",
        "ON articles (published_at DESC, id DESC) INCLUDE (source, language, withdrawn_at) WHERE is_canonical",
    ),
    "ix_articles_id_covering": (
        "ix_articles_id_live_covering",
        "ON articles (id) INCLUDE (published_at, is_canonical, source, language, withdrawn_at)",
    ),
    "ix_articles_source_published_at_covering": (
        "ix_articles_source_date_live",
        "ON articles (source, published_at DESC) INCLUDE (is_canonical, language, withdrawn_at)",
    ),
    "ix_articles_language_published_at_covering": (
        "ix_articles_language_date_live",
        "ON articles (language, published_at DESC) INCLUDE (is_canonical, source, withdrawn_at)",
    ),
}
# The definitions of 0004, restored by the downgrade.
ORIGINAL = {
    "ix_articles_canonical_published_at": "ON articles (published_at DESC, id DESC) INCLUDE (source, language) "
    "WHERE is_canonical",
    "ix_articles_id_covering": "ON articles (id) INCLUDE (published_at, is_canonical, source, language)",
    "ix_articles_source_published_at_covering": "ON articles (source, published_at DESC) "
    "INCLUDE (is_canonical, language)",
    "ix_articles_language_published_at_covering": "ON articles (language, published_at DESC) "
    "INCLUDE (is_canonical, source)",
}


def upgrade() -> None:
    op.execute("SET LOCAL statement_timeout = 0")
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for old, (new, definition) in REPLACED.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {new} {definition}")
        op.execute(f"DROP INDEX IF EXISTS {old}")


def downgrade() -> None:
    op.execute("SET LOCAL statement_timeout = 0")
    for old, (new, _) in REPLACED.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {old} {ORIGINAL[old]}")
        op.execute(f"DROP INDEX IF EXISTS {new}")

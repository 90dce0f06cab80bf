"""Hostile input: idempotency keys per API key, sources granted to keys, WebSub deliveries remembered.

- ``idempotency_keys`` gains ``owner`` (the API key's id; empty for webhook deliveries, whose ``scope``
  already names their source) and its primary key becomes ``(owner, scope, key)``: a client reusing another
  client's ``Idempotency-Key`` string gets its own processing, never the other's stored answer. Rows stored
  before this revision keep the empty owner, so no API key ever matches them; they expire with the 24-hour
  purge like any other.
- ``api_keys.sources``: the source names a non-admin key may write to. NULL (every key made before this
  revision, and keys made without a grant) means "any source nobody has registered"; a registered source
  is written only by the keys granted it, by admin keys and by its own signed webhooks.
- ``websub_deliveries``: the SHA-256 of every WebSub content delivery a source accepted. WebSub carries no
  timestamp or delivery id, so a captured delivery stays correctly signed for as long as the secret does; its
  digest is kept while a secret that could have signed it is still valid (see the sweep in the ingest
  service), long after the 24-hour idempotency record is gone.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("idempotency_keys", sa.Column("owner", sa.Text(), server_default="", nullable=False))
    op.drop_constraint("pk_idempotency_keys", "idempotency_keys", type_="primary")
    op.create_primary_key("pk_idempotency_keys", "idempotency_keys", ["owner", "scope", "key"])

    op.add_column("api_keys", sa.Column("sources", postgresql.ARRAY(sa.Text()), nullable=True))

    op.create_table(
        "websub_deliveries",
        sa.Column("source_id", sa.UUID(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_websub_deliveries_source_id_sources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("source_id", "digest", name=op.f("pk_websub_deliveries")),
    )
    op.create_index("ix_websub_deliveries_received_at", "websub_deliveries", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_websub_deliveries_received_at", table_name="websub_deliveries")
    op.drop_table("websub_deliveries")
    op.drop_column("api_keys", "sources")
    # Keys of different owners may share (scope, key) by now: keep one row of each before narrowing the key.
    op.execute(
        "DELETE FROM idempotency_keys a USING idempotency_keys b "
        "WHERE a.scope = b.scope AND a.key = b.key AND a.owner > b.owner"
    )
    op.drop_constraint("pk_idempotency_keys", "idempotency_keys", type_="primary")
    op.create_primary_key("pk_idempotency_keys", "idempotency_keys", ["scope", "key"])
    op.drop_column("idempotency_keys", "owner")

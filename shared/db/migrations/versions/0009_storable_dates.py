"""Article and cluster dates kept within what the services can read, and rows outside it repaired.

PostgreSQL accepts dates Python cannot hold (``9999-12-31T23:59:59-14:00`` is 10000-01-01 in UTC, and
``0001-01-01T00:00:00+14:00`` is 1 BC); one such article used to fail every read that met it. Ingest now
refuses dates outside a window, and these constraints make the database refuse anything outside the widest
window a setting may give, whoever writes it.

Rows already outside it are repaired first: an article's unreadable date becomes its arrival time, as for an
article sent without a date (``published_at_given`` false; its tag rows follow through the trigger of 0007),
and a cluster's span is recomputed from its members. The constraints are added ``NOT VALID`` and then
validated, so the check of existing rows does not block writes to the table.

Revision ID: 0009
Revises: 0007
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Fixed here as written, whatever shared.dates says later: a day inside Python's years 1 to 9999 each side.
OK = "BETWEEN '0001-01-02T00:00:00+00:00' AND '9999-12-31T00:00:00+00:00'"

CONSTRAINTS = (
    ("articles", "ck_articles_published_at_storable", "published_at"),
    ("clusters", "ck_clusters_first_published_at_storable", "first_published_at"),
    ("clusters", "ck_clusters_last_published_at_storable", "last_published_at"),
)
REPAIRS = (
    """UPDATE articles SET published_at = received_at, published_at_given = false
       WHERE NOT (published_at BETWEEN '0001-01-02T00:00:00+00:00' AND '9999-12-31T00:00:00+00:00')""",
    """UPDATE clusters c SET first_published_at = span.first, last_published_at = span.last
       FROM (SELECT cluster_id, min(published_at) AS first, max(published_at) AS last
             FROM articles WHERE cluster_id IS NOT NULL GROUP BY cluster_id) span
       WHERE span.cluster_id = c.id
         AND NOT (c.first_published_at BETWEEN '0001-01-02T00:00:00+00:00' AND '9999-12-31T00:00:00+00:00'
                  AND c.last_published_at BETWEEN '0001-01-02T00:00:00+00:00' AND '9999-12-31T00:00:00+00:00')""",
    # A cluster left without members to date it takes its own creation time.
    """UPDATE clusters SET first_published_at = created_at, last_published_at = created_at
       WHERE NOT (first_published_at BETWEEN '0001-01-02T00:00:00+00:00' AND '9999-12-31T00:00:00+00:00'
                  AND last_published_at BETWEEN '0001-01-02T00:00:00+00:00' AND '9999-12-31T00:00:00+00:00')""",
)


def upgrade() -> None:
    for statement in REPAIRS:
        op.execute(statement)
    for table, name, column in CONSTRAINTS:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({column} {OK}) NOT VALID")
        op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")


def downgrade() -> None:
    for table, name, _ in CONSTRAINTS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")

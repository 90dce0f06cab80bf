"""Tag hour counts: a pair appears when all its rows came with the statement, told by one index probe per pair.

The insert trigger of migration 0014 asked, for every inserted (article, kind, value) pair, whether a stored
row of the pair was missing from the statement's rows: an anti-join against the transition table, which has
no index, so a worker's batch of a few thousand tags cost seconds of trigger time. Rows are unique per
(article, kind, value, tagger), so the pair is new exactly when its stored rows number as many as the
statement brought: a count through the primary key. The deltas, and so the counts, are those of 0014.

Revision ID: 0016
Revises: 0015
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TAGS_FUNCTION = """
CREATE OR REPLACE FUNCTION article_tags_hour_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A pair appears when every row it now has came with this statement.
        INSERT INTO tag_hour_counts AS c (hour, kind, value, n)
        SELECT date_trunc('hour', a.published_at, 'UTC'), p.kind, p.value, count(*)
        FROM (SELECT article_id, kind, value, count(*) AS rows FROM new_rows GROUP BY 1, 2, 3) p
        JOIN articles a ON a.id = p.article_id AND a.is_canonical AND a.withdrawn_at IS NULL
        WHERE (SELECT count(*) FROM article_tags t
               WHERE t.article_id = p.article_id AND t.kind = p.kind AND t.value = p.value) = p.rows
        GROUP BY 1, 2, 3 ORDER BY 2, 1, 3
        ON CONFLICT (kind, hour, value) DO UPDATE SET n = c.n + excluded.n;
    ELSE
        -- A pair disappears when none of its rows is left.
        INSERT INTO tag_hour_counts AS c (hour, kind, value, n)
        SELECT date_trunc('hour', a.published_at, 'UTC'), p.kind, p.value, -count(*)
        FROM (SELECT DISTINCT article_id, kind, value FROM old_rows) p
        JOIN articles a ON a.id = p.article_id AND a.is_canonical AND a.withdrawn_at IS NULL
        WHERE NOT EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = p.article_id
                          AND t.kind = p.kind AND t.value = p.value)
        GROUP BY 1, 2, 3 ORDER BY 2, 1, 3
        ON CONFLICT (kind, hour, value) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute(TAGS_FUNCTION)


def downgrade() -> None:
    # Back to the body 0014 created: the same deltas, found by the anti-join.
    spec = importlib.util.spec_from_file_location("migration_0014", Path(__file__).with_name("0014_query.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    op.execute(module.TAGS_FUNCTION)

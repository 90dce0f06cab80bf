"""Counts kept per hour: live canonical articles per (hour, source, language) and per (hour, tag).

Facets and time series of a filter-only request (no full-text term, no tag filter beyond one) are sums over
these cells, so their cost follows the date range, not how many articles match. The cells count exactly what
the live queries count: canonical articles that are not withdrawn, a tag counted once per article whatever
the number of taggers that gave it. Hours are UTC hours.

Statement-level triggers keep them, in the writer's transaction, so a reader never sees an article without
its counts: one upsert per statement and table, the cells in key order (two writers touching the same cells
lock them in the same order and cannot deadlock on them).
- articles: an insert adds its live rows; an update moves a row whose hour, source, language or liveness
  (canonical flag, withdrawal) changed, with its tags; a delete removes the row and its tags before the
  cascade takes them (a row trigger, deletes being rare).
- article_tags: an insert adds the (article, kind, value) pairs it made appear, a delete removes the pairs
  it made disappear. Tag keys are never updated (writers delete and insert).
``refresh_hour_counts()`` recomputes both tables from scratch (this migration, bulk loads).

Revision ID: 0014
Revises: 0013
"""

# The trigger bodies are assembled from this module's own constants: no outside value reaches the SQL.
# ruff: noqa: S608
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE article_hour_counts (
    hour timestamptz NOT NULL,
    source text NOT NULL,
    language text NOT NULL,  -- '' for an article with no language
    n bigint NOT NULL,
    PRIMARY KEY (hour, source, language)
);
CREATE TABLE tag_hour_counts (
    hour timestamptz NOT NULL,
    kind text NOT NULL,
    value text NOT NULL,
    n bigint NOT NULL,
    -- Kind first: a facet reads its kinds' cells of the date range, never the keywords' beside them.
    PRIMARY KEY (kind, hour, value)
);
CREATE INDEX ix_tag_hour_counts_kind_value_hour ON tag_hour_counts (kind, value, hour) INCLUDE (n);
"""

# An article counts when it is canonical and not withdrawn; its cell is its UTC hour.
LIVE = "(is_canonical AND withdrawn_at IS NULL)"

REFRESH = f"""
CREATE OR REPLACE FUNCTION refresh_hour_counts() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE article_hour_counts, tag_hour_counts;
    INSERT INTO article_hour_counts (hour, source, language, n)
    SELECT date_trunc('hour', published_at, 'UTC'), source, coalesce(language, ''), count(*)
    FROM articles WHERE {LIVE} GROUP BY 1, 2, 3;
    INSERT INTO tag_hour_counts (hour, kind, value, n)
    SELECT date_trunc('hour', a.published_at, 'UTC'), p.kind, p.value, count(*)
    FROM (SELECT DISTINCT article_id, kind, value FROM article_tags) p
    JOIN articles a ON a.id = p.article_id AND a.is_canonical AND a.withdrawn_at IS NULL
    GROUP BY 1, 2, 3;
END $$
"""

ARTICLE_UPSERT = """
    INSERT INTO article_hour_counts AS c (hour, source, language, n)
    SELECT hour, source, language, sum(d) FROM {deltas} x
    GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (hour, source, language) DO UPDATE SET n = c.n + excluded.n;
"""
TAG_UPSERT = """
    INSERT INTO tag_hour_counts AS c (hour, kind, value, n)
    SELECT hour, kind, value, sum(d) FROM {deltas} x
    GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 2, 1, 3
    ON CONFLICT (kind, hour, value) DO UPDATE SET n = c.n + excluded.n;
"""

# The updated rows that leave a cell (-1) or enter one (+1).
_CHANGED = (
    "(date_trunc('hour', o.published_at, 'UTC') <> date_trunc('hour', n.published_at, 'UTC') "
    "OR o.source <> n.source OR o.language IS DISTINCT FROM n.language "
    "OR (o.is_canonical AND o.withdrawn_at IS NULL) <> (n.is_canonical AND n.withdrawn_at IS NULL))"
)
MOVED = f"""
    SELECT o.id, date_trunc('hour', o.published_at, 'UTC') AS hour, o.source, coalesce(o.language, '') AS language,
           -1 AS d
    FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE o.is_canonical AND o.withdrawn_at IS NULL AND {_CHANGED}
    UNION ALL
    SELECT n.id, date_trunc('hour', n.published_at, 'UTC'), n.source, coalesce(n.language, ''), 1
    FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE n.is_canonical AND n.withdrawn_at IS NULL AND {_CHANGED}
"""

ARTICLES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION articles_hour_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {
    ARTICLE_UPSERT.format(
        deltas='''(
            SELECT date_trunc('hour', published_at, 'UTC') AS hour, source, coalesce(language, '') AS language,
                   1 AS d
            FROM new_rows WHERE is_canonical AND withdrawn_at IS NULL) '''
    )
}
        {
    TAG_UPSERT.format(
        deltas='''(
            SELECT DISTINCT t.article_id, date_trunc('hour', n.published_at, 'UTC') AS hour, t.kind, t.value,
                   1 AS d
            FROM new_rows n JOIN article_tags t ON t.article_id = n.id
            WHERE n.is_canonical AND n.withdrawn_at IS NULL) '''
    )
}
        RETURN NULL;
    END IF;
    -- UPDATE: only the rows whose cell or liveness changed, out of the old cell and into the new one.
    {ARTICLE_UPSERT.format(deltas=f"({MOVED})")}
    {
    TAG_UPSERT.format(
        deltas=f'''(
        SELECT DISTINCT t.article_id, m.hour, t.kind, t.value, m.d
        FROM ({MOVED}) m JOIN article_tags t ON t.article_id = m.id) '''
    )
}
    RETURN NULL;
END $$
"""

ARTICLE_DELETE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION articles_hour_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.is_canonical AND OLD.withdrawn_at IS NULL THEN
        {
    ARTICLE_UPSERT.format(
        deltas='''(
            SELECT date_trunc('hour', OLD.published_at, 'UTC') AS hour, OLD.source AS source,
                   coalesce(OLD.language, '') AS language, -1 AS d) '''
    )
}
        {
    TAG_UPSERT.format(
        deltas='''(
            SELECT DISTINCT date_trunc('hour', OLD.published_at, 'UTC') AS hour, kind, value, -1 AS d
            FROM article_tags WHERE article_id = OLD.id) '''
    )
}
    END IF;
    RETURN OLD;
END $$
"""

TAGS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION article_tags_hour_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A pair appears when every row it now has came with this statement.
        {
    TAG_UPSERT.format(
        deltas='''(
            SELECT date_trunc('hour', a.published_at, 'UTC') AS hour, p.kind, p.value, 1 AS d
            FROM (SELECT DISTINCT article_id, kind, value FROM new_rows) p
            JOIN articles a ON a.id = p.article_id AND a.is_canonical AND a.withdrawn_at IS NULL
            WHERE NOT EXISTS (
                SELECT 1 FROM article_tags t
                WHERE t.article_id = p.article_id AND t.kind = p.kind AND t.value = p.value
                  AND NOT EXISTS (SELECT 1 FROM new_rows r WHERE r.article_id = t.article_id
                                  AND r.kind = t.kind AND r.value = t.value AND r.tagger = t.tagger))) '''
    )
}
    ELSE
        -- A pair disappears when none of its rows is left.
        {
    TAG_UPSERT.format(
        deltas='''(
            SELECT date_trunc('hour', a.published_at, 'UTC') AS hour, p.kind, p.value, -1 AS d
            FROM (SELECT DISTINCT article_id, kind, value FROM old_rows) p
            JOIN articles a ON a.id = p.article_id AND a.is_canonical AND a.withdrawn_at IS NULL
            WHERE NOT EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = p.article_id
                              AND t.kind = p.kind AND t.value = p.value)) '''
    )
}
    END IF;
    RETURN NULL;
END $$
"""

TRIGGERS = """
CREATE TRIGGER articles_hour_counts_insert AFTER INSERT ON articles
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION articles_hour_counts();
CREATE TRIGGER articles_hour_counts_update AFTER UPDATE ON articles
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION articles_hour_counts();
CREATE TRIGGER articles_hour_counts_delete BEFORE DELETE ON articles
    FOR EACH ROW EXECUTE FUNCTION articles_hour_counts_delete();
CREATE TRIGGER article_tags_hour_counts_insert AFTER INSERT ON article_tags
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION article_tags_hour_counts();
CREATE TRIGGER article_tags_hour_counts_delete AFTER DELETE ON article_tags
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION article_tags_hour_counts();
"""

# The triggers' names, so a bulk load can switch them off and call refresh_hour_counts() after it.
TRIGGER_NAMES = {
    "articles": ("articles_hour_counts_insert", "articles_hour_counts_update", "articles_hour_counts_delete"),
    "article_tags": ("article_tags_hour_counts_insert", "article_tags_hour_counts_delete"),
}


def upgrade() -> None:
    op.execute(TABLES)
    for ddl in (REFRESH, ARTICLES_FUNCTION, ARTICLE_DELETE_FUNCTION, TAGS_FUNCTION):
        op.execute(ddl)
    op.execute(TRIGGERS)
    # Counting a loaded database's tags takes longer than the statement timeout of a request.
    op.execute("SET LOCAL statement_timeout = 0")
    op.execute("SET LOCAL work_mem = '256MB'")  # the distinct tag pairs of millions of rows, sorted in memory
    op.execute("SELECT refresh_hour_counts()")


def downgrade() -> None:
    for table, names in TRIGGER_NAMES.items():
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for function in (
        "article_tags_hour_counts()",
        "articles_hour_counts_delete()",
        "articles_hour_counts()",
        "refresh_hour_counts()",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute("DROP TABLE IF EXISTS tag_hour_counts, article_hour_counts")

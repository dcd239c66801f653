"""Substring search of the console's list through GIN indexes, on PostgreSQL only (docs/perf.md).

`counsel_grams(t)` is the set of distinct characters and pairs of adjacent
characters of upper(t). A text containing a term contains all of the term's
grams, so `counsel_grams(col) @> counsel_grams(term)` narrows through a GIN
index to candidates, which `UPPER(col) LIKE UPPER('%term%')` then checks
(consultations/lookups.py). Unlike pg_trgm's trigrams, this works for the
2-syllable words of most Korean searches, and needs no extension.

SQLite (development, tests) skips this migration: there the lookup falls back
to Django's icontains. The indexes are built CONCURRENTLY (hence a
non-atomic migration), so the message table stays writable while its index
is built (about a minute per million messages).
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION counsel_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT ARRAY(
    SELECT DISTINCT g FROM (
      SELECT substr(u, i, 1) FROM generate_series(1, char_length(u)) AS i
      UNION ALL
      SELECT substr(u, i, 2) FROM generate_series(1, char_length(u) - 1) AS i
    ) AS grams(g)
  )
  FROM (SELECT upper(t) AS u) AS folded
$$
"""

# The grams a text must contain to contain the term: its bigrams (each of its
# characters is in one of them), or its one character. Fewer index lookups
# than all of counsel_grams(term), and the planner's estimate of a 2-character
# term is then its bigram's frequency in the index statistics.
TERM_FUNCTION = """
CREATE OR REPLACE FUNCTION counsel_term_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT ARRAY(SELECT g FROM unnest(counsel_grams(t)) AS g WHERE char_length(g) = least(char_length(upper(t)), 2))
$$
"""

# name: (table, indexed expression, method)
INDEXES = {
    "msg_text_grams": ("consultations_message", "counsel_grams(text)", "gin"),
    "customer_nickname_grams": ("customers_customer", "counsel_grams(nickname)", "gin"),
    "customer_profile_grams": ("customers_customer", "counsel_grams(profile_nickname)", "gin"),
    # customer_id__iexact, the third branch of the customers' OR: all three indexed, they combine (BitmapOr).
    "customer_upper_id": ("customers_customer", "upper(customer_id)", "btree"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    schema_editor.execute(TERM_FUNCTION)
    for name, (table, expression, method) in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING {method} ({expression})")
    # The planner's estimates for `@>` come from the statistics of the indexed expressions.
    for table in dict.fromkeys(table for table, _expression, _method in INDEXES.values()):
        schema_editor.execute(f"ANALYZE {table}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    schema_editor.execute("DROP FUNCTION IF EXISTS counsel_term_grams(text)")
    schema_editor.execute("DROP FUNCTION IF EXISTS counsel_grams(text)")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("consultations", "0004_list_flag_indexes"),
        ("customers", "0002_channel"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]

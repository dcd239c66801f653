"""Substring search that PostgreSQL answers through a GIN index: the `__substring` lookup.

    Message.objects.filter(text__substring="분실")

matches what `text__icontains="분실"` matches. On PostgreSQL its SQL is

    counsel_grams(text) @> counsel_term_grams('분실') AND UPPER(text::text) LIKE UPPER('%분실%')

The first half narrows through the GIN index of migration 0005: the grams of
a text are its distinct characters and character pairs, upper-cased, and a
text containing the term contains all of the term's pairs (or its one
character, for a 1-character term) — `counsel_term_grams`, computed from
`counsel_grams` by the same SQL, so both sides fold case alike. Unlike
pg_trgm's trigrams, this works for the 2-syllable words of most Korean
searches. The second half is Django's icontains (same escaping of %, _ and
backslash), which decides; for a term of one or two characters, itself one
gram, the first half is exact and stands alone. On other databases (SQLite in development and tests) the
lookup is icontains alone.

Registered on CharField and TextField when this module is imported
(consultations/filters.py imports it), with `__any_of` on integer fields
(below).
"""

from __future__ import annotations

from django.db.models import CharField, IntegerField, Lookup, TextField
from django.db.models.lookups import IContains, In


@CharField.register_lookup
@TextField.register_lookup
class Substring(Lookup):
    lookup_name = "substring"
    prepare_rhs = False

    def _icontains(self) -> IContains:
        return IContains(self.lhs, self.rhs)

    def as_sql(self, compiler, connection):
        return compiler.compile(self._icontains())

    def as_postgresql(self, compiler, connection):
        contains_sql, contains_params = compiler.compile(self._icontains())
        if not isinstance(self.rhs, str) or not self.rhs:  # an expression, or "": nothing to narrow with
            return contains_sql, contains_params
        column_sql, column_params = compiler.compile(self.lhs)
        grams_sql = f"counsel_grams({column_sql}) @> counsel_term_grams(%s)"
        if 1 <= len(self.rhs) <= 2 and len(self.rhs.upper()) == len(self.rhs):
            # The term is one gram: a text has it exactly when it contains the term (case folded alike on
            # both sides), so the index decides alone and no text is re-read (about 1 ms for 2,800 matches).
            return f"({grams_sql})", (*column_params, self.rhs)
        return f"({grams_sql} AND {contains_sql})", (*column_params, self.rhs, *contains_params)


@IntegerField.register_lookup
class AnyOf(In):
    """`pk__any_of=<subquery>`: `pk IN (subquery)`, which PostgreSQL runs as `pk = ANY(ARRAY(subquery))`.

    For a rare term's matches (a few thousand ids from the GIN indexes) the
    IN form is planned as one primary-key probe per id (about 3.5 ms for
    2,800 ids on the benchmark data); the array form collects the ids first
    and reads them as one bitmap scan in table order (about 1 ms less for the
    whole search query, docs/perf.md).
    """

    lookup_name = "any_of"

    def as_postgresql(self, compiler, connection):
        if self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs_sql} = ANY(ARRAY{rhs_sql})", (*lhs_params, *rhs_params)

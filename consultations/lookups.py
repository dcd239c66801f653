"""The `__substring` lookup, under the console list's search (SPEC §3; console/search.py).

    Message.objects.filter(text__substring="분실")

matches what `text__icontains="분실"` matches. On PostgreSQL its SQL is

    strpos(text, '분실') <> 0 AND counsel_grams(text) @> counsel_term_grams('분실')

The grams half is what the GIN index of migration 0005 answers: the grams of
a text are its distinct characters and character pairs, upper-cased, and a
text containing the term contains all of the term's pairs (or its one
character, for a 1-character term) — `counsel_term_grams`, computed from
`counsel_grams` by the same SQL, so both sides fold case alike. Unlike
pg_trgm's trigrams, this works for the 2-syllable words of most Korean
searches. The `strpos` half decides, on both sides upper-cased by PostgreSQL
as icontains does (`UPPER(text) LIKE UPPER('%…%')`), or as they are when the
term has no letter with a case (Korean, digits, punctuation: the same
answer, at a quarter of the cost per row). It is `strpos(…) <> 0` rather than
LIKE because PostgreSQL has no statistics for it and takes it as almost
always true, so the plan rests on the grams' estimate (from the index's
statistics), which is right: LIKE's own estimate would be multiplied into it
and make every term look thousands of times rarer than it is (docs/perf.md).
On other databases (SQLite in development and tests) the lookup is icontains.

The lookups are registered by `register_lookups()`, called from
`ConsultationsConfig.ready()`, so `__substring` works wherever models are
queried.
"""

from __future__ import annotations

from django.db.models import CharField, TextField
from django.db.models.lookups import IContains, Lookup


class Substring(Lookup):
    lookup_name = "substring"
    prepare_rhs = False

    def _icontains(self) -> IContains:
        return IContains(self.lhs, self.rhs)

    def as_sql(self, compiler, connection):
        return compiler.compile(self._icontains())

    def as_postgresql(self, compiler, connection):
        if not isinstance(self.rhs, str) or not self.rhs:  # an expression, or "": nothing to narrow with
            return compiler.compile(self._icontains())
        column_sql, column_params = compiler.compile(self.lhs)
        term = self.rhs
        if term.upper() == term == term.lower():  # no letter with a case: the text need not be folded
            contains_sql, contains_params = f"strpos({column_sql}, %s) <> 0", (*column_params, term)
        else:
            contains_sql, contains_params = f"strpos(UPPER({column_sql}), UPPER(%s)) <> 0", (*column_params, term)
        # strpos first: where PostgreSQL walks rows rather than reading the index, the cheap test
        # decides and counsel_grams (80-120 µs per text, docs/perf.md) runs only on the rows that pass.
        grams_sql = f"counsel_grams({column_sql}) @> counsel_term_grams(%s)"
        return f"({contains_sql} AND {grams_sql})", (*contains_params, *column_params, term)


def register_lookups() -> None:
    CharField.register_lookup(Substring)
    TextField.register_lookup(Substring)

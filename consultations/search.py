"""The console list's search (SPEC §3): the `__substring` lookup, and the newest matches of a term in a center.

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

`newest_matches` is the list's one way of searching: a bounded number of the
newest matches, whatever the size of the center's history.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import CharField, Q, QuerySet, TextField, Value
from django.db.models.lookups import IContains, Lookup

from customers.models import Customer

from .models import Consultation, Message

# A search reads at most this many of the center's newest messages with the term, and this many
# consultations of its newest customers whose nickname, profile name or ID match (docs/perf.md).
SEARCH_MATCHES = 100


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


@dataclass(frozen=True)
class Matches:
    """The consultations a search found: those of the newest matching messages and customers."""

    ids: frozenset[int]
    complete: bool  # False when a part read as many rows as it may: older consultations may match too


def newest_matches(center_id: int, term: str, *, limit: int | None = None) -> Matches:
    """The consultations of the center with `term` in one of its `limit` newest matching messages, or whose
    customer is one of its `limit` newest whose nickname or profile name contains `term` or whose customer ID
    is `term` (at most `limit` consultations of those): one query, `matches_query`.

    Which messages and customers count is decided by this center's rows only; each part stops at `limit`
    rows (SEARCH_MATCHES), however many match in the center's history.
    """
    limit = limit or SEARCH_MATCHES
    rows = list(matches_query(center_id, term, limit=limit))
    by_message = sum(1 for _pk, source in rows if source == "message")
    by_customer = len(rows) - by_message
    return Matches(ids=frozenset(pk for pk, _source in rows), complete=by_message < limit and by_customer < limit)


def matches_query(center_id: int, term: str, *, limit: int) -> QuerySet:
    """(consultation id, "message" or "customer") of `newest_matches`, as a UNION ALL of its two parts.

    Each part is `ORDER BY id DESC LIMIT limit`, which PostgreSQL answers either by walking the newest rows
    until it has enough (a common term: a few rows per match) or through the GIN indexes (a rare term: its
    few matches), by its estimate of how many rows match (docs/perf.md).
    """
    messages = (
        Message.objects.filter(consultation__center_id=center_id, text__substring=term)
        .order_by("-id")
        .values("pk")[:limit]
    )
    customers = (
        Customer.objects.filter(center_id=center_id)
        .filter(Q(nickname__substring=term) | Q(profile_nickname__substring=term) | Q(customer_id__iexact=term))
        .order_by("-id")
        .values("pk")[:limit]
    )
    of_customers = (
        Consultation.objects.filter(center_id=center_id, customer__in=customers).order_by("-id").values("pk")[:limit]
    )
    # Each limit sits in an IN subquery: SQLite allows no LIMIT in the parts of a compound query.
    found = _tagged(Message.objects.filter(pk__in=messages), "consultation_id", "message").union(
        _tagged(Consultation.objects.filter(pk__in=of_customers), "pk", "customer"), all=True
    )
    return found.order_by()  # not Message's default ordering, which the union would apply to its result


def _tagged(queryset: QuerySet, field: str, source: str) -> QuerySet:
    return queryset.order_by().annotate(source=Value(source)).values_list(field, "source")

"""The console list's search (SPEC §3): the newest matches of a term in a center.

`newest_matches` is the list's one way of searching: a bounded number of the
newest matches, whatever the size of the center's history. It searches with
the `__substring` lookup (consultations/lookups.py), which the GIN indexes of
migration 0005 answer on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet, Value

from consultations.models import Consultation, Message
from customers.models import Customer

# A search reads at most this many of the center's newest messages with the term, and this many
# consultations of its newest customers whose nickname, profile name or ID match (docs/perf.md).
SEARCH_MATCHES = 100


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

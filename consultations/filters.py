"""The console list's tabs, status filter and search (SPEC §3), with django-filter.

The scope (내 상담 / 전체 상담) chooses the base queryset
(`Consultation.objects.for_list`); these filters only narrow it, and
`tab_counts` counts the tabs of what they leave (docs/perf.md explains the
choices below with the query plans of a center of 100,000 consultations).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import django_filters
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from customers.models import Customer

from . import search  # noqa: F401 (registers the __substring lookup)
from .models import OPEN_STATUSES, Consultation, Message, Status

SCOPES = (("mine", _("My consultations")), ("all", _("All consultations")))
# 할당 전 exists only in 전체 상담: an unassigned consultation is nobody's.
TABS = {
    "mine": (Status.WAITING, Status.IN_PROGRESS, Status.CLOSED),
    "all": (Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS, Status.CLOSED),
}
FLAGS = (
    ("all", _("All")),
    ("important", _("Important")),
    ("hold", _("On hold")),
    ("both", _("Important/On hold")),
)
_FLAG_FILTERS = {
    "important": Q(is_important=True),
    "hold": Q(is_on_hold=True),
    "both": Q(is_important=True, is_on_hold=True),
}

# The closed tab grows with the center's whole history: it is counted up to
# COUNT_CAP rows ("999+"). The open tabs are bounded by the agents' limits
# and counted exactly.
COUNT_CAP = 1000
# With a common search term every tab is counted up to SEARCH_COUNT_CAP
# ("99+"): each row counted costs a look at its messages.
SEARCH_COUNT_CAP = 100
# A search term is "common" when at least COMMON_SHARE of the PROBE_SIZE
# newest messages contain it (see `search_is_common`).
PROBE_SIZE = 1000
COMMON_SHARE = 0.02


def default_tab(scope: str) -> str:
    return TABS[scope][0]


class RowExists(Exists):
    """EXISTS tested row by row, for the rows the outer query reads.

    PostgreSQL may plan an EXISTS under an OR as one hashed scan of the whole
    subquery (all 1,000,000 messages for a common word) even when the outer
    query stops after 31 rows; OFFSET 0 keeps it a per-row index probe.
    """

    template = "EXISTS(%(subquery)s OFFSET 0)"


def search_is_common(term: str) -> bool:
    """Whether `term` is in at least COMMON_SHARE of the newest messages (one query on PROBE_SIZE rows).

    A common term is searched by walking the tab newest first and looking at
    each consultation's messages: the page fills after a few rows. A rare one
    is searched through the GIN indexes (consultations/search.py): its few
    matches are found at once, where a walk would read the whole tab.
    """
    seconds = settings.SEARCH_PROBE_CACHE_SECONDS
    key = "search-probe:" + hashlib.sha256(term.encode()).hexdigest()
    if seconds and (known := cache.get(key)) is not None:
        return known  # a search is usually paged or refined: the same answer, a query (~1 ms) less
    # SELECT COUNT(…), COUNT(…) FILTER (WHERE … LIKE …) FROM (the newest messages) — one backward index scan.
    sample = Message.objects.order_by("-id")[:PROBE_SIZE].aggregate(
        total=Count("pk"), hits=Count("pk", filter=Q(text__icontains=term))
    )
    common = sample["hits"] > 0 and sample["hits"] >= COMMON_SHARE * sample["total"]
    if seconds:
        cache.set(key, common, seconds)
    return common


def search_condition(term: str, *, common: bool) -> Q:
    """The consultations with `term` in a message, the customer's nickname or profile name, or as customer ID.

    The matching customers are few whatever the term (names are short): they
    are always found through the indexes, once per query.
    """
    customers = Customer.objects.filter(
        Q(nickname__substring=term) | Q(profile_nickname__substring=term) | Q(customer_id__iexact=term)
    ).values("pk")
    if common:
        # Walked newest first: each row read is tested on its messages (an index probe that stops at
        # the first match) and on the set of matching customers.
        in_messages = Message.objects.filter(consultation=OuterRef("pk"), text__icontains=term)
        return Q(RowExists(in_messages)) | Q(customer__in=customers)
    # Matched once through the indexes: the consultations of the matching
    # messages and of the matching customers, as one set (a semi-join).
    matches = (
        Message.objects.filter(text__substring=term)
        .values("consultation_id")
        .union(Consultation.objects.filter(customer__in=customers).values("pk"), all=True)
    )
    return Q(pk__any_of=matches)


class ConsultationListFilter(django_filters.FilterSet):
    """`flag` (status filter) and `q` (search); the tab is applied after counting, see `tab_counts`."""

    flag = django_filters.ChoiceFilter(choices=FLAGS, method="filter_flag", empty_label=None)
    q = django_filters.CharFilter(method="filter_search", max_length=100)

    class Meta:
        model = Consultation
        fields: list[str] = []

    # Set by filter_search: None without a search, else whether the term is common.
    common_term: bool | None = None

    def filter_flag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        condition = _FLAG_FILTERS.get(value)
        return queryset.filter(condition) if condition is not None else queryset

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Customer nickname, profile name, customer ID, or the text of any message."""
        value = value.strip()
        if not value:
            return queryset
        self.common_term = search_is_common(value)
        return queryset.filter(search_condition(value, common=self.common_term))


@dataclass(frozen=True)
class TabCount:
    count: int
    capped: bool = False  # the tab has at least `count` rows; shown as "999+"

    @property
    def shown(self) -> int:
        """The number shown: the count, or one less than the cap with a "+"."""
        return self.count - 1 if self.capped else self.count


def tab_counts(queryset: QuerySet, scope: str, *, common_term: bool) -> dict[str, TabCount]:
    """The count of each tab of the scope: two queries without a search, one with a common term.

    Without a search, the open tabs exactly (an index range of their states,
    bounded by the agents' limits) and the closed tab up to COUNT_CAP. With a
    common term, every tab up to SEARCH_COUNT_CAP. (A rare term's tabs are
    counted by `rank_matches`.)
    """
    queryset = queryset.order_by()
    tabs = TABS[scope]
    if common_term:
        return _capped_counts(queryset, tabs, SEARCH_COUNT_CAP)
    opened = [status for status in tabs if status in OPEN_STATUSES]
    # COUNT(status), not COUNT(id): the states' index alone answers it (an index-only scan).
    counted = queryset.filter(status__in=opened).aggregate(
        **{status: Count("status", filter=Q(status=status)) for status in opened}
    )
    closed = queryset.filter(status=Status.CLOSED).values("pk")[:COUNT_CAP].count()
    result = {status: TabCount(counted[status]) for status in opened}
    result[Status.CLOSED] = TabCount(closed, capped=closed >= COUNT_CAP)
    return {status: result[status] for status in tabs}


def rank_matches(
    queryset: QuerySet, scope: str, tab: str, *, start: int, size: int
) -> tuple[dict[str, TabCount], list]:
    """For a rare search term: every tab's count and the ids of rows start+1 … start+size of `tab`, in one query.

    The matches are found once (through the indexes) into a materialized set;
    from it, the page (a top-N sort of the tab's matches) and each state's
    count (GROUP BY). Counting and paging in separate queries would match
    them twice; ranking every match with window functions sorted all of
    them (about 2.4 of 10 ms for 2,800 matches, docs/perf.md).
    """
    matches_sql, params = queryset.order_by().values_list("pk", "status", "last_activity_at").query.sql_with_params()
    sql = (
        f"WITH matches (id, status, activity) AS MATERIALIZED ({matches_sql}) "  # noqa: S608 (Django's SQL; values are params)
        "SELECT id, status, ROW_NUMBER() OVER (ORDER BY activity DESC, id DESC), NULL FROM ("
        " SELECT id, status, activity FROM matches WHERE status = %s"
        " ORDER BY activity DESC, id DESC LIMIT %s OFFSET %s) AS page "
        "UNION ALL SELECT NULL, status, NULL, COUNT(*) FROM matches GROUP BY status"
    )
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, [*params, tab, size, start])
        rows = cursor.fetchall()
    counted = {status: TabCount(0) for status in TABS[scope]}
    counted.update({status: TabCount(total) for pk, status, _n, total in rows if pk is None and status in counted})
    ranked = sorted((row for row in rows if row[0] is not None), key=lambda row: row[2])
    page = [pk for pk, _status, _n, _total in ranked]
    return counted, page


def _capped_counts(queryset: QuerySet, tabs: tuple[str, ...], cap: int) -> dict[str, TabCount]:
    """Each tab's count up to `cap`, in one query: SELECT (SELECT COUNT(*) FROM (… status = %s … LIMIT cap)), …

    The SQL of one tab is compiled once and reused with each tab's state as
    its parameter: compiling a search's subqueries costs more than running
    them.
    """
    db = queryset.db
    marker = "(tab)"  # not a state: marks where the state goes in the parameters
    sql, params = queryset.filter(status=marker).values("pk")[:cap].query.get_compiler(using=db).as_sql()
    where = [i for i, param in enumerate(params) if param == marker]
    if len(where) != 1:  # not expected; compile each tab on its own rather than guess
        compiled = [queryset.filter(status=s).values("pk")[:cap].query.get_compiler(using=db).as_sql() for s in tabs]
    else:
        compiled = [(sql, [*params[: where[0]], status, *params[where[0] + 1 :]]) for status in tabs]
    parts, all_params = [], []
    for i, (part_sql, part_params) in enumerate(compiled):
        parts.append(f"(SELECT COUNT(*) FROM ({part_sql}) AS capped_{i})")  # noqa: S608 (Django's SQL; values are params)
        all_params.extend(part_params)
    with connections[db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), all_params)
        numbers = cursor.fetchone()
    return {status: TabCount(n, capped=n >= cap) for status, n in zip(tabs, numbers, strict=True)}

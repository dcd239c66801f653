"""The console list's tabs, status filter and search (SPEC §3), with django-filter.

The scope (내 상담 / 전체 상담) chooses the base queryset
(`Consultation.objects.for_list`); these filters only narrow it, and
`tab_counts` counts the tabs of what they leave (docs/perf.md explains the
choices below with the query plans of a center of 100,000 consultations).
"""

from __future__ import annotations

from dataclasses import dataclass

import django_filters
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from consultations.models import OPEN_STATUSES, Consultation, Status

from .search import Matches, newest_matches

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
# While searching, each tab shows how many of the search's matches it holds, up to SEARCH_COUNT_CAP ("99+").
SEARCH_COUNT_CAP = 100


def default_tab(scope: str) -> str:
    return TABS[scope][0]


class ConsultationListFilter(django_filters.FilterSet):
    """`flag` (status filter) and `q` (search); the tab is applied after counting, see `tab_counts`."""

    flag = django_filters.ChoiceFilter(choices=FLAGS, method="filter_flag", empty_label=None)
    q = django_filters.CharFilter(method="filter_search", max_length=100)

    class Meta:
        model = Consultation
        fields: list[str] = []

    # Set by filter_search: what the search found (None without a search).
    matches: Matches | None = None

    def filter_flag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        condition = _FLAG_FILTERS.get(value)
        return queryset.filter(condition) if condition is not None else queryset

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Customer nickname, profile name, customer ID, or the text of any message: the newest matches
        (`search.newest_matches`, one query) of the member's center, then narrowed to them."""
        value = value.strip()
        if not value:
            return queryset
        self.matches = newest_matches(self.request.member.center_id, value)
        return queryset.filter(pk__in=self.matches.ids)


@dataclass(frozen=True)
class TabCount:
    count: int
    capped: bool = False  # counted up to a cap that it reached: the tab has at least `count` rows; shown as "999+"
    # A search stopped at its limit (search.Matches.complete is False): `count` found here, older ones may
    # match too; shown as "12+", titled "The first 12 results; type more to narrow them." as in the assist pane.
    at_least: bool = False

    @property
    def shown(self) -> int:
        """The number shown: the count, or one less than the cap with a "+"."""
        return self.count - 1 if self.capped else self.count


def tab_counts(queryset: QuerySet, scope: str, *, matches: Matches | None = None) -> dict[str, TabCount]:
    """The count of each tab of the scope: two queries without a search, one with.

    Without a search, the open tabs exactly (an index range of their states,
    bounded by the agents' limits) and the closed tab up to COUNT_CAP. With a
    search (`queryset` narrowed to its `matches`, at most a few hundred rows),
    each tab's share of them, shown up to SEARCH_COUNT_CAP ("99+"), and with
    a "+" when the search stopped at its limit, since older consultations may
    match too.
    """
    queryset = queryset.order_by()
    tabs = TABS[scope]
    if matches is not None:
        counted = queryset.aggregate(**{status: Count("pk", filter=Q(status=status)) for status in tabs})
        return {status: _search_count(counted[status], complete=matches.complete) for status in tabs}
    opened = [status for status in tabs if status in OPEN_STATUSES]
    # COUNT(status), not COUNT(id): the states' index alone answers it (an index-only scan).
    counted = queryset.filter(status__in=opened).aggregate(
        **{status: Count("status", filter=Q(status=status)) for status in opened}
    )
    closed = queryset.filter(status=Status.CLOSED).values("pk")[:COUNT_CAP].count()
    result = {status: TabCount(counted[status]) for status in opened}
    result[Status.CLOSED] = TabCount(closed, capped=closed >= COUNT_CAP)
    return {status: result[status] for status in tabs}


def _search_count(found: int, *, complete: bool) -> TabCount:
    if found >= SEARCH_COUNT_CAP:
        return TabCount(SEARCH_COUNT_CAP, capped=True)
    return TabCount(found, at_least=not complete and found > 0)

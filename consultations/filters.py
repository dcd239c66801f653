"""The console list's tabs, status filter and search (SPEC §3), with django-filter.

The scope (내 상담 / 전체 상담) chooses the base queryset
(`Consultation.objects.for_list`); these filters only narrow it.
"""

from __future__ import annotations

import django_filters
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import Consultation, Message, Status

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


def default_tab(scope: str) -> str:
    return TABS[scope][0]


class ConsultationListFilter(django_filters.FilterSet):
    """`flag` (status filter) and `q` (search); the tab is applied after counting, see `counts`."""

    flag = django_filters.ChoiceFilter(choices=FLAGS, method="filter_flag", empty_label=None)
    q = django_filters.CharFilter(method="filter_search", max_length=100)

    class Meta:
        model = Consultation
        fields: list[str] = []

    def filter_flag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        condition = _FLAG_FILTERS.get(value)
        return queryset.filter(condition) if condition is not None else queryset

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Customer nickname, profile name, customer ID, or the text of any message."""
        value = value.strip()
        if not value:
            return queryset
        in_messages = Message.objects.filter(consultation=OuterRef("pk"), text__icontains=value)
        return queryset.filter(
            Q(customer__nickname__icontains=value)
            | Q(customer__profile_nickname__icontains=value)
            | Q(customer__customer_id__iexact=value)
            | Exists(in_messages)
        )


def counts(queryset: QuerySet, scope: str) -> dict[str, int]:
    """The count of each tab of the scope, in one query."""
    aggregates = {status: Count("pk", filter=Q(status=status)) for status in TABS[scope]}
    return queryset.order_by().aggregate(**aggregates)

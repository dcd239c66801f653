"""The console page and its list pane (상담목록).

`GET /consultations/` shows the list; `GET /consultations/<public_id>/` shows
the list with that consultation open. The list's state (scope, tab, status
filter, search, page) lives in the query string, so a view is bookmarkable and
the back button works; HTMX swaps only the list when one of them changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from consultations.access import access_consultation
from consultations.models import Consultation, Status
from counsel_center.membership import member_required
from counsel_center.models import MAX_WAITING_PER_MEMBER, Member

from ..filters import (
    FLAGS,
    SCOPES,
    TABS,
    ConsultationListFilter,
    TabCount,
    default_tab,
    tab_counts,
)
from ..templatetags.console import preview, row_time
from .chat import chat_context
from .updates import live_cursor

PAGE_SIZE = 30


def list_state(query: QueryDict) -> dict[str, str]:
    """The list's state from the query string, each value checked, with defaults."""
    scope = query.get("scope") if query.get("scope") in dict(SCOPES) else "mine"
    tab = query.get("tab") if query.get("tab") in TABS[scope] else default_tab(scope)
    flag = query.get("flag") if query.get("flag") in dict(FLAGS) else "all"
    return {"scope": scope, "tab": tab, "flag": flag, "q": (query.get("q") or "").strip()[:100]}


@dataclass(frozen=True)
class ListPage:
    """One page of a tab's rows, read as PAGE_SIZE + 1 rows: the extra one only tells that a next page exists.

    `num_pages` is None when the tab's count is capped ("999+") or a search's
    lower bound ("12+"): the pager then shows the page number alone.
    """

    rows: list[Consultation]
    number: int
    has_next: bool
    num_pages: int | None

    def __iter__(self) -> Iterator[Consultation]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def asked_page(value: str | None) -> int:
    """The page number asked for; 1 when it is not a positive number."""
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def last_page(count: TabCount) -> int | None:
    """The number of pages of a tab, unknown (None) when its count is capped or a lower bound."""
    return None if count.capped or count.at_least else max(1, -(-count.count // PAGE_SIZE))


def read_page(queryset, number: int, count: TabCount) -> ListPage:
    """The page's rows, PAGE_SIZE + 1 of them, in one query; beyond the end of a tab counted exactly, its last page."""
    pages = last_page(count)
    number = min(number, pages) if pages else number
    start = (number - 1) * PAGE_SIZE
    rows = list(queryset[start : start + PAGE_SIZE + 1])
    return ListPage(rows=rows[:PAGE_SIZE], number=number, has_next=len(rows) > PAGE_SIZE, num_pages=pages)


# What a row shows (list.html): the page's rows read only these columns. A field not listed here would be read
# by one more query per row: add it here when the row shows more.
ROW_FIELDS = (
    "public_id", "status", "is_important", "is_on_hold", "last_activity_at",
    "customer", "customer__nickname", "customer__profile_nickname", "customer__customer_id",
    "assignee", "assignee__display_name",
    "assignee__user", "assignee__user__first_name", "assignee__user__last_name", "assignee__user__username",
    "last_message", "last_message__sender", "last_message__kind", "last_message__text",
)  # fmt: skip


def prepare_rows(request: HttpRequest, rows: list[Consultation], open_pk: int | None) -> None:
    """What each row shows, computed once per row in Python rather than looked up piece by piece in the template.

    The link keeps the list's state: the current query string, as {% querystring %} gives it, built once per page.
    The open consultation's row is never unread: the member is looking at it (its pane posts the read mark).
    """
    head, _marker, tail = reverse("console-consultation", args=["~"]).rpartition("~")
    query = f"?{request.GET.urlencode()}"
    for row in rows:
        row.link = f"{head}{row.public_id}{tail}{query}"
        row.opened = row.pk == open_pk
        row.unread = not row.opened and row.is_unread_for(request.member)
        row.name = row.customer.display_name
        row.time = row_time(row.last_activity_at)
        row.preview = preview(row.last_message)
        row.assignee_name = row.assignee.name if row.assignee_id else ""


def opened_row(request: HttpRequest, opened: Consultation | None, page: ListPage) -> Consultation | None:
    """The open consultation's row when the page does not show it (another tab, scope, filter, search or page):
    the list shows it on top, under "열린 상담", so the member still sees where they are. One query, only then.

    Read through `for_list` of the whole center (a member may open any consultation of it), so the row is the
    same as in a tab.
    """
    if opened is None or any(row.pk == opened.pk for row in page):
        return None
    rows = list(Consultation.objects.for_list(request.member, "all").only(*ROW_FIELDS).filter(pk=opened.pk))
    prepare_rows(request, rows, opened.pk)
    return rows[0] if rows else None


def list_context(request: HttpRequest, opened: Consultation | None = None) -> dict:
    """Everything the list pane renders: state, tab counts, one page of rows and the open consultation's row.

    Three queries, nothing counted twice: without a search, the open tabs'
    counts, the closed tab's count up to a cap, the page; with a search, its
    matches (filters.ConsultationListFilter, search.newest_matches), their
    tab counts, the page. A fourth only when a consultation is open and the
    page does not hold it (`opened_row`).

    `list_url`: where the pane's own links and refreshes go. With a consultation open it is that consultation's
    URL, so a tab, a filter or a live refresh keeps it open and highlighted.
    """
    state = list_state(request.GET)
    base = Consultation.objects.for_list(request.member, state["scope"]).only(*ROW_FIELDS)
    filterset = ConsultationListFilter({"flag": state["flag"], "q": state["q"]}, queryset=base, request=request)
    narrowed = filterset.qs
    counted = tab_counts(narrowed, state["scope"], matches=filterset.matches)
    page = read_page(narrowed.filter(status=state["tab"]), asked_page(request.GET.get("page")), counted[state["tab"]])
    open_pk = opened.pk if opened else None
    prepare_rows(request, page.rows, open_pk)
    tabs = [(status, Status(status).label, counted[status]) for status in TABS[state["scope"]]]
    list_url = reverse("console-consultation", args=[opened.public_id]) if opened else reverse("console")
    return {
        "state": state,
        "tabs": tabs,
        "scopes": SCOPES,
        "flags": FLAGS,
        "page": page,
        "opened_row": opened_row(request, opened, page),
        "list_url": list_url,
    }


@require_GET
@member_required
def console(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    # Read before anything the page shows: the live stream starts after it, so nothing falls in between.
    cursor = live_cursor(request.member) if not request.htmx else None
    consultation = access_consultation(request.member, public_id) if public_id else None
    context = {
        **list_context(request, consultation),
        "consultation": consultation,
        "live_cursor": cursor,
    }
    if request.htmx and request.htmx.target == "list-pane":
        return render(request, "console/list.html#list_pane", context)
    context.update(pane_contexts(request, consultation))
    return render(request, "console/console.html", context)


def pane_contexts(request: HttpRequest, consultation: Consultation | None) -> dict:
    """The chat pane's context for the full page.

    The details and assist panels are not rendered here: the page loads them
    right after (console.html, `hx-trigger="load"` on their own URLs), so the
    list and the conversation arrive first and the page costs about half.
    """
    if consultation is None:
        return {"workload": workload(request.member)}
    return chat_context(request, consultation)


def workload(member: Member) -> dict:
    """What the empty chat pane shows: the member's own 대기 and 상담 중 against their limits (R5, R7). One query."""
    mine = Consultation.objects.filter(assignee=member, status__in=[Status.WAITING, Status.IN_PROGRESS])
    counts = mine.aggregate(
        waiting=Count("pk", filter=Q(status=Status.WAITING)),
        in_progress=Count("pk", filter=Q(status=Status.IN_PROGRESS)),
    )
    return {
        **counts,
        "waiting_limit": MAX_WAITING_PER_MEMBER,
        "in_progress_limit": member.center.concurrent_limit,
    }

"""The console page and its list pane (상담목록).

`GET /consultations/` shows the list; `GET /consultations/<public_id>/` shows
the list with that consultation open. The list's state (scope, tab, status
filter, search, page) lives in the query string, so a view is bookmarkable and
the back button works; HTMX swaps only the list when one of them changes.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET

from counsel_center.membership import member_required

from ..access import access_consultation
from ..filters import FLAGS, SCOPES, TABS, ConsultationListFilter, counts, default_tab
from ..models import Consultation, Status
from .assist import assist_context
from .chat import chat_context
from .details import details_context

PAGE_SIZE = 30


def list_state(query: QueryDict) -> dict[str, str]:
    """The list's state from the query string, each value checked, with defaults."""
    scope = query.get("scope") if query.get("scope") in dict(SCOPES) else "mine"
    tab = query.get("tab") if query.get("tab") in TABS[scope] else default_tab(scope)
    flag = query.get("flag") if query.get("flag") in dict(FLAGS) else "all"
    return {"scope": scope, "tab": tab, "flag": flag, "q": (query.get("q") or "").strip()[:100]}


def list_context(request: HttpRequest) -> dict:
    """Everything the list pane renders: state, tab counts and one page of rows."""
    state = list_state(request.GET)
    base = Consultation.objects.for_list(request.member, state["scope"])
    narrowed = ConsultationListFilter({"flag": state["flag"], "q": state["q"]}, queryset=base).qs
    tab_counts = counts(narrowed, state["scope"])
    paginator = Paginator(narrowed.filter(status=state["tab"]), PAGE_SIZE)
    paginator.count = tab_counts[state["tab"]]  # already counted with the other tabs: no second COUNT
    page = paginator.get_page(request.GET.get("page"))
    tabs = [(status, Status(status).label, tab_counts[status]) for status in TABS[state["scope"]]]
    return {"state": state, "tabs": tabs, "scopes": SCOPES, "flags": FLAGS, "page": page}


@require_GET
@member_required
def console(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    consultation = access_consultation(request.member, public_id) if public_id else None
    context = {**list_context(request), "consultation": consultation}
    if request.htmx and request.htmx.target == "list-pane":
        return render(request, "consultations/list.html#list_pane", context)
    context.update(pane_contexts(request, consultation))
    return render(request, "consultations/console.html", context)


def pane_contexts(request: HttpRequest, consultation: Consultation | None) -> dict:
    """The chat, details and assist panes' context for the full page."""
    if consultation is None:
        return {}
    return {
        **chat_context(request, consultation),
        **details_context(request, consultation),
        **assist_context(request),
    }

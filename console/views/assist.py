"""The assist panel of the chat column (SPEC §3 즐겨찾기): Q&A search, templates, and the member's favorites.

Each part is a partial of templates/console/assist.html that htmx swaps
on its own; a link opened without htmx gets the whole panel in the same state.
Favorites are private to the member (a membership, so one per center). Every
favorite write answers htmx with 204 and the `assist-favorites-changed` event:
each part that shows a ☆/★ listens for it and reloads itself, so a write never
has to know which parts are on the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlencode

from django import forms
from django.db.models import Q
from django.db.models.functions import Left
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from consultations.access import access_favorite, access_template
from consultations.models import Favorite, QnA, Template
from counsel_center.membership import member_required
from counsel_center.models import Member

TEMPLATE_NAME = "console/assist.html"
TABS = ("qna", "templates", "favorites")
QNA_LIMIT = 20
TERM_MAX_LENGTH = Favorite._meta.get_field("term").max_length
FAVORITES_CHANGED = "assist-favorites-changed"
_ID = re.compile(r"[0-9]{1,9}")  # a query-string id; anything else is ignored, never a 500


def normalize_term(text: str) -> str:
    """A search term as searched and pinned: spaces collapsed, at most the length a favorite holds."""
    return " ".join(text.split())[:TERM_MAX_LENGTH]


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


# --- writes ---------------------------------------------------------------------


def do_pin_term(member: Member, term: str) -> Favorite:
    # Pinning twice is no error: get_or_create finds the row, and when a parallel pin wins the
    # unique constraint (favorite_unique_term) it catches the IntegrityError and reads that row.
    favorite, _created = Favorite.objects.get_or_create(member=member, kind=Favorite.Kind.QNA_TERM, term=term)
    return favorite


def do_pin_template(member: Member, template: Template) -> Favorite:
    """Idempotent, like do_pin_term: a double click pins once (favorite_unique_template)."""
    favorite, _created = Favorite.objects.get_or_create(member=member, kind=Favorite.Kind.TEMPLATE, template=template)
    return favorite


def do_unpin(favorite: Favorite) -> None:
    favorite.delete()


# --- what the panel shows --------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateRow:
    pk: int
    title: str
    first_line: str


@dataclass
class Assist:
    """The panel's state, and what it shows, each read on first use in at most one query.

    A partial reads only its own part, so rendering one costs one or two
    queries, whatever the number of Q&A entries, templates or favorites.
    """

    member: Member
    tab: str = "qna"
    q: str = ""
    template: Template | None = None

    @cached_property
    def qnas(self) -> list[QnA]:
        if not self.q:
            return []
        matches = Q(question__icontains=self.q) | Q(answer__icontains=self.q) | Q(keywords__icontains=self.q)
        active = QnA.objects.filter(matches, center_id=self.member.center_id, is_active=True)
        return list(active[:QNA_LIMIT])

    @property
    def qnas_cut(self) -> bool:
        """True when the search found the limit: there may be more, a longer term narrows it."""
        return len(self.qnas) >= QNA_LIMIT

    @cached_property
    def templates(self) -> list[TemplateRow]:
        # Only the start of each body: the list shows a first line, not 10,000 characters per template.
        rows = (
            Template.objects.filter(center_id=self.member.center_id, is_active=True)
            .annotate(head=Left("body", 200))
            .only("id", "title")
        )
        return [TemplateRow(row.pk, row.title, first_line(row.head)) for row in rows]

    @cached_property
    def favorites(self) -> list[Favorite]:
        """The member's own favorites, newest first; a retired template's favorite is kept but not shown."""
        shown = Q(kind=Favorite.Kind.QNA_TERM) | Q(
            kind=Favorite.Kind.TEMPLATE, template__center_id=self.member.center_id, template__is_active=True
        )
        return list(Favorite.objects.filter(shown, member=self.member).select_related("template"))

    @cached_property
    def term_favorite(self) -> Favorite | None:
        return next((f for f in self.favorites if f.kind == Favorite.Kind.QNA_TERM and f.term == self.q), None)

    @cached_property
    def template_favorite(self) -> Favorite | None:
        if self.template is None:
            return None
        return next((f for f in self.favorites if f.template_id == self.template.pk), None)


def assist_context(request: HttpRequest, *, tab: str = "qna", q: str = "", template: Template | None = None) -> dict:
    """The panel's context. The console calls it with the defaults: its own query string is the list's."""
    return {"assist": Assist(request.member, tab=tab, q=q, template=template)}


def render_part(request: HttpRequest, part: str, **state) -> HttpResponse:
    """The partial for htmx; for a link opened without htmx, the whole panel in the same state."""
    name = part if request.htmx else "assist_panel"
    return render(request, f"{TEMPLATE_NAME}#{name}", assist_context(request, **state))


def panel_url(**state) -> str:
    query = {key: value for key, value in state.items() if value}
    return f"{reverse('assist-panel')}?{urlencode(query)}" if query else reverse("assist-panel")


def favorites_changed(request: HttpRequest, **state) -> HttpResponse:
    """htmx: 204 and the event on which the ☆/★ parts reload; a plain form goes back to the panel."""
    if request.htmx:
        return trigger_client_event(HttpResponse(status=204), FAVORITES_CHANGED)
    return redirect(panel_url(**state))


def panel_state(query: QueryDict) -> tuple[str, str, int | None]:
    """(tab, term, template id) from the query string, each checked; the defaults otherwise."""
    tab = query.get("tab") if query.get("tab") in TABS else "qna"
    template = query.get("template", "")
    return tab, normalize_term(query.get("q", "")), int(template) if _ID.fullmatch(template) else None


class TermForm(forms.Form):
    term = forms.CharField(max_length=TERM_MAX_LENGTH)

    def clean_term(self) -> str:
        return normalize_term(self.cleaned_data["term"])  # never empty: the field strips and is required


# --- views -------------------------------------------------------------------------------------


@require_GET
@member_required
def panel(request: HttpRequest) -> HttpResponse:
    """The whole panel in a given state: what a favorite opens (a term's search, a template's preview)."""
    tab, q, template_id = panel_state(request.GET)
    template = access_template(request.member, template_id) if template_id else None
    return render_part(request, "assist_panel", tab=tab, q=q, template=template)


@require_GET
@member_required
def qna_search(request: HttpRequest) -> HttpResponse:
    """Active Q&A of the member's center with the term in its question, answer or keywords (at most 20)."""
    return render_part(request, "qna_results", tab="qna", q=normalize_term(request.GET.get("q", "")))


@require_GET
@member_required
def template_list(request: HttpRequest) -> HttpResponse:
    return render_part(request, "template_list", tab="templates")


@require_GET
@member_required
def template_preview(request: HttpRequest, template_id: int) -> HttpResponse:
    template = access_template(request.member, template_id)
    return render_part(request, "template_preview", tab="templates", template=template)


@require_GET
@member_required
def favorite_list(request: HttpRequest) -> HttpResponse:
    return render_part(request, "favorites", tab="favorites")


@require_POST
@member_required
def pin_term(request: HttpRequest) -> HttpResponse:
    form = TermForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("A search term of 1 to 100 characters is required.")
    favorite = do_pin_term(request.member, form.cleaned_data["term"])
    return favorites_changed(request, tab="qna", q=favorite.term)


@require_POST
@member_required
def pin_template(request: HttpRequest, template_id: int) -> HttpResponse:
    template = access_template(request.member, template_id)
    do_pin_template(request.member, template)
    return favorites_changed(request, tab="templates", template=template.pk)


@require_POST
@member_required
def unpin(request: HttpRequest, favorite_id: int) -> HttpResponse:
    do_unpin(access_favorite(request.member, favorite_id))
    return favorites_changed(request, tab="favorites")


urlpatterns = [
    path("assist/", panel, name="assist-panel"),
    path("assist/qna", qna_search, name="assist-qna"),
    path("assist/templates", template_list, name="assist-templates"),
    path("assist/templates/<int:template_id>", template_preview, name="assist-template"),
    path("assist/favorites", favorite_list, name="assist-favorites"),
    path("assist/favorites/term", pin_term, name="assist-favorite-term"),
    path("assist/favorites/template/<int:template_id>", pin_template, name="assist-favorite-template"),
    path("assist/favorites/<int:favorite_id>/delete", unpin, name="assist-favorite-delete"),
]

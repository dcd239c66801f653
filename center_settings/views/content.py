"""Q&A and 템플릿: the center's own content, listed with a search, added, edited, retired (is_active).

Masters and managers alike (the admin's CenterContentAdmin roles). Retiring keeps
members' favorites of an entry; the console shows active entries only.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Model, Q
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consultations.models import QnA, Template

from ..access import access_content, settings_required
from ..forms import QnAForm, TemplateForm
from .common import back_to_list

PER_PAGE = 50
SEARCH_MAX_LENGTH = 100


@dataclass(frozen=True)
class Kind:
    """One kind of content: its model, form, searched fields and labels."""

    key: str  # the section and the URL names' prefix: "qna", "templates"
    model: type[Model]
    form: type[ModelForm]
    title_field: str
    body_field: str
    search_fields: tuple[str, ...]
    heading: str | Promise
    add_label: str | Promise
    search_label: str | Promise

    def search(self, queryset, q: str):
        if not q:
            return queryset
        query = Q()
        for field in self.search_fields:
            query |= Q(**{f"{field}__icontains": q})
        return queryset.filter(query)


@dataclass(frozen=True)
class Row:
    obj: Model
    title: str
    body: str
    extra: str


KINDS = {
    "qna": Kind(
        "qna",
        QnA,
        QnAForm,
        "question",
        "answer",
        ("question", "keywords", "answer"),
        gettext_lazy("Q&A"),
        gettext_lazy("Add a Q&A entry"),
        gettext_lazy("Question, answer or keyword"),
    ),
    "templates": Kind(
        "templates",
        Template,
        TemplateForm,
        "title",
        "body",
        ("title", "body"),
        gettext_lazy("Templates"),
        gettext_lazy("Add a template"),
        gettext_lazy("Title or body"),
    ),
}


def search_term(data) -> str:
    return data.get("q", "").strip()[:SEARCH_MAX_LENGTH]


@require_GET
@settings_required
def content_list(request: HttpRequest, kind: str) -> HttpResponse:
    kind_ = KINDS[kind]
    q = search_term(request.GET)
    entries = kind_.search(kind_.model.objects.filter(center_id=request.member.center_id), q)
    page = Paginator(entries.order_by("-is_active", kind_.title_field, "pk"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [
        Row(obj, getattr(obj, kind_.title_field), getattr(obj, kind_.body_field), getattr(obj, "keywords", ""))
        for obj in page
    ]
    context = {"kind": kind_, "page_obj": page, "rows": rows, "q": q, "section": kind}
    return render(request, "center_settings/content_list.html", context)


@require_http_methods(["GET", "POST"])
@settings_required
def content_edit(request: HttpRequest, kind: str, pk: int | None = None) -> HttpResponse:
    kind_ = KINDS[kind]
    if pk is None:
        entry = kind_.model(center=request.member.center)
    else:
        entry = access_content(request.member, kind_.model.objects.all(), pk)
    form = kind_.form(request.POST or None, instance=entry)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("“%(title)s” is saved.") % {"title": getattr(saved, kind_.title_field)})
        return redirect(f"settings:{kind}")
    context = {"kind": kind_, "form": form, "entry": entry if pk else None, "section": kind}
    return render(request, "center_settings/content_form.html", context)


@require_POST
@settings_required
def content_set_active(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Retire an entry (or bring it back): the console lists active entries only."""
    kind_ = KINDS[kind]
    entry = access_content(request.member, kind_.model.objects.all(), pk)
    entry.is_active = request.POST.get("active") == "1"
    entry.save(update_fields=["is_active", "updated_at"])
    title = getattr(entry, kind_.title_field)
    if entry.is_active:
        messages.success(request, _("“%(title)s” is active again.") % {"title": title})
    else:
        messages.success(request, _("“%(title)s” is deactivated: the console no longer offers it.") % {"title": title})
    return back_to_list(f"settings:{kind}", request.POST)

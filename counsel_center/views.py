"""Signing in and choosing the center to work in."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from .membership import choose_center, member_required


@require_POST
@member_required
def choose_center_view(request: HttpRequest) -> HttpResponse:
    """Switch to another of the user's centers; an id that is not theirs changes nothing."""
    raw = request.POST.get("center", "")
    if raw.isdigit():
        choose_center(request, int(raw))
    return redirect("console")

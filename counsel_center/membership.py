"""Which center a signed-in user is working in, and as which member.

A user may belong to several centers; the console works in one at a time,
kept in the session (SPEC §1). Every console view gets `request.member` from
`member_required` and looks objects up inside `request.member.center` (R1).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.utils import timezone

from .models import Member

SESSION_KEY = "counsel_center_id"


def memberships(user) -> list[Member]:
    """The user's active memberships, with their centers, in a stable order."""
    if not (user.is_authenticated and user.is_active):
        return []
    return list(Member.objects.active().filter(user=user).select_related("center", "user").order_by("center__name"))


def request_memberships(request: HttpRequest) -> list[Member]:
    """`memberships` of the request's user, read once per request."""
    if not hasattr(request, "_memberships"):
        request._memberships = memberships(request.user)
    return request._memberships


def current_member(request: HttpRequest) -> Member | None:
    """The membership chosen in this session, else the first one; None for a user of no center."""
    members = request_memberships(request)
    chosen = request.session.get(SESSION_KEY)
    for member in members:
        if member.center_id == chosen:
            return member
    return members[0] if members else None


def choose_center(request: HttpRequest, center_id: int) -> Member | None:
    """Switch the session to another center of the user's; None (and no change) if not theirs."""
    for member in request_memberships(request):
        if member.center_id == center_id:
            request.session[SESSION_KEY] = center_id
            return member
    return None


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required, then `request.member` set; a user with no active membership gets a clear 403 page.

    An htmx request from an expired session is told to load the login page
    (HX-Redirect), rather than having the login page swapped into a pane.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            if getattr(request, "htmx", False):
                target = request.htmx.current_url or request.get_full_path()
                return HttpResponse(
                    status=204,
                    headers={"HX-Redirect": f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': target})}"},
                )
            return redirect_to_login(request.get_full_path())
        member = current_member(request)
        if member is None:
            return render(request, "counsel_center/no_center.html", status=403)
        request.member = member
        # Times show in the center's time zone (default Asia/Seoul).
        with timezone.override(ZoneInfo(member.center.time_zone)):
            return view(request, *args, **kwargs)

    return wrapper


def member_required_for(allowed: Callable[[Member], bool], *, refused_template: str):
    """`member_required`, then only members for whom `allowed(member)` holds; others get `refused_template` (403).

    The page says why (a role's page), rather than a bare 403; the permission
    itself lives where `allowed` is defined, never in a template.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @member_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not allowed(request.member):
                return render(request, refused_template, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate

"""Login throttling with django-axes: the client's address, and what a successful login forgives.

Settings (AXES_*, CLIENT_IP_HEADER) are in counsel_center/settings.py; docs/operations.md
"Login throttling" says how to run and unlock it.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the header the proxy sets (CLIENT_IP_HEADER) when behind one.

    Read only when configured: a header the proxy does not overwrite is whatever the client sent, and
    an attacker could then give every failure a new address.
    """
    header = settings.CLIENT_IP_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "").strip()
        if value:
            return value
    return request.META.get("REMOTE_ADDR")


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler, except that a successful login forgives only that username's failures.

    Axes' own reset on success deletes every attempt matching the login's lockout parameters, so also
    every failure from the same address, for any username: a member could then try another member's
    password (limit - 1) times, log in as themselves, and start again, without end. Here a success
    clears the failures of the username that proved its password, from any address, and nothing else.
    """

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def with_login_failures(members: QuerySet) -> QuerySet:
    """Members annotated with `login_failures`: their username's failed logins still counted (within the cool-off).

    From `AXES_FAILURE_LIMIT` on, that username is locked out (by username; a lock on an address is not a
    member's). One subquery, so the member list stays one query.
    """
    since = timezone.now() - get_cool_off()
    failures = (
        AccessAttempt.objects.filter(username=OuterRef("user__username"), attempt_time__gte=since)
        .order_by()
        .values("username")
        .annotate(total=Sum("failures_since_start"))
        .values("total")
    )
    return members.annotate(
        login_failures=Coalesce(Subquery(failures, output_field=IntegerField()), Value(0)),
    )

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .membership import request_memberships


def console(request: HttpRequest) -> dict:
    """The acting member (set by member_required) and, only if a template asks, all of the user's memberships."""
    return {
        "member": getattr(request, "member", None),
        "memberships": SimpleLazyObject(lambda: request_memberships(request)),
    }

"""Signed, expiring links to an agent's file, for the channel to fetch without a session (docs/channel.md).

    GET channel/<slug>/files/<token>      an agent's file for the channel, no session (`channel_file`)

`channel_link` makes a link (delivery puts it in the message it sends);
`channel_file` is the view that answers it. The token is Django's signing
of (attachment id, center id) with a salt of its own; the link also names
the center's slug, and all three must agree.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponseBase
from django.urls import reverse
from django.views.decorators.http import require_GET

from ..file_responses import send_attachment
from ..models import Attachment

SALT = "consultations.channel-file"


def channel_link(attachment: Attachment, *, center_id: int, slug: str) -> str:
    """An absolute link, valid ATTACHMENT_LINK_MAX_AGE_SECONDS from now."""
    token = signing.dumps({"a": attachment.pk, "c": center_id}, salt=SALT, compress=True)
    return settings.PUBLIC_URL + reverse("channel-file", args=[slug, token])


def attachment_for(slug: str, token: str) -> Attachment | None:
    """The attachment a link names, or None when it is wrong, expired, or of another center."""
    try:
        claims = signing.loads(token, salt=SALT, max_age=settings.ATTACHMENT_LINK_MAX_AGE_SECONDS)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(claims, dict):
        return None
    return (
        Attachment.objects.select_related("message")
        .filter(pk=claims.get("a"), message__consultation__center_id=claims.get("c"))
        .filter(message__consultation__center__slug=slug)
        .first()
    )


@require_GET
def channel_file(request: HttpRequest, slug: str, token: str) -> HttpResponseBase:
    """A link of `channel_link`; a wrong, expired or other center's link is a 404, like a missing file."""
    attachment = attachment_for(slug, token)
    if attachment is None:
        raise Http404("This link is not valid.")
    return send_attachment(attachment, download=True)

"""The built-in customer simulator (SPEC §7): a page that plays the customer.

Every action on the page is a real call of the channel webhook, signed in the
browser with the center's webhook secret, so the page exercises exactly what a
channel would. The secret is rendered into the page, which is why the page
exists only in development (DEBUG) or when SIMULATOR_ENABLED is set, and only
for members of the center.

The page polls `messages` for what the customer sees: their own messages, what
agents sent them, and a line for each close of one of their consultations.
A file is sent as the channel sends it (multipart, SPEC §7) and comes back
with member-only links to it and its thumbnail (the page is for members).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from consultations import file_policy
from consultations.models import Attachment, CloseReason, Consultation, Event, Message
from counsel_center.models import Center, Member
from counsel_center.rules import Refused
from customers.models import Customer

# One answer of the messages endpoint carries at most this many messages; the
# page asks again from the last one it got, so nothing is skipped.
MAX_ITEMS = 200
# The picker lists the newest customers only; any other is reachable by typing its key.
MAX_PICKER_CUSTOMERS = 100


def simulator_enabled() -> bool:
    return bool(settings.DEBUG or getattr(settings, "SIMULATOR_ENABLED", False))


def simulator_only(view: Callable) -> Callable:
    """404 unless the simulator is switched on: it carries the center's webhook secret."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not simulator_enabled():
            raise Http404("The simulator is not enabled.")
        return view(request, *args, **kwargs)

    return wrapper


def access_simulator_center(request: HttpRequest, slug: str) -> Center:
    """The center whose customers the logged-in user may play: a member's own center, any for a superuser (R1)."""
    center = get_object_or_404(Center, slug=slug)
    user = request.user
    if not user.is_superuser and not Member.objects.active().filter(center=center, user=user).exists():
        # Another center's simulator does not exist for this user.
        raise Http404("No such center.")
    return center


def _refusal_of(name: str) -> str:
    """The refusal file_policy gives a file called `name`, in the active language (the same text as the webhook's)."""
    try:
        file_policy.check_file_name(name)
    except Refused as refusal:
        return refusal.message
    raise ValueError(f"{name!r} is an allowed file name")


def _js_strings() -> dict[str, str]:
    """Texts the script shows, translated here so that one catalogue holds them all."""
    return {
        # The script puts the file's extension in place of `{extension}`.
        "type_not_allowed": _refusal_of("file.{extension}"),
        "no_extension": _refusal_of("file"),
        "read_failed": gettext("The file could not be read."),
        "download": gettext("Download"),
        "download_named": gettext("Download %(name)s"),  # the script puts the file's name in
        "open_image": gettext("Open the full image"),
        "unstage": gettext("Remove the file"),
        "audio_only": gettext("Audio plays in mobile KakaoTalk only."),
        "customer_blocked": gettext("This customer is blocked."),
        "bad_signature": gettext("The webhook refused the signature (check the secret and this computer's clock)."),
        "too_large": gettext("The file is too large (at most 300 MB)."),
        "unknown_center": gettext("The webhook does not know this center."),
        "network": gettext("The webhook could not be reached."),
        "insecure": gettext(
            "This page needs a secure context (https, localhost or 127.0.0.1) to sign requests with WebCrypto."
        ),
        "refused": gettext("The webhook refused the event"),
        "poll_failed": gettext("The conversation could not be loaded; log in again if your session ended."),
        "no_user_key": gettext("Enter a user key for the new customer."),
        "nothing_to_end": gettext("There is no open consultation to end."),
        "chatbot_switched": gettext("Switched to the chatbot."),
        "friend_added": gettext("Added the channel as a friend."),
        "friend_removed": gettext("Removed the channel from friends."),
        "failed": gettext("Not sent"),
        "new_customer": gettext("New customer"),
        "agent": gettext("Agent"),
        "blocked": gettext("blocked"),
    }


@never_cache  # the page holds the webhook secret
@simulator_only
@login_required
@require_GET
def simulator_page(request: HttpRequest, slug: str) -> HttpResponse:
    center = access_simulator_center(request, slug)
    customers = (
        Customer.objects.filter(center=center).with_block_state().order_by("-created_at", "-pk")[:MAX_PICKER_CUSTOMERS]
    )
    context = {
        "center": center,
        "customers": customers,
        "webhook_url": reverse("channel-events", args=[center.slug]),
        "messages_url": reverse("simulator-messages", args=[center.slug]),
        "new_user_key": f"sim-{secrets.token_hex(3)}",
        "strings": _js_strings(),
        # The seed's table as the webhook applies it (extension → kind), for the picker and the script's checks.
        "file_accept": file_policy.accept_attribute(),
        "file_policy": {"categories": file_policy.CATEGORY_OF, "max_bytes": file_policy.MAX_FILE_BYTES},
    }
    return render(request, "simulator/simulator.html", context)


def _cursor(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    if raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ValueError(name)
    return int(raw)


def _attachment_item(message: Message, attachment: Attachment) -> dict:
    """The file as the customer sees it; the links are the members' download views, which the page's user may use."""
    return {
        "name": attachment.name,
        "size": attachment.size,
        "kind": message.kind,  # the server's decision (R15), not what the sender claimed
        "url": reverse("file-download", args=[attachment.pk]),
        # Made by a task after the message: until then (and for anything but a verified image) there is none.
        "thumbnail_url": (
            reverse("file-thumbnail", args=[attachment.pk])
            if attachment.thumbnail and message.kind == Message.Kind.IMAGE
            else None
        ),
    }


def _message_item(message: Message) -> dict:
    try:
        attachment = message.attachment
    except Attachment.DoesNotExist:
        attachment = None
    return {
        "type": "message",
        "key": f"m{message.pk}",
        "id": message.pk,
        "consultation_id": message.consultation.public_id,
        "sender": message.sender,
        "kind": message.kind,
        "text": message.text,
        "author": message.author.name if message.sender == Message.Sender.AGENT and message.author else None,
        "created_at": message.created_at.isoformat(),
        "attachment": _attachment_item(message, attachment) if attachment else None,
        "delivery_state": message.delivery_state,
    }


def _close_item(event: Event) -> dict:
    reason = event.data.get("reason", "")
    reason_display = str(CloseReason(reason).label) if reason in CloseReason.values else reason
    return {
        "type": "closed",
        "key": f"c{event.pk}",
        "id": event.pk,
        "consultation_id": event.consultation.public_id if event.consultation else None,
        "reason": reason,
        "reason_display": reason_display,
        "text": gettext("Consultation closed (%(reason)s)") % {"reason": reason_display},
        "created_at": event.created_at.isoformat(),
    }


def _in_window(queryset, after: int | None):
    """The next MAX_ITEMS rows after the cursor, or the newest MAX_ITEMS without one, oldest first."""
    if after is None:
        return reversed(list(queryset.order_by("-pk")[:MAX_ITEMS]))
    return queryset.filter(pk__gt=after).order_by("pk")[:MAX_ITEMS]


@simulator_only
@login_required
@require_GET
def simulator_messages(request: HttpRequest, slug: str) -> JsonResponse:
    """What the customer of `user_key` sees, after the cursors `after` (a message id) and `after_event`.

    Items are messages and close lines, in time order; each has a `key` unique
    across both kinds, for the page to skip what it already shows.
    """
    center = access_simulator_center(request, slug)
    try:
        after, after_event = _cursor(request, "after"), _cursor(request, "after_event")
    except ValueError as error:
        return JsonResponse({"error": "bad_cursor", "detail": f"`{error}` must be a message or event id."}, status=400)
    customer = (
        Customer.objects.filter(center=center, user_key=request.GET.get("user_key", "")).with_block_state().first()
    )
    if customer is None:  # nothing sent yet under this key
        return JsonResponse({"customer": None, "items": []})
    messages = _in_window(
        Message.objects.filter(consultation__customer=customer).select_related(
            "consultation", "author__user", "attachment"
        ),
        after,
    )
    closes = _in_window(
        Event.objects.filter(center=center, customer=customer, kind=Event.Kind.CLOSED).select_related("consultation"),
        after_event,
    )
    # A close shares its moment with the `!종료` that caused it; the message comes first.
    items = sorted(
        [(m.created_at, 0, m.pk, _message_item(m)) for m in messages]
        + [(e.created_at, 1, e.pk, _close_item(e)) for e in closes],
        key=lambda row: row[:3],
    )
    current = Consultation.objects.filter(customer=customer).order_by("-requested_at", "-pk").first()
    return JsonResponse(
        {
            "customer": {
                "customer_id": customer.customer_id,
                "profile_nickname": customer.profile_nickname,
                "is_friend": customer.is_friend,
                "is_blocked": customer.is_blocked,
                "consultation_id": current.public_id if current else None,
                "status": current.status if current else None,
                "status_display": str(current.get_status_display()) if current else None,
            },
            "items": [row[3] for row in items],
        }
    )

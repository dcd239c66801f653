"""What the console's live updates fetch after an event arrives (the stream itself: consultations/live/stream.py).

    GET consultations/<public_id>/messages/since?after=<event id>   the open chat's lines after that event
    GET consultations/waiting-count                                 how many consultations wait for me (JSON)

static/js/live.js calls these when the stream says something changed; both
look everything up inside the member's center like every other view.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from counsel_center.membership import member_required

from ..access import access_consultation
from ..live import feed
from ..models import Consultation, Status
from .chat import HIDDEN_EVENTS, MessagePage, _id, chat_items, list_query, mark_read

# More events than this after the cursor: the page re-reads the whole pane instead.
MAX_EVENTS = 200


def lines_since(consultation: Consultation, after: int) -> tuple[MessagePage, bool]:
    """The chat lines of the consultation's events after `after`, oldest first, and whether more were left out.

    A message event brings its message (new, or with a new delivery state);
    other events bring their system line. Queries: the events, the messages,
    and the members the events name (only when there are any).
    """
    events = list(consultation.events.filter(id__gt=after).order_by("id")[: MAX_EVENTS + 1])
    more = len(events) > MAX_EVENTS
    events = events[:MAX_EVENTS]
    message_ids = {event.data.get("message_id") for event in events if event.kind in HIDDEN_EVENTS}
    message_ids.discard(None)
    messages = []
    if message_ids:
        messages = list(consultation.messages.select_related("author__user", "attachment").filter(id__in=message_ids))
    shown = [event for event in events if event.kind not in HIDDEN_EVENTS]
    return MessagePage(items=chat_items(messages, shown)), more


def live_cursor(member) -> int:
    """Where a page rendered now starts its live stream: the center's last event with no lower id still uncommitted."""
    return feed.start_cursor(member.center_id)


@require_GET
@member_required
def messages_since(request: HttpRequest, public_id: str) -> HttpResponse:
    consultation = access_consultation(request.member, public_id)
    after = _id(request.GET.get("after")) if request.GET.get("after") != "0" else 0
    if after is None:
        raise Http404
    page, more = lines_since(consultation, after)
    mark_read(request.member, consultation)  # the member sees these lines now: no unread mark for them
    context = {"consultation": consultation, "chat_page": page, "chat_list_query": list_query(request)}
    response = render(request, "consultations/chat.html#message_list", context)
    if more:
        response["X-Counsel-More"] = "1"
    return response


@require_GET
@member_required
def waiting_count(request: HttpRequest) -> JsonResponse:
    """The consultations assigned to me that wait for my first message (대기): the tab title's number."""
    waiting = Consultation.objects.filter(assignee=request.member, status=Status.WAITING).count()
    return JsonResponse({"waiting": waiting})


urlpatterns = [
    path("consultations/waiting-count", waiting_count, name="live-waiting-count"),
    path("consultations/<str:public_id>/messages/since", messages_since, name="chat-messages-since"),
]

"""What the console's live updates fetch when the stream says something changed (the stream: stream.py).

    GET consultations/<public_id>/messages/since?from=<message id>   the open chat's lines from that message on
    GET consultations/waiting-count                                  how many consultations wait for me (JSON)

The chat's message list asks for its lines again on the stream's
`conversation.changed` (templates/console/chat.html) and morphs into
them; static/js/live.js asks for the waiting count. Both only read, and look
everything up inside the member's center like every other view.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from consultations.access import access_consultation, access_message
from consultations.live import feed
from consultations.models import Consultation, Message, Status
from counsel_center.membership import member_required

from .chat import HIDDEN_EVENTS, MessagePage, _id, chat_items

# A list that grew longer than this while it was open keeps only its newest lines (the older load again on scroll).
MAX_MESSAGES = 200


def lines_from(consultation: Consultation, first: Message | None) -> MessagePage:
    """The chat's lines from message `first` on (from the beginning when None), as the list shows them.

    `first` is the oldest message of a list that has older ones to load, so
    the events are those from its time on, as `chat.message_page` pages them.
    Queries: the messages, the events, and the members the events name (only
    when there are any).
    """
    messages = consultation.messages.select_related("author__user", "attachment").order_by("-id")
    if first is not None:
        messages = messages.filter(id__gte=first.pk)
    rows = list(messages[: MAX_MESSAGES + 1])
    has_older = first is not None or len(rows) > MAX_MESSAGES
    rows = rows[:MAX_MESSAGES][::-1]
    events = consultation.events.exclude(kind__in=HIDDEN_EVENTS)
    if has_older and rows:
        events = events.filter(created_at__gte=rows[0].created_at)
    return MessagePage(items=chat_items(rows, list(events)), older_than=rows[0].pk if has_older and rows else None)


def live_cursor(member) -> feed.Cursor:
    """Where a page rendered now starts its live stream: after the last Event no older transaction can precede."""
    return feed.start_cursor(member.center_id)


@require_GET
@member_required
def messages_since(request: HttpRequest, public_id: str) -> HttpResponse:
    consultation = access_consultation(request.member, public_id)
    first = None
    if request.GET.get("from"):
        first_id = _id(request.GET["from"])
        if first_id is None:
            raise Http404
        first = access_message(request.member, consultation, first_id)
    query = request.GET.copy()
    query.pop("from", None)
    context = {
        "consultation": consultation,
        "chat_page": lines_from(consultation, first),
        "chat_list_query": f"?{query.urlencode()}" if query else "",  # the list's state, as on the pane's links
    }
    return render(request, "console/live.html#chat_lines", context)


@require_GET
@member_required
def waiting_count(request: HttpRequest) -> JsonResponse:
    """The consultations assigned to me that wait for my first message (대기): the tab title's number."""
    waiting = Consultation.objects.filter(assignee=request.member, status=Status.WAITING).count()
    return JsonResponse({"waiting": waiting})


@require_GET
@member_required
def center_state(request: HttpRequest) -> HttpResponse:
    """The top bar's 운영 중 / 운영 중지 badge, refreshed on the stream's `center.changed`."""
    return render(request, "counsel_center/_topbar.html#center_state", {"member": request.member})


urlpatterns = [
    path("consultations/waiting-count", waiting_count, name="live-waiting-count"),
    path("center/state", center_state, name="live-center-state"),
    path("consultations/<str:public_id>/messages/since", messages_since, name="chat-messages-since"),
]

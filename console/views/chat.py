"""The chat pane (채팅) and its management bar (상담 관리), SPEC §3.

    GET  consultations/<public_id>/chat                       the whole pane, for an HTMX refresh
    GET  consultations/<public_id>/messages?before=<id>       an older page of the message list
    POST consultations/<public_id>/read                       the pane is on screen: mark it read up to `upto`
    POST consultations/<public_id>/messages                   send a text message (R7, R8)
    POST consultations/<public_id>/messages/<id>/retry        send a failed message again (SPEC §7)
    POST consultations/<public_id>/assign-to-me               R4
    POST consultations/<public_id>/assignee                   R6
    POST consultations/<public_id>/important                  R10
    POST consultations/<public_id>/hold                       R10
    POST consultations/<public_id>/close                      R9.3

Every action looks the consultation up with `access_consultation` (another
center's is a 404, R1), makes one `lifecycle` call and answers with the pane
re-rendered: a refusal shows its message in place, a change also fires
`consultation-changed` so the list and the details refresh. The rules live in
lifecycle; the template only leaves out buttons lifecycle would refuse anyway.
GETs only read: the pane posts its read mark once it is shown (`read`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from django.contrib import messages as flash
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from consultations import file_policy, lifecycle, uploads
from consultations.access import access_consultation, access_member, access_message
from consultations.lifecycle import Refused
from consultations.models import CloseReason, Consultation, Event, Message, ReadMark, Status
from counsel_center.membership import member_required
from counsel_center.models import Member
from counsel_center.request_limits import body_limit
from customers.models import Block

PAGE_SIZE = 50
CHANGED = "consultation-changed"  # the list and the details panes refresh on it
# Messages show as bubbles; their events (new, delivery state, thumbnail) would only repeat them.
HIDDEN_EVENTS = (Event.Kind.MESSAGE, Event.Kind.DELIVERY, Event.Kind.FILE_READY)


@dataclass(frozen=True)
class ChatItem:
    """One line of the conversation: a message, or a system line describing an event."""

    at: datetime
    message: Message | None = None
    system: str = ""
    closes: bool = False  # a close's line goes after a message of the same instant (!종료)
    event_id: int | None = None  # a system line's event: live updates append each line once


@dataclass(frozen=True)
class MessagePage:
    """Messages oldest first, with the events of their time span; `older_than` is set when older ones exist."""

    items: list[ChatItem]
    older_than: int | None = None


@dataclass(frozen=True)
class AssigneeChoice:
    member: Member
    waiting: int
    in_progress: int
    full: bool  # R5 or R7 would refuse this member now


@dataclass(frozen=True)
class ChatPane:
    page: MessagePage
    refusal: Refused | None  # why sending is refused now (R8); the composer is disabled with it
    refusal_in_error: bool  # `error` is that same refusal: the composer does not repeat it
    can_assign_to_me: bool
    can_change_assignee: bool
    can_hold: bool
    can_close: bool
    assignee_choices: list[AssigneeChoice] = field(default_factory=list)
    error: str = ""  # the refusal of the action just tried
    draft: str = ""  # the composer's text, kept across a refusal or a management action


# --- reading -------------------------------------------------------------------------


def message_page(consultation: Consultation, *, before: Message | None = None) -> MessagePage:
    """The PAGE_SIZE messages before `before` (the newest when None), merged by time with the events of their span.

    The span runs from the oldest message shown (from the beginning when none
    is older) up to `before`, so consecutive pages share no event. Queries:
    the messages with their author and attachment, the events, and the
    members the events name (only when there are any).
    """
    messages = consultation.messages.select_related("author__user", "attachment").order_by("-id")
    if before is not None:
        messages = messages.filter(id__lt=before.pk)
    rows = list(messages[: PAGE_SIZE + 1])
    has_older = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE][::-1]
    events = consultation.events.exclude(kind__in=HIDDEN_EVENTS)
    if has_older:
        events = events.filter(created_at__gte=rows[0].created_at)
    if before is not None:
        events = events.filter(created_at__lt=before.created_at)
    return MessagePage(items=chat_items(rows, list(events)), older_than=rows[0].pk if has_older else None)


def chat_items(messages: list[Message], events: list[Event]) -> list[ChatItem]:
    """Messages and the system lines of `events` (none of HIDDEN_EVENTS), merged in time order."""
    names = _member_names(events)
    items = [ChatItem(at=m.created_at, message=m) for m in messages]
    items += [
        ChatItem(at=e.created_at, system=_event_line(e, names), closes=e.kind == Event.Kind.CLOSED, event_id=e.pk)
        for e in events
    ]
    # Same instant: a transition before the message it came with (opened, started), a close after it (!종료).
    items.sort(key=lambda item: (item.at, 1 if item.message else (2 if item.closes else 0)))
    return items


def _member_names(events: list[Event]) -> dict[int, str]:
    ids = set()
    for event in events:
        ids |= {event.actor_id, event.data.get("assignee_id"), event.data.get("old_assignee_id")}
    ids.discard(None)
    if not ids:
        return {}
    return {m.pk: m.name for m in Member.objects.filter(pk__in=ids).select_related("user")}


def _event_line(event: Event, names: dict[int, str]) -> str:
    """What an event says as a system line of the chat, in the active language."""
    data, kind = event.data, event.kind
    actor = names.get(event.actor_id, _("a member"))
    if kind == Event.Kind.CREATED:
        return _("The customer opened the consultation.")
    if kind == Event.Kind.ASSIGNED:
        assignee = names.get(data.get("assignee_id"), _("a member"))
        if event.actor_id == data.get("assignee_id"):
            return _("%(name)s took the consultation.") % {"name": assignee}
        return _("%(actor)s assigned the consultation to %(name)s.") % {"actor": actor, "name": assignee}
    if kind == Event.Kind.ASSIGNEE_CHANGED:
        old = names.get(data.get("old_assignee_id"), _("a member"))
        new = names.get(data.get("assignee_id"), _("a member"))
        return _("%(actor)s changed the assignee from %(old)s to %(new)s.") % {"actor": actor, "old": old, "new": new}
    if kind == Event.Kind.STARTED:
        return _("The consultation started.")
    if kind == Event.Kind.CLOSED:
        reason = CloseReason(data["reason"]).label if data.get("reason") in CloseReason.values else ""
        if event.actor_id:
            return _("%(actor)s closed the consultation (%(reason)s).") % {"actor": actor, "reason": reason}
        return _("The consultation closed (%(reason)s).") % {"reason": reason}
    if kind == Event.Kind.IMPORTANT_SET:
        if data.get("important"):
            return _("%(actor)s marked the consultation important.") % {"actor": actor}
        return _("%(actor)s removed the important mark.") % {"actor": actor}
    if kind == Event.Kind.HOLD_SET:
        if data.get("on_hold"):
            return _("%(actor)s put the consultation on hold.") % {"actor": actor}
        return _("%(actor)s released the hold.") % {"actor": actor}
    if kind == Event.Kind.CUSTOMER_BLOCKED:
        reason = Block.Reason(data["reason"]).label if data.get("reason") in Block.Reason.values else ""
        return _("The customer was blocked (%(reason)s).") % {"reason": reason}
    return str(event.get_kind_display())


def _load(status: str) -> Coalesce:
    """How many consultations in `status` the member (the outer row) has: a count on the (assignee, status) index."""
    counted = (
        Consultation.objects.filter(assignee=OuterRef("pk"), status=status)
        .order_by()
        .values("assignee")
        .annotate(n=Count("status"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def assignee_choices(consultation: Consultation) -> list[AssigneeChoice]:
    """The center's active members but the assignee, with their waiting and in-progress counts, in one query.

    Each count is a subquery per member that only reads the (assignee,
    status) index (an index-only scan), rather than a join of every open
    consultation of the center grouped by all the member's columns.
    """
    members = (
        Member.objects.active()
        .filter(center_id=consultation.center_id)
        .exclude(pk=consultation.assignee_id)
        .select_related("user")
        .annotate(waiting=_load(Status.WAITING), in_progress=_load(Status.IN_PROGRESS))
        .order_by("display_name", "pk")
    )
    limit, counted = lifecycle.assignee_limit(consultation)  # R5 or R7: shown in advance, enforced by lifecycle
    return [
        AssigneeChoice(m, waiting=m.waiting, in_progress=m.in_progress, full=getattr(m, counted) >= limit)
        for m in members
    ]


def mark_read(member: Member, consultation: Consultation, *, upto: int | None = None) -> None:
    """The member has read the consultation up to message `upto` (default: its last message): one upsert."""
    upto = (consultation.last_message_id or 0) if upto is None else upto
    ReadMark.objects.bulk_create(
        [ReadMark(member=member, consultation=consultation, last_read_message_id=upto)],
        update_conflicts=True,
        unique_fields=["member", "consultation"],
        update_fields=["last_read_message_id"],
    )


def list_query(request: HttpRequest) -> str:
    """The list's state (scope, tab, filter, search) as a query string, carried by the pane's links and forms."""
    query = request.GET.copy()
    query.pop("before", None)
    return f"?{query.urlencode()}" if query else ""


def chat_context(request: HttpRequest, consultation: Consultation, *, error: str = "", draft: str = "") -> dict:
    """Everything `chat.html#chat_pane` renders; it only reads (the pane posts its read mark once shown: `read`).

    `consultation` comes from `access_consultation` (center, customer and
    assignee joined). Queries: the message page (2–3), and the assignee
    choices when the member may change the assignee.
    """
    member = request.member

    def may(action: lifecycle.Action) -> bool:
        # The lifecycle's transition table decides, as it will again when the control is used.
        return lifecycle.allowed(consultation, member, action) is None

    can_change_assignee = may(lifecycle.Action.CHANGE_ASSIGNEE)
    refusal = lifecycle.send_refusal(consultation, member)
    pane = ChatPane(
        page=message_page(consultation),
        refusal=refusal,
        # A send just refused for the reason the composer would give: said once, in the alert above it.
        refusal_in_error=refusal is not None and error == refusal.message,
        can_assign_to_me=may(lifecycle.Action.ASSIGN_TO_ME),
        can_change_assignee=can_change_assignee,
        can_hold=may(lifecycle.Action.HOLD),
        can_close=may(lifecycle.Action.CLOSE),
        assignee_choices=assignee_choices(consultation) if can_change_assignee else [],
        error=error,
        draft=draft,
    )
    return {
        "consultation": consultation,
        "chat": pane,
        "chat_page": pane.page,
        "chat_list_query": list_query(request),
        # The composer checks a file as send_message will (file_policy), before a byte is sent.
        "file_accept": file_policy.accept_attribute(),
        "file_types": file_policy.allowed_types_text(),
        "file_max_bytes": file_policy.MAX_FILE_BYTES,
        "file_too_large": file_policy.TOO_LARGE,
    }


# --- answering ---------------------------------------------------------------------------


def _pane(
    request: HttpRequest, public_id: str, *, error: str = "", draft: str = "", changed: bool = False
) -> HttpResponse:
    """The pane as it is now, with `error` in place; without HTMX, back to the console page (PRG)."""
    if not request.htmx:
        if error:
            flash.error(request, error)
        return redirect(reverse("console-consultation", args=[public_id]) + list_query(request))
    consultation = access_consultation(request.member, public_id)  # re-read: the action changed it
    context = chat_context(request, consultation, error=error, draft=draft)
    response = render(request, "console/chat.html#chat_pane", context)
    if changed:
        trigger_client_event(response, CHANGED)
    return response


def _attempt(
    request: HttpRequest, consultation: Consultation, action: Callable[[], object], *, sends: bool = False
) -> HttpResponse:
    """Run one lifecycle call; a refusal is shown in the pane, never raised as a 500.

    The composer's text rides along with every action (hx-include), so a
    management action or a refused send does not lose a draft.
    """
    draft = _text(request)
    try:
        action()
    except Refused as refusal:
        return _pane(request, consultation.public_id, error=refusal.message, draft=draft)
    return _pane(request, consultation.public_id, draft="" if sends else draft, changed=True)


def _text(request: HttpRequest) -> str:
    return request.POST.get("text", "").replace("\r\n", "\n")


def _id(value: str | None) -> int | None:
    """A positive database id from a form value, else None."""
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


# --- views -----------------------------------------------------------------------------------


@require_GET
@member_required
def pane(request: HttpRequest, public_id: str) -> HttpResponse:
    consultation = access_consultation(request.member, public_id)
    if not request.htmx:
        return redirect(reverse("console-consultation", args=[public_id]) + list_query(request))
    return render(request, "console/chat.html#chat_pane", chat_context(request, consultation))


@require_GET
@member_required
def older_messages(request: HttpRequest, public_id: str) -> HttpResponse:
    """The page of messages before `?before=<message id>`, for the list's infinite scroll upwards."""
    consultation = access_consultation(request.member, public_id)
    before = None
    if "before" in request.GET:
        before_id = _id(request.GET["before"])
        if before_id is None:
            raise Http404
        before = access_message(request.member, consultation, before_id)
    context = {
        "consultation": consultation,
        "chat_page": message_page(consultation, before=before),
        "chat_list_query": list_query(request),
    }
    return render(request, "console/chat.html#message_list", context)


@require_POST
@member_required
def read(request: HttpRequest, public_id: str) -> HttpResponse:
    """The pane is on screen: the member has read up to `upto`, the newest message it showed.

    A POST of its own (chat.html sends it when the pane loads) so that opening
    or refreshing the pane, a GET, writes nothing. A mark is never set past the
    consultation's last message; no pane shows one that is not there yet.
    """
    consultation = access_consultation(request.member, public_id)
    upto = _id(request.POST.get("upto"))
    if upto is None:
        return HttpResponseBadRequest()
    mark_read(request.member, consultation, upto=min(upto, consultation.last_message_id or 0))
    return HttpResponse(status=204)


@require_POST
@member_required
def send_message(request: HttpRequest, public_id: str) -> HttpResponse:
    """Text, or one file with or without text (SPEC §4).

    R8 refusals (and R7's concurrent limit on a first message) show in place,
    with the draft kept. A file is checked against the policy (R13, R14),
    stored outside the transaction, and deleted again if the send is refused.
    """
    consultation = access_consultation(request.member, public_id)
    text = _text(request)
    upload = request.FILES.get("file")
    if uploads.upload_too_large(request):
        return _pane(request, public_id, error=str(file_policy.TOO_LARGE), draft=text)
    if upload is None:
        send = partial(lifecycle.do_send_message, consultation, actor=request.member, text=text)
        return _attempt(request, consultation, send, sends=True)
    try:
        name = file_policy.clean_name(upload.name or "")
        category = file_policy.check_file_name(name)
        lifecycle.check_can_send(consultation, request.member)  # before storing; the send checks again
    except Refused as refusal:
        return _pane(request, public_id, error=refusal.message, draft=text)
    stored = uploads.store(consultation.center_id, upload, name=name, category=category)

    def send() -> None:
        try:
            lifecycle.do_send_message(
                consultation, actor=request.member, text=text, kind=stored.kind, attachment=stored
            )
        except BaseException:
            uploads.discard(stored)
            raise

    return _attempt(request, consultation, send, sends=True)


@body_limit(uploads.MAX_BODY_BYTES)  # a 300 MB file (SPEC §4); other routes keep the small default
def messages(request: HttpRequest, public_id: str) -> HttpResponse:
    """One URL for the message list: GET reads an older page, POST sends."""
    if request.method == "POST":
        return send_message(request, public_id)
    return older_messages(request, public_id)


@require_POST
@member_required
def retry_delivery(request: HttpRequest, public_id: str, message_id: int) -> HttpResponse:
    consultation = access_consultation(request.member, public_id)
    message = access_message(request.member, consultation, message_id)
    return _attempt(request, consultation, partial(lifecycle.do_retry_delivery, message, actor=request.member))


@require_POST
@member_required
def assign_to_me(request: HttpRequest, public_id: str) -> HttpResponse:
    consultation = access_consultation(request.member, public_id)
    return _attempt(request, consultation, partial(lifecycle.do_assign_to_me, consultation, actor=request.member))


@require_POST
@member_required
def change_assignee(request: HttpRequest, public_id: str) -> HttpResponse:
    consultation = access_consultation(request.member, public_id)
    assignee_id = _id(request.POST.get("assignee"))
    if assignee_id is None:
        return _pane(request, public_id, error=_("Choose a member to assign."), draft=_text(request))
    assignee = access_member(request.member, assignee_id)  # another center's member is a 404 (R1)
    change = partial(lifecycle.do_change_assignee, consultation, actor=request.member, assignee=assignee)
    return _attempt(request, consultation, change)


@require_POST
@member_required
def set_important(request: HttpRequest, public_id: str) -> HttpResponse:
    """`important=1` sets the flag, `important=0` clears it: a repeated click changes nothing."""
    consultation = access_consultation(request.member, public_id)
    important = request.POST.get("important") == "1"
    return _attempt(
        request,
        consultation,
        partial(lifecycle.do_set_important, consultation, actor=request.member, important=important),
    )


@require_POST
@member_required
def set_hold(request: HttpRequest, public_id: str) -> HttpResponse:
    """`on_hold=1` holds, `on_hold=0` releases."""
    consultation = access_consultation(request.member, public_id)
    on_hold = request.POST.get("on_hold") == "1"
    return _attempt(
        request, consultation, partial(lifecycle.do_set_hold, consultation, actor=request.member, on_hold=on_hold)
    )


@require_POST
@member_required
def close(request: HttpRequest, public_id: str) -> HttpResponse:
    consultation = access_consultation(request.member, public_id)
    return _attempt(request, consultation, partial(lifecycle.do_close, consultation, actor=request.member))


urlpatterns = [
    path("consultations/<str:public_id>/chat", pane, name="chat-pane"),
    path("consultations/<str:public_id>/messages", messages, name="chat-messages"),
    path("consultations/<str:public_id>/read", read, name="chat-read"),
    path("consultations/<str:public_id>/messages/<int:message_id>/retry", retry_delivery, name="chat-retry-delivery"),
    path("consultations/<str:public_id>/assign-to-me", assign_to_me, name="chat-assign-to-me"),
    path("consultations/<str:public_id>/assignee", change_assignee, name="chat-change-assignee"),
    path("consultations/<str:public_id>/important", set_important, name="chat-set-important"),
    path("consultations/<str:public_id>/hold", set_hold, name="chat-set-hold"),
    path("consultations/<str:public_id>/close", close, name="chat-close"),
]

"""The details pane (상담 상세정보): the customer, the consultation and its history (SPEC §3).

`GET /consultations/<public_id>/details` renders the whole pane, which reloads
itself on `consultation-changed`. The customer block edits the internal
nickname and the shared memo in place, and blocks or unblocks the customer
(R16, R17); each POST answers with the customer block and, when something
changed, `HX-Trigger: consultation-changed` so the list, chat and this pane
refresh. Writes go through consultations.lifecycle only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from consultations.access import access_consultation
from consultations.lifecycle import Refused
from consultations.models import CloseReason, Consultation, Event
from counsel_center.membership import member_required
from counsel_center.models import Member
from customers import rules as customer_rules
from customers.access import access_customer
from customers.models import Block, Customer

TEMPLATE = "console/details.html"
HISTORY_LIMIT = 100  # lines of history shown; a consultation has a handful without messages
EARLIER_LIMIT = 5
# Events the history does not show: messages are in the chat pane, delivery states beside them.
HIDDEN_KINDS = (Event.Kind.MESSAGE, Event.Kind.DELIVERY, Event.Kind.FILE_READY)
# Closes without a member that the customer caused (R9.1, R9.2); other member-less ones are the system's.
CUSTOMER_CLOSE_REASONS = (CloseReason.CUSTOMER_END, CloseReason.CHATBOT_SWITCH)
# Where events name members in their data (lifecycle's assign and change-assignee events).
MEMBER_KEYS = ("assignee_id", "old_assignee_id")


# --- forms ------------------------------------------------------------------------------


class _Text(forms.CharField):
    """Text as typed: browsers send CRLF newlines, counted here as one character, as `maxlength` does."""

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


class ProfileForm(forms.Form):
    """The nickname form and the memo form each post one of these fields; a field not posted is kept."""

    nickname = forms.CharField(required=False, max_length=100)
    memo = _Text(required=False, max_length=5000, strip=False)

    def changes(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.fields if name in self.data}


class BlockForm(forms.Form):
    reason = forms.ChoiceField(choices=Block.Reason.choices)
    note = _Text(required=False, max_length=2000)
    report = forms.BooleanField(required=False)  # 신고: only for 음란 and 도박, which customers.rules decides


# --- what the pane shows -------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    actor: str
    text: str
    kind: str


# How many of a customer's blocks the details show (the admin has them all).
BLOCK_HISTORY = 10


@dataclass(frozen=True)
class CustomerCard:
    """The customer block: the customer read fresh, their active block, and a form's drafts, errors or refusal."""

    customer: Customer
    block: Block | None
    past_blocks: list[Block]  # ended blocks, newest first: unblocking keeps them as history
    # The consultation whose pane shows the card: forms post it back, for the way back without htmx.
    consultation: Consultation | None
    values: dict
    errors: dict
    refusal: str
    block_reasons: list
    may_block: bool  # R16a: the assignee, a master or a manager
    may_unblock: bool  # masters and managers only


def customer_card(
    customer: Customer,
    *,
    member: Member,
    consultation: Consultation | None,
    errors: dict | None = None,
    drafts: dict | None = None,
    refusal: Refused | None = None,
) -> CustomerCard:
    customer = Customer.objects.select_related("center", "memo_updated_by__user").get(pk=customer.pk)
    # The latest blocks, the one in force (if any) first: one query for the state and the history (R17).
    blocks = list(
        customer.blocks.select_related("blocked_by__user", "ended_by__user", "report").order_by("-blocked_at")[
            :BLOCK_HISTORY
        ]
    )
    block = next((b for b in blocks if b.is_active), None)
    values = {"nickname": customer.nickname, "memo": customer.memo, "reason": "", "note": ""} | (drafts or {})
    return CustomerCard(
        customer=customer,
        block=block,
        past_blocks=[b for b in blocks if not b.is_active],
        consultation=consultation,
        values=values,
        errors=errors or {},
        refusal=refusal.message if refusal else "",
        block_reasons=Block.Reason.choices,
        may_block=block is None and customer_rules.may_block(customer, member),
        may_unblock=customer_rules.may_manage_blocks(member),
    )


def details_context(request: HttpRequest, consultation: Consultation) -> dict:
    """Everything the details pane renders for an open consultation (from access_consultation).

    Its keys are prefixed or specific enough not to clash with the other panes' contexts.
    """
    return {
        "consultation": consultation,
        "customer_card": customer_card(consultation.customer, member=request.member, consultation=consultation),
        "closed_by_label": closed_by_label(consultation),
        "history_lines": history(consultation),
        "earlier_consultations": earlier_consultations(consultation),
    }


def closed_by_label(consultation: Consultation) -> str:
    if consultation.closed_at is None:
        return ""
    if consultation.closed_by is not None:
        return consultation.closed_by.name
    return _("Customer") if consultation.close_reason in CUSTOMER_CLOSE_REASONS else _("System")


def earlier_consultations(consultation: Consultation) -> list[Consultation]:
    """The customer's consultations requested before this one, newest first."""
    before = Q(requested_at__lt=consultation.requested_at) | Q(
        requested_at=consultation.requested_at, pk__lt=consultation.pk
    )
    return list(
        Consultation.objects.filter(before, customer_id=consultation.customer_id)
        .only("public_id", "requested_at", "status")
        .order_by("-requested_at", "-id")[:EARLIER_LIMIT]
    )


def history(consultation: Consultation) -> list[HistoryLine]:
    """The consultation's events as readable lines, newest first (R12).

    Two queries whatever the number of events: the events, then every member
    they name (actors and the assignees in their data) at once.
    """
    events = list(
        consultation.events.exclude(kind__in=HIDDEN_KINDS)
        .only("kind", "actor_id", "created_at", "data")
        # Event ids increase with time; several events of one transaction share a created_at.
        .order_by("-id")[:HISTORY_LIMIT]
    )
    ids = {event.actor_id for event in events} | {
        value for event in events for key in MEMBER_KEYS if isinstance(value := event.data.get(key), int)
    }
    ids.discard(None)
    members = Member.objects.filter(center_id=consultation.center_id, pk__in=ids).select_related("user") if ids else []
    names = {member.pk: member.name for member in members}
    return [
        HistoryLine(at=event.created_at, actor=actor_label(event, names), text=describe(event, names), kind=event.kind)
        for event in events
    ]


def actor_label(event: Event, names: dict[int, str]) -> str:
    if event.actor_id is not None:
        return names.get(event.actor_id) or _("Former member")
    if event.kind == Event.Kind.CREATED or event.data.get("reason") in CUSTOMER_CLOSE_REASONS:
        return _("Customer")
    return _("System")


def describe(event: Event, names: dict[int, str]) -> str:
    """One line of history in the active language, e.g. "Assignee changed: Alice → Bob"."""
    data = event.data

    def name(key: str) -> str:
        return names.get(data.get(key)) or _("Former member")

    def label(choices, value) -> str:
        return str(choices(value).label) if value in choices.values else str(value)

    match event.kind:
        case Event.Kind.CREATED:
            return _("Consultation requested")
        case Event.Kind.ASSIGNED:
            return _("Assigned to %(name)s") % {"name": name("assignee_id")}
        case Event.Kind.ASSIGNEE_CHANGED:
            return _("Assignee changed: %(old)s → %(new)s") % {
                "old": name("old_assignee_id"),
                "new": name("assignee_id"),
            }
        case Event.Kind.STARTED:
            return _("Consultation started")
        case Event.Kind.CLOSED:
            return _("Closed (%(reason)s)") % {"reason": label(CloseReason, data.get("reason"))}
        case Event.Kind.IMPORTANT_SET:
            return _("Marked important") if data.get("important") else _("Important mark removed")
        case Event.Kind.HOLD_SET:
            return _("Put on hold") if data.get("on_hold") else _("Hold released")
        case Event.Kind.CUSTOMER_BLOCKED:
            return _("Customer blocked (%(reason)s)") % {"reason": label(Block.Reason, data.get("reason"))}
    return str(event.get_kind_display())


# --- views --------------------------------------------------------------------------------


@require_GET
@member_required
def details_pane(request: HttpRequest, public_id: str) -> HttpResponse:
    consultation = access_consultation(request.member, public_id)
    return render(request, f"{TEMPLATE}#details_pane", details_context(request, consultation))


@require_POST
@member_required
def update_profile(request: HttpRequest, customer_id: str) -> HttpResponse:
    """Save the internal nickname or the shared memo (whichever the form posted)."""
    customer = access_customer(request.member, customer_id)
    form = ProfileForm(request.POST)
    if not form.is_valid():
        return _customer_block(request, customer, errors=form.errors, drafts=form.data.dict())
    try:
        customer_rules.do_update_customer(customer, actor=request.member, **form.changes())
    except Refused as refusal:
        return _customer_block(request, customer, refusal=refusal)
    return _changed(request, customer)


@require_POST
@member_required
def block(request: HttpRequest, customer_id: str) -> HttpResponse:
    """R16: block the customer; their open consultation closes at once."""
    customer = access_customer(request.member, customer_id)
    form = BlockForm(request.POST)
    if not form.is_valid():
        return _customer_block(request, customer, errors=form.errors, drafts=form.data.dict())
    try:
        customer_rules.do_block_customer(customer, actor=request.member, **form.cleaned_data)
    except Refused as refusal:
        return _customer_block(request, customer, refusal=refusal)
    return _changed(request, customer)


@require_POST
@member_required
def retry_report(request: HttpRequest, customer_id: str) -> HttpResponse:
    """Send the active block's failed report to the channel operator again (masters and managers)."""
    customer = access_customer(request.member, customer_id)
    report = getattr(customer.blocks.active().select_related("report").first(), "report", None)
    if report is None:
        raise Http404
    try:
        customer_rules.do_retry_report(report, actor=request.member)
    except Refused as refusal:
        return _customer_block(request, customer, refusal=refusal)
    return _changed(request, customer)


@require_POST
@member_required
def unblock(request: HttpRequest, customer_id: str) -> HttpResponse:
    """R17: end the customer's block from their details."""
    customer = access_customer(request.member, customer_id)
    try:
        customer_rules.do_unblock_customer(customer, actor=request.member)
    except Refused as refusal:
        return _customer_block(request, customer, refusal=refusal)
    return _changed(request, customer)


def _posted_consultation(request: HttpRequest, customer: Customer) -> Consultation | None:
    """The consultation whose pane posted the form, if it is this customer's (for the way back)."""
    public_id = request.POST.get("consultation", "")
    return customer.consultations.filter(public_id=public_id).first() if public_id else None


def _customer_block(request: HttpRequest, customer: Customer, **extra) -> HttpResponse:
    """The customer block again, with a form's errors or a refusal shown in place."""
    card = customer_card(customer, member=request.member, consultation=_posted_consultation(request, customer), **extra)
    return render(request, f"{TEMPLATE}#customer", {"customer_card": card})


def _changed(request: HttpRequest, customer: Customer) -> HttpResponse:
    """After a write: the fresh customer block, and every pane told to refresh.

    Without htmx (no JavaScript) the browser goes back to the consultation page.
    """
    if not request.htmx:
        consultation = _posted_consultation(request, customer)
        return redirect("console-consultation", consultation.public_id) if consultation else redirect("console")
    return trigger_client_event(_customer_block(request, customer), "consultation-changed")


urlpatterns = [
    path("consultations/<str:public_id>/details", details_pane, name="details-pane"),
    path("customers/<str:customer_id>/profile", update_profile, name="details-customer-profile"),
    path("customers/<str:customer_id>/block", block, name="details-customer-block"),
    path("customers/<str:customer_id>/unblock", unblock, name="details-customer-unblock"),
    path("customers/<str:customer_id>/report/retry", retry_report, name="details-customer-report-retry"),
]

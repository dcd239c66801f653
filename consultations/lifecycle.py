"""Every state change of a consultation lives here.

Views, the webhook, Celery tasks, the admin and management commands call these
functions; none of them writes `status`, `assignee` or flags itself. A
customer's edits and blocks are customers/rules.py's; what they mean for
consultations (a block closes the open one) is answered here, `on_customer_*`.

Each `do_*` function:
- runs in one `transaction.atomic()`;
- locks the rows it changes or counts, always in the order
  customer → consultation → member, so that two transactions never wait on
  each other in a cycle (on SQLite the IMMEDIATE transaction mode takes the
  database write lock up front instead, with the same effect; R11);
- asks the transition table (`TRANSITIONS`, through `check_allowed`) whether
  the consultation's state and the acting member allow the action, checks
  what else the rule needs (the limits R5, R7), and raises `Refused` (one
  type, with a user-facing message) when it does not hold, which rolls
  everything back;
- writes through the models (`create()`, `save(update_fields=…)`) and appends
  an `Event` (R12) in the same transaction.

Names follow STYLE.md: `check_*` raises a refusal, `do_*` writes; `allowed()`
answers the console in advance with the refusal an action would meet.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from counsel_center import clock
from counsel_center.models import MAX_WAITING_PER_MEMBER, Center, Member
from counsel_center.rules import (  # noqa: F401 (re-exported: callers catch lifecycle.Refused)
    CONSULTATION_NOT_FOUND,
    CUSTOMER_NOT_FOUND,
    MESSAGE_NOT_FOUND,
    Refused,
    check_member_of,
)
from customers.models import Block, Customer, Report

from . import file_policy
from .live import doorbell
from .models import Attachment, CloseReason, Consultation, DeliveryState, Event, Message, Status

# The customer's command that ends a consultation (R9.1), compared after trimming.
END_COMMAND = "!종료"
MAX_TEXT_LENGTH = 10_000
MAX_USER_KEY_LENGTH = 200  # Customer.user_key


@dataclass(frozen=True)
class Received:
    """What a customer event did: the customer, and the consultation and message it touched."""

    customer: Customer
    consultation: Consultation | None
    message: Message | None
    opened: bool = False
    closed: bool = False


@dataclass(frozen=True)
class IncomingFile:
    """A file already written to storage (outside any transaction), to attach to a message (uploads.store).

    `kind` is the message kind it makes: its category, `image` only when
    Pillow verified it (R15), with its size in pixels.
    """

    stored_name: str
    name: str
    size: int
    sha256: str
    kind: str = Message.Kind.FILE
    width: int | None = None
    height: int | None = None


# --- the transition table -----------------------------------------------------------
# One cell per state and action: either the refusal that state gives, or who may
# act and the state the consultation is left in. `check_allowed` reads it for
# every member action, in one order: the member's center (R1), the state, who
# may, then R8's flags; `allowed` asks the same question for the console.


class Action(enum.StrEnum):
    """What a member does to a consultation: the rows of `TRANSITIONS`."""

    ASSIGN_TO_ME = "assign_to_me"  # R4
    CHANGE_ASSIGNEE = "change_assignee"  # R6
    SEND = "send"  # R7, R8
    HOLD = "hold"  # R10: set or release 보류
    IMPORTANT = "important"  # R10: set or clear 중요
    CLOSE = "close"  # R9.3


class Who(enum.Enum):
    """Who may take an action that the consultation's state allows."""

    MEMBER = "any active member of the center"
    ASSIGNEE = "the assignee only"
    ASSIGNEE_OR_ADMIN = "the assignee, a master or a manager"
    ADMIN = "a master or a manager"

    def includes(self, member: Member, consultation: Consultation) -> bool:
        if self is Who.MEMBER:
            return True
        if self is Who.ADMIN:
            return member.is_admin
        mine = consultation.assignee_id == member.pk
        return mine if self is Who.ASSIGNEE else mine or member.is_admin


@dataclass(frozen=True)
class Refusal:
    """A refusal's code and translatable message; `params` fills the message in from the consultation."""

    code: str
    message: Promise
    params: Callable[[Consultation], dict] | None = None

    def refused(self, consultation: Consultation) -> Refused:
        return Refused(self.code, self.message, **(self.params(consultation) if self.params else {}))


@dataclass(frozen=True)
class Allowed:
    """The state allows the action to `who` and leaves the consultation in state `to`; anyone else: `otherwise`."""

    to: str
    who: Who = Who.MEMBER
    otherwise: Refusal | None = None


CLOSED = Refusal("closed", _("This consultation is already closed."))
ALREADY_ASSIGNED = Refusal(
    "already_assigned",
    _("This consultation is already assigned to %(name)s."),
    params=lambda consultation: {"name": consultation.assignee.name},
)
NOT_SENDABLE = Refusal("not_sendable", _("Messages can be sent only while the consultation is waiting or in progress."))
HOLD_NOT_IN_PROGRESS = Refusal("hold_not_in_progress", _("Hold can be set only while the consultation is in progress."))
NOT_ASSIGNEE = Refusal("not_assignee", _("Only the assignee, a master or a manager can do this."))
NOT_MINE_TO_SEND = Refusal("not_assignee", _("You can send messages only in consultations assigned to you."))
NOT_MINE_TO_HAND_OVER = Refusal(
    "not_assignee", _("Agents can change the assignee only of consultations assigned to them.")
)
ONLY_ADMINS_ASSIGN = Refusal(
    "not_admin", _("Only masters and managers can assign an unassigned consultation to someone else.")
)
# R8's flags, checked after the table for sending only.
ON_HOLD = Refusal("on_hold", _("This consultation is on hold; release the hold to send messages."))
CENTER_STOPPED = Refusal("center_stopped", _("The center is stopped (운영 중지); sending is paused."))

_UNASSIGNED, _WAITING, _IN_PROGRESS, _CLOSED = Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS, Status.CLOSED
_SEND = Allowed(_IN_PROGRESS, Who.ASSIGNEE, NOT_MINE_TO_SEND)  # R8; from waiting, the first message starts it (R7)
_CLOSE = Allowed(_CLOSED, Who.ASSIGNEE_OR_ADMIN, NOT_ASSIGNEE)  # R9.3

TRANSITIONS: dict[Action, dict[str, Allowed | Refusal]] = {
    Action.ASSIGN_TO_ME: {  # R4
        _UNASSIGNED: Allowed(_WAITING),
        _WAITING: ALREADY_ASSIGNED,
        _IN_PROGRESS: ALREADY_ASSIGNED,
        _CLOSED: CLOSED,
    },
    Action.CHANGE_ASSIGNEE: {  # R6: the state is kept, but an unassigned one starts waiting
        _UNASSIGNED: Allowed(_WAITING, Who.ADMIN, ONLY_ADMINS_ASSIGN),
        _WAITING: Allowed(_WAITING, Who.ASSIGNEE_OR_ADMIN, NOT_MINE_TO_HAND_OVER),
        _IN_PROGRESS: Allowed(_IN_PROGRESS, Who.ASSIGNEE_OR_ADMIN, NOT_MINE_TO_HAND_OVER),
        _CLOSED: CLOSED,
    },
    Action.SEND: {_UNASSIGNED: NOT_SENDABLE, _WAITING: _SEND, _IN_PROGRESS: _SEND, _CLOSED: NOT_SENDABLE},
    Action.HOLD: {  # R10
        _UNASSIGNED: HOLD_NOT_IN_PROGRESS,
        _WAITING: HOLD_NOT_IN_PROGRESS,
        _IN_PROGRESS: Allowed(_IN_PROGRESS, Who.ASSIGNEE_OR_ADMIN, NOT_ASSIGNEE),
        _CLOSED: CLOSED,
    },
    Action.IMPORTANT: {state: Allowed(state) for state in Status},  # R10: any member, in any state
    Action.CLOSE: {_UNASSIGNED: _CLOSE, _WAITING: _CLOSE, _IN_PROGRESS: _CLOSE, _CLOSED: CLOSED},
}


def check_allowed(consultation: Consultation, member: Member, action: Action) -> Allowed:
    """Raise the refusal `action` meets now, else return its cell of `TRANSITIONS`.

    In the order the console explains them: another center's consultation or an
    inactive member (R1), the consultation's state, who may act, then for
    sending the hold and the center's operating switch (R8). What needs counting
    under lock (the limits R5, R7) or an action's own argument (the chosen
    assignee) is checked by its `do_*` function after this.
    """
    check_member_of(consultation.center, member)
    rule = TRANSITIONS[action][consultation.status]
    if isinstance(rule, Refusal):
        raise rule.refused(consultation)
    if not rule.who.includes(member, consultation):
        raise rule.otherwise.refused(consultation)
    if action == Action.SEND:
        if consultation.is_on_hold:
            raise ON_HOLD.refused(consultation)
        if not consultation.center.is_operating:
            raise CENTER_STOPPED.refused(consultation)
    return rule


def allowed(consultation: Consultation, member: Member, action: Action) -> Refused | None:
    """The refusal `member` would meet taking `action` now, or None: for the console's controls, which say why.

    Reads only what is in hand (no query when the consultation's center and
    assignee and the member's user are loaded; `already_assigned` names the
    assignee) and writes nothing. The action checks again under lock, with the
    limits (R5, R7) that only a count can tell.
    """
    try:
        check_allowed(consultation, member, action)
    except Refused as refusal:
        return refusal
    return None


def check_can_send(consultation: Consultation, member: Member) -> None:
    """R8: the reasons sending is refused, in the order the console explains them."""
    check_allowed(consultation, member, Action.SEND)


def send_refusal(consultation: Consultation, member: Member) -> Refused | None:
    """The refusal sending would meet now, for the console to show in advance."""
    return allowed(consultation, member, Action.SEND)


# --- the other checks ---------------------------------------------------------------


def assignee_limit(consultation: Consultation) -> tuple[int, str]:
    """The limit a new assignee needs room under, and the state it counts: R7 in progress, else R5."""
    if consultation.status == Status.IN_PROGRESS:
        return consultation.center.concurrent_limit, Status.IN_PROGRESS
    return MAX_WAITING_PER_MEMBER, Status.WAITING


def check_waiting_room(member: Member) -> None:
    """R5: at most MAX_WAITING_PER_MEMBER waiting consultations. Lock the member row first."""
    count = Consultation.objects.waiting_for(member).count()
    if count >= MAX_WAITING_PER_MEMBER:
        raise Refused(
            "waiting_limit",
            _("%(name)s already has %(limit)d waiting consultations, the most one member can hold."),
            name=member.name,
            limit=MAX_WAITING_PER_MEMBER,
        )


def check_concurrent_room(member: Member, center: Center) -> None:
    """R7: at most the center's concurrent limit in progress. Lock the member row first."""
    count = Consultation.objects.in_progress_for(member).count()
    if count >= center.concurrent_limit:
        raise Refused(
            "concurrent_limit",
            ngettext_lazy(
                "%(name)s already has %(limit)d consultation in progress, the center's concurrent limit.",
                "%(name)s already has %(limit)d consultations in progress, the center's concurrent limit.",
                "limit",
            ),
            name=member.name,
            limit=center.concurrent_limit,
        )


def check_assignee(center: Center, consultation: Consultation, assignee: Member) -> None:
    """R6: the new assignee is another active member of the consultation's center."""
    if assignee.center_id != center.pk or not (assignee.is_active and assignee.user.is_active):
        raise Refused("bad_assignee", _("%(name)s is not an active member of this center."), name=assignee.name)
    if consultation.assignee_id == assignee.pk:
        raise Refused("same_assignee", _("This consultation is already assigned to %(name)s."), name=assignee.name)


def check_message_content(text: str, *, kind: str, attachment: IncomingFile | None) -> None:
    """A text message needs text; a file message needs its file; text is bounded."""
    if kind == Message.Kind.TEXT:
        if not text.strip():
            raise Refused("empty_message", _("The message is empty."))
        if attachment is not None:
            raise Refused("unexpected_file", _("A text message cannot carry a file."))
    elif attachment is None:
        raise Refused("missing_file", _("This message kind needs a file."))
    if len(text) > MAX_TEXT_LENGTH:
        raise Refused("text_too_long", _("A message can be at most %(max)d characters."), max=MAX_TEXT_LENGTH)


def check_user_key(user_key: str) -> None:
    if not user_key or len(user_key) > MAX_USER_KEY_LENGTH:
        raise Refused("bad_user_key", _("The customer key is missing or too long."))


# --- locking and recording helpers --------------------------------------------


def _lock_consultation(consultation: Consultation | int) -> Consultation:
    """Lock and re-read a consultation.

    Only FKs that never change (center, customer) are joined: when PostgreSQL
    waits for a row lock it re-reads the locked row but not the joined ones, so
    a joined assignee could be the stale one (seen: a NULL assignee beside
    status `waiting`). The assignee is loaded after the lock instead.
    """
    pk = consultation.pk if isinstance(consultation, Consultation) else consultation
    return Consultation.objects.select_for_update(of=("self",)).select_related("center", "customer").get(pk=pk)


def _lock_member(member: Member) -> Member:
    """Lock a member's row: limit counts (R5, R7) for one member happen one at a time."""
    return Member.objects.select_for_update(of=("self",)).select_related("user").get(pk=member.pk)


def _record(
    kind: str,
    *,
    center: Center,
    at: datetime,
    consultation: Consultation | None = None,
    customer: Customer | None = None,
    actor: Member | None = None,
    **data,
) -> Event:
    event = Event.objects.create(
        center=center,
        consultation=consultation,
        customer=customer if customer is not None else getattr(consultation, "customer", None),
        kind=kind,
        actor=actor,
        created_at=at,
        data=data,
    )
    doorbell.ring_on_commit(center.pk)  # wakes the center's live streams once per transaction
    return event


def _append_message(
    consultation: Consultation,
    *,
    sender: str,
    text: str,
    kind: str = Message.Kind.TEXT,
    author: Member | None = None,
    channel_event_id: str = "",
    channel_sent_at: datetime | None = None,
    attachment: IncomingFile | None = None,
    delivery_state: str = "",
    delivery_due_at: datetime | None = None,
    at: datetime,
) -> Message:
    message = Message.objects.create(
        consultation=consultation,
        sender=sender,
        kind=kind,
        text=text,
        author=author,
        channel_event_id=channel_event_id,
        channel_sent_at=channel_sent_at,
        delivery_state=delivery_state,
        delivery_due_at=delivery_due_at,
        created_at=at,
    )
    if attachment is not None:
        stored = Attachment.objects.create(
            message=message,
            file=attachment.stored_name,
            name=attachment.name,
            size=attachment.size,
            sha256=attachment.sha256,
            content_type=file_policy.content_type_of(attachment.name, kind),
            width=attachment.width,
            height=attachment.height,
            thumbnail_pending=kind == Message.Kind.IMAGE,
        )
        if kind == Message.Kind.IMAGE:
            _thumbnail_on_commit(stored.pk)
    consultation.last_message = message
    consultation.last_activity_at = at
    consultation.save(update_fields=["last_message", "last_activity_at"])
    _record(
        Event.Kind.MESSAGE,
        center=consultation.center,
        consultation=consultation,
        actor=author,
        at=at,
        message_id=message.pk,
        sender=sender,
        message_kind=kind,
    )
    return message


def _close(consultation: Consultation, *, reason: str, actor: Member | None, at: datetime) -> None:
    """Close a locked, open consultation and record why (R9)."""
    previous = consultation.status
    consultation.status = Status.CLOSED
    consultation.closed_at = at
    consultation.close_reason = reason
    consultation.closed_by = actor
    consultation.save(update_fields=["status", "closed_at", "close_reason", "closed_by"])
    _record(
        Event.Kind.CLOSED,
        center=consultation.center,
        consultation=consultation,
        actor=actor,
        at=at,
        old_status=previous,
        new_status=Status.CLOSED,
        reason=reason,
    )


# The customer-side locks, built once and cloned by each call (as a class-based view's
# `queryset` is): each webhook event runs both, and building the block-state
# subquery again each time was about 940 of the customer lock's 2,400 Python
# calls (docs/perf.md, "Webhook").
_CUSTOMER_LOCK = Customer.objects.with_block_state().select_for_update(of=("self",))
_OPEN_CONSULTATION_LOCK = Consultation.objects.open().select_for_update(of=("self",))


def _lock_customer(center: Center, user_key: str) -> Customer | None:
    """The center's customer of `user_key`, row-locked, with its block state (`is_blocked_now`, R16), or None.

    Locking the customer serialises everything one customer sends, which is
    what keeps "one open consultation per customer" (R3) true under races; the
    database's partial unique constraint is the backstop.
    """
    try:
        customer = _CUSTOMER_LOCK.get(center=center, user_key=user_key)
    except Customer.DoesNotExist:
        return None
    customer.center = center  # the row in hand: no query when a later step reads it
    return customer


def _lock_or_create_customer(
    center: Center, *, user_key: str, profile_nickname: str | None, is_friend: bool | None
) -> tuple[Customer, bool]:
    """The customer of `user_key`, locked, and whether this call created it (on first contact, with its profile)."""
    customer = _lock_customer(center, user_key)
    if customer is not None:
        return customer, False
    try:
        with transaction.atomic():  # a savepoint: losing the race leaves the caller's transaction usable
            customer = Customer.objects.create(
                center=center,
                created_at=clock.now(),
                user_key=user_key,
                profile_nickname=(profile_nickname or "")[:100],
                is_friend=bool(is_friend),
            )
    except IntegrityError:
        # A parallel first message created it a moment ago: our insert waited for
        # that transaction, so the row is there to lock now.
        customer = _lock_customer(center, user_key)
        if customer is None:
            raise
        return customer, False
    customer.is_blocked_now = False
    return customer, True


def _update_profile(customer: Customer, *, profile_nickname: str | None, is_friend: bool | None) -> list[str]:
    """Keep the channel's profile name and friend flag current (None: not sent); the fields that changed."""
    changed = []
    if profile_nickname is not None and profile_nickname[:100] != customer.profile_nickname:
        customer.profile_nickname = profile_nickname[:100]
        changed.append("profile_nickname")
    if is_friend is not None and is_friend != customer.is_friend:
        customer.is_friend = is_friend
        changed.append("is_friend")
    if changed:
        customer.save(update_fields=changed)
    return changed


def _open_consultation_of(customer: Customer) -> Consultation | None:
    """The customer's open consultation (at most one, R3), row-locked, or None. Lock the customer first."""
    try:
        consultation = _OPEN_CONSULTATION_LOCK.get(customer=customer)
    except Consultation.DoesNotExist:
        return None
    # The rows in hand, instead of joining them again.
    consultation.customer = customer
    consultation.center = customer.center
    return consultation


# --- customer side (webhook) ----------------------------------------------------
# These join a transaction their caller opened, without a savepoint
# (`atomic(savepoint=False)`): the webhook records the channel's event id in
# the same transaction, and the effect and the record commit or roll back
# together. So an error inside rolls back the caller's whole transaction. The
# one refusal met after the customer is locked, a block (R16), is raised once
# the block is left, having written nothing, so a caller's transaction stays
# usable after it.


def do_receive_customer_message(
    center: Center,
    *,
    user_key: str,
    text: str = "",
    kind: str = Message.Kind.TEXT,
    profile_nickname: str | None = None,
    is_friend: bool | None = None,
    channel_event_id: str = "",
    channel_sent_at: datetime | None = None,
    attachment: IncomingFile | None = None,
) -> Received:
    """A customer's message: join the open consultation or open one (R3); `!종료` closes it (R9.1).

    A blocked customer is refused (R16) and nothing is written (not even their
    profile): the caller records the attempt with `do_record_blocked_attempt`.
    `!종료` with nothing open opens nothing.
    """
    check_message_content(text, kind=kind, attachment=attachment)
    check_user_key(user_key)
    with transaction.atomic(savepoint=False):
        received = _receive_message(
            center,
            user_key=user_key,
            text=text,
            kind=kind,
            profile_nickname=profile_nickname,
            is_friend=is_friend,
            channel_event_id=channel_event_id,
            channel_sent_at=channel_sent_at,
            attachment=attachment,
        )
    if received is None:
        raise Refused("customer_blocked", _("This customer is blocked."))
    return received


def _receive_message(
    center: Center,
    *,
    user_key: str,
    text: str,
    kind: str,
    profile_nickname: str | None,
    is_friend: bool | None,
    channel_event_id: str,
    channel_sent_at: datetime | None,
    attachment: IncomingFile | None,
) -> Received | None:
    """do_receive_customer_message inside its transaction; None for a blocked customer, before any write."""
    at = clock.now()
    customer, created = _lock_or_create_customer(
        center, user_key=user_key, profile_nickname=profile_nickname, is_friend=is_friend
    )
    if customer.is_blocked:
        return None
    if not created:
        _update_profile(customer, profile_nickname=profile_nickname, is_friend=is_friend)
    consultation = None if created else _open_consultation_of(customer)
    is_end = kind == Message.Kind.TEXT and text.strip() == END_COMMAND
    if consultation is None and is_end:
        return Received(customer=customer, consultation=None, message=None)
    opened = consultation is None
    if opened:
        consultation = Consultation.objects.create(
            center=center, customer=customer, status=Status.UNASSIGNED, requested_at=at, last_activity_at=at
        )
        _record(Event.Kind.CREATED, center=center, consultation=consultation, at=at, new_status=Status.UNASSIGNED)
    message = _append_message(
        consultation,
        sender=Message.Sender.CUSTOMER,
        text=text,
        kind=kind,
        channel_event_id=channel_event_id,
        channel_sent_at=channel_sent_at,
        attachment=attachment,
        at=at,
    )
    if is_end:
        _close(consultation, reason=CloseReason.CUSTOMER_END, actor=None, at=at)
    return Received(customer=customer, consultation=consultation, message=message, opened=opened, closed=is_end)


def do_switch_to_chatbot(
    center: Center, *, user_key: str, profile_nickname: str | None = None, is_friend: bool | None = None
) -> Received:
    """The customer switched to the chatbot: their open consultation closes (R9.2)."""
    check_user_key(user_key)
    with transaction.atomic(savepoint=False):
        at = clock.now()
        customer, created = _lock_or_create_customer(
            center, user_key=user_key, profile_nickname=profile_nickname, is_friend=is_friend
        )
        if not created:
            _update_profile(customer, profile_nickname=profile_nickname, is_friend=is_friend)
        consultation = None if created else _open_consultation_of(customer)
        if consultation is None:
            return Received(customer=customer, consultation=None, message=None)
        _close(consultation, reason=CloseReason.CHATBOT_SWITCH, actor=None, at=at)
        return Received(customer=customer, consultation=consultation, message=None, closed=True)


def do_update_friend_status(
    center: Center, *, user_key: str, is_friend: bool, profile_nickname: str | None = None
) -> Customer:
    """The channel says the customer added or removed the channel as a friend; a change is an Event."""
    check_user_key(user_key)
    with transaction.atomic(savepoint=False):
        at = clock.now()
        customer, created = _lock_or_create_customer(
            center, user_key=user_key, profile_nickname=profile_nickname, is_friend=is_friend
        )
        changed = [] if created else _update_profile(customer, profile_nickname=profile_nickname, is_friend=is_friend)
        if created or "is_friend" in changed:
            _record(Event.Kind.CUSTOMER_UPDATED, center=center, customer=customer, at=at, fields=["is_friend"])
        return customer


# --- member side (console) -------------------------------------------------------


def do_assign_to_me(consultation: Consultation | int, *, actor: Member) -> Consultation:
    """R4: an unassigned consultation becomes `waiting`, assigned to the actor (R5 applies)."""
    with transaction.atomic():
        at = clock.now()
        consultation = _lock_consultation(consultation)
        rule = check_allowed(consultation, actor, Action.ASSIGN_TO_ME)
        actor = _lock_member(actor)
        check_waiting_room(actor)
        old_status = consultation.status
        consultation.status = rule.to
        consultation.assignee = actor
        consultation.assigned_at = at
        consultation.save(update_fields=["status", "assignee", "assigned_at"])
        _record(
            Event.Kind.ASSIGNED,
            center=consultation.center,
            consultation=consultation,
            actor=actor,
            at=at,
            old_status=old_status,
            new_status=consultation.status,
            assignee_id=actor.pk,
        )
        return consultation


def do_change_assignee(consultation: Consultation | int, *, actor: Member, assignee: Member) -> Consultation:
    """R6: hand a consultation to another member of the center; its state is kept.

    Agents may hand over only their own consultations; masters and managers any,
    and may also assign an unassigned one (→ `waiting`). The new assignee's
    limits apply: R5 for a waiting consultation, R7 for one in progress.
    """
    with transaction.atomic():
        at = clock.now()
        consultation = _lock_consultation(consultation)
        center = consultation.center
        rule = check_allowed(consultation, actor, Action.CHANGE_ASSIGNEE)
        check_assignee(center, consultation, assignee)
        assignee = _lock_member(assignee)
        if rule.to == Status.IN_PROGRESS:
            check_concurrent_room(assignee, center)
        else:
            check_waiting_room(assignee)
        old_status, old_assignee_id = consultation.status, consultation.assignee_id
        consultation.status = rule.to
        consultation.assignee = assignee
        consultation.assigned_at = at
        consultation.save(update_fields=["status", "assignee", "assigned_at"])
        _record(
            Event.Kind.ASSIGNED if old_status == Status.UNASSIGNED else Event.Kind.ASSIGNEE_CHANGED,
            center=center,
            consultation=consultation,
            actor=actor,
            at=at,
            old_status=old_status,
            new_status=consultation.status,
            old_assignee_id=old_assignee_id,
            assignee_id=assignee.pk,
        )
        return consultation


def do_send_message(
    consultation: Consultation | int,
    *,
    actor: Member,
    text: str,
    kind: str = Message.Kind.TEXT,
    attachment: IncomingFile | None = None,
) -> Message:
    """Send an agent message (R8); the assignee's first one starts the consultation (R7).

    With an outbound URL the message is delivered by a Celery task once the
    transaction commits; without one it stays inside, for the simulator.
    """
    check_message_content(text, kind=kind, attachment=attachment)
    with transaction.atomic():
        at = clock.now()
        consultation = _lock_consultation(consultation)
        rule = check_allowed(consultation, actor, Action.SEND)
        if consultation.status != rule.to:  # waiting: this first message starts it (R7)
            actor = _lock_member(actor)
            check_concurrent_room(actor, consultation.center)
            old_status = consultation.status
            consultation.status = rule.to
            consultation.first_response_at = at
            consultation.save(update_fields=["status", "first_response_at"])
            _record(
                Event.Kind.STARTED,
                center=consultation.center,
                consultation=consultation,
                actor=actor,
                at=at,
                old_status=old_status,
                new_status=consultation.status,
            )
        outbound = bool(consultation.center.outbound_url)
        message = _append_message(
            consultation,
            sender=Message.Sender.AGENT,
            text=text,
            kind=kind,
            author=actor,
            attachment=attachment,
            delivery_state=DeliveryState.PENDING if outbound else DeliveryState.LOCAL,
            delivery_due_at=at if outbound else None,
            at=at,
        )
        if outbound:
            _deliver_on_commit(message)
        return message


def do_retry_delivery(message: Message | int, *, actor: Member) -> Message:
    """Its author sends a message whose delivery failed once more (SPEC §7)."""
    with transaction.atomic():
        pk = message.pk if isinstance(message, Message) else message
        message = Message.objects.select_for_update(of=("self",)).select_related("consultation__center").get(pk=pk)
        consultation = message.consultation
        check_member_of(consultation.center, actor, missing=MESSAGE_NOT_FOUND)
        if message.author_id != actor.pk:
            raise Refused("not_author", _("Only the member who sent a message can retry it."))
        if message.delivery_state != DeliveryState.FAILED:
            raise Refused("not_failed", _("Only a message whose delivery failed can be retried."))
        if not consultation.center.outbound_url:
            raise Refused("no_outbound", _("The center has no outbound delivery URL."))
        message.delivery_state = DeliveryState.PENDING
        message.delivery_error = ""
        message.delivery_due_at = clock.now()
        message.save(update_fields=["delivery_state", "delivery_error", "delivery_due_at"])
        _record(
            Event.Kind.DELIVERY,
            center=consultation.center,
            consultation=consultation,
            actor=actor,
            at=clock.now(),
            message_id=message.pk,
            delivery_state=DeliveryState.PENDING,
            attempts=message.delivery_attempts,
        )
        _deliver_on_commit(message)
        return message


def _thumbnail_on_commit(attachment_id: int) -> None:
    from . import thumbnails  # the task module imports this one

    transaction.on_commit(lambda: thumbnails.enqueue(attachment_id))


def do_record_thumbnail(attachment_id: int, thumbnail_name: str | None) -> Attachment | None:
    """An image's thumbnail is ready, or (None) its full decode failed and it is a plain file from now on (R15).

    Appends a FILE_READY event, so open consoles show the thumbnail or the
    file's card at once. None when the attachment is gone or already has one.
    """
    with transaction.atomic():
        attachment = (
            Attachment.objects.select_for_update(of=("self",))
            .select_related("message__consultation__center")
            .filter(pk=attachment_id)
            .first()
        )
        if attachment is None or not attachment.thumbnail_pending:
            return None
        message = attachment.message
        attachment.thumbnail_pending = False
        if thumbnail_name:
            attachment.thumbnail = thumbnail_name
        else:
            message.kind = Message.Kind.FILE
            message.save(update_fields=["kind"])
            attachment.content_type = file_policy.content_type_of(attachment.name, Message.Kind.FILE)
        attachment.save(update_fields=["thumbnail_pending", "thumbnail", "content_type"])
        consultation = message.consultation
        _record(
            Event.Kind.FILE_READY,
            center=consultation.center,
            consultation=consultation,
            at=clock.now(),
            message_id=message.pk,
            thumbnail=bool(thumbnail_name),
        )
        return attachment


def _deliver_on_commit(message: Message) -> None:
    from .channel import delivery  # the task module imports this one

    # The attempt count this task expects to find: a duplicate copy of the task
    # finds it moved on and posts nothing. With the broker down the message
    # stays pending for the stalled-delivery sweep; the sender's request succeeds.
    message_id, attempts = message.pk, message.delivery_attempts
    transaction.on_commit(lambda: delivery.enqueue(message_id, after_attempt=attempts))


def do_set_important(consultation: Consultation | int, *, actor: Member, important: bool) -> Consultation:
    """R10: the internal 중요 flag, settable by any member of the center in any state."""
    with transaction.atomic():
        at = clock.now()
        consultation = _lock_consultation(consultation)
        check_allowed(consultation, actor, Action.IMPORTANT)
        if consultation.is_important != important:
            consultation.is_important = important
            consultation.save(update_fields=["is_important"])
            _record(
                Event.Kind.IMPORTANT_SET,
                center=consultation.center,
                consultation=consultation,
                actor=actor,
                at=at,
                important=important,
            )
        return consultation


def do_set_hold(consultation: Consultation | int, *, actor: Member, on_hold: bool) -> Consultation:
    """R10: the internal 보류 flag, only while in progress; a held consultation is never auto-closed."""
    with transaction.atomic():
        at = clock.now()
        consultation = _lock_consultation(consultation)
        check_allowed(consultation, actor, Action.HOLD)
        if consultation.is_on_hold != on_hold:
            consultation.is_on_hold = on_hold
            consultation.save(update_fields=["is_on_hold"])
            _record(
                Event.Kind.HOLD_SET,
                center=consultation.center,
                consultation=consultation,
                actor=actor,
                at=at,
                on_hold=on_hold,
            )
        return consultation


def do_close(consultation: Consultation | int, *, actor: Member) -> Consultation:
    """R9.3: the assignee presses 종료; masters and managers may close any consultation."""
    with transaction.atomic():
        at = clock.now()
        consultation = _lock_consultation(consultation)
        check_allowed(consultation, actor, Action.CLOSE)
        _close(consultation, reason=CloseReason.AGENT, actor=actor, at=at)
        return consultation


def close_idle(*, now: datetime | None = None, center: Center | None = None) -> list[int]:
    """R9.4: close in-progress consultations whose customer left the assignee unanswered.

    "The last message was the assignee's": after a handover, the new assignee
    has not spoken yet, so the previous assignee's message does not count.

    Run by the periodic job. Candidates are found without locks; each is then
    locked and re-checked in its own short transaction, so a customer message
    or a hold that lands in between wins and the consultation stays open.
    Returns the ids closed. `center` limits the sweep to one center.
    """
    now = now or clock.now()
    closed: list[int] = []
    centers = Center.objects.filter(consultations__status=Status.IN_PROGRESS).distinct()
    if center is not None:
        centers = centers.filter(pk=center.pk)
    for each in centers:
        cutoff = now - timedelta(minutes=each.idle_close_minutes)
        candidates = Consultation.objects.filter(
            center=each,
            status=Status.IN_PROGRESS,
            is_on_hold=False,
            last_message__sender=Message.Sender.AGENT,
            last_message__author=F("assignee"),
            last_message__created_at__lte=cutoff,
        ).values_list("pk", flat=True)
        for pk in list(candidates):
            with transaction.atomic():
                consultation = _lock_consultation(pk)
                last = consultation.last_message
                if (
                    consultation.status == Status.IN_PROGRESS
                    and not consultation.is_on_hold
                    and last is not None
                    and last.sender == Message.Sender.AGENT
                    and last.author_id == consultation.assignee_id
                    and last.created_at <= cutoff
                ):
                    _close(consultation, reason=CloseReason.IDLE_TIMEOUT, actor=None, at=now)
                    closed.append(pk)
    return closed


# --- what customers' rules ask of the consultations ------------------------------
# customers/rules.py sends its signals inside its transaction, with the customer
# locked; consultations/receivers.py calls these (customers never imports us).


def on_customer_blocked(
    customer: Customer, *, block: Block, report: Report | None, actor: Member | None, at: datetime
) -> None:
    """R16, R9.5: the block is an Event, and the customer's open consultation closes at once.

    A report gets the excerpt of the customer's last REPORT_EXCERPT_MESSAGES
    messages, and its delivery is queued once the block commits.
    """
    if report is not None:
        report.excerpt = report_excerpt(customer)
        report.save(update_fields=["excerpt"])
        _deliver_report_on_commit(report, center=customer.center)
    consultation = _open_consultation_of(customer)
    _record(
        Event.Kind.CUSTOMER_BLOCKED,
        center=customer.center,
        customer=customer,
        consultation=consultation,
        actor=actor,
        at=at,
        block_id=block.pk,
        reason=block.reason,
    )
    if consultation is not None:
        _close(consultation, reason=CloseReason.CUSTOMER_BLOCKED, actor=actor, at=at)


def on_customer_unblocked(customer: Customer, *, block: Block, actor: Member | None, at: datetime) -> None:
    _record(
        Event.Kind.CUSTOMER_UNBLOCKED, center=customer.center, customer=customer, actor=actor, at=at, block_id=block.pk
    )


def on_customer_updated(customer: Customer, *, actor: Member, at: datetime, fields: list[str]) -> None:
    _record(Event.Kind.CUSTOMER_UPDATED, center=customer.center, customer=customer, actor=actor, at=at, fields=fields)


def on_center_operating_changed(center: Center, *, at: datetime) -> None:
    """운영 중지 or restarted: an Event, so that open consoles update their badge and composer (R8)."""
    _record(Event.Kind.CENTER_CHANGED, center=center, at=at, is_operating=center.is_operating)


# The report's excerpt: the customer's own last messages (R16).
REPORT_EXCERPT_MESSAGES = 20


def report_excerpt(customer: Customer) -> list[dict]:
    """The customer's last messages, oldest first: time, kind, text, and an attachment by name only."""
    messages = (
        Message.objects.filter(consultation__customer=customer, sender=Message.Sender.CUSTOMER)
        .select_related("attachment")
        .order_by("-created_at", "-id")[:REPORT_EXCERPT_MESSAGES]
    )
    excerpt = []
    for message in reversed(list(messages)):
        attachment = getattr(message, "attachment", None)  # a missing reverse one-to-one is an AttributeError
        excerpt.append(
            {
                "sent_at": message.created_at.isoformat(),
                "kind": message.kind,
                "text": message.text,
                "file": attachment.name if attachment else None,
            }
        )
    return excerpt


def on_report_queued(report: Report) -> None:
    """A report sent again (customers.rules.do_retry_report): queue it once the retry commits."""
    _deliver_report_on_commit(report, center=report.block.customer.center)


def _deliver_report_on_commit(report: Report, *, center: Center) -> None:
    if not center.outbound_url:
        return  # it waits, pending, and the console says why
    from .channel import report_delivery  # the task module imports delivery, which this module's callers import

    report_id, attempts = report.pk, report.delivery_attempts
    transaction.on_commit(lambda: report_delivery.enqueue(report_id, after_attempt=attempts))

"""Customer rules: edits, block and unblock (R16, R16a, R17).

Views, the admin and management commands call these; none of them writes a
customer's nickname, memo or blocks itself. Each `do_*` function runs in one
transaction, locks the customer's row first (the order every rule keeps:
customer → consultation → member), checks, writes, and sends its signal
(customers/signals.py) inside the transaction, so what other apps do about it
(closing the open consultation, the Event) commits or rolls back with it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from counsel_center import clock
from counsel_center.models import Center, Member
from counsel_center.rules import CUSTOMER_NOT_FOUND, Refused, check_member_of

from .models import Block, Customer, Report
from .signals import customer_blocked, customer_unblocked, customer_updated, report_queued


def _lock(customer: Customer) -> Customer:
    return Customer.objects.select_for_update(of=("self",)).select_related("center").get(pk=customer.pk)


def _holds_open_consultation_of(customer: Customer, member: Member) -> bool:
    # The reverse relation, not the Consultation model: customers does not import consultations.
    return customer.consultations.filter(assignee=member, closed_at__isnull=True).exists()


def check_may_block(customer: Customer, actor: Member | None) -> None:
    """R16a: masters and managers block any customer of their center; an agent only the customer of an
    open consultation assigned to them. `actor` None is an operator in the shell."""
    if actor is None:
        return
    check_member_of(customer.center, actor, missing=CUSTOMER_NOT_FOUND)
    if not actor.is_admin and not _holds_open_consultation_of(customer, actor):
        raise Refused(
            "not_assignee",
            _("Only the assignee of this customer's open consultation, a master or a manager can block them."),
        )


def _check_admin(customer: Customer, actor: Member | None, message) -> None:
    if actor is None:  # an operator in the shell
        return
    check_member_of(customer.center, actor, missing=CUSTOMER_NOT_FOUND)
    if not may_manage_blocks(actor):
        raise Refused("not_admin", message)


def check_may_unblock(customer: Customer, actor: Member | None) -> None:
    """R16a: only masters and managers (or an operator in the shell) unblock."""
    _check_admin(customer, actor, _("Only a master or a manager can unblock a customer."))


def may_block(customer: Customer, actor: Member) -> bool:
    """Whether the console offers `actor` the block form (the rule decides again under lock): one query for an
    agent, none for a master or a manager."""
    if actor.center_id != customer.center_id:
        return False
    return actor.is_admin or _holds_open_consultation_of(customer, actor)


def may_manage_blocks(actor: Member) -> bool:
    """Masters and managers: only they unblock (R16a) and send a report again; the console asks it too."""
    return actor.is_admin


def check_reason(reason: str, *, report: bool = False) -> None:
    if reason not in Block.Reason.values:
        raise Refused("bad_reason", _("Choose a reason: abuse, promotion, obscene or gambling."))
    if report and reason not in Block.REPORTABLE:
        raise Refused(
            "not_reportable", _("Only obscene (음란) or gambling (도박) can be reported to the channel operator.")
        )


def do_update_customer(
    customer: Customer, *, actor: Member, nickname: str | None = None, memo: str | None = None
) -> Customer:
    """Edit the internal nickname and the shared memo; the memo keeps who edited it last, and when."""
    with transaction.atomic():
        at = clock.now()
        customer = _lock(customer)
        check_member_of(customer.center, actor, missing=CUSTOMER_NOT_FOUND)
        changed = []
        if nickname is not None and nickname.strip() != customer.nickname:
            customer.nickname = nickname.strip()[:100]
            changed.append("nickname")
        if memo is not None and memo != customer.memo:
            customer.memo = memo[:5000]
            customer.memo_updated_by = actor
            customer.memo_updated_at = at
            changed += ["memo", "memo_updated_by", "memo_updated_at"]
        if changed:
            customer.save(update_fields=changed)
            fields = [f for f in changed if f in ("nickname", "memo")]
            customer_updated.send(Customer, customer=customer, actor=actor, at=at, fields=fields)
        return customer


def do_block_customer(
    customer: Customer, *, actor: Member | None, reason: str, note: str = "", report: bool = False
) -> Block:
    """R16: block a customer; their open consultation closes at once (R9.5, in the signal's receiver).

    `report`: also report them to the channel operator (only for 음란 and 도박):
    a Report is stored with the block, its excerpt and delivery are the
    receivers' (consultations/receivers.py). `actor` is None when an operator
    blocks from the shell without --by. The count of messages refused while
    blocked starts again with each block.
    """
    check_reason(reason, report=report)
    with transaction.atomic():
        at = clock.now()
        customer = _lock(customer)
        if actor is not None:
            check_member_of(customer.center, actor, missing=CUSTOMER_NOT_FOUND)
        if customer.blocks.active().exists():
            raise Refused("already_blocked", _("This customer is already blocked."))
        check_may_block(customer, actor)
        block = Block.objects.create(
            customer=customer, reason=reason, note=note[:2000], blocked_by=actor, blocked_at=at
        )
        if customer.blocked_attempts or customer.last_blocked_attempt_at:
            customer.blocked_attempts, customer.last_blocked_attempt_at = 0, None
            customer.save(update_fields=["blocked_attempts", "last_blocked_attempt_at"])
        # Due now when it can go out; with no outbound URL it waits, and the stalled sweep leaves it alone.
        due = at if customer.center.outbound_url else None
        filed = Report.objects.create(block=block, delivery_due_at=due) if report else None
        customer_blocked.send(Customer, customer=customer, block=block, report=filed, actor=actor, at=at)
        return block


def do_unblock_customer(customer: Customer, *, actor: Member | None) -> Block:
    """R17: end the customer's active block; the block row is kept as history."""
    with transaction.atomic():
        at = clock.now()
        customer = _lock(customer)
        check_may_unblock(customer, actor)
        block = customer.blocks.active().select_for_update().first()
        if block is None:
            raise Refused("not_blocked", _("This customer is not blocked."))
        block.ended_at = at
        block.ended_by = actor
        block.save(update_fields=["ended_at", "ended_by"])
        customer_unblocked.send(Customer, customer=customer, block=block, actor=actor, at=at)
        return block


def do_retry_report(report: Report, *, actor: Member) -> Report:
    """A master or a manager sends a report again: one whose delivery failed, or one that waited for an outbound URL."""
    with transaction.atomic():
        report = (
            Report.objects.select_for_update(of=("self",)).select_related("block__customer__center").get(pk=report.pk)
        )
        _check_admin(report.block.customer, actor, _("Only a master or a manager can send a report again."))
        if not report.may_be_sent_again:
            raise Refused("not_failed", _("Only a report whose delivery failed or is waiting can be sent again."))
        at = clock.now()
        report.delivery_state = Report.State.PENDING
        report.delivery_error = ""
        report.delivery_due_at = at
        report.save(update_fields=["delivery_state", "delivery_error", "delivery_due_at"])
        report_queued.send(Report, report=report, actor=actor, at=at)
        return report


def do_record_blocked_attempt(center: Center, *, user_key: str) -> Customer | None:
    """Count a refused message of a blocked customer, with its time (R16: nothing silently lost).

    Called after the refusal rolled back; a customer who is unknown or no longer
    blocked is left alone.
    """
    with transaction.atomic():
        customer = (
            Customer.objects.select_for_update()
            .with_block_state()
            .filter(center=center, user_key=user_key, is_blocked_now=True)
            .first()
        )
        if customer is None:
            return None
        customer.blocked_attempts += 1
        customer.last_blocked_attempt_at = clock.now()
        customer.save(update_fields=["blocked_attempts", "last_blocked_attempt_at"])
        return customer

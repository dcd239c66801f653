"""What the customer commands share: finding a center, a customer and a member from the shell, turning a rule's
refusal into a command error (one line on stderr, exit 1), and how they print a member and a time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.core.management.base import CommandError

from counsel_center.models import Center, Member
from counsel_center.rules import Refused
from customers.models import Customer


def center_by_slug(slug: str) -> Center:
    try:
        return Center.objects.get(slug=slug)
    except Center.DoesNotExist:
        raise CommandError(f"No center has the slug “{slug}”.") from None


def customer_of(center: Center, customer_id: str) -> Customer:
    """The customer with this public ID in `center`; another center's customer is unknown here (R1)."""
    try:
        return Customer.objects.get(center=center, customer_id=customer_id)
    except Customer.DoesNotExist:
        raise CommandError(f"No customer has the ID “{customer_id}” in {center.slug}.") from None


def member_of(center: Center, username: str) -> Member:
    """The active member of `center` signed in as `username` (the --by of a command)."""
    member = Member.objects.select_related("user", "center").filter(center=center, user__username=username).first()
    if member is None:
        raise CommandError(f"No member of {center.slug} has the username “{username}”.")
    if not (member.is_active and member.user.is_active):
        raise CommandError(f"“{username}” is not an active member of {center.slug}.")
    return member


def actor_name(member: Member | None) -> str:
    """Who acted: the member's name, or "operator" for a command run without --by (actor None)."""
    return member.name if member is not None else "operator"


def local_iso(moment: datetime | None, center: Center) -> str | None:
    """ISO 8601 in the center's time zone, as its members read times; None stays None."""
    return moment.astimezone(center.zone).isoformat(timespec="seconds") if moment is not None else None


@contextmanager
def refusals_as_errors() -> Iterator[None]:
    """A rule's refusal (customers/rules.py) becomes the command's error, with the rule's own message."""
    try:
        yield
    except Refused as refusal:
        raise CommandError(refusal.message) from None

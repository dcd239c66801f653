"""Customers a member may touch: those of their own center; any other is a 404 (R1)."""

from django.shortcuts import get_object_or_404

from counsel_center.models import Member

from .models import Customer


def access_customer(member: Member, customer_id: str) -> Customer:
    """A customer of the member's own center, by the ID the console shows."""
    return get_object_or_404(
        Customer.objects.select_related("center"), center_id=member.center_id, customer_id=customer_id
    )

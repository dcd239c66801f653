"""Fetching what a member may touch: another center's object is a 404 (R1).

Every console view looks objects up through these functions, never with a
bare `.get(pk=...)`, so the center check cannot be forgotten.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from counsel_center.models import Member

from .models import Attachment, Consultation, Favorite, Message, Template


def access_consultation(member: Member, public_id: str) -> Consultation:
    return get_object_or_404(
        Consultation.objects.select_related("center", "customer", "assignee__user", "closed_by__user"),
        center_id=member.center_id,
        public_id=public_id,
    )


def access_message(member: Member, consultation: Consultation, message_id: int) -> Message:
    """A message of a consultation the member already accessed."""
    return get_object_or_404(Message, consultation=consultation, pk=message_id)


def access_member(member: Member, member_id: int) -> Member:
    """Another member of the same center (an assignee to pick)."""
    return get_object_or_404(Member.objects.active().select_related("user"), center_id=member.center_id, pk=member_id)


def access_template(member: Member, template_id: int) -> Template:
    """An active template of the member's center; another center's, or a retired one, is a 404 (R1)."""
    return get_object_or_404(Template, center_id=member.center_id, is_active=True, pk=template_id)


def access_favorite(member: Member, favorite_id: int) -> Favorite:
    """One of the member's own favorites; anyone else's, even in the same center, is a 404."""
    return get_object_or_404(Favorite, member=member, pk=favorite_id)


def access_attachment(member: Member, attachment_id: int) -> Attachment:
    """A file of a message in the member's center (R15); another center's is a 404."""
    return get_object_or_404(
        Attachment.objects.select_related("message"),
        message__consultation__center_id=member.center_id,
        pk=attachment_id,
    )

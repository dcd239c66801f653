"""Template filters of the console: relative times and message previews."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.defaultfilters import date as format_date
from django.template.defaultfilters import truncatechars
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Message

register = template.Library()

_KIND_LABELS = {
    Message.Kind.IMAGE: "Image",
    Message.Kind.VIDEO: "Video",
    Message.Kind.AUDIO: "Audio",
    Message.Kind.FILE: "File",
}


@register.filter
def since(moment: datetime | None) -> str:
    """ "3분 전" within a day; the date and time (center time zone) beyond."""
    if moment is None:
        return ""
    if timezone.now() - moment < timezone.timedelta(hours=22):
        return naturaltime(moment)
    return format_date(timezone.localtime(moment), "Y-m-d H:i")


@register.filter
def preview(message: Message | None) -> str:
    """One line of a message for the list: its text, or its kind for a file without text."""
    if message is None:
        return ""
    if message.kind != Message.Kind.TEXT and not message.text:
        return f"[{_(_KIND_LABELS[message.kind])}]"
    return truncatechars(" ".join(message.text.split()), 80)

"""Template filters of the console: relative times, `<time>` elements, message previews and tab counts.

`row_time` and `chat_time` write a whole `<time>` element from one
conversion to local time: the list and the chat pane show one per row or
bubble, and three or four `date` filters each were a good part of their
rendering time (docs/perf.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.defaultfilters import date as format_date
from django.template.defaultfilters import truncatechars
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from consultations.models import Message

register = template.Library()

NATURAL_TIME_SPAN = timezone.timedelta(hours=22)

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
    if timezone.now() - moment < NATURAL_TIME_SPAN:
        return naturaltime(moment)
    return format_date(timezone.localtime(moment), "Y-m-d H:i")


@register.filter
def row_time(moment: datetime) -> SafeString:
    """A list row's time, short as a messenger's list writes it (`short_time`); ISO and the minute in the tags."""
    local = timezone.localtime(moment)
    minute = local.strftime("%Y-%m-%d %H:%M")
    shown = short_time(moment, now=timezone.now())
    return format_html('<time class="row-time" datetime="{}" title="{}">{}</time>', local.isoformat(), minute, shown)


def short_time(moment: datetime, *, now: datetime) -> str:
    """ "3분 전" within a day, then 어제, then the month and day (12월 3일), then the date of another year.

    The whole date and time of older rows was 16 characters in a 50 px row; the minute stays in the title.
    """
    if now - moment < NATURAL_TIME_SPAN:
        return naturaltime(moment)
    local, today = timezone.localtime(moment), timezone.localtime(now).date()
    if local.date() == today - timedelta(days=1):
        return _("Yesterday")
    if local.year == today.year:
        return date_format(local, "MONTH_DAY_FORMAT")
    return local.strftime("%Y-%m-%d")


@register.filter
def chat_time(moment: datetime) -> SafeString:
    """A chat line's time: the time alone today, else the date and time; ISO and the second in the tags."""
    local = timezone.localtime(moment)
    shown = local.strftime("%H:%M" if local.date() == timezone.localdate() else "%Y-%m-%d %H:%M")
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', local.isoformat(), local.strftime("%Y-%m-%d %H:%M:%S"), shown
    )


@register.filter
def preview(message: Message | None) -> str:
    """One line of a message for the list: its text, or its kind for a file without text."""
    if message is None:
        return ""
    if message.kind != Message.Kind.TEXT and not message.text:
        return f"[{_(_KIND_LABELS[message.kind])}]"
    return truncatechars(" ".join(message.text.split()), 80)


@register.filter
def tab_count(count) -> str:
    """A tab's count (filters.TabCount): the number, or "999+" when it was counted up to a cap."""
    if count.capped:
        return _("%(number)s+") % {"number": count.shown}
    return str(count.count)

"""The `<time>` elements of the list rows and the chat lines.

`row_time` and `chat_time` (console/templatetags/console.py) replaced
three or four `date` filters per row or bubble (docs/perf.md) with the same
HTML. A row older than a day then got a shorter text than the whole date and
time: 어제, the month and day, or the date of another year.
"""

from datetime import datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from console.templatetags.console import NATURAL_TIME_SPAN, short_time
from consultations.tests.helpers import T0

ROW_BEFORE = Template(
    '{% load console %}<time class="row-time" datetime="{{ t|date:\'c\' }}" title="{{ t|date:\'Y-m-d H:i\' }}">'
    "{{ t|since }}</time>"
)
CHAT_BEFORE = Template(
    '{% now "Ymd" as today %}<time datetime="{{ t|date:\'c\' }}" title="{{ t|date:\'Y-m-d H:i:s\' }}">'
    '{% if t|date:"Ymd" == today %}{{ t|date:"H:i" }}{% else %}{{ t|date:"Y-m-d H:i" }}{% endif %}</time>'
)
ROW_NOW = Template("{% load console %}{{ t|row_time }}")
CHAT_NOW = Template("{% load console %}{{ t|chat_time }}")

# Relative times count minutes and hours: each age is half a unit away from a change, so the two renders
# (a few milliseconds apart, at the real time: `since` reads the clock) see the same text.
AGES = [
    timedelta(minutes=5, seconds=30),
    timedelta(hours=3, minutes=30),
    timedelta(hours=21, minutes=30),
    timedelta(hours=22, minutes=30),
    timedelta(days=2),
    timedelta(days=400, microseconds=123456),
]


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("age", AGES)
def test_the_filters_write_what_the_templates_wrote(language, age):
    with translation.override(language):
        for moment in (timezone.now() - age, T0 - age):
            context = Context({"t": moment})
            if timezone.now() - moment < NATURAL_TIME_SPAN:  # older rows are shorter now (below)
                assert ROW_NOW.render(context) == ROW_BEFORE.render(context)
            assert CHAT_NOW.render(context) == CHAT_BEFORE.render(context)


SEOUL_NOON = timezone.make_aware(datetime(2026, 12, 6, 12, 0))  # settings.TIME_ZONE is Asia/Seoul


@pytest.mark.parametrize(
    ("moment", "korean", "english"),
    [
        (datetime(2026, 12, 5, 13, 0), "어제", "Yesterday"),  # 23 h before: past the relative span
        (datetime(2026, 12, 5, 0, 30), "어제", "Yesterday"),
        (datetime(2026, 12, 4, 23, 59), "12월 4일", "December 4"),
        (datetime(2026, 1, 1, 0, 0), "1월 1일", "January 1"),
        (datetime(2025, 12, 31, 23, 0), "2025-12-31", "2025-12-31"),
    ],
)
def test_an_older_row_shows_yesterday_then_the_day_then_the_date(moment, korean, english):
    moment = timezone.make_aware(moment)
    for language, expected in (("ko", korean), ("en", english)):
        with translation.override(language):
            assert short_time(moment, now=SEOUL_NOON) == expected


def test_the_times_are_in_the_centers_time_zone():
    moment = timezone.make_aware(timezone.datetime(2026, 1, 2, 23, 30, 5), timezone.get_fixed_timezone(0))
    html = CHAT_NOW.render(Context({"t": moment}))

    # 23:30 UTC is 08:30 the next day in Seoul.
    assert html == '<time datetime="2026-01-03T08:30:05+09:00" title="2026-01-03 08:30:05">2026-01-03 08:30</time>'

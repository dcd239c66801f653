"""The `<time>` elements of the list rows and the chat lines: one filter each, the same HTML as before.

`row_time` and `chat_time` (console/templatetags/console.py) replaced
three or four `date` filters per row or bubble (docs/perf.md); users must see
no difference.
"""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

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
            assert ROW_NOW.render(context) == ROW_BEFORE.render(context)
            assert CHAT_NOW.render(context) == CHAT_BEFORE.render(context)


def test_the_times_are_in_the_centers_time_zone():
    moment = timezone.make_aware(timezone.datetime(2026, 1, 2, 23, 30, 5), timezone.get_fixed_timezone(0))
    html = CHAT_NOW.render(Context({"t": moment}))

    # 23:30 UTC is 08:30 the next day in Seoul.
    assert html == '<time datetime="2026-01-03T08:30:05+09:00" title="2026-01-03 08:30:05">2026-01-03 08:30</time>'

"""stats.report: 7-day buckets ending yesterday and their changes, against a hand computation."""

from datetime import timedelta

import pytest

from stats.report import report_for

from .conftest import LAST

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixed_yesterday")]


def test_92_days_make_13_buckets_the_newest_ending_yesterday(center):
    report = report_for(center)

    assert (report.first, report.last) == (LAST - timedelta(days=91), LAST)
    assert len(report.days) == 92
    assert [(b.first, b.last) for b in report.buckets[-2:]] == [
        (LAST - timedelta(days=13), LAST - timedelta(days=7)),
        (LAST - timedelta(days=6), LAST),
    ]
    assert len(report.buckets) == 13
    assert report.buckets[0].first == LAST - timedelta(days=90)  # the oldest day is in the daily table only
    assert report.is_empty


def test_bucket_sums_and_their_changes_match_the_hand_computation(center, other_center, stat):
    # latest 7 days: inbound 5 + 7 = 12, completed 4, first answers 2 in 100 s + 1 in 80 s
    stat(center, LAST, inbound=5, closed_same_day=4, completed=3, conversation_seconds=900,
         first_response_count=2, first_response_seconds=100)  # fmt: skip
    stat(center, LAST - timedelta(days=6), inbound=7, completed=1, conversation_seconds=300,
         first_response_count=1, first_response_seconds=80)  # fmt: skip
    # previous 7 days: inbound 8, completed 0, one first answer in 120 s
    stat(center, LAST - timedelta(days=7), inbound=8, first_response_count=1, first_response_seconds=120)
    stat(center, LAST - timedelta(days=14), inbound=1000)  # two buckets back: not compared
    stat(other_center, LAST, inbound=999)  # another center's

    report = report_for(center)
    latest = report.latest.totals

    assert (latest.inbound, latest.completed, latest.closed_same_day) == (12, 4, 4)
    assert latest.same_day_rate == pytest.approx(100 * 4 / 12)
    assert latest.first_response_average == pytest.approx(180 / 3)  # sums / counts, not a mean of daily means
    assert latest.conversation_average == pytest.approx(1200 / 4)
    assert report.change("inbound") == pytest.approx(100 * (12 - 8) / 8)  # +50 %
    assert report.change("completed") is None  # the previous bucket completed nothing: no percentage
    assert report.change("first_response_average") == pytest.approx(60 - 120)  # a minute faster
    assert report.change("conversation_average") is None  # nothing to compare with
    assert report.buckets[-3].totals.inbound == 1000

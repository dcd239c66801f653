"""SPEC §6: the daily rollup, checked against a day worked out by hand (docs/stats.md has the same day).

Every consultation is played through the lifecycle with its clock frozen at
each step, so the rollup reads what production writes. Times are Asia/Seoul;
D is 2026-11-10.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from consultations import lifecycle
from consultations.tests.helpers import customer_writes
from counsel_center import clock
from stats import rollup
from stats.models import DailyStat

pytestmark = pytest.mark.django_db

SEOUL = ZoneInfo("Asia/Seoul")
D = date(2026, 11, 10)
AFTER = datetime(2026, 12, 1, 12, 0, tzinfo=SEOUL)  # long after: every day of the test is finished


def at(day: date, clock_time: str) -> datetime:
    hour, minute, second = (int(part) for part in (clock_time + ":00")[:8].split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SEOUL)


class Story:
    """One customer's consultation, step by step, through the lifecycle."""

    def __init__(self, center, member, user_key: str) -> None:
        self.center, self.member, self.user_key = center, member, user_key
        self.consultation = None

    def writes(self, when: datetime, text: str = "문의드립니다") -> "Story":
        with clock.frozen_at(when):
            received = customer_writes(self.center, text, user_key=self.user_key)
        self.consultation = self.consultation or received.consultation
        return self

    def answered(self, when: datetime) -> "Story":
        with clock.frozen_at(when):
            lifecycle.do_assign_to_me(self.consultation, actor=self.member)
            lifecycle.do_send_message(self.consultation, actor=self.member, text="안녕하세요, 상담원입니다.")
        return self

    def chatbot(self, when: datetime) -> "Story":
        with clock.frozen_at(when):
            lifecycle.do_switch_to_chatbot(self.center, user_key=self.user_key)
        return self

    def closed_by_agent(self, when: datetime) -> "Story":
        with clock.frozen_at(when):
            lifecycle.do_close(self.consultation, actor=self.member)
        return self


@pytest.fixture
def hand_built_day(center, other_center, agent, agent2, outsider):
    """The day of docs/stats.md's worked example, with its neighbours."""
    center.concurrent_limit = 10
    center.save(update_fields=["concurrent_limit"])
    previous, following = D - timedelta(days=1), D + timedelta(days=1)
    # D-1: opened 22:00, answered 23:00, closed by the agent at 01:00 on D (a late close).
    Story(center, agent2, "late").writes(at(previous, "22:00")).answered(at(previous, "23:00")).closed_by_agent(
        at(D, "01:00")
    )
    Story(center, agent2, "last-second-before").writes(at(previous, "23:59:59"))  # UTC 14:59:59 on D-1
    Story(center, agent, "first-second").writes(at(D, "00:00:00"))  # UTC 15:00:00 on D-1: belongs to D
    # D: answered after 3 min, ended by the customer's !종료 27 min later.
    Story(center, agent, "end").writes(at(D, "10:00")).answered(at(D, "10:03")).writes(at(D, "10:30"), "!종료")
    # D: answered after 5 min, the customer switched to the chatbot 15 min later.
    Story(center, agent, "chatbot").writes(at(D, "11:00")).answered(at(D, "11:05")).chatbot(at(D, "11:20"))
    # D: never answered; the customer switched to the chatbot.
    Story(center, agent, "unanswered").writes(at(D, "12:00")).chatbot(at(D, "12:10"))
    # D: answered after 10 min, closed for idleness 50 min later (R9.4, center idle time 10 min).
    idle = Story(center, agent, "idle").writes(at(D, "13:00")).answered(at(D, "13:10"))
    assert lifecycle.close_idle(now=at(D, "14:00")) == [idle.consultation.pk]
    # D: opened at 23:50, answered after midnight, closed by the agent on D+1.
    Story(center, agent2, "midnight").writes(at(D, "23:50")).answered(at(following, "00:05")).closed_by_agent(
        at(following, "00:30")
    )
    Story(center, agent, "last-second").writes(at(D, "23:59:59"))  # UTC 14:59:59 on D
    Story(center, agent, "next-first-second").writes(at(following, "00:00:00"))  # UTC 15:00:00 on D
    # Another center's consultation on D counts for that center only.
    Story(other_center, outsider, "elsewhere").writes(at(D, "10:00")).answered(at(D, "10:01")).closed_by_agent(
        at(D, "10:02")
    )


def row(center, day: date) -> dict:
    stat = DailyStat.objects.get(center=center, day=day)
    return {
        "inbound": stat.inbound,
        "closed_same_day": stat.closed_same_day,
        "completed": stat.completed,
        "first_response_count": stat.first_response_count,
        "first_response_seconds": stat.first_response_seconds,
        "conversation_seconds": stat.conversation_seconds,
    }


def test_every_measure_of_the_hand_built_day_equals_the_hand_value(hand_built_day, center, other_center):
    rollup.roll_up(center, D - timedelta(days=1), D + timedelta(days=1), now=AFTER)

    assert row(center, D) == {
        # first-second, end, chatbot, unanswered, idle, midnight, last-second
        "inbound": 7,
        # end, chatbot, unanswered, idle (midnight closed the next day; the others are open)
        "closed_same_day": 4,
        # closed on D and answered: end, chatbot, idle, late (unanswered is not)
        "completed": 4,
        # first answers on D: end 180 s, chatbot 300 s, idle 600 s (midnight's came on D+1, late's on D-1)
        "first_response_count": 3,
        "first_response_seconds": 180 + 300 + 600,
        # closed - first answer: end 27 min, chatbot 15 min, idle 50 min, late 2 h
        "conversation_seconds": 1620 + 900 + 3000 + 7200,
    }
    assert row(center, D - timedelta(days=1)) == {
        "inbound": 2,  # late, last-second-before
        "closed_same_day": 0,  # late closed on D
        "completed": 0,
        "first_response_count": 1,  # late, after 1 h
        "first_response_seconds": 3600,
        "conversation_seconds": 0,
    }
    assert row(center, D + timedelta(days=1)) == {
        "inbound": 1,  # next-first-second
        "closed_same_day": 0,
        "completed": 1,  # midnight, 25 min after its first answer
        "first_response_count": 1,  # midnight, 15 min after it was opened
        "first_response_seconds": 900,
        "conversation_seconds": 1500,
    }
    assert not DailyStat.objects.filter(center=other_center).exists()  # its own rollup, when asked


def test_the_other_center_counts_only_its_own(hand_built_day, center, other_center):
    rollup.roll_up(other_center, D, D, now=AFTER)

    assert row(other_center, D) == {
        "inbound": 1,
        "closed_same_day": 1,
        "completed": 1,
        "first_response_count": 1,
        "first_response_seconds": 60,
        "conversation_seconds": 60,
    }


def test_a_center_in_another_time_zone_counts_its_own_days(hand_built_day, center):
    center.time_zone = "Europe/London"  # Seoul's 00:00:00 on D is 15:00 on D-1 in London
    center.save(update_fields=["time_zone"])

    rollup.roll_up(center, D - timedelta(days=1), D, now=AFTER)

    # D-1 in London runs to 09:00 on D in Seoul: late, last-second-before and first-second
    assert row(center, D - timedelta(days=1))["inbound"] == 3


def test_rolling_up_twice_writes_identical_rows(hand_built_day, center):
    first, last = D - timedelta(days=3), D + timedelta(days=3)
    rollup.roll_up(center, first, last, now=AFTER)
    once = list(DailyStat.objects.filter(center=center).order_by("day").values())

    rollup.roll_up(center, first, last, now=AFTER)  # the same `now`: rolled_up_at compares too
    twice = list(DailyStat.objects.filter(center=center).order_by("day").values())

    assert twice == once
    assert len(once) == 7  # a day with nothing is a row of zeros: the day is known to be rolled up


def test_a_range_rebuild_touches_only_its_days(hand_built_day, center):
    rollup.roll_up(center, D - timedelta(days=1), D + timedelta(days=1), now=AFTER)
    DailyStat.objects.filter(center=center).update(inbound=99, closed_same_day=0)

    rollup.roll_up(center, D, D, now=AFTER)

    assert row(center, D)["inbound"] == 7
    assert row(center, D - timedelta(days=1))["inbound"] == 99
    assert row(center, D + timedelta(days=1))["inbound"] == 99


def test_a_range_costs_four_queries_whatever_its_length(center, django_assert_num_queries):
    # inbound by requested day, completed by closed day, first answers by answered day; one upsert
    with django_assert_num_queries(4):
        rollup.roll_up(center, D - timedelta(days=91), D, now=AFTER)
    assert DailyStat.objects.filter(center=center).count() == 92


# --- the nightly job ----------------------------------------------------------------------------------


def test_the_last_finished_day_is_yesterday_once_midnight_is_ten_minutes_past(center, settings):
    settings.STATS_ROLLUP_DELAY_MINUTES = 10

    assert rollup.last_finished_day(center, now=at(D, "00:09")) == D - timedelta(days=2)
    assert rollup.last_finished_day(center, now=at(D, "00:10")) == D - timedelta(days=1)


def test_the_nightly_job_rolls_up_each_missed_day_once_after_downtime(center, other_center):
    rollup.roll_up_finished_days(now=at(D, "00:10"))  # the first run: the last 92 days up to D-1
    assert DailyStat.objects.filter(center=center).latest("day").day == D - timedelta(days=1)
    for day in (D, D + timedelta(days=1), D + timedelta(days=2)):
        with clock.frozen_at(at(day, "09:00")):
            customer_writes(center, "주문 문의", user_key=f"customer-{day}")

    done = rollup.roll_up_finished_days(now=at(D + timedelta(days=3), "00:20"))  # beat was down three nights

    assert [(r.center, r.first, r.last) for r in done] == [
        (center, D, D + timedelta(days=2)),
        (other_center, D, D + timedelta(days=2)),
    ]
    assert [row(center, D + timedelta(days=n))["inbound"] for n in range(3)] == [1, 1, 1]
    assert rollup.roll_up_finished_days(now=at(D + timedelta(days=3), "00:30")) == []  # nothing left


def test_each_center_is_rolled_up_after_its_own_midnight(center, other_center):
    other_center.time_zone = "America/New_York"  # 14 hours behind Seoul in November
    other_center.save(update_fields=["time_zone"])
    new_york = ZoneInfo("America/New_York")
    rollup.roll_up_finished_days(now=datetime(2026, 11, 10, 0, 10, tzinfo=new_york))  # both up to D-1

    done = rollup.roll_up_finished_days(now=at(D + timedelta(days=1), "00:10"))  # Seoul's 00:10: 10:10 in NY

    assert [(r.center, r.last) for r in done] == [(center, D)]
    done = rollup.roll_up_finished_days(now=datetime(2026, 11, 11, 0, 10, tzinfo=new_york))  # NY's own 00:10
    assert [(r.center, r.last) for r in done] == [(other_center, D)]

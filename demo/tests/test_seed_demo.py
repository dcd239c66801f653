"""`manage.py seed_demo`: the demo center, its people, its stories and three months of history.

The command is run once for the module, in a transaction rolled back at the
end, and every test reads that data inside its own savepoint: seeding takes
about fifteen seconds, far more than the checks.
"""

from collections import Counter, defaultdict
from datetime import timedelta
from io import StringIO
from statistics import fmean

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import transaction
from django.http import HttpRequest
from django.test import override_settings
from django.utils import timezone

from consultations import lifecycle, thumbnails
from consultations.models import (
    Attachment,
    CloseReason,
    Consultation,
    Event,
    Message,
    QnA,
    ReadMark,
    Status,
    Template,
)
from counsel_center.models import MAX_WAITING_PER_MEMBER, Center, Member
from customers.models import Block, Customer
from demo import stories as demo_stories
from stats import rollup
from stats.models import DailyStat

pytestmark = pytest.mark.django_db

STAFF = {
    "master": Member.Role.MASTER,
    "manager": Member.Role.MANAGER,
    "agent1": Member.Role.AGENT,
    "agent2": Member.Role.AGENT,
    "agent3": Member.Role.AGENT,
}
TABLES = (
    get_user_model(),
    Member,
    Center,
    Customer,
    Consultation,
    Message,
    Event,
    Block,
    QnA,
    Template,
    DailyStat,
    ReadMark,
)
STORY_CUSTOMERS = "demo-customer-"  # the user keys of the stories' customers; the history's are demo-regular-NNN
STAT_FIELDS = (
    "day",
    "inbound",
    "completed",
    "closed_same_day",
    "first_response_count",
    "first_response_seconds",
    "conversation_seconds",
)


@pytest.fixture(scope="module")
def seed_media(tmp_path_factory):
    """Where the seeded stories' files are stored, for the whole module."""
    return tmp_path_factory.mktemp("seed-media")


@pytest.fixture(scope="module")
def seed_output(django_db_setup, django_db_blocker, seed_media):
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"], MEDIA_ROOT=seed_media),
        pytest.MonkeyPatch.context() as monkeypatch,
        transaction.atomic(),
    ):
        monkeypatch.delenv("DEMO_WEBHOOK_SECRET", raising=False)
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def center(seed_output):
    return Center.objects.get(slug="demo")


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TABLES}


def stories(center):
    return Consultation.objects.filter(center=center, customer__user_key__startswith=STORY_CUSTOMERS)


def history(center):
    return Consultation.objects.filter(center=center).exclude(customer__user_key__startswith=STORY_CUSTOMERS)


def test_it_creates_the_demo_center_with_default_settings(center):
    assert center.name == "데모 상담센터"
    assert center.webhook_secret == "demo-webhook-secret"
    assert (center.concurrent_limit, center.idle_close_minutes, center.is_operating) == (3, 10, True)


def test_it_takes_the_webhook_secret_from_the_environment(center, monkeypatch):
    # Consultations first: their assignee is a PROTECT foreign key, which blocks the center's cascade.
    Consultation.objects.filter(center=center).delete()
    center.delete()
    monkeypatch.setenv("DEMO_WEBHOOK_SECRET", "from-the-env")
    monkeypatch.setattr(demo_stories, "HISTORY_DAYS", 0)  # the stories alone: two seconds, not fifteen

    call_command("seed_demo", stdout=StringIO())

    assert Center.objects.get(slug="demo").webhook_secret == "from-the-env"


def test_it_creates_five_members_who_log_in_with_the_demo_password(center):
    members = {m.user.username: m for m in Member.objects.filter(center=center).select_related("user")}

    assert {name: m.role for name, m in members.items()} == STAFF
    for name, member in members.items():
        # A request, as a login form passes it: django-axes refuses an authentication without one.
        assert authenticate(HttpRequest(), username=name, password="counsel-demo") == member.user
        assert member.user.is_staff == (member.role != Member.Role.AGENT)
        assert not member.user.is_superuser
        assert member.display_name and not member.display_name.isascii()
    assert members["manager"].can_consult


def test_it_creates_about_forty_customers_some_noted_some_friends_some_blocked(center):
    customers = list(Customer.objects.filter(center=center, user_key__startswith=STORY_CUSTOMERS).with_block_state())

    assert 35 <= len(customers) <= 45
    assert {c.user_key for c in customers} == {f"demo-customer-{n:02d}" for n in range(1, len(customers) + 1)}
    assert all(c.profile_nickname for c in customers)
    assert sum(bool(c.nickname) for c in customers) >= 3
    noted = [c for c in customers if c.memo]
    assert len(noted) >= 3
    assert all(c.memo_updated_by and c.memo_updated_at for c in noted)
    assert 0 < sum(c.is_friend for c in customers) < len(customers)
    assert 1 <= sum(c.is_blocked_now for c in customers) <= 2
    assert Block.objects.filter(customer__center=center, ended_at__isnull=False).exists()
    # The first contact is the first message, not the moment the command ran.
    for customer in Customer.objects.filter(center=center).prefetch_related("consultations"):
        assert customer.created_at == min(c.requested_at for c in customer.consultations.all())


def test_it_covers_every_state_flag_combination_and_close_reason(center):
    rows = Consultation.objects.filter(center=center).values_list(
        "status", "is_important", "is_on_hold", "close_reason"
    )

    flags = defaultdict(set)
    reasons = Counter()
    for status, important, on_hold, reason in rows:
        flags[status].add((important, on_hold))
        reasons[reason] += status == Status.CLOSED
    both, important, hold, none = (True, True), (True, False), (False, True), (False, False)
    assert flags[Status.UNASSIGNED] == {important, none}
    assert flags[Status.WAITING] == {important, none}
    assert flags[Status.IN_PROGRESS] == {both, important, hold, none}
    assert flags[Status.CLOSED] == {both, important, hold, none}
    assert all(reasons[reason] >= 3 for reason in CloseReason.values), reasons


def test_it_gives_some_customers_older_closed_consultations_and_a_current_one(center):
    returning = Customer.objects.filter(
        center=center, consultations__status=Status.CLOSED, consultations__closed_at__isnull=False
    ).filter(pk__in=Consultation.objects.open().values("customer"))

    assert returning.distinct().count() >= 5


def test_it_records_every_transition_as_events(center):
    consultations = Consultation.objects.filter(center=center).prefetch_related("events", "messages")

    for consultation in consultations:
        events = list(consultation.events.all())
        kinds = Counter(event.kind for event in events)
        assert kinds[Event.Kind.CREATED] == 1
        assert kinds[Event.Kind.ASSIGNED] == (consultation.assigned_at is not None)
        assert kinds[Event.Kind.STARTED] == (consultation.first_response_at is not None)
        assert kinds[Event.Kind.MESSAGE] == len(consultation.messages.all())
        closes = [event for event in events if event.kind == Event.Kind.CLOSED]
        if consultation.status == Status.CLOSED:
            assert [(e.created_at, e.data["reason"]) for e in closes] == [
                (consultation.closed_at, consultation.close_reason)
            ]
        else:
            assert closes == []
        holds = [event.data["on_hold"] for event in events if event.kind == Event.Kind.HOLD_SET]
        assert (holds[-1] if holds else False) == consultation.is_on_hold
        important = [event.data["important"] for event in events if event.kind == Event.Kind.IMPORTANT_SET]
        assert (important[-1] if important else False) == consultation.is_important
    blocks = Block.objects.filter(customer__center=center).count()
    assert Event.objects.filter(center=center, kind=Event.Kind.CUSTOMER_BLOCKED).count() == blocks
    assert Event.objects.filter(center=center, kind=Event.Kind.CUSTOMER_UPDATED).exists()


def test_its_stories_exchange_files_both_ways(center, settings, seed_media):
    settings.MEDIA_ROOT = seed_media
    files = Attachment.objects.filter(message__consultation__center=center).select_related("message")
    by_name = {attachment.name: attachment for attachment in files}

    photo = by_name["깨진컵.jpg"]
    assert (photo.message.sender, photo.message.kind) == (Message.Sender.CUSTOMER, Message.Kind.IMAGE)
    # Queued on commit: the worker makes it under `make run`; here the test runs the task itself.
    assert thumbnails.make_thumbnail(photo.pk) == "made"
    guide = by_name["세금계산서_발행안내.pdf"]
    assert (guide.message.sender, guide.message.kind) == (Message.Sender.AGENT, Message.Kind.FILE)
    assert guide.file.open("rb").read().startswith(b"%PDF-")


def test_it_writes_alternating_korean_dialogues(center):
    for consultation in Consultation.objects.filter(center=center).prefetch_related("messages"):
        messages = list(consultation.messages.all())
        assert messages
        texts = [m for m in messages if m.kind == Message.Kind.TEXT]
        assert all(not m.text.isascii() or m.text.startswith("DM") for m in texts)
        assert not any("{" in m.text for m in messages)
        if consultation.first_response_at:
            senders = [m.sender for m in messages]
            assert senders.count(Message.Sender.AGENT) >= 1
            assert senders.count(Message.Sender.CUSTOMER) >= 2
    story_messages = Message.objects.filter(consultation__in=stories(center)).count()
    assert story_messages >= 5 * stories(center).count()
    assert Message.objects.filter(consultation__in=history(center)).count() >= 3 * history(center).count()


def test_it_spreads_the_stories_over_three_weeks_and_the_history_over_three_months(center):
    now = timezone.now()
    today = timezone.localdate(now, center.zone)

    requested = list(stories(center).values_list("requested_at", flat=True))
    assert now - timedelta(days=22) < min(requested) < now - timedelta(days=14)
    assert sum(now - r < timedelta(hours=12) for r in requested) >= 20
    past = history(center)
    days = {timezone.localdate(r, center.zone) for r in past.values_list("requested_at", flat=True)}
    assert days == {today - timedelta(days=n) for n in range(1, demo_stories.HISTORY_DAYS + 1)}
    assert not past.exclude(status=Status.CLOSED).exists()


def test_it_plays_every_consultation_in_increasing_order(center):
    now = timezone.now()
    consultations = Consultation.objects.filter(center=center).prefetch_related("messages")

    for consultation in consultations:
        times = [m.created_at for m in consultation.messages.all()]
        assert times == sorted(times)
        assert len(set(times)) == len(times)
        assert consultation.requested_at == times[0]
        assert consultation.last_activity_at == times[-1] <= now
        if consultation.closed_at:
            assert times[-1] <= consultation.closed_at <= now
    # Played in time order, so the live-update cursor (event id) follows the clock.
    event_times = list(Event.objects.filter(center=center).order_by("id").values_list("created_at", flat=True))
    assert event_times == sorted(event_times)
    assert event_times[-1] <= now


def test_it_keeps_every_member_within_the_limits(center):
    for member in Member.objects.filter(center=center):
        assert Consultation.objects.waiting_for(member).count() <= MAX_WAITING_PER_MEMBER
        assert Consultation.objects.in_progress_for(member).count() <= center.concurrent_limit
    assert (
        Member.objects.filter(center=center, assigned_consultations__status=Status.IN_PROGRESS).distinct().count() == 5
    )


@pytest.mark.parametrize("username", STAFF)
def test_it_leaves_every_member_room_to_take_and_answer_a_new_inquiry(center, username):
    # The README's walk-through: a new customer writes, the member assigns it to themselves (R5) and answers (R7).
    member = Member.objects.get(center=center, user__username=username)
    received = lifecycle.do_receive_customer_message(center, user_key=f"walk-through-{username}", text="안녕하세요")

    lifecycle.do_assign_to_me(received.consultation.pk, actor=member)
    lifecycle.do_send_message(received.consultation.pk, actor=member, text="안녕하세요, 무엇을 도와드릴까요?")

    consultation = Consultation.objects.get(pk=received.consultation.pk)
    assert (consultation.status, consultation.assignee) == (Status.IN_PROGRESS, member)


def test_it_leaves_nothing_for_the_idle_sweep_to_close(center):
    # Open consultations that are not on hold wait for the agent, so the real sweep keeps them open.
    assert lifecycle.close_idle(now=timezone.now()) == []


def test_it_changes_nothing_when_run_again(center):
    before = counts()
    statistics = list(DailyStat.objects.filter(center=center).values())
    out = StringIO()

    call_command("seed_demo", stdout=out)

    assert counts() == before
    assert list(DailyStat.objects.filter(center=center).values()) == statistics
    assert "nothing changed" in out.getvalue()


def test_it_rolls_up_the_statistics_of_the_last_92_days(center, seed_output):
    last = rollup.last_finished_day(center)
    first = last - timedelta(days=rollup.RANGE_DAYS - 1)

    stored = list(DailyStat.objects.for_range(center, first, last).values_list(*STAT_FIELDS))

    assert DailyStat.objects.filter(center=center).count() == rollup.RANGE_DAYS == 92
    assert [row[0] for row in stored] == [first + timedelta(days=n) for n in range(92)]
    # The rollup's own figures, not numbers of the seed's: a fresh measure agrees with every row.
    assert stored == [tuple(getattr(row, name) for name in STAT_FIELDS) for row in rollup.measure(center, first, last)]
    assert "통계 92일치" in seed_output


def test_it_gives_the_statistics_realistic_days(center):
    rows = list(DailyStat.objects.filter(center=center).order_by("day"))
    weekdays = [row.inbound for row in rows if row.day.weekday() < 5]
    weekends = [row.inbound for row in rows if row.day.weekday() >= 5]

    # Every day of the history has 8 to 30, plus the stories' (just after midnight the range starts a day earlier).
    assert sum(row.inbound >= 8 for row in rows) >= 0.9 * len(rows)
    assert max(row.inbound for row in rows) <= 40
    assert fmean(weekends) < 0.7 * fmean(weekdays)
    assert fmean(r.inbound for r in rows[-28:]) > 1.2 * fmean(r.inbound for r in rows[:28])  # a slow rise
    # Most are answered; a few close the next day (after-hours requests), so not every day is at 100 %.
    assert 0.8 * sum(r.inbound for r in rows) < sum(r.completed for r in rows) < sum(r.inbound for r in rows)
    assert any(r.closed_same_day < r.inbound for r in rows)
    first_response = sum(r.first_response_seconds for r in rows) / sum(r.first_response_count for r in rows)
    conversation = sum(r.conversation_seconds for r in rows) / sum(r.completed for r in rows)
    assert 60 < first_response < 10 * 60
    assert 5 * 60 < conversation < 40 * 60


def test_it_closes_the_history_in_every_usual_way(center):
    reasons = Counter(history(center).values_list("close_reason", flat=True))
    never_answered = history(center).filter(first_response_at__isnull=True)

    assert set(reasons) == {
        CloseReason.AGENT,
        CloseReason.CUSTOMER_END,
        CloseReason.CHATBOT_SWITCH,
        CloseReason.IDLE_TIMEOUT,
    }
    assert reasons[CloseReason.AGENT] > history(center).count() / 2
    assert 0.03 * history(center).count() < never_answered.count() < 0.2 * history(center).count()
    assert not never_answered.exclude(close_reason__in=[CloseReason.CUSTOMER_END, CloseReason.CHATBOT_SWITCH]).exists()
    # Regular customers come back: fewer customers than consultations.
    regulars = Customer.objects.filter(center=center).exclude(user_key__startswith=STORY_CUSTOMERS)
    assert regulars.count() < history(center).count() / 2


def test_it_gives_the_center_a_korean_qna_base_and_templates(center):
    assert QnA.objects.filter(center=center, question__contains="환불").exists()
    assert Template.objects.filter(center=center).count() >= 3


def test_it_prints_the_logins(seed_output):
    assert "/admin/" in seed_output
    assert "/consultations/" in seed_output
    assert "master, manager, agent1, agent2, agent3" in seed_output
    assert "counsel-demo" in seed_output
    assert "비밀번호" in seed_output


def test_its_assignees_have_read_their_consultations_but_a_few_new_customer_messages(center):
    """The console's unread marks (Consultation.is_unread_for) look like a working day: each member has read
    what they handle, and only a few open consultations wait with a customer's message nobody opened yet."""
    members = Member.objects.filter(center=center)
    assigned = Consultation.objects.filter(center=center, assignee__isnull=False)
    marks = set(ReadMark.objects.filter(consultation__center=center).values_list("member", "consultation"))
    assert {(c.assignee_id, c.pk) for c in assigned.filter(status=Status.CLOSED)} <= marks

    for member in members:
        mine = list(Consultation.objects.for_list(member, "mine").exclude(status=Status.CLOSED))
        unread = [c for c in mine if c.is_unread_for(member)]
        assert len(unread) <= 1, (member, unread)
    everyone = [
        c for member in members for c in Consultation.objects.for_list(member, "all") if c.is_unread_for(member)
    ]
    open_ones = Consultation.objects.filter(center=center).exclude(status=Status.CLOSED).count()
    assert 0 < len(everyone) <= open_ones * len(members) // 3
    # Unread where the customer wrote after the member's mark: the mark is behind the last message.
    for consultation in everyone:
        assert consultation.last_message.sender == Message.Sender.CUSTOMER
        assert (consultation.read_upto or 0) < consultation.last_message_id

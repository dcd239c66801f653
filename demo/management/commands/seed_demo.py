"""`manage.py seed_demo`: a demo center full of realistic consultations.

Every consultation, message, flag and block is written through
consultations.lifecycle, as the webhook and the console would write it, so the
Event log, the statistics and the console see exactly what production data
looks like. The stories in demo/stories.py (over the last three
weeks) and its history (about 1,500 short everyday consultations on each day
of the last three months, HISTORY_*) are laid out on one timeline, sorted, and
played in order with the lifecycle clock frozen at each step's time: events
get increasing ids in time order and every limit (R5, R7) is checked at the
moment it would apply. Last, stats.rollup (the nightly job's code) rolls up the
92 days up to yesterday, so 통계 has figures at once.

The history goes through the lifecycle too, though `bulk_create` would write
it in a second: its replay costs about 13 s (on SQLite the seed went from
about 2 s to about 15 s), once per fresh database, and in exchange its rows,
Events and statistics are the product's own, and the Event ids follow the
clock across stories and history alike, which rows written apart could not.
"""

import os
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import fmean
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from consultations import file_policy, lifecycle, uploads
from consultations.models import CloseReason, Consultation, Message, QnA, ReadMark, Status, Template
from counsel_center import clock
from counsel_center.models import Center, Member
from customers import rules as customer_rules
from customers.models import Block, Customer
from demo import files as demo_files
from demo import stories as demo
from stats import rollup

CLOSE_REASONS = {
    demo.CLOSED_BY_AGENT: CloseReason.AGENT,
    demo.CUSTOMER_END: CloseReason.CUSTOMER_END,
    demo.CHATBOT: CloseReason.CHATBOT_SWITCH,
    demo.IDLE: CloseReason.IDLE_TIMEOUT,
    demo.BLOCKED: CloseReason.CUSTOMER_BLOCKED,
}
OPEN_OUTCOMES = {
    demo.UNASSIGNED: Status.UNASSIGNED,
    demo.WAITING: Status.WAITING,
    demo.IN_PROGRESS: Status.IN_PROGRESS,
}


# The end of a consultation still open at the end of the plan.
FOREVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Regular:
    """A customer of the history (demo/stories.py: HISTORY_*), played like a story's DemoCustomer."""

    number: int
    profile_nickname: str
    is_friend: bool

    @property
    def user_key(self) -> str:
        return f"demo-regular-{self.number:03d}"


@dataclass
class Step:
    at: datetime
    order: int  # plan order breaks ties, so the replay is deterministic
    label: str
    run: Callable[[], None]


@dataclass
class Ref:
    """A row the plan refers to before it exists; filled in when played."""

    pk: int | None = None


@dataclass
class Expected:
    label: str
    ref: Ref
    status: str
    close_reason: str = ""
    assignee: str = ""
    important: bool = False
    on_hold: bool = False
    # Who has read it (the list's unread mark): to its last message, but for the assignee of an `unread` visit.
    seen_by: tuple[str, ...] = ()
    unread: bool = False


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    expected: list[Expected] = field(default_factory=list)


def _seconds(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(seconds=rng.randint(low, high))


def _values(rng: random.Random) -> dict[str, str]:
    """An order and an invoice number for a visit's placeholders."""
    return {"order": f"DM{rng.randint(10**7, 10**8 - 1)}", "invoice": str(rng.randint(10**11, 10**12 - 1))}


def _text_or_file(center: Center, text: str) -> dict:
    """A script line's message: its text, or (``file:<name>``) that demo file, stored as an upload is."""
    if not text.startswith(demo_files.FILE_PREFIX):
        return {"text": text}
    name = text.removeprefix(demo_files.FILE_PREFIX)
    stored = uploads.store(
        center.pk,
        ContentFile(demo_files.content_of(name), name=name),
        name=name,
        category=file_policy.check_file_name(name),
    )
    return {"text": "", "kind": stored.kind, "attachment": stored}


def _opening(lines):
    """The customer's first lines, before any agent line."""
    count = 0
    while count < len(lines) and lines[count][0] == "c":
        count += 1
    return list(lines[:count])


def _through_turns(lines, turns: int):
    """Lines up to the end of the `turns`-th customer reply to an agent."""
    replies = 0
    for index, (who, _) in enumerate(lines):
        starts_reply = who == "c" and index > 0 and lines[index - 1][0] == "a"
        if starts_reply:
            replies += 1
        ends_reply = who == "c" and (index + 1 == len(lines) or lines[index + 1][0] != "c")
        if ends_reply and replies == turns:
            return list(lines[: index + 1])
    return list(lines)


def _until_agent_after_hold(lines):
    """Lines through the hold marker and the customer lines after it."""
    marker = next(i for i, (who, _) in enumerate(lines) if who == "hold")
    end = marker + 1
    while end < len(lines) and lines[end][0] == "c":
        end += 1
    return list(lines[:end])


def select_lines(visit: demo.Visit):
    """The part of the visit's script that is played, by how the visit ends."""
    lines = list(demo.SCRIPTS[visit.script])
    plain = [line for line in lines if line[0] != "hold"]
    outcome = visit.outcome
    if outcome in (demo.UNASSIGNED, demo.WAITING) or (
        outcome in (demo.CUSTOMER_END, demo.CHATBOT) and not visit.assignee
    ):
        return _opening(lines)
    if outcome == demo.IN_PROGRESS:
        return _until_agent_after_hold(lines) if visit.hold else _through_turns(plain, visit.turns)
    if outcome == demo.CLOSED_BY_AGENT:
        if visit.hold == "kept":
            return _until_agent_after_hold(lines)
        return lines if visit.hold else plain
    if outcome == demo.CUSTOMER_END:
        return plain
    if outcome == demo.CHATBOT:
        return _through_turns(plain, visit.turns)
    if outcome == demo.IDLE:
        while plain[-1][0] == "c":
            plain.pop()
        return plain
    if outcome == demo.BLOCKED:
        return plain
    raise ValueError(f"unknown outcome {outcome!r}")


class Planner:
    """Lays the demo stories out as lifecycle calls at given times."""

    def __init__(self, center: Center, members: dict[str, Member], anchor: datetime) -> None:
        self.center = center
        self.members = members
        self.anchor = anchor
        self.tz = ZoneInfo(center.time_zone)
        self.rng = random.Random(demo.RANDOM_SEED)  # noqa: S311  # nosec B311  # reproducible demo timings, not secrets
        self.plan = Plan()
        # When each member holds a consultation (assigned until closed), so the history finds who has room.
        self.busy: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)

    # --- time -------------------------------------------------------------

    def time_of(self, when: str) -> datetime:
        if when.endswith("m"):
            return self.anchor - timedelta(minutes=int(when[:-1]))
        days, clock_time = when.split("d ")
        day = self.anchor.astimezone(self.tz).date() - timedelta(days=int(days))
        hour, minute = (int(part) for part in clock_time.split(":"))
        return datetime.combine(day, time(hour, minute), tzinfo=self.tz)

    def add(self, at: datetime, label: str, run: Callable[[], None]) -> None:
        if at >= self.anchor:
            raise CommandError(f"The demo plan runs into the future at {label}; move it earlier in demo/stories.py.")
        self.plan.steps.append(Step(at=at, order=len(self.plan.steps), label=label, run=run))

    # --- customers ----------------------------------------------------------

    def plan_customer(self, spec: demo.DemoCustomer) -> None:
        customer = Ref()
        previous_end: datetime | None = None
        last_assignee = ""
        for number, visit in enumerate(spec.visits, start=1):
            start = self.time_of(visit.start)
            if previous_end is not None and start <= previous_end:
                raise CommandError(f"{spec.user_key}: visit {number} starts before the previous one ends.")
            previous_end, last_assignee = self.plan_visit(spec, customer, visit, number, start)
        if spec.nickname or spec.memo:
            actor = last_assignee or "manager"
            self.add(
                previous_end + _seconds(self.rng, 40, 120),
                f"{spec.user_key}: customer details",
                self._update_customer(customer, actor, spec.nickname, spec.memo),
            )
        if spec.unblock:
            when, actor = spec.unblock
            self.add(self.time_of(when), f"{spec.user_key}: unblock", self._unblock(customer, actor))

    def plan_visit(
        self, spec: demo.DemoCustomer, customer: Ref, visit: demo.Visit, number: int, start: datetime
    ) -> tuple[datetime, str]:
        """Plan one consultation; return when its last step happens and its final assignee."""
        rng = self.rng
        label = f"{spec.user_key} #{number}"
        consultation = Ref()
        values = _values(rng)
        lines = select_lines(visit)
        if visit.outcome == demo.IN_PROGRESS and not visit.hold and lines[-1][0] != "c":
            raise CommandError(
                f"{label}: an open consultation must end on the customer's line, or the sweep closes it."
            )

        t = start
        assignee = ""
        assigned_at: datetime | None = None
        on_hold = False
        handover_pending = bool(visit.handover_to)
        previous = None
        agent_spoke = False
        message_number = 0

        def customer_says(text: str, gap: timedelta) -> None:
            nonlocal t, message_number
            t += gap
            message_number += 1
            event_id = f"{spec.user_key}-{number}-{message_number}"
            opens = message_number == 1
            self.add(t, f"{label}: customer", self._customer_says(spec, customer, consultation, text, event_id, opens))

        def assign() -> None:
            nonlocal t, assignee, assigned_at
            t += _seconds(rng, 60, 360)
            assignee, assigned_at = visit.assignee, t
            if visit.assigned_by:
                self.add(t, f"{label}: assign", self._change_assignee(consultation, visit.assigned_by, assignee))
            else:
                self.add(t, f"{label}: assign to me", self._assign_to_me(consultation, assignee))
            if visit.important:
                t += _seconds(rng, 10, 40)
                self.add(t, f"{label}: important", self._important(consultation, assignee))

        def hand_over() -> None:
            nonlocal t, assignee, handover_pending
            t += _seconds(rng, 30, 150)
            self.add(t, f"{label}: handover", self._change_assignee(consultation, assignee, visit.handover_to))
            assignee = visit.handover_to
            handover_pending = False

        def agent_says(text: str, gap: timedelta) -> None:
            nonlocal t
            t += gap
            name = self.members[assignee].name
            self.add(t, f"{label}: agent", self._agent_says(consultation, assignee, text.format(agent=name, **values)))

        for who, text in lines:
            if who == "c":
                if previous is None:
                    gap = timedelta(0)
                elif previous == "c":
                    gap = _seconds(rng, 8, 40)
                else:
                    gap = _seconds(rng, 30, 240)
                customer_says(text.format(**values), gap)
            elif who == "hold":
                if visit.hold:
                    t += _seconds(rng, 5, 20)
                    self.add(t, f"{label}: hold", self._hold(consultation, assignee, True))
                    on_hold = True
            else:
                if not assignee:
                    assign()
                    gap = _seconds(rng, 30, 120)
                elif previous == "a":
                    gap = _seconds(rng, 15, 60)
                else:
                    gap = _seconds(rng, 40, 200)
                if on_hold:
                    # Released just before the answer the customer waited for (R8: no sending while held).
                    t += timedelta(minutes=visit.hold_minutes) + _seconds(rng, 0, 600)
                    self.add(t, f"{label}: release hold", self._hold(consultation, assignee, False))
                    on_hold = False
                    gap = _seconds(rng, 5, 30)
                if handover_pending and agent_spoke and previous == "c":
                    # After the first exchange the assignee hands over; the new one introduces themselves.
                    hand_over()
                    agent_says(demo.HANDOVER_LINE, _seconds(rng, 30, 90))
                agent_says(text, gap)
                agent_spoke = True
            previous = "c" if who == "c" else "a" if who == "a" else previous

        outcome = visit.outcome
        if outcome == demo.WAITING:
            assign()
            if handover_pending:
                hand_over()
        elif outcome == demo.UNASSIGNED and visit.important:
            t += _seconds(rng, 40, 90)
            self.add(t, f"{label}: important", self._important(consultation, "manager"))
        elif outcome == demo.CLOSED_BY_AGENT:
            closer = visit.closed_by or assignee
            if visit.hold == "kept":
                # Settled by phone while on hold: no message can be sent, the consultation is just closed.
                t += timedelta(minutes=visit.hold_minutes) + _seconds(rng, 0, 600)
            else:
                agent_says(rng.choice(demo.CLOSING_LINES), _seconds(rng, 20, 90))
                t += _seconds(rng, 10, 40)
            self.add(t, f"{label}: close", self._close(consultation, closer))
        elif outcome == demo.CUSTOMER_END:
            gap = _seconds(rng, 20, 90) if assignee else _seconds(rng, 240, 540)
            customer_says(lifecycle.END_COMMAND, gap)
        elif outcome == demo.CHATBOT:
            t += _seconds(rng, 60, 240) if assignee else _seconds(rng, 300, 720)
            self.add(t, f"{label}: chatbot", self._switch_to_chatbot(spec))
        elif outcome == demo.IDLE:
            # The periodic sweep notices within a minute of the idle time (R9.4).
            t += timedelta(minutes=self.center.idle_close_minutes) + _seconds(rng, 5, 55)
            self.add(t, f"{label}: idle sweep", self._sweep(t))
        elif outcome == demo.BLOCKED:
            reason, by, note = visit.block
            if visit.assignee and not assignee:
                assign()  # an agent blocks only a customer whose consultation they hold (R16a)
            t += _seconds(rng, 30, 90) if assignee else _seconds(rng, 120, 300)
            self.add(t, f"{label}: block", self._block(customer, by, reason, note))

        status = OPEN_OUTCOMES.get(outcome, Status.CLOSED)
        if assigned_at is not None:
            until = t if status == Status.CLOSED else FOREVER
            for username in {visit.assignee, visit.handover_to} - {""}:
                self.busy[username].append((assigned_at, until))
        self.plan.expected.append(
            Expected(
                label=label,
                ref=consultation,
                status=status,
                close_reason=CLOSE_REASONS.get(outcome, ""),
                assignee=assignee,
                important=visit.important,
                on_hold=visit.hold == "kept" or (outcome == demo.IN_PROGRESS and bool(visit.hold)),
                seen_by=tuple(
                    {assignee, visit.assignee, visit.assigned_by, "manager" if visit.important else "", *visit.seen_by}
                    - {""}
                ),
                unread=visit.unread,
            )
        )
        return t, assignee

    # --- history ------------------------------------------------------------------

    def plan_history(self) -> None:
        """Everyday consultations on each of the last HISTORY_DAYS past days (demo/stories.py: HISTORY_*).

        Planned after the stories, so it knows when each member is busy with one:
        a consultation goes to someone who holds fewer than the concurrent limit
        (R7, and so R5) all along it, and when nobody does, nobody answers it.
        Everything ends before 18:00 yesterday, where the minute visits may start.
        """
        rng = random.Random(demo.HISTORY_SEED)  # noqa: S311  # nosec B311  # reproducible demo history, not secrets
        today = self.anchor.astimezone(self.tz).date()
        evening = datetime.combine(today - timedelta(days=1), time(18), tzinfo=self.tz)
        regulars = [self._regular(rng, number) for number in range(1, demo.HISTORY_CUSTOMERS + 1)]
        free_at: dict[int, datetime] = {}  # when a regular's last consultation ends: one open at a time (R3)
        visits: dict[int, int] = defaultdict(int)
        hours, hour_weights = zip(*demo.HISTORY_HOURS.items(), strict=True)
        for back in range(demo.HISTORY_DAYS, 0, -1):
            day = today - timedelta(days=back)
            count = self._inbound(rng, day, progress=(demo.HISTORY_DAYS - back) / max(demo.HISTORY_DAYS - 1, 1))
            # A busy day answers more slowly than an average weekday.
            load = count / fmean(demo.HISTORY_WEEKDAY_INBOUND)
            starts = [(self._moment(rng, day, hour), False) for hour in rng.choices(hours, hour_weights, k=count)]
            if back > 1 and rng.random() < demo.HISTORY_AFTER_HOURS:
                starts[-1] = (self._moment(rng, day, rng.randint(18, 22)), True)
            for start, after_hours in sorted(starts):
                first = rng.randrange(len(regulars))
                regular = next(
                    candidate
                    for offset in range(len(regulars))
                    if free_at.get((candidate := regulars[(first + offset) % len(regulars)]).number, start) <= start
                )
                visits[regular.number] += 1
                number = visits[regular.number]
                if after_hours:
                    end = self.plan_after_hours(rng, regular, number, start)
                else:
                    end = self.plan_history_visit(rng, regular, number, start, load=load)
                if end >= evening:
                    raise CommandError(f"{regular.user_key} #{number}: a history visit ends after 18:00 yesterday.")
                free_at[regular.number] = end + timedelta(seconds=1)

    def _moment(self, rng: random.Random, day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=self.tz)

    @staticmethod
    def _regular(rng: random.Random, number: int) -> Regular:
        if number % 7 == 0:
            name = demo.HISTORY_NICKNAMES[(number // 7) % len(demo.HISTORY_NICKNAMES)]
        else:
            name = rng.choice(demo.HISTORY_SURNAMES) + rng.choice(demo.HISTORY_GIVEN_NAMES)
        return Regular(number, name, is_friend=rng.random() < 0.75)

    @staticmethod
    def _inbound(rng: random.Random, day: date, *, progress: float) -> int:
        """The day's number of new consultations: the trend, the weekday, some noise, within bounds."""
        low, high = demo.HISTORY_WEEKDAY_INBOUND
        mean = (low + (high - low) * progress) * demo.HISTORY_DAY_FACTORS[day.weekday()]
        least, most = demo.HISTORY_INBOUND_BOUNDS
        return min(most, max(least, round(rng.gauss(mean, mean**0.5))))

    def has_room(self, username: str, first: datetime, last: datetime) -> bool:
        """Fewer than the concurrent limit of the member's consultations overlap first..last.

        Each one added this way keeps every moment at or under the limit, so
        neither R7 nor (a lower count) R5 refuses a step of the replay.
        """
        held = sum(1 for begin, end in self.busy[username] if begin <= last and first <= end)
        return held < self.center.concurrent_limit

    def plan_history_visit(
        self, rng: random.Random, regular: Regular, number: int, start: datetime, *, load: float
    ) -> datetime:
        """Plan one everyday consultation; return when its last step happens.

        The times come first, since who answers depends on who is free all
        along: the first answer a few minutes after the request (longer on
        busy days: `load`), the end HISTORY_CONVERSATION_MINUTES after it.
        """
        values = _values(rng)
        lines = rng.choice(demo.HISTORY_DIALOGUES)
        opening = _opening(lines)
        outcome = rng.choices(list(demo.HISTORY_OUTCOMES), list(demo.HISTORY_OUTCOMES.values()))[0]
        idle = timedelta(minutes=self.center.idle_close_minutes)

        # (time, who, text) of each line; then when the last step happens.
        said = [(start, "c", opening[0][1])]
        for _, text in opening[1:]:
            said.append((said[-1][0] + _seconds(rng, 8, 40), "c", text))
        assigned_at = said[-1][0] + timedelta(seconds=round(rng.uniform(40, 300) * load))
        answered = said[:]
        first_answer = t = assigned_at + _seconds(rng, 30, 120)
        for who, text in lines[len(opening) :]:
            if who == "a":
                answered.append((t, "a", text))
                t += _seconds(rng, 15, 60)
            else:
                # The customer replies within minutes: an agent's line left longer would be swept (R9.4).
                t = answered[-1][0] + _seconds(rng, 40, 480)
                answered.append((t, "c", text))
        low, high, mode = demo.HISTORY_CONVERSATION_MINUTES
        done_at = max(first_answer + timedelta(minutes=rng.triangular(low, high, mode)), t + _seconds(rng, 60, 120))
        if outcome == demo.CLOSED_BY_AGENT:
            answered.append((done_at - _seconds(rng, 10, 40), "a", rng.choice(demo.CLOSING_LINES)))
        elif outcome == demo.CUSTOMER_END:
            answered.append((done_at, "c", lifecycle.END_COMMAND))
        elif outcome == demo.IDLE:
            follow_up = max(done_at - idle - _seconds(rng, 5, 55), t + _seconds(rng, 20, 60))
            answered.append((follow_up, "a", rng.choice(demo.FOLLOW_UP_LINES)))
            done_at = follow_up + idle + _seconds(rng, 5, 55)  # the sweep's next round (R9.4)

        candidates = [name for name in demo.HISTORY_ASSIGNEES if self.has_room(name, assigned_at, done_at)]
        if outcome == demo.NOT_ANSWERED or not candidates:
            # Nobody answers: after a few minutes the customer ends it or turns to the chatbot.
            return self._not_answered(rng, regular, number, said, said[-1][0] + _seconds(rng, 240, 720), values)
        assignee = rng.choices(candidates, [demo.HISTORY_ASSIGNEES[name] for name in candidates])[0]
        self.busy[assignee].append((assigned_at, done_at))
        label, consultation = f"{regular.user_key} #{number}", Ref()
        by = demo.HISTORY_ASSIGNED_BY
        if assignee != by and rng.random() < 0.1:
            self.add(assigned_at, f"{label}: assign", self._change_assignee(consultation, by, assignee))
        else:
            self.add(assigned_at, f"{label}: assign to me", self._assign_to_me(consultation, assignee))
        important = rng.random() < 0.04
        if important:
            self.add(assigned_at + _seconds(rng, 5, 25), f"{label}: important", self._important(consultation, assignee))
        self._play_lines(regular, number, consultation, answered, values, assignee=assignee)
        if outcome == demo.CLOSED_BY_AGENT:
            self.add(done_at, f"{label}: close", self._close(consultation, assignee))
        elif outcome == demo.CHATBOT:
            self.add(done_at, f"{label}: chatbot", self._switch_to_chatbot(regular))
        elif outcome == demo.IDLE:
            self.add(done_at, f"{label}: idle sweep", self._sweep(done_at))
        self.plan.expected.append(
            Expected(
                label,
                consultation,
                Status.CLOSED,
                CLOSE_REASONS[outcome],
                assignee,
                important=important,
                seen_by=(assignee,),
            )
        )
        return done_at

    def plan_after_hours(self, rng: random.Random, regular: Regular, number: int, start: datetime) -> datetime:
        """A request after closing time that nobody answers; the next morning the customer gives up.

        It is the day's inbound but closes the next day: 당일 상담완료율 under 100 %.
        """
        lines = _opening(rng.choice(demo.HISTORY_DIALOGUES))
        said = [(start, "c", lines[0][1])]
        for _, text in lines[1:]:
            said.append((said[-1][0] + _seconds(rng, 8, 40), "c", text))
        next_morning = datetime.combine(start.date() + timedelta(days=1), time(8, 30), tzinfo=self.tz)
        return self._not_answered(rng, regular, number, said, next_morning + _seconds(rng, 0, 7200), _values(rng))

    def _not_answered(
        self, rng: random.Random, regular: Regular, number: int, said: list, gives_up_at: datetime, values: dict
    ) -> datetime:
        """The customer's lines, then !종료 or the chatbot at `gives_up_at`; nobody is assigned."""
        label, consultation = f"{regular.user_key} #{number}", Ref()
        outcome = rng.choice((demo.CUSTOMER_END, demo.CHATBOT))
        if outcome == demo.CUSTOMER_END:
            said = [*said, (gives_up_at, "c", lifecycle.END_COMMAND)]
        self._play_lines(regular, number, consultation, said, values, assignee="")
        if outcome == demo.CHATBOT:
            self.add(gives_up_at, f"{label}: chatbot", self._switch_to_chatbot(regular))
        self.plan.expected.append(Expected(label, consultation, Status.CLOSED, CLOSE_REASONS[outcome]))
        return gives_up_at

    def _play_lines(
        self, regular: Regular, number: int, consultation: Ref, said: list, values: dict, *, assignee: str
    ) -> None:
        label, customer = f"{regular.user_key} #{number}", Ref()
        for index, (at, who, text) in enumerate(said, start=1):
            if who == "c":
                event_id = f"{regular.user_key}-{number}-{index}"
                opens = index == 1
                self.add(
                    at,
                    f"{label}: customer",
                    self._customer_says(regular, customer, consultation, text.format(**values), event_id, opens),
                )
            else:
                text = text.format(agent=self.members[assignee].name, **values)
                self.add(at, f"{label}: agent", self._agent_says(consultation, assignee, text))

    # --- the lifecycle calls, as closures -------------------------------------

    def _customer_says(self, spec, customer: Ref, consultation: Ref, text: str, event_id: str, opens: bool):
        def run() -> None:
            text_or_file = _text_or_file(self.center, text)
            received = lifecycle.do_receive_customer_message(
                self.center,
                user_key=spec.user_key,
                profile_nickname=spec.profile_nickname,
                is_friend=spec.is_friend,
                channel_event_id=event_id,
                **text_or_file,
            )
            customer.pk = received.customer.pk
            if opens != received.opened or (consultation.pk and consultation.pk != received.consultation.pk):
                raise CommandError("the message did not land in the planned consultation")
            consultation.pk = received.consultation.pk

        return run

    def _assign_to_me(self, consultation: Ref, actor: str):
        return lambda: lifecycle.do_assign_to_me(consultation.pk, actor=self.members[actor])

    def _change_assignee(self, consultation: Ref, actor: str, assignee: str):
        return lambda: lifecycle.do_change_assignee(
            consultation.pk, actor=self.members[actor], assignee=self.members[assignee]
        )

    def _agent_says(self, consultation: Ref, actor: str, text: str):
        return lambda: lifecycle.do_send_message(
            consultation.pk, actor=self.members[actor], **_text_or_file(self.center, text)
        )

    def _important(self, consultation: Ref, actor: str):
        return lambda: lifecycle.do_set_important(consultation.pk, actor=self.members[actor], important=True)

    def _hold(self, consultation: Ref, actor: str, on_hold: bool):
        return lambda: lifecycle.do_set_hold(consultation.pk, actor=self.members[actor], on_hold=on_hold)

    def _close(self, consultation: Ref, actor: str):
        return lambda: lifecycle.do_close(consultation.pk, actor=self.members[actor])

    def _switch_to_chatbot(self, spec: demo.DemoCustomer):
        def run() -> None:
            received = lifecycle.do_switch_to_chatbot(self.center, user_key=spec.user_key)
            if not received.closed:
                raise CommandError("the chatbot switch closed nothing")

        return run

    def _sweep(self, at: datetime):
        return lambda: lifecycle.close_idle(now=at, center=self.center)

    def _block(self, customer: Ref, actor: str, reason: str, note: str):
        # 음란 and 도박 are reported too (R16): the demo has no outbound URL, so the report shows as waiting.
        return lambda: customer_rules.do_block_customer(
            Customer.objects.get(pk=customer.pk),
            actor=self.members[actor],
            reason=reason,
            note=note,
            report=reason in Block.REPORTABLE,
        )

    def _unblock(self, customer: Ref, actor: str):
        return lambda: customer_rules.do_unblock_customer(
            Customer.objects.get(pk=customer.pk), actor=self.members[actor]
        )

    def _update_customer(self, customer: Ref, actor: str, nickname: str, memo: str):
        return lambda: customer_rules.do_update_customer(
            Customer.objects.get(pk=customer.pk),
            actor=self.members[actor],
            nickname=nickname or None,
            memo=memo or None,
        )


class Command(BaseCommand):
    help = (
        "Create the demo center (slug 'demo') with five members and about forty customers whose "
        "consultations cover every state, flag and close reason, spread over the last three weeks, "
        "plus three months of everyday consultations from regular customers, rolled up into the "
        "statistics of the last 92 days. "
        "All changes go through the consultation lifecycle, so the event history is complete. "
        "Safe to run again: once the demo center has customers nothing is added. "
        "Logins use the password 'counsel-demo' (set only on accounts this creates); a new center takes its "
        "webhook secret from DEMO_WEBHOOK_SECRET (default 'demo-webhook-secret')."
    )

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            center, center_created = Center.objects.get_or_create(
                slug=demo.CENTER_SLUG,
                defaults={
                    "name": demo.CENTER_NAME,
                    "webhook_secret": os.environ.get("DEMO_WEBHOOK_SECRET") or demo.DEFAULT_WEBHOOK_SECRET,
                },
            )
            members, existing_users, accounts_created = self.ensure_members(center)
            self.ensure_assist(center)
            has_data = Customer.objects.filter(center=center).exists() or center.consultations.exists()
            if not has_data:
                if not center.is_operating:
                    raise CommandError(f"The center '{center.slug}' is stopped (운영 중지); start it to seed it.")
                counts = self.seed(center, members)

        if has_data and not center_created and not accounts_created:
            self.stdout.write("데모 데이터가 이미 있어 아무것도 바꾸지 않았습니다.")
            self.stdout.write("Demo data already present; nothing changed.")
        elif has_data:
            self.stdout.write("데모 센터에 이미 고객이 있어 빠진 계정만 만들었습니다.")
            self.stdout.write("The demo center already has customers; only missing accounts were created.")
        else:
            self.stdout.write(self.style.SUCCESS("데모 데이터를 만들었습니다. / Demo data created."))
            self.stdout.write(
                f"고객 {counts['customers']}명, 상담 {counts['consultations']}건, 메시지 {counts['messages']}개 / "
                f"{counts['customers']} customers, {counts['consultations']} consultations, "
                f"{counts['messages']} messages."
            )
            self.stdout.write(f"통계 {counts['days']}일치 / Statistics for {counts['days']} days: /stats/")
        self.print_logins(existing_users)

    @staticmethod
    def ensure_assist(center: Center) -> None:
        """The demo Q&A base and templates, once: a center that has any keeps what it has."""
        if not QnA.objects.filter(center=center).exists():
            QnA.objects.bulk_create(QnA(center=center, question=q, answer=a, keywords=k) for q, a, k in demo.QNAS)
        if not Template.objects.filter(center=center).exists():
            Template.objects.bulk_create(Template(center=center, title=t, body=b) for t, b in demo.TEMPLATES)

    def ensure_members(self, center: Center) -> tuple[dict[str, Member], list[str], bool]:
        """The demo staff, and which users already existed; only new users get the demo password."""
        user_model = get_user_model()
        members: dict[str, Member] = {}
        existing: list[str] = []
        created_any = False
        password_hash = ""  # nosec B105  # no hash yet: made once, for the first new user
        for staff in demo.STAFF:
            user, created = user_model.objects.get_or_create(
                username=staff.username,
                defaults={"email": f"{staff.username}@example.com", "is_staff": staff.role != Member.Role.AGENT},
            )
            if created:
                # One hash for all five: the slow hasher runs once, not five times (the password is public anyway).
                password_hash = password_hash or make_password(demo.DEMO_PASSWORD)
                user.password = password_hash
                user.save(update_fields=["password"])
            else:
                existing.append(staff.username)
            member, member_created = Member.objects.select_related("user").get_or_create(
                center=center,
                user=user,
                defaults={"role": staff.role, "display_name": staff.display_name, "can_consult": staff.can_consult},
            )
            created_any = created_any or created or member_created
            members[staff.username] = member
        return members, existing, created_any

    def seed(self, center: Center, members: dict[str, Member]) -> dict[str, int]:
        anchor = timezone.now().replace(minute=0, second=0, microsecond=0)
        planner = Planner(center, members, anchor)
        for spec in demo.CUSTOMERS:
            planner.plan_customer(spec)
        planner.plan_history()
        steps = sorted(planner.plan.steps, key=lambda step: (step.at, step.order))
        for step in steps:
            with clock.frozen_at(step.at):
                try:
                    step.run()
                except lifecycle.Refused as refusal:
                    raise CommandError(f"{step.label} at {step.at:%Y-%m-%d %H:%M}: refused: {refusal}") from None

        played = Consultation.objects.in_bulk([expected.ref.pk for expected in planner.plan.expected])
        for expected in planner.plan.expected:
            self.check_outcome(expected, played[expected.ref.pk], members)
        self.mark_read(planner.plan.expected, played, members)

        # The statistics from the same rollup as the nightly job, over its whole range up to yesterday.
        last = rollup.last_finished_day(center)
        rolled = rollup.roll_up(center, last - timedelta(days=rollup.RANGE_DAYS - 1), last)
        return {
            "customers": Customer.objects.filter(center=center).count(),
            "consultations": Consultation.objects.filter(center=center).count(),
            "messages": Message.objects.filter(consultation__center=center).count(),
            "days": rolled.days,
        }

    @staticmethod
    def check_outcome(expected: Expected, consultation: Consultation, members: dict[str, Member]) -> None:
        """The replay must leave each consultation as the story says; anything else is a bug in the plan."""
        want_assignee = members[expected.assignee].pk if expected.assignee else None
        got = (
            consultation.status,
            consultation.close_reason,
            consultation.assignee_id,
            consultation.is_important,
            consultation.is_on_hold,
        )
        want = (expected.status, expected.close_reason, want_assignee, expected.important, expected.on_hold)
        if got != want:
            raise CommandError(f"{expected.label} ended as {got}, planned {want}.")

    @staticmethod
    def mark_read(expected: list[Expected], played: dict[int, Consultation], members: dict[str, Member]) -> None:
        """The read marks members leave as they work (the console's unread mark, Consultation.is_unread_for).

        Each consultation was read to its last message by everyone in its `seen_by`, as after answering or
        assigning it; the assignee of an `unread` visit (demo/stories.py) read it only up to their own last
        answer, if any, so only those few rows show new customer messages. One INSERT per batch.
        """
        unread = [played[e.ref.pk] for e in expected if e.unread]
        answered = dict(
            Message.objects.filter(consultation__in=unread, sender=Message.Sender.AGENT)
            .values_list("consultation")
            .annotate(upto=Max("pk"))
        )
        marks = []
        for e in expected:
            consultation = played[e.ref.pk]
            for username in e.seen_by:
                upto = consultation.last_message_id or 0
                if e.unread and username == e.assignee:
                    upto = answered.get(consultation.pk, 0)
                if upto:
                    marks.append(
                        ReadMark(member=members[username], consultation=consultation, last_read_message_id=upto)
                    )
        ReadMark.objects.bulk_create(marks, batch_size=500)

    def print_logins(self, existing_users: list[str]) -> None:
        usernames = ", ".join(staff.username for staff in demo.STAFF)
        self.stdout.write("")
        self.stdout.write("상담 콘솔 / Console: /login/ → /consultations/")
        self.stdout.write("관리자 화면 / Admin (master, manager): /admin/")
        self.stdout.write("고객 시뮬레이터 / Customer simulator (DEBUG): /simulator/demo/")
        self.stdout.write(f"아이디 / Usernames: {usernames}")
        self.stdout.write(f"비밀번호 / Password: {demo.DEMO_PASSWORD}")
        if existing_users:
            names = ", ".join(existing_users)
            self.stdout.write(f"이미 있던 계정({names})의 비밀번호는 바꾸지 않았습니다.")
            self.stdout.write(f"Existing accounts ({names}) kept their passwords.")
        self.stdout.write(f"웹훅 / Webhook: POST /channel/{demo.CENTER_SLUG}/events (secret: DEMO_WEBHOOK_SECRET)")

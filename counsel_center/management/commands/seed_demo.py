"""`manage.py seed_demo`: a demo center full of realistic consultations.

Every consultation, message, flag and block is written through
consultations.lifecycle, as the webhook and the console would write it, so the
Event log, the statistics and the console see exactly what production data
looks like. The stories in counsel_center/demo_data.py are laid out on one
timeline over the last three weeks, sorted, and played in order with the
lifecycle clock frozen at each step's time: events get increasing ids in time
order and every limit (R5, R7) is checked at the moment it would apply.
"""

import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from consultations import clock, lifecycle
from consultations.models import CloseReason, Consultation, Message, QnA, Status, Template
from counsel_center import demo_data as demo
from counsel_center.models import Center, Member
from customers.models import Customer

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


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    expected: list[Expected] = field(default_factory=list)


def _seconds(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(seconds=rng.randint(low, high))


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
        self.rng = random.Random(demo.RANDOM_SEED)  # noqa: S311 - reproducible demo timings, not secrets
        self.plan = Plan()

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
            raise CommandError(f"The demo plan runs into the future at {label}; move it earlier in demo_data.")
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
        values = {"order": f"DM{rng.randint(10**7, 10**8 - 1)}", "invoice": str(rng.randint(10**11, 10**12 - 1))}
        lines = select_lines(visit)
        if visit.outcome == demo.IN_PROGRESS and not visit.hold and lines[-1][0] != "c":
            raise CommandError(
                f"{label}: an open consultation must end on the customer's line, or the sweep closes it."
            )

        t = start
        assignee = ""
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
            nonlocal t, assignee
            t += _seconds(rng, 60, 360)
            assignee = visit.assignee
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
            t += _seconds(rng, 30, 90) if assignee else _seconds(rng, 120, 300)
            self.add(t, f"{label}: block", self._block(customer, by, reason, note))

        status = OPEN_OUTCOMES.get(outcome, Status.CLOSED)
        self.plan.expected.append(
            Expected(
                label=label,
                ref=consultation,
                status=status,
                close_reason=CLOSE_REASONS.get(outcome, ""),
                assignee=assignee,
                important=visit.important,
                on_hold=visit.hold == "kept" or (outcome == demo.IN_PROGRESS and bool(visit.hold)),
            )
        )
        return t, assignee

    # --- the lifecycle calls, as closures -------------------------------------

    def _customer_says(self, spec, customer: Ref, consultation: Ref, text: str, event_id: str, opens: bool):
        def run() -> None:
            received = lifecycle.do_receive_customer_message(
                self.center,
                user_key=spec.user_key,
                text=text,
                profile_nickname=spec.profile_nickname,
                is_friend=spec.is_friend,
                channel_event_id=event_id,
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
        return lambda: lifecycle.do_send_message(consultation.pk, actor=self.members[actor], text=text)

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
        return lambda: lifecycle.do_block_customer(
            Customer.objects.get(pk=customer.pk), actor=self.members[actor], reason=reason, note=note
        )

    def _unblock(self, customer: Ref, actor: str):
        return lambda: lifecycle.do_unblock_customer(Customer.objects.get(pk=customer.pk), actor=self.members[actor])

    def _update_customer(self, customer: Ref, actor: str, nickname: str, memo: str):
        return lambda: lifecycle.do_update_customer(
            Customer.objects.get(pk=customer.pk),
            actor=self.members[actor],
            nickname=nickname or None,
            memo=memo or None,
        )


class Command(BaseCommand):
    help = (
        "Create the demo center (slug 'demo') with five members and about forty customers whose "
        "consultations cover every state, flag and close reason, spread over the last three weeks. "
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
        password_hash = ""
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
        steps = sorted(planner.plan.steps, key=lambda step: (step.at, step.order))
        for step in steps:
            with clock.frozen_at(step.at):
                try:
                    step.run()
                except lifecycle.Refused as refusal:
                    raise CommandError(f"{step.label} at {step.at:%Y-%m-%d %H:%M}: refused: {refusal}") from None

        for expected in planner.plan.expected:
            self.check_outcome(expected, members)
        return {
            "customers": Customer.objects.filter(center=center).count(),
            "consultations": Consultation.objects.filter(center=center).count(),
            "messages": Message.objects.filter(consultation__center=center).count(),
        }

    @staticmethod
    def check_outcome(expected: Expected, members: dict[str, Member]) -> None:
        """The replay must leave each consultation as the story says; anything else is a bug in the plan."""
        consultation = Consultation.objects.get(pk=expected.ref.pk)
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

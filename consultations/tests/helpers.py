"""Helpers shared by the lifecycle tests: expecting a refusal, and reaching a state through lifecycle."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.utils import timezone, translation

from consultations import lifecycle
from consultations.lifecycle import Refused
from consultations.models import CloseReason, Consultation, Event, Message, Status
from counsel_center import clock
from counsel_center.models import Center, Member
from customers.models import Block, Customer

# A fixed moment; tests move from it with timedelta so times are exact.
T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # 10:00 in Asia/Seoul


def db_state() -> dict[str, list[tuple]]:
    """Everything the lifecycle may write, as plain tuples, to compare before and after an action."""
    return {
        "events": list(Event.objects.order_by("pk").values_list("pk", flat=True)),
        "messages": list(Message.objects.order_by("pk").values_list("pk", "consultation_id", "text")),
        "consultations": list(
            Consultation.objects.order_by("pk").values_list(
                "pk",
                "status",
                "assignee_id",
                "is_important",
                "is_on_hold",
                "assigned_at",
                "first_response_at",
                "closed_at",
                "close_reason",
                "closed_by_id",
                "last_message_id",
                "last_activity_at",
            )
        ),
        "customers": list(
            Customer.objects.order_by("pk").values_list(
                "pk", "user_key", "profile_nickname", "is_friend", "nickname", "memo"
            )
        ),
        "blocks": list(Block.objects.order_by("pk").values_list("pk", "reason", "ended_at")),
    }


@dataclass
class Caught:
    """Filled in when the `refused` block ends: the refusal that was raised."""

    refusal: Refused | None = None


@contextmanager
def refused(code: str, message: str) -> Iterator[Caught]:
    """Expect the block to be refused with `code` and the English `message`, and to write nothing.

    The block runs with English active, as a request in English would; the
    same refusal read under Korean must be translated (locale/ko).
    """
    before = db_state()
    caught = Caught()
    with translation.override("en"), pytest.raises(Refused) as info:
        yield caught
    caught.refusal = info.value
    assert info.value.code == code, f"refused with {info.value.code!r} ({info.value.message}), expected {code!r}"
    with translation.override("en"):
        assert str(info.value.message) == message
    with translation.override("ko"):
        korean = str(info.value.message)
    assert korean.strip() and korean != message, f"no Korean translation for {message!r}"
    assert db_state() == before, "a refused action wrote to the database"


def events_of(consultation: Consultation, *kinds: str) -> list[Event]:
    events = Event.objects.filter(consultation=consultation).order_by("pk")
    if kinds:
        events = events.filter(kind__in=kinds)
    return list(events)


def incoming_file(name: str = "photo.png", content: bytes = b"not really a png") -> lifecycle.IncomingFile:
    """A file as the webhook hands it to the lifecycle: already in storage."""
    import hashlib

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    stored = default_storage.save(f"test-attachments/{name}", ContentFile(content))
    return lifecycle.IncomingFile(
        stored_name=stored, name=name, size=len(content), sha256=hashlib.sha256(content).hexdigest()
    )


def customer_writes(center: Center, text: str = "안녕하세요", *, user_key: str = "kakao-user-1", **kwargs):
    """The customer sends a message through the lifecycle; returns what it did."""
    return lifecycle.do_receive_customer_message(center, user_key=user_key, text=text, **kwargs)


def in_progress_with(center: Center, member: Member, *, at: datetime = T0, user_key: str = "kakao-user-1"):
    """A consultation reached through the lifecycle: opened, assigned to `member`, and answered at `at`."""
    with clock.frozen_at(at):
        received = customer_writes(center, "문의드립니다", user_key=user_key)
        lifecycle.do_assign_to_me(received.consultation, actor=member)
        lifecycle.do_send_message(received.consultation, actor=member, text="안녕하세요, 상담원입니다.")
    received.consultation.refresh_from_db()
    return received.consultation


def consultation_in(make_consultation, status: str, *, assignee: Member | None = None, **kwargs) -> Consultation:
    """A consultation of center alpha built straight in `status` (set-up only), with the fields that state needs."""
    if status != Status.UNASSIGNED:
        assert assignee is not None, f"a {status} consultation needs an assignee"
    if status == Status.CLOSED:
        kwargs.setdefault("closed_at", timezone.now())
        kwargs.setdefault("close_reason", CloseReason.AGENT)
    return make_consultation(status=status, assignee=assignee, **kwargs)


def fill(make_consultation, member: Member, status: str, count: int) -> list[Consultation]:
    """Give `member` `count` consultations in `status`, each of its own customer."""
    return [consultation_in(make_consultation, status, assignee=member) for _ in range(count)]


def run_in_parallel(calls: list[Callable[[], object]]) -> list[object]:
    """Run every call at once in its own thread; return results or the exceptions raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # the test inspects whatever happened
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a parallel call hung"
    return results

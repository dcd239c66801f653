"""The inbound channel contract (SPEC §7): every answer a channel can get."""

import asyncio
import json
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.db.models.signals import post_save, pre_save
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from consultations import file_policy
from consultations.channel import signing
from consultations.models import Attachment, ChannelEvent, CloseReason, Consultation, Event, Message, Status
from counsel_center.asgi import django_application
from counsel_center.request_limits import RECEIVED_AT
from customers import rules as customer_rules
from customers.models import Customer

from . import files as sample_files
from .channel_client import file_event, post_json, post_multipart, text_event

pytestmark = pytest.mark.django_db

SECRET = "alpha-secret"  # the conftest center's webhook secret


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)


def rows() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Customer, Consultation, Message, Event, ChannelEvent, Attachment)
    }


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def error_of(response) -> str:
    return response.json()["error"]


# --- accepted events --------------------------------------------------------------------


def test_it_opens_a_consultation_from_a_text_message(client, center):
    response = post_json(client, "alpha", text_event("배송 문의드립니다"), secret=SECRET)

    assert response.status_code == 200
    answer = response.json()
    consultation = Consultation.objects.get()
    message = Message.objects.get()
    customer = Customer.objects.get()
    assert answer == {
        "consultation_id": consultation.public_id,
        "message_id": message.pk,
        "customer_id": customer.customer_id,
        "duplicate": False,
    }
    assert consultation.status == Status.UNASSIGNED
    assert (message.sender, message.text) == (Message.Sender.CUSTOMER, "배송 문의드립니다")
    assert (customer.user_key, customer.profile_nickname, customer.is_friend) == ("kakao-user-1", "김민지", True)


def test_later_messages_join_the_open_consultation(client, center):
    first = post_json(client, "alpha", text_event("안녕하세요"), secret=SECRET).json()
    second = post_json(client, "alpha", text_event("주문번호는 1234입니다"), secret=SECRET).json()

    assert second["consultation_id"] == first["consultation_id"]
    assert second["customer_id"] == first["customer_id"]
    assert Consultation.objects.get().messages.count() == 2


def test_it_keeps_the_profile_nickname_current(client, center):
    post_json(client, "alpha", text_event(), secret=SECRET)
    post_json(client, "alpha", text_event("또 문의드려요", profile_nickname="민지"), secret=SECRET)

    assert Customer.objects.get().profile_nickname == "민지"


def test_it_keeps_the_channels_sent_at(client, center):
    post_json(client, "alpha", text_event(sent_at="2026-11-25T10:00:00+09:00"), secret=SECRET)

    assert Message.objects.get().channel_sent_at.isoformat() == "2026-11-25T01:00:00+00:00"


def test_the_end_command_closes_and_the_next_message_opens_a_new_consultation(client, center):
    opened = post_json(client, "alpha", text_event("문의합니다"), secret=SECRET).json()
    ended = post_json(client, "alpha", text_event("!종료"), secret=SECRET).json()
    again = post_json(client, "alpha", text_event("하나 더 물어볼게요"), secret=SECRET).json()

    assert ended["consultation_id"] == opened["consultation_id"]
    first = Consultation.objects.get(public_id=opened["consultation_id"])
    assert (first.status, first.close_reason) == (Status.CLOSED, CloseReason.CUSTOMER_END)
    assert again["consultation_id"] != opened["consultation_id"]
    assert Consultation.objects.get(public_id=again["consultation_id"]).status == Status.UNASSIGNED


def test_a_chatbot_switch_closes_the_open_consultation(client, center):
    opened = post_json(client, "alpha", text_event("문의합니다"), secret=SECRET).json()
    switch = {"event_id": "switch-1", "type": "chatbot_switch", "user_key": "kakao-user-1"}

    answer = post_json(client, "alpha", switch, secret=SECRET).json()

    assert answer["consultation_id"] == opened["consultation_id"]
    assert answer["message_id"] is None
    consultation = Consultation.objects.get()
    assert (consultation.status, consultation.close_reason) == (Status.CLOSED, CloseReason.CHATBOT_SWITCH)


def test_a_chatbot_switch_with_nothing_open_affects_nothing(client, center):
    switch = {"event_id": "switch-1", "type": "chatbot_switch", "user_key": "kakao-user-9"}

    response = post_json(client, "alpha", switch, secret=SECRET)

    assert response.status_code == 200
    assert response.json()["consultation_id"] is None
    assert Consultation.objects.count() == 0


def test_a_friend_status_event_updates_the_customer(client, center):
    post_json(client, "alpha", text_event(is_friend=False), secret=SECRET)
    status = {"event_id": "friend-1", "type": "friend_status", "user_key": "kakao-user-1", "is_friend": True}

    answer = post_json(client, "alpha", status, secret=SECRET).json()

    assert Customer.objects.get().is_friend is True
    assert answer["consultation_id"] is None and answer["message_id"] is None
    assert answer["customer_id"] == Customer.objects.get().customer_id


# --- idempotency ------------------------------------------------------------------------


def test_a_repeated_event_id_is_answered_as_a_duplicate_and_adds_nothing(client, center):
    event = text_event("한 번만 저장되어야 합니다")
    first = post_json(client, "alpha", event, secret=SECRET).json()
    before = rows()

    repeat = post_json(client, "alpha", event, secret=SECRET)

    assert repeat.status_code == 200
    assert repeat.json() == {**first, "duplicate": True}
    assert rows() == before


def test_the_same_event_id_in_another_center_is_not_a_duplicate(client, center, other_center):
    event = text_event()
    post_json(client, "alpha", event, secret=SECRET)

    answer = post_json(client, "beta", event, secret="beta-secret").json()

    assert answer["duplicate"] is False
    assert Consultation.objects.filter(center=other_center).count() == 1


# --- one transaction, through the models ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_message_is_one_transaction_without_a_savepoint_after_two_reads_of_the_center(center):
    post_json(
        Client(), "alpha", text_event("처음 문의"), secret=SECRET
    )  # first contact: the customer, the consultation

    with CaptureQueriesContext(connection) as queries:
        response = post_json(Client(), "alpha", text_event("두 번째 메시지"), secret=SECRET)

    assert response.status_code == 200
    statements = [query["sql"].split()[0].upper() for query in queries.captured_queries]
    assert statements.count("BEGIN") <= 1  # PostgreSQL and SQLite's IMMEDIATE mode name it; one transaction
    assert "SAVEPOINT" not in statements
    # The center's existence, asked before the body is read (request_limits: the early check); the center;
    # then in the view's transaction: the customer locked with its block state, its open consultation
    # locked, the message, the consultation's last message, the message's event, the channel event with
    # its answer.
    assert [s for s in statements if s not in ("BEGIN", "COMMIT")] == [
        "SELECT",
        "SELECT",
        "SELECT",
        "SELECT",
        "INSERT",
        "UPDATE",
        "INSERT",
        "INSERT",
    ]


def test_every_row_the_webhook_writes_goes_through_save(client, center):
    saved = []

    def receiver(sender, instance, created, **kwargs):
        saved.append((sender.__name__, created))

    models = (Customer, Consultation, Message, Event, ChannelEvent)
    for model in models:
        post_save.connect(receiver, sender=model, weak=False)
    try:
        post_json(client, "alpha", text_event("첫 메시지"), secret=SECRET)
        saved.append("--")
        post_json(client, "alpha", text_event("두 번째"), secret=SECRET)
    finally:
        for model in models:
            post_save.disconnect(receiver, sender=model)

    assert saved == [
        ("Customer", True),
        ("Consultation", True),
        ("Event", True),  # consultation.created
        ("Message", True),
        ("Consultation", False),  # its last message
        ("Event", True),  # message.created
        ("ChannelEvent", True),
        "--",
        ("Message", True),
        ("Consultation", False),
        ("Event", True),
        ("ChannelEvent", True),
    ]


def test_the_effect_and_the_record_commit_or_roll_back_together(client, center):
    def refuse(sender, instance, **kwargs):
        raise DatabaseError("the channel event could not be stored")

    pre_save.connect(refuse, sender=ChannelEvent, weak=False)
    try:
        with pytest.raises(DatabaseError):
            post_json(client, "alpha", text_event("저장되지 않을 메시지"), secret=SECRET)
    finally:
        pre_save.disconnect(refuse, sender=ChannelEvent)

    assert sum(rows().values()) == 0  # no customer, consultation, message or event without its record

    assert post_json(client, "alpha", text_event("다시 보냅니다"), secret=SECRET).status_code == 200
    assert rows() == {
        "Customer": 1,
        "Consultation": 1,
        "Message": 1,
        "Event": 2,
        "ChannelEvent": 1,
        "Attachment": 0,
    }


def test_a_repeat_of_a_chatbot_switch_closes_nothing_more(client, center):
    opened = post_json(client, "alpha", text_event("문의합니다"), secret=SECRET).json()
    switch = {"event_id": "switch-1", "type": "chatbot_switch", "user_key": "kakao-user-1"}
    first = post_json(client, "alpha", switch, secret=SECRET).json()
    before = rows()

    repeat = post_json(client, "alpha", switch, secret=SECRET).json()

    assert first["consultation_id"] == opened["consultation_id"]
    assert repeat == {**first, "duplicate": True}
    assert rows() == before


# --- signatures -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "code"),
    [(None, "missing_signature"), ("wrong-secret", "bad_signature"), ("beta-secret", "bad_signature")],
)
def test_it_refuses_an_unsigned_or_wrongly_signed_event(client, center, other_center, secret, code):
    response = post_json(client, "alpha", text_event(), secret=secret)

    assert response.status_code == 401
    assert error_of(response) == code
    assert rows()["Message"] == 0


def test_it_refuses_a_body_changed_after_signing(client, center):
    signed = json.dumps(text_event("원래 내용"), ensure_ascii=False).encode()
    tampered = signed.replace("원래 내용".encode(), "바뀐 내용".encode())

    response = post_json(client, "alpha", tampered, secret=SECRET, sign_body=signed)

    assert (response.status_code, error_of(response)) == (401, "bad_signature")
    assert rows()["Message"] == 0


@pytest.mark.parametrize("offset", [301, -301, 10_000])
def test_it_refuses_a_stale_or_future_timestamp(client, center, offset):
    response = post_json(client, "alpha", text_event(), secret=SECRET, timestamp=int(time.time()) + offset)

    assert (response.status_code, error_of(response)) == (401, "stale_timestamp")


@pytest.mark.parametrize("offset", [295, -295])
def test_it_accepts_a_timestamp_within_the_window(client, center, offset):
    response = post_json(client, "alpha", text_event(), secret=SECRET, timestamp=int(time.time()) + offset)

    assert response.status_code == 200


def test_a_captured_request_replayed_is_a_duplicate_in_its_window_and_refused_after(client, center):
    # One real signed request, taken near the end of its window, as an eavesdropper would keep it.
    body = json.dumps(text_event("결제 취소해 주세요"), ensure_ascii=False).encode()
    signed_at = int(time.time()) - signing.MAX_SKEW_SECONDS + 2
    headers = signing.signed_headers(SECRET, body, timestamp=signed_at)

    def replay(slug="alpha"):
        return post_json(client, slug, body, secret=None, headers=headers)

    first = replay()
    assert first.status_code == 200, first.content
    stored = rows()

    again = replay()  # inside the window: the event id makes it a duplicate
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert again.json()["message_id"] == first.json()["message_id"]

    while time.time() - signed_at <= signing.MAX_SKEW_SECONDS + 1:  # the window closes (about 3 s)
        time.sleep(0.2)
    late = replay()

    assert (late.status_code, error_of(late)) == (401, "stale_timestamp")
    assert rows() == stored


def test_a_request_replayed_to_another_center_is_refused(client, center, other_center):
    body = json.dumps(text_event("다른 센터로 보낸 재전송"), ensure_ascii=False).encode()
    headers = signing.signed_headers(SECRET, body)
    assert post_json(client, "alpha", body, secret=None, headers=headers).status_code == 200

    response = post_json(client, "beta", body, secret=None, headers=headers)

    assert (response.status_code, error_of(response)) == (401, "bad_signature")
    assert not Message.objects.filter(consultation__center=other_center).exists()


@pytest.mark.parametrize("timestamp", ["soon", "-5", "1.5e9", "١٧٠٠٠٠٠٠٠٠"])
def test_it_refuses_a_timestamp_that_is_not_unix_seconds(client, center, timestamp):
    body = json.dumps(text_event()).encode()
    headers = {"X-Channel-Timestamp": timestamp, "X-Channel-Signature": "sha256=" + "0" * 64}

    response = post_json(client, "alpha", body, secret=None, headers=headers)

    assert (response.status_code, error_of(response)) == (401, "bad_timestamp")


# --- bad input ----------------------------------------------------------------------------


def test_an_unknown_center_is_a_json_404(client, center):
    response = post_json(client, "no-such-center", text_event(), secret=SECRET)

    assert (response.status_code, error_of(response)) == (404, "unknown_center")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1, 2]", "invalid_event"),
        ('{"type": "message"}', "missing_field"),
        ('{"event_id": "e1", "type": "wave", "user_key": "u"}', "unknown_type"),
        ('{"event_id": "e1", "user_key": "u"}', "missing_field"),
        ('{"event_id": "e1", "type": "message", "message": {"kind": "text", "text": "hi"}}', "missing_field"),
        ('{"event_id": "e1", "type": "message", "user_key": "u"}', "missing_field"),
        ('{"event_id": "e1", "type": "message", "user_key": "u", "message": {"kind": "sticker"}}', "unknown_kind"),
        ('{"event_id": "e1", "type": "message", "user_key": "u", "message": {"kind": "text"}}', "missing_field"),
        ('{"event_id": "e1", "type": "message", "user_key": 7, "message": {"kind": "text", "text": "a"}}',
         "invalid_field"),
        ('{"event_id": "e1", "type": "friend_status", "user_key": "u"}', "missing_field"),
        ('{"event_id": "e1", "type": "friend_status", "user_key": "u", "is_friend": "yes"}', "invalid_field"),
        ('{"event_id": "e1", "type": "chatbot_switch", "user_key": "u", "sent_at": "yesterday"}', "invalid_field"),
        ('{"event_id": "e1", "type": "message", "user_key": "u", "message": {"kind": "image"}}', "bad_attachment"),
    ],
)  # fmt: skip
def test_it_refuses_malformed_events_with_a_clear_code(client, center, body, code):
    response = post_json(client, "alpha", body, secret=SECRET)

    assert response.status_code == 400
    assert error_of(response) == code
    assert response.json()["detail"]
    assert sum(rows().values()) == 0


def test_a_text_of_ten_thousand_characters_is_accepted_and_one_more_is_refused(client, center):
    assert post_json(client, "alpha", text_event("가" * 10_000), secret=SECRET).status_code == 200

    response = post_json(client, "alpha", text_event("가" * 10_001), secret=SECRET)

    assert (response.status_code, error_of(response)) == (400, "text_too_long")
    assert Message.objects.count() == 1


def test_it_refuses_a_wrong_content_type(client, center):
    response = post_json(client, "alpha", text_event(), secret=SECRET, content_type="text/plain")

    assert (response.status_code, error_of(response)) == (400, "unsupported_content_type")


def test_it_refuses_a_body_that_is_not_utf8(client, center):
    response = post_json(client, "alpha", b'{"event_id": "\xff\xfe"}', secret=SECRET)

    assert (response.status_code, error_of(response)) == (400, "invalid_json")


def test_only_post_is_allowed(client, center):
    assert client.get("/channel/alpha/events").status_code == 405


# --- blocked customers (R16) -------------------------------------------------------------------


def test_a_blocked_customers_message_is_refused_and_counted(client, center, customer, agent):
    customer_rules.do_block_customer(customer, actor=None, reason="abuse")
    before = rows()

    response = post_json(client, "alpha", text_event("또 왔어요", user_key=customer.user_key), secret=SECRET)

    assert response.status_code == 403
    assert response.json()["error"] == "customer_blocked"
    assert rows() == before
    customer.refresh_from_db()
    assert customer.blocked_attempts == 1
    assert customer.last_blocked_attempt_at is not None


# --- attachments --------------------------------------------------------------------------------

PNG = sample_files.png()


def test_it_stores_an_attached_file_that_matches_the_event(client, center, settings):
    event = file_event(PNG)

    response = post_multipart(
        client, "alpha", event, {"file": SimpleUploadedFile("photo.png", PNG, "image/png")}, secret=SECRET
    )

    assert response.status_code == 200, response.content
    attachment = Attachment.objects.get()
    assert (attachment.name, attachment.size, attachment.sha256) == (
        "photo.png",
        len(PNG),
        event["message"]["file"]["sha256"],
    )
    assert attachment.message.kind == Message.Kind.IMAGE
    assert attachment.file.read() == PNG
    assert len(stored_files(settings)) == 1


@pytest.mark.parametrize("change", ["size", "sha256"])
def test_a_file_that_does_not_match_the_event_is_refused_and_not_kept(client, center, settings, change):
    event = file_event(PNG)
    if change == "size":
        event["message"]["file"]["size"] += 1
    else:
        event["message"]["file"]["sha256"] = "0" * 64

    response = post_multipart(client, "alpha", event, {"file": SimpleUploadedFile("photo.png", PNG)}, secret=SECRET)

    assert (response.status_code, error_of(response)) == (400, "attachment_mismatch")
    assert sum(rows().values()) == 0
    assert stored_files(settings) == []


def test_a_file_event_without_the_file_part_is_refused(client, center):
    response = post_multipart(client, "alpha", file_event(PNG), {}, secret=SECRET)

    assert (response.status_code, error_of(response)) == (400, "bad_attachment")


def test_a_text_message_with_a_file_part_is_refused(client, center, settings):
    response = post_multipart(client, "alpha", text_event(), {"file": SimpleUploadedFile("a.png", PNG)}, secret=SECRET)

    assert (response.status_code, error_of(response)) == (400, "bad_attachment")
    assert stored_files(settings) == []


def test_two_files_in_one_message_are_refused(client, center):
    files = {"file": [SimpleUploadedFile("a.png", PNG), SimpleUploadedFile("b.png", PNG)]}

    response = post_multipart(client, "alpha", file_event(PNG), files, secret=SECRET)

    assert (response.status_code, error_of(response)) == (400, "bad_attachment")


def test_a_multipart_body_without_the_event_field_is_refused(client, center):
    ts = int(time.time())  # headers that pass the early check; there is no event to have signed
    headers = {signing.TIMESTAMP_HEADER: str(ts), signing.SIGNATURE_HEADER: signing.signature(SECRET, ts, b"")}
    response = client.post("/channel/alpha/events", data={"file": SimpleUploadedFile("a.png", PNG)}, headers=headers)

    assert (response.status_code, error_of(response)) == (400, "missing_field")


def test_a_file_over_the_limit_is_refused_with_413_and_not_kept(client, center, settings, monkeypatch):
    monkeypatch.setattr(file_policy, "MAX_FILE_BYTES", 1000)
    big = b"x" * 5000
    event = file_event(big, name="big.zip", kind="file")

    response = post_multipart(client, "alpha", event, {"file": SimpleUploadedFile("big.zip", big)}, secret=SECRET)

    assert (response.status_code, error_of(response)) == (413, "too_large")
    assert sum(rows().values()) == 0
    assert stored_files(settings) == []


def test_a_declared_length_over_the_limit_is_refused_before_reading(client, center):
    response = client.post(
        "/channel/alpha/events",
        data=b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(file_policy.MAX_FILE_BYTES * 2),
    )

    assert (response.status_code, error_of(response)) == (413, "too_large")


# --- CSRF -----------------------------------------------------------------------------------------


def _views(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_the_webhook_is_the_only_csrf_exempt_view():
    exempt = sorted(route for route, view in _views(get_resolver()) if getattr(view, "csrf_exempt", False))

    assert exempt == ["channel/<str:slug>/events"]


# --- the signature's window on a long upload -------------------------------------------------------


def _late_post(center, *, received_at: float | None) -> tuple[int, dict]:
    """A signed file event whose body took 400 s to arrive, through Django's ASGI handler as the server calls it.

    `received_at` is what RequestLimits puts in the scope when the headers arrive.
    """
    content = sample_files.PDF
    event = json.dumps(file_event(content, name="큰파일.pdf", kind="file"), ensure_ascii=False)
    sent = int(time.time()) - 400
    body = encode_multipart(BOUNDARY, {"event": event, "file": SimpleUploadedFile("큰파일.pdf", content)})
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/channel/alpha/events",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", MULTIPART_CONTENT.encode()),
            (b"content-length", str(len(body)).encode()),
            (signing.TIMESTAMP_HEADER.lower().encode(), str(sent).encode()),
            (signing.SIGNATURE_HEADER.lower().encode(), signing.signature(SECRET, sent, event.encode()).encode()),
        ],
    }
    if received_at is not None:
        scope[RECEIVED_AT] = received_at
    sent_messages = []

    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        if messages:
            return messages.pop()
        await asyncio.sleep(3600)  # the client waits for its answer; Django stops listening once it is sent

    async def send(message):
        sent_messages.append(message)

    asyncio.run(django_application(scope, receive, send))
    status = sent_messages[0]["status"]
    return status, json.loads(b"".join(m.get("body", b"") for m in sent_messages[1:]))


@pytest.mark.django_db(transaction=True)
def test_a_long_upload_is_judged_by_when_its_headers_arrived(center):
    status, answer = _late_post(center, received_at=time.time() - 390)  # the headers came 10 s after signing

    assert status == 200, answer
    assert Attachment.objects.get().name == "큰파일.pdf"


@pytest.mark.django_db(transaction=True)
def test_without_the_arrival_time_the_window_is_judged_now(center):
    status, answer = _late_post(center, received_at=None)

    assert (status, answer["error"]) == (401, "stale_timestamp")
    assert not Attachment.objects.exists()

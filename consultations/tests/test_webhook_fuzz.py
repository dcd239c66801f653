"""Property-based tests of the inbound webhook (SPEC §7): whatever arrives, no 500 and no half-write.

Random JSON values, events that are valid but for one field, random bytes, random
headers and random multipart bodies are sent both signed with the center's
secret (so validation past the signature runs) and unsigned. For every answer:

- the status is one the contract names (never a 500);
- a refusal is JSON `{"error": str, "detail": str}` and added no row and no file;
- a 200 is the four-key answer, and a repeat (`duplicate: true`) added nothing.

The contract tests of test_webhook.py pin each code; these look for what they missed.
"""

from __future__ import annotations

import hashlib
import json
import string
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from consultations.channel import signing
from consultations.models import Attachment, ChannelEvent, Consultation, Event, Message
from customers import rules as customer_rules
from customers.models import Customer

pytestmark = pytest.mark.django_db

SECRET = "alpha-secret"  # the conftest center's webhook secret
URL = "/channel/alpha/events"
ALLOWED_STATUSES = {200, 400, 401, 403, 404, 405, 413}
ANSWER_KEYS = {"consultation_id", "message_id", "customer_id", "duplicate"}
BLOCKED_USER = "kakao-user-1"  # the conftest customer, blocked by the `blocked` fixture
USER_KEYS = [BLOCKED_USER, "kakao-user-2", "kakao-user-3"]
MESSAGE_KINDS = ["text", "image", "video", "audio", "file"]
FILE_KINDS = MESSAGE_KINDS[1:]


def fuzz(max_examples: int):
    """Hypothesis settings for one property; the whole module takes about 25 s on SQLite once it passes."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)  # a channel has no CSRF token


@pytest.fixture
def blocked(center, customer, agent):
    """One of the user keys the strategies draw belongs to a blocked customer (→ 403)."""
    customer_rules.do_block_customer(customer, actor=None, reason="abuse")
    return customer


# --- the properties -----------------------------------------------------------------------------


def snapshot(media_root) -> dict:
    counts = {
        model.__name__: model.objects.count()
        for model in (Customer, Consultation, Message, Event, ChannelEvent, Attachment)
    }
    root = Path(media_root)
    counts["files"] = sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0
    return counts


def check_answer(response, before: dict, after: dict) -> None:
    """The properties every answer of the webhook has, whatever was sent."""
    status = response.status_code
    assert status in ALLOWED_STATUSES, (status, response.content[:500])
    assert response["Content-Type"] == "application/json", (status, response["Content-Type"], response.content[:300])
    body = json.loads(response.content)
    if status != 200:
        assert set(body) == {"error", "detail"}, body
        assert isinstance(body["error"], str) and body["error"], body
        assert isinstance(body["detail"], str) and body["detail"], body
        assert after == before, f"refused with {body} but rows changed: {before} → {after}"
        return
    assert set(body) == ANSWER_KEYS, body
    assert isinstance(body["consultation_id"], str | None), body
    assert isinstance(body["message_id"], int | None) and not isinstance(body["message_id"], bool), body
    assert isinstance(body["customer_id"], str) and body["customer_id"], body
    assert isinstance(body["duplicate"], bool), body
    if body["duplicate"]:
        assert after == before, f"a duplicate added rows: {before} → {after}"
    else:
        assert after["ChannelEvent"] == before["ChannelEvent"] + 1, (before, after)
    # What was stored can be read back (a value the database took but cannot return would break the console).
    Customer.objects.get(customer_id=body["customer_id"])
    if body["message_id"] is not None:
        Message.objects.get(pk=body["message_id"])
    if body["consultation_id"] is not None:
        Consultation.objects.get(public_id=body["consultation_id"])


def post(
    client: Client,
    settings,
    body: bytes,
    *,
    content_type: str,
    headers: dict,
    url: str = URL,
    check_accepted: Callable[[dict], None] | None = None,
):
    """POST the bytes as they are, check the answer, and send an accepted request again: a duplicate, adding nothing.

    Each call runs in a savepoint that is rolled back, so examples do not see each other's events: a shrunk
    example must not meet the event id of an earlier one and pass as a duplicate. `check_accepted(answer)`
    runs before the rollback. (client.post would re-encode the bytes to a declared charset; generic does not.)
    """
    with transaction.atomic():
        before = snapshot(settings.MEDIA_ROOT)
        response = client.generic("POST", url, data=body, headers=headers, CONTENT_TYPE=content_type)
        after = snapshot(settings.MEDIA_ROOT)
        check_answer(response, before, after)
        if response.status_code == 200:
            first = response.json()
            if check_accepted is not None:
                check_accepted(first)
            repeat = client.generic("POST", url, data=body, headers=headers, CONTENT_TYPE=content_type)
            check_answer(repeat, after, snapshot(settings.MEDIA_ROOT))
            assert repeat.json() == {**first, "duplicate": True}, (first, repeat.json())
        transaction.set_rollback(True)
    return response


def signed(body: bytes, *, secret: str = SECRET) -> dict[str, str]:
    return signing.signed_headers(secret, body)


# --- strategies ---------------------------------------------------------------------------------

# Any code point, lone surrogates included: JSON can carry them as \ud800 escapes.
ANY_CHAR = st.characters(exclude_categories=())
TRICKY_STRINGS = ["", " ", "\x00", "a\x00b", "\t\n", "!종료", " !종료 ", "\ud800", "\udfff", "\u202e", "../x", "null"]

tricky_text = st.one_of(
    st.text(max_size=30),
    st.text(ANY_CHAR, max_size=12),
    st.sampled_from(TRICKY_STRINGS),
    # st.text hardly ever draws a lone surrogate by itself
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=4), st.characters(categories=["Cs"]), st.text(max_size=4)),
    # around the length limits of the fields (100, 200, 255, 10 000)
    st.builds(lambda ch, n: ch * n, st.sampled_from(["a", "가", "😀"]), st.sampled_from([99, 100, 101, 199, 200, 201])),
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and ±Infinity too: json.dumps writes them and json.loads reads them back
    tricky_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=4),
    max_leaves=12,
)

offsets = st.builds(timezone, st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23)))
iso_datetimes = st.one_of(
    st.datetimes(timezones=st.none() | st.just(UTC) | offsets).map(datetime.isoformat),
    st.datetimes(timezones=offsets).map(lambda d: d.isoformat(timespec="minutes")),
    st.dates().map(lambda d: d.isoformat()),
    # the ends of the calendar, where converting to UTC leaves it
    st.builds(lambda d, tz: d.replace(tzinfo=tz).isoformat(), st.sampled_from([datetime.min, datetime.max]), offsets),
)
event_ids = st.uuids().map(lambda u: f"fuzz-{u}")
message_texts = st.text(min_size=1, max_size=40).filter(str.strip) | st.sampled_from(["!종료", "가" * 10_000])
hex_digests = st.text(alphabet="0123456789abcdefABCDEF", min_size=64, max_size=64)
file_names = st.one_of(
    st.text(min_size=1, max_size=40),
    st.text(min_size=40, max_size=255),
    st.sampled_from(["photo.png", ".", "..", "a/b.png", "a\\b.png", "a\x00.png", " ", "사진.jpg", "\ud800.png"]),
    # long names: the stored name keeps 100 characters, up to 400 bytes in UTF-8
    st.builds(
        lambda ch, n: ch * n + ".png", st.sampled_from(["a", "가", "😀"]), st.sampled_from([84, 85, 86, 100, 251])
    ),
)

# Values of about the right type for each field of the event, odd ones included.
ODD_VALUES = {
    "event_id": event_ids | tricky_text,
    "type": st.sampled_from(["message", "chatbot_switch", "friend_status", "Message", "wave", ""]),
    "user_key": st.sampled_from(USER_KEYS) | tricky_text,
    "profile_nickname": st.none() | tricky_text,
    "is_friend": st.booleans() | st.sampled_from([0, 1, "true", None]),
    "sent_at": iso_datetimes | tricky_text,
    "message": st.none() | st.sampled_from([{}, {"kind": "text"}, {"text": "hi"}, []]),
    "kind": st.sampled_from([*MESSAGE_KINDS, "TEXT", "sticker", ""]),
    "text": message_texts | tricky_text,
    "file": st.none() | st.sampled_from([{}, {"name": "a.png"}, []]),
    "name": file_names,
    "size": st.integers() | st.sampled_from([0, -1, 2**63, 1.0, True]),
    "sha256": hex_digests | st.text(alphabet=string.hexdigits, max_size=70),
}
FIELD_PATHS = [
    *((field,) for field in ("event_id", "type", "user_key", "profile_nickname", "is_friend", "sent_at", "message")),
    *(("message", field) for field in ("kind", "text", "file")),
    *(("message", "file", field) for field in ("name", "size", "sha256")),
]


@st.composite
def valid_events(draw, *, kinds=MESSAGE_KINDS) -> dict:
    """An event that follows the contract (a file event still needs its `file` part to be accepted)."""
    event_type = draw(st.sampled_from(["message", "message", "message", "chatbot_switch", "friend_status"]))
    event: dict = {"event_id": draw(event_ids), "type": event_type, "user_key": draw(st.sampled_from(USER_KEYS))}
    for field, values in (("profile_nickname", st.text(max_size=20)), ("is_friend", st.booleans())):
        if draw(st.booleans()):
            event[field] = draw(values)
    if event_type == "friend_status":
        event["is_friend"] = draw(st.booleans())
    if draw(st.booleans()):
        event["sent_at"] = (datetime.now(UTC) - timedelta(seconds=draw(st.integers(0, 10**6)))).isoformat()
    if event_type == "message":
        kind = draw(st.sampled_from(kinds))
        if kind == "text":
            event["message"] = {"kind": "text", "text": draw(message_texts)}
        else:
            content = draw(st.binary(max_size=64))
            described = {"name": "photo.png", "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
            event["message"] = {"kind": kind, "file": described}
    return event


def mutate(draw, event: dict, *, odd_only: bool) -> dict:
    """Set one field of `event` to an odd value of about its type, or to any JSON, or remove it.

    `odd_only`: always a value of about the right type, so more of them get past validation to the database.
    """
    path = draw(st.sampled_from([*FIELD_PATHS, ("unknown",)]))
    *parents, field = path
    target = event
    for key in parents:
        target = target.get(key) if isinstance(target, dict) else None
    if not isinstance(target, dict):  # e.g. `message` of a chatbot_switch: set the field at the top instead
        target = event
    if field == "unknown":
        target[draw(tricky_text)] = draw(json_values)
        return event
    action = "odd" if odd_only else draw(st.sampled_from(["odd", "odd", "any", "delete"]))
    if action == "delete":
        target.pop(field, None)
    else:
        target[field] = draw(ODD_VALUES[field] if action == "odd" else json_values)
    return event


@st.composite
def nearly_valid_events(draw, *, kinds=MESSAGE_KINDS, odd_only: bool = False) -> dict:
    """A valid event but for one field (see `mutate`)."""
    return mutate(draw, draw(valid_events(kinds=kinds)), odd_only=odd_only)


def to_json(value, *, ascii_only: bool) -> bytes:
    """JSON bytes; lone surrogates become invalid UTF-8 when not escaped, as a careless sender would send."""
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


json_bodies = st.builds(
    to_json,
    st.one_of(json_values, valid_events(), nearly_valid_events(), nearly_valid_events(odd_only=True)),
    ascii_only=st.sampled_from([True, True, False]),  # only escaped lone surrogates (\ud800) reach the database
)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=latin-1",
            "APPLICATION/JSON",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=xyz",
            "",
        ]
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40),
)


# --- JSON bodies --------------------------------------------------------------------------------


@fuzz(max_examples=120)
@given(body=json_bodies)
@example(body=b'{"event_id": "e1", "type": "message", "user_key": "u", "message": {"kind": "text", "text": "\\ud800"}}')
@example(body=b'{"event_id": "e1", "type": "message", "user_key": "u", "message": {"kind": "text", "text": "\\u0000"}}')
def test_signed_json_never_fails_and_a_refusal_writes_nothing(client, center, blocked, settings, body):
    post(client, settings, body, content_type="application/json", headers=signed(body))


@fuzz(max_examples=60)
@given(sent_at=iso_datetimes, event_type=st.sampled_from(["message", "chatbot_switch", "friend_status"]))
@example(sent_at="0001-01-01T00:00:00+09:00", event_type="message")
@example(sent_at="9999-12-31T23:59:59-09:00", event_type="message")
@example(sent_at="2000-01-01T00:00:00+00:00:01.000001", event_type="message")
def test_any_sent_at_is_kept_or_refused(client, center, settings, sent_at, event_type):
    event = {"event_id": "sent-at", "type": event_type, "user_key": "kakao-user-2", "sent_at": sent_at}
    event.update(is_friend=True, message={"kind": "text", "text": "안녕하세요"})
    body = to_json(event, ascii_only=False)

    response = post(client, settings, body, content_type="application/json", headers=signed(body))

    assert response.status_code in (200, 400)


@fuzz(max_examples=120)
@given(event=nearly_valid_events(odd_only=True), ascii_only=st.sampled_from([True, True, False]))
def test_signed_events_with_one_odd_field_never_fail(client, center, blocked, settings, event, ascii_only):
    body = to_json(event, ascii_only=ascii_only)

    post(client, settings, body, content_type="application/json", headers=signed(body))


@fuzz(max_examples=60)
@given(body=json_bodies)
def test_unsigned_json_is_refused_and_writes_nothing(client, center, settings, body):
    response = post(client, settings, body, content_type="application/json", headers={})

    # A body that is not UTF-8 is refused (400) while it is read, before the signature is looked at.
    assert (response.status_code, response.json()["error"]) in {(401, "missing_signature"), (400, "invalid_json")}


@fuzz(max_examples=80)
@given(body=st.binary(max_size=300), sign=st.booleans(), content_type=content_types)
def test_random_bytes_never_fail(client, center, settings, body, sign, content_type):
    post(client, settings, body, content_type=content_type, headers=signed(body) if sign else {})


# --- headers ------------------------------------------------------------------------------------

header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80)
timestamps = st.one_of(
    st.none(),  # header left out
    st.integers(-400, 400).map(lambda skew: str(int(time.time()) + skew)),
    st.integers().map(str),
    st.sampled_from(["", " ", "0", "-0", "+1", "1e9", "١٢٣", "99999999999999999999", " 1700000000"]),
    header_text,
)


@st.composite
def signatures(draw, body: bytes, timestamp: str | None) -> str | None:
    """The signature header: right, right for another secret or body, malformed, or left out."""
    stamp = timestamp if timestamp is not None else str(int(time.time()))
    form = draw(st.sampled_from(["right", "right-padded", "upper", "other-secret", "other-body", "hex", "text", None]))
    if form is None:
        return None
    if form == "right":
        return signing.signature(SECRET, stamp, body)
    if form == "right-padded":
        return f"  {signing.signature(SECRET, stamp, body)}\t"
    if form == "upper":
        return signing.signature(SECRET, stamp, body).upper()
    if form == "other-secret":
        return signing.signature(draw(st.text(max_size=20)), stamp, body)
    if form == "other-body":
        return signing.signature(SECRET, stamp, draw(st.binary(max_size=20)))
    if form == "hex":
        return "sha256=" + draw(hex_digests)
    return draw(header_text)


@fuzz(max_examples=120)
@given(data=st.data(), slug=st.sampled_from(["alpha", "alpha", "alpha", "beta", "ALPHA", "알파", "a.b", "-"]))
def test_random_signature_headers_never_fail(client, center, blocked, settings, data, slug):
    event = data.draw(st.one_of(valid_events(kinds=["text"]), nearly_valid_events(kinds=["text"])))
    body = to_json(event, ascii_only=data.draw(st.booleans()))
    timestamp = data.draw(timestamps)
    given_signature = data.draw(signatures(body, timestamp))
    headers = {}
    if timestamp is not None:
        headers[signing.TIMESTAMP_HEADER] = timestamp
    if given_signature is not None:
        headers[signing.SIGNATURE_HEADER] = given_signature
    content_type = data.draw(st.sampled_from(["application/json", "application/json; charset=utf-8"]) | content_types)

    response = post(client, settings, body, content_type=content_type, headers=headers, url=f"/channel/{slug}/events")

    if slug != "alpha":
        assert response.status_code == 404
    elif timestamp is None or given_signature is None:
        assert response.status_code in (400, 401)  # the content type is looked at before the signature


# --- multipart ----------------------------------------------------------------------------------


def encode_multipart(boundary: str, parts: list[tuple[list[str], bytes]]) -> bytes:
    out = b""
    for headers, content in parts:
        out += f"--{boundary}\r\n".encode() + "".join(f"{h}\r\n" for h in headers).encode("utf-8", "surrogatepass")
        out += b"\r\n" + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


@st.composite
def file_uploads(draw) -> tuple[dict, bytes, list[str]]:
    """A file event, the file bytes, and the file part's headers; mostly in agreement but for one field."""
    content = draw(st.binary(max_size=2048))
    event = draw(valid_events(kinds=FILE_KINDS))
    if isinstance(described := event.get("message", {}).get("file"), dict):
        described.update(size=len(content), sha256=hashlib.sha256(content).hexdigest())
        described["name"] = draw(st.just("photo.png") | file_names)
    change = draw(st.sampled_from(["none", "odd", "odd", "odd", "any", "size", "sha256-upper"]))
    if change in ("odd", "any"):
        mutate(draw, event, odd_only=change == "odd")
    elif isinstance(described, dict) and change == "size":
        described["size"] = draw(st.sampled_from([len(content) + 1, len(content) - 1, 0]))
    elif isinstance(described, dict) and change == "sha256-upper":
        described["sha256"] = described["sha256"].upper()
    filename = draw(st.just("photo.png") | file_names).replace('"', "").replace("\r", "").replace("\n", "")
    headers = [f'Content-Disposition: form-data; name="file"; filename="{filename}"']
    if draw(st.booleans()):
        headers.append(f"Content-Type: {draw(st.sampled_from(['image/png', 'application/octet-stream', '']))}")
    return event, content, headers


@fuzz(max_examples=100)
@given(
    upload=file_uploads(), ascii_only=st.sampled_from([True, True, False]), sign=st.sampled_from([True, True, False])
)
@example(
    upload=({"event_id": "fuzz-long-name", "type": "message", "user_key": "kakao-user-2",
             "message": {"kind": "file", "file": {"name": "가" * 100 + ".txt", "size": 1,
                                                  "sha256": hashlib.sha256(b"x").hexdigest()}}},
            b"x", ['Content-Disposition: form-data; name="file"; filename="a.txt"']),
    ascii_only=False,
    sign=True,
)  # fmt: skip
def test_multipart_events_with_random_files_never_fail(client, center, blocked, settings, upload, ascii_only, sign):
    event, content, file_headers = upload
    event_bytes = to_json(event, ascii_only=ascii_only)
    boundary = uuid.uuid4().hex
    body = encode_multipart(
        boundary,
        [(['Content-Disposition: form-data; name="event"'], event_bytes), (file_headers, content)],
    )
    headers = signed(event_bytes) if sign else {}

    def the_file_is_kept(answer: dict) -> None:
        if answer["message_id"] is not None:
            # Only a file message is accepted with a file part (a part whose file name is empty is no file part).
            attachment = Attachment.objects.get(message_id=answer["message_id"])
            assert (attachment.size, attachment.sha256) == (len(content), hashlib.sha256(content).hexdigest())
            assert attachment.file.read() == content

    post(
        client,
        settings,
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
        check_accepted=the_file_is_kept,
    )


part_names = st.sampled_from(["event", "file", "file", "other"]) | st.text(max_size=8)
part_headers = st.lists(
    st.one_of(
        st.builds(lambda n: f'Content-Disposition: form-data; name="{n}"', part_names),
        st.builds(lambda n, f: f'Content-Disposition: form-data; name="{n}"; filename="{f}"', part_names, header_text),
        st.builds(lambda n: f"Content-Disposition: form-data; name*=UTF-8''{n}", part_names),
        st.sampled_from(
            [
                "Content-Type: application/json",
                "Content-Type: text/plain; charset=euc-kr",
                "Content-Type: text/plain; charset=nope",
                "Content-Transfer-Encoding: base64",
                "Content-Transfer-Encoding: quoted-printable",
                "Content-Disposition: attachment",
                "Content-Disposition:",
                "X-Junk",
            ]
        ),
        header_text.map(lambda text: text.replace("\r", "").replace("\n", "")),
    ),
    max_size=3,
)
part_contents = st.one_of(json_bodies, st.binary(max_size=200), st.sampled_from([b"", b"--", b"\r\n\r\n"]))


@fuzz(max_examples=120)
@given(
    parts=st.lists(st.tuples(part_headers, part_contents), max_size=4),
    boundary=st.sampled_from(["b0undary", "----x", "a" * 70])
    | st.text(string.ascii_letters + "'()+_,-./:=?", min_size=1),
    sign_part=st.integers(0, 4),
    truncate=st.none() | st.integers(0, 400),
)
def test_random_multipart_bodies_never_fail(client, center, settings, parts, boundary, sign_part, truncate):
    body = encode_multipart(boundary, parts)
    if truncate is not None:
        body = body[:truncate]
    signed_part = parts[sign_part][1] if sign_part < len(parts) else b""

    post(client, settings, body, content_type=f"multipart/form-data; boundary={boundary}", headers=signed(signed_part))


def test_a_multipart_body_with_too_many_files_is_a_json_refusal(client, center, settings):
    """Django stops parsing past DATA_UPLOAD_MAX_NUMBER_FILES (100) with TooManyFilesSent."""
    event = {"event_id": "many-files", "type": "message", "user_key": "u", "message": {"kind": "text", "text": "hi"}}
    event_bytes = json.dumps(event).encode()
    parts = [(['Content-Disposition: form-data; name="event"'], event_bytes)]
    parts += [([f'Content-Disposition: form-data; name="f{i}"; filename="{i}.txt"'], b"x") for i in range(101)]
    body = encode_multipart("b0undary", parts)

    response = post(
        client, settings, body, content_type="multipart/form-data; boundary=b0undary", headers=signed(event_bytes)
    )

    assert response.status_code == 400


# --- methods ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "options"])
def test_other_methods_are_a_json_405(client, center, settings, method):
    before = snapshot(settings.MEDIA_ROOT)

    response = getattr(client, method)(URL)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    check_answer(response, before, snapshot(settings.MEDIA_ROOT))

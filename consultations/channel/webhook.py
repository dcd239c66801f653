"""`POST /channel/<center-slug>/events`: the channel's way in (SPEC §7).

Under ASGI, what needs no body is refused before the body is read
(`refuse_early`, counsel_center/request_limits.py): a body over the limit, an
unknown center, missing or stale signature headers. The view checks them again
where it runs without that guard (the test client, WSGI).

Order of work: find the center, read the body (JSON, or multipart with the
event and one file), verify the signature, validate the event, answer a repeat
from its first answer, store the file (outside any transaction), then apply
the event through the lifecycle and record it, in one transaction the view
opens. Every refusal is a JSON error; nothing is written for a refused request.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from counsel_center import clock
from counsel_center.models import Center
from counsel_center.request_limits import EarlyRequest, Refusal, body_limit, received_at
from customers import rules as customer_rules

from .. import file_policy, lifecycle, uploads
from ..lifecycle import Refused
from ..models import ChannelEvent
from . import signing
from .inbound import ChannelError, InboundEvent, bad, parse_event

logger = logging.getLogger("consultations.webhook")  # its name before it moved here: log filters know it


def _too_large() -> ChannelError:
    return ChannelError(413, "too_large", f"An attachment can be at most {file_policy.MAX_FILE_BYTES} bytes.")


def _read(request: HttpRequest) -> tuple[str, bytes, object | None]:
    """The event JSON text, the bytes that were signed, and the uploaded file if any."""
    declared_length = request.META.get("CONTENT_LENGTH") or "0"
    if declared_length.isdigit() and int(declared_length) > uploads.MAX_BODY_BYTES:
        raise _too_large()
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = request.body
        except RequestDataTooBig:
            raise ChannelError(413, "too_large", "The event is too large.") from None
        try:
            return body.decode("utf-8"), body, None
        except UnicodeDecodeError:
            raise bad("invalid_json", "The event is not UTF-8 text.") from None
    if content_type == "multipart/form-data":
        # Files stream to disk through uploads.CappedUploadHandler (FILE_UPLOAD_HANDLERS).
        try:
            event_text = request.POST.get("event")
            files = request.FILES.getlist("file")
            other_files = [name for name in request.FILES if name != "file"]
        except RequestDataTooBig:
            raise ChannelError(413, "too_large", "The event is too large.") from None
        except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent, UnicodeDecodeError, ValueError):
            raise bad("bad_multipart", "The multipart body could not be read.") from None
        if uploads.upload_too_large(request):
            raise _too_large()
        if event_text is None:
            raise bad("missing_field", "The multipart body needs an `event` field with the event JSON.")
        if len(files) > 1 or other_files:
            raise bad("bad_attachment", "One file per message, in the `file` field.")
        return event_text, event_text.encode("utf-8"), files[0] if files else None
    raise bad("unsupported_content_type", "Send application/json, or multipart/form-data with `event` and `file`.")


def _check_file(event: InboundEvent, upload) -> str | None:
    """The file's category (file_policy); the uploaded file must be the one the event describes."""
    if event.file is None:
        if upload is not None:
            raise bad("bad_attachment", "Only file messages (image, video, audio, file) carry a file.")
        return None
    with translation.override("en"):  # the channel's errors are English, the lazy message too
        try:
            category = file_policy.check_file_name(event.file.name)
        except Refused as refusal:
            raise bad(refusal.code, refusal.message) from None
    if event.file.size > file_policy.MAX_FILE_BYTES:
        raise _too_large()
    if upload is None:
        raise bad("bad_attachment", "The event describes a file but the request has no `file` part.")
    if upload.size != event.file.size:
        raise bad("attachment_mismatch", f"The file has {upload.size} bytes, the event says {event.file.size}.")
    if uploads.sha256_of(upload) != event.file.sha256:
        raise bad("attachment_mismatch", "The file's SHA-256 does not match the event.")
    return category


def _answer(received: lifecycle.Received, *, duplicate: bool = False) -> dict:
    return {
        "consultation_id": received.consultation.public_id if received.consultation else None,
        "message_id": received.message.pk if received.message else None,
        "customer_id": received.customer.customer_id,
        "duplicate": duplicate,
    }


def _apply(center: Center, event: InboundEvent, stored: lifecycle.IncomingFile | None) -> lifecycle.Received:
    if event.type == "message":
        return lifecycle.do_receive_customer_message(
            center,
            user_key=event.user_key,
            text=event.text,
            kind=stored.kind if stored else event.kind,
            profile_nickname=event.profile_nickname,
            is_friend=event.is_friend,
            channel_event_id=event.event_id,
            channel_sent_at=event.sent_at,
            attachment=stored,
        )
    if event.type == "chatbot_switch":
        return lifecycle.do_switch_to_chatbot(
            center, user_key=event.user_key, profile_nickname=event.profile_nickname, is_friend=event.is_friend
        )
    customer = lifecycle.do_update_friend_status(
        center, user_key=event.user_key, is_friend=event.is_friend, profile_nickname=event.profile_nickname
    )
    return lifecycle.Received(customer=customer, consultation=None, message=None)


class _Duplicate(Exception):
    pass


def _record_and_apply(center: Center, event: InboundEvent, stored: lifecycle.IncomingFile | None) -> dict:
    """Apply the event and record its id with the answer, in one transaction.

    The lifecycle's own `atomic(savepoint=False)` joins this one, so the effect
    and the record commit or roll back together, with no savepoint. The event
    id's unique key decides between two copies arriving together: on
    PostgreSQL the second copy waits for the first's lock on the customer (or,
    for copies naming different customers, on the key), then its insert fails
    and everything it did rolls back; SQLite's IMMEDIATE transactions run them
    one after the other. The IntegrityError is caught only here, outside the
    block that it rolled back.
    """
    try:
        with transaction.atomic():
            answer = _answer(_apply(center, event, stored))
            ChannelEvent.objects.create(
                center=center, event_id=event.event_id, type=event.type, received_at=clock.now(), response=answer
            )
    except IntegrityError:
        if ChannelEvent.objects.filter(center=center, event_id=event.event_id).exists():
            raise _Duplicate from None
        raise
    return answer


def _first_answer(center: Center, event_id: str) -> JsonResponse | None:
    record = ChannelEvent.objects.filter(center=center, event_id=event_id).only("response").first()
    if record is None:
        return None
    return JsonResponse({**record.response, "duplicate": True})


def _handle(request: HttpRequest, slug: str) -> JsonResponse:
    center = Center.objects.filter(slug=slug).first()
    if center is None:
        raise ChannelError(404, "unknown_center", "No center has this address.")
    event_text, signed_bytes, upload = _read(request)
    try:
        signing.verify(
            center.webhook_secret,
            timestamp=request.headers.get(signing.TIMESTAMP_HEADER),
            given=request.headers.get(signing.SIGNATURE_HEADER),
            body=signed_bytes,
            now=received_at(request),  # a 300 MB upload may take longer than the window
        )
    except signing.SignatureError as error:
        raise ChannelError(401, error.code, error.detail) from None
    event = parse_event(event_text)
    category = _check_file(event, upload)
    # A repeat without a file is caught by the unique key at no extra query;
    # one with a file is answered before the file is stored again.
    if upload is not None and (repeat := _first_answer(center, event.event_id)) is not None:
        return repeat
    stored = (
        uploads.store(center.pk, upload, name=file_policy.clean_name(event.file.name), category=category)
        if upload
        else None
    )
    try:
        return JsonResponse(_record_and_apply(center, event, stored))
    except _Duplicate:
        uploads.discard(stored)
        return _first_answer(center, event.event_id) or JsonResponse(
            {"error": "conflict", "detail": "The event is being processed; retry."}, status=409
        )
    except lifecycle.Refused as refusal:
        uploads.discard(stored)
        if refusal.code == "customer_blocked":
            customer_rules.do_record_blocked_attempt(center, user_key=event.user_key)
            return JsonResponse({"error": "customer_blocked", "detail": "This customer is blocked."}, status=403)
        with translation.override("en"):
            raise bad(refusal.code, refusal.message) from None
    except BaseException:
        uploads.discard(stored)
        raise


def refuse_early(request: EarlyRequest) -> Refusal | None:
    """What the webhook refuses from its address and headers alone, before its body is read (one query)."""
    if request.method != "POST":
        return None  # the view answers 405
    if not Center.objects.filter(slug=request.kwargs["slug"]).exists():
        return Refusal(404, "unknown_center", "No center has this address.")
    try:
        signing.check_headers(
            timestamp=request.headers.get(signing.TIMESTAMP_HEADER.lower()),
            given=request.headers.get(signing.SIGNATURE_HEADER.lower()),
        )
    except signing.SignatureError as error:
        return Refusal(401, error.code, error.detail)
    return None


@body_limit(uploads.MAX_BODY_BYTES, check=refuse_early)
@csrf_exempt  # signed by the channel instead; the only CSRF-exempt view
def channel_events(request: HttpRequest, slug: str) -> JsonResponse:
    if request.method != "POST":
        response = JsonResponse({"error": "method_not_allowed", "detail": "Use POST."}, status=405)
        response["Allow"] = "POST"
        return response
    try:
        return _handle(request, slug)
    except ChannelError as error:
        return JsonResponse({"error": error.code, "detail": error.detail}, status=error.status)

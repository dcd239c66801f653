"""Downloads (R15): files go only to members of their center, or to the channel by a signed, expiring link.

What a browser gets: the name as sent (RFC 6266 / 5987, so Korean names work),
a content type of ours, never the sender's; `nosniff`; inline only for a
verified image; and the same headers when the web server sends the bytes
(X-Accel-Redirect, X-Sendfile).
"""

import io
import time
from email.message import Message as MimeMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from PIL import Image

from consultations import thumbnails
from consultations.channel import file_links
from consultations.models import Attachment, Status

from . import files
from .helpers import consultation_in

pytestmark = pytest.mark.django_db

PNG = files.png((400, 200))
KOREAN_NAME = "견적서 최종.pdf"


@pytest.fixture
def channel() -> Client:
    return Client()


@pytest.fixture
def sent(channel, center):
    """A customer's file, received through the webhook (its thumbnail task not run)."""

    def send(content: bytes, name: str, content_type: str = "application/octet-stream") -> Attachment:
        response = files.customer_sends(channel, content, name=name, content_type=content_type)
        assert response.status_code == 200, response.content
        return Attachment.objects.select_related("message").get(message_id=response.json()["message_id"])

    return send


@pytest.fixture
def alice(client, agent):
    client.force_login(agent.user)
    return client


def download_url(attachment: Attachment, query: str = "") -> str:
    return reverse("file-download", args=[attachment.pk]) + query


def thumbnail_url(attachment: Attachment) -> str:
    return reverse("file-thumbnail", args=[attachment.pk])


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def disposition_of(response) -> tuple[str, str]:
    """(inline | attachment, the file name) as a mail or HTTP client reads Content-Disposition (RFC 2231/5987)."""
    header = MimeMessage()
    header["Content-Disposition"] = response["Content-Disposition"]
    return header.get_content_disposition(), header.get_filename()


def assert_safe_headers(response) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "private" in response["Cache-Control"]


def with_thumbnail(attachment: Attachment) -> Attachment:
    assert thumbnails.make_thumbnail(attachment.pk) == "made"
    attachment.refresh_from_db()
    return attachment


# --- who may download ------------------------------------------------------------------------------


def test_any_member_of_the_center_gets_the_file(client, agent2, manager, sent):
    attachment = sent(files.PDF, "견적서.pdf")

    for member in (agent2, manager):  # not the assignee: the file belongs to the center (R15)
        client.force_login(member.user)
        response = client.get(download_url(attachment))
        assert response.status_code == 200
        assert body_of(response) == files.PDF


def test_another_centers_member_gets_404_on_every_file_url(client, outsider, sent):
    pdf = sent(files.PDF, "견적서.pdf")
    image = with_thumbnail(sent(PNG, "사진.png"))
    client.force_login(outsider.user)

    for url in (download_url(pdf), download_url(pdf, "?download=1"), download_url(image), thumbnail_url(image)):
        assert client.get(url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_log_in(client, sent):
    pdf = sent(files.PDF, "견적서.pdf")
    image = with_thumbnail(sent(PNG, "사진.png"))

    for url in (download_url(pdf), download_url(image, "?download=1"), thumbnail_url(image)):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login") + "?next=")
        assert files.PDF not in response.content


def test_an_unknown_file_is_404(alice):
    assert alice.get(reverse("file-download", args=[999_999])).status_code == 404
    assert alice.get(reverse("file-thumbnail", args=[999_999])).status_code == 404


def test_a_file_missing_from_storage_is_404_not_500(alice, sent):
    attachment = sent(files.PDF, "견적서.pdf")
    default_storage.delete(attachment.file.name)

    assert alice.get(download_url(attachment)).status_code == 404


def test_downloads_take_only_get(alice, sent):
    attachment = sent(files.PDF, "견적서.pdf")

    assert alice.post(download_url(attachment)).status_code == 405


# --- what is sent -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", [KOREAN_NAME, "보고서 (2025) #1 & 100%.pdf", 'a "quoted"; name=evil.pdf', "plain-ascii.pdf"]
)
def test_the_name_as_sent_comes_back_in_content_disposition(alice, sent, name):
    attachment = sent(files.PDF, name)

    response = alice.get(download_url(attachment))

    assert disposition_of(response) == ("attachment", name)
    assert "\n" not in response["Content-Disposition"] and "\r" not in response["Content-Disposition"]


def test_a_korean_name_is_sent_as_utf8_percent_encoding(alice, sent):
    response = alice.get(download_url(sent(files.PDF, KOREAN_NAME)))

    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert unquote(disposition.split("''", 1)[1]) == KOREAN_NAME


@pytest.mark.parametrize("query", ["", "?download=0", "?download=1", "?inline=1"])
@pytest.mark.parametrize(
    ("name", "content", "uploaded_as"),
    [
        pytest.param("견적서.pdf", files.PDF, "application/pdf", id="pdf"),
        pytest.param("회의록.png", files.TEXT_AS_PNG, "image/png", id="text-as-png"),
        pytest.param("page.txt", b"<html><script>alert(1)</script></html>", "text/html", id="html-as-txt"),
        pytest.param("undecodable.png", files.undecodable_png(), "image/png", id="pillow-verified-only"),
    ],
)
def test_a_file_that_is_not_a_verified_image_is_never_inline(alice, sent, query, name, content, uploaded_as):
    attachment = sent(content, name, uploaded_as)
    if name == "undecodable.png":  # an image until its thumbnail task finds it is not one
        assert thumbnails.make_thumbnail(attachment.pk) == "not_an_image"

    response = alice.get(download_url(attachment, query))

    assert response.status_code == 200
    assert disposition_of(response) == ("attachment", name)
    assert_safe_headers(response)
    assert body_of(response) == content


def test_a_verified_image_shows_inline_unless_downloaded(alice, sent):
    attachment = sent(PNG, "사진.png", "text/html")

    inline = alice.get(download_url(attachment))
    download = alice.get(download_url(attachment, "?download=1"))

    assert disposition_of(inline) == ("inline", "사진.png")
    assert disposition_of(download) == ("attachment", "사진.png")
    for response in (inline, download):
        assert response["Content-Type"] == "image/png"
        assert_safe_headers(response)
        assert body_of(response) == PNG


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("견적서.pdf", files.PDF, "application/pdf"),
        ("사진.png", PNG, "image/png"),
        ("사진.jpg", files.image_bytes("JPEG"), "image/jpeg"),
        ("notes.txt", b"<script>alert(1)</script>", "text/plain"),
        ("data.zip", b"PK\x03\x04", "application/zip"),
        ("알수없음.cell", b"\x00\x01", "application/octet-stream"),
    ],
)
def test_the_content_type_is_ours_not_the_uploaders(alice, sent, name, content, expected):
    attachment = sent(content, name, "text/html; charset=utf-8")

    response = alice.get(download_url(attachment))

    assert response["Content-Type"] == expected
    assert_safe_headers(response)


# --- thumbnails -----------------------------------------------------------------------------------------


def test_the_thumbnail_is_404_until_it_exists(alice, sent):
    attachment = sent(PNG, "사진.png")

    assert alice.get(thumbnail_url(attachment)).status_code == 404

    with_thumbnail(attachment)
    response = alice.get(thumbnail_url(attachment))

    assert response.status_code == 200
    assert Image.open(io.BytesIO(body_of(response))).size == (320, 160)
    assert disposition_of(response)[0] == "inline"
    assert response["Content-Type"] in ("image/png", "image/jpeg")
    assert_safe_headers(response)


def test_a_file_has_no_thumbnail(alice, sent):
    assert alice.get(thumbnail_url(sent(files.PDF, "견적서.pdf"))).status_code == 404
    assert alice.get(thumbnail_url(sent(files.TEXT_AS_PNG, "회의록.png"))).status_code == 404


# --- served by the web server ---------------------------------------------------------------------


def test_x_accel_redirect_hands_the_stored_file_to_the_web_server_with_the_same_headers(alice, sent, settings):
    attachment = with_thumbnail(sent(PNG, "photo.png"))
    pdf = sent(files.PDF, KOREAN_NAME)
    by_django = [alice.get(url) for url in (download_url(attachment), download_url(pdf), thumbnail_url(attachment))]
    settings.ATTACHMENT_SERVE_WITH = "x-accel-redirect"

    by_server = [alice.get(url) for url in (download_url(attachment), download_url(pdf), thumbnail_url(attachment))]

    stored = [attachment.file.name, pdf.file.name, attachment.thumbnail.name]
    for response, django_response, name in zip(by_server, by_django, stored, strict=True):
        assert response.status_code == 200
        assert response.content == b""
        assert unquote(response["X-Accel-Redirect"]) == f"/protected-media/{name}"
        assert response["X-Accel-Redirect"].isascii()
        for header in ("Content-Type", "Content-Disposition", "X-Content-Type-Options", "Content-Security-Policy"):
            assert response[header] == django_response[header], header
    assert by_server[0]["X-Accel-Redirect"] == f"/protected-media/{attachment.file.name}"  # an ASCII name as it is
    assert by_server[1]["X-Accel-Redirect"] != f"/protected-media/{pdf.file.name}"  # a Korean one percent-encoded


def test_x_accel_redirect_still_checks_the_center(client, outsider, sent, settings):
    settings.ATTACHMENT_SERVE_WITH = "x-accel-redirect"
    attachment = sent(files.PDF, "견적서.pdf")
    client.force_login(outsider.user)

    response = client.get(download_url(attachment))

    assert response.status_code == 404
    assert not response.has_header("X-Accel-Redirect")


def test_x_sendfile_names_the_file_on_disk(alice, sent, settings):
    settings.ATTACHMENT_SERVE_WITH = "x-sendfile"
    attachment = sent(files.PDF, KOREAN_NAME)

    response = alice.get(download_url(attachment))

    assert response.content == b""
    # A header is Latin-1: a Korean path must go percent-encoded (the server decodes it), not MIME-encoded.
    assert response["X-Sendfile"].isascii() and "=?utf-8?" not in response["X-Sendfile"]
    assert Path(unquote(response["X-Sendfile"])) == Path(settings.MEDIA_ROOT) / attachment.file.name
    assert disposition_of(response) == ("attachment", KOREAN_NAME)
    assert_safe_headers(response)


# --- the channel's signed links --------------------------------------------------------------------------


@pytest.fixture
def agents_file(alice, agent, make_consultation) -> Attachment:
    """A file an agent sent through the composer: what the channel fetches by link."""
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    files.agent_sends(alice, consultation, files.PDF, name=KOREAN_NAME)
    return Attachment.objects.get()


def link_path(attachment: Attachment, center) -> str:
    return urlsplit(file_links.channel_link(attachment, center_id=center.pk, slug=center.slug)).path


def test_a_valid_link_gives_the_file_without_a_session(channel, center, agents_file):
    response = channel.get(link_path(agents_file, center))

    assert response.status_code == 200
    assert body_of(response) == files.PDF
    assert disposition_of(response) == ("attachment", KOREAN_NAME)
    assert response["Content-Type"] == "application/pdf"
    assert_safe_headers(response)


def test_a_link_to_an_image_is_a_download_too(channel, center, sent):
    attachment = sent(PNG, "사진.png")

    response = channel.get(link_path(attachment, center))

    assert disposition_of(response) == ("attachment", "사진.png")
    assert body_of(response) == PNG


def test_a_tampered_token_is_404(channel, center, agents_file):
    path = link_path(agents_file, center)
    prefix, token = path.rsplit("/", 1)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")

    for bad in (flipped, token[:-1], token + "x", "x" + token, "not-a-token", token.split(":")[0]):
        assert channel.get(f"{prefix}/{bad}").status_code == 404, bad


def test_a_link_at_another_centers_address_is_404(channel, center, other_center, agents_file):
    token = link_path(agents_file, center).rsplit("/", 1)[1]

    assert channel.get(reverse("channel-file", args=["beta", token])).status_code == 404
    assert channel.get(reverse("channel-file", args=["gamma", token])).status_code == 404


def test_a_link_signed_for_another_center_is_404(channel, other_center, agents_file):
    response = channel.get(link_path(agents_file, other_center))  # beta's id and slug, alpha's file

    assert response.status_code == 404


def test_an_expired_link_is_404(channel, center, agents_file, settings):
    path = link_path(agents_file, center)
    settings.ATTACHMENT_LINK_MAX_AGE_SECONDS = -1

    assert channel.get(path).status_code == 404


def test_a_link_lasts_its_max_age_and_no_longer(channel, center, agents_file, settings, monkeypatch):
    settings.ATTACHMENT_LINK_MAX_AGE_SECONDS = 3600
    path = link_path(agents_file, center)
    now = time.time()

    monkeypatch.setattr(time, "time", lambda: now + 3600 - 30)
    assert channel.get(path).status_code == 200
    monkeypatch.setattr(time, "time", lambda: now + 3600 + 30)
    assert channel.get(path).status_code == 404


def test_a_link_to_a_deleted_file_is_404(channel, center, agents_file):
    path = link_path(agents_file, center)
    agents_file.message.delete()

    assert channel.get(path).status_code == 404

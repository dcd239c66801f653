"""Images (R15): only a decodable image of its extension is shown as one, and it gets a thumbnail.

Anything else named like an image (text, another format, a decompression bomb)
is a plain file: kind "file", downloaded as an attachment, never decoded. The
thumbnail is made by a Celery task after the message commits (run eagerly
here), recorded with a FILE_READY event; an image whose full decode fails there
becomes a plain file.
"""

import io
import resource
import tracemalloc
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from consultations import images, thumbnails
from consultations.models import Attachment, Event, Message, Status

from . import files
from .helpers import consultation_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(client, agent):
    client.force_login(agent.user)
    return client


@pytest.fixture
def channel() -> Client:
    return Client()


@pytest.fixture
def receive(channel, center, django_capture_on_commit_callbacks):
    """The customer sends a file through the webhook; what runs after the commit (the thumbnail task) runs too."""

    def send(content: bytes, name: str, **kwargs) -> Attachment:
        with django_capture_on_commit_callbacks(execute=True):
            response = files.customer_sends(channel, content, name=name, **kwargs)
        assert response.status_code == 200, response.content
        return Attachment.objects.select_related("message").get(message_id=response.json()["message_id"])

    return send


def file_ready_events(attachment: Attachment) -> list[dict]:
    events = Event.objects.filter(consultation=attachment.message.consultation_id, kind=Event.Kind.FILE_READY)
    return [event.data for event in events.order_by("pk")]


def thumbnails_stored(settings) -> list[str]:
    return [name for name in files.stored_files(settings.MEDIA_ROOT) if name.startswith("thumbnails/")]


def open_thumbnail(settings, attachment: Attachment) -> Image.Image:
    assert attachment.thumbnail, "no thumbnail was recorded"
    path = Path(settings.MEDIA_ROOT) / attachment.thumbnail.name
    assert path.is_file()
    image = Image.open(path)
    image.load()
    return image


def assert_plain_file(attachment: Attachment, settings) -> None:
    assert attachment.message.kind == Message.Kind.FILE
    assert (attachment.width, attachment.height, attachment.thumbnail.name) == (None, None, "")
    assert file_ready_events(attachment) == []
    assert thumbnails_stored(settings) == []


# --- not images ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("회의록.png", files.TEXT_AS_PNG, id="text-as-png"),
        pytest.param("photo.png", files.image_bytes("JPEG"), id="jpeg-as-png"),
        pytest.param("photo.jpg", files.png(), id="png-as-jpg"),
        pytest.param("anim.gif", files.bmp(), id="bmp-as-gif"),
        pytest.param("empty.png", b"", id="empty"),
        pytest.param("cut.jpg", files.image_bytes("JPEG")[:20], id="header-only-jpeg"),
    ],
)
def test_an_image_name_without_an_image_of_its_format_is_a_plain_file(alice, receive, settings, name, content):
    attachment = receive(content, name, content_type="image/png")

    assert_plain_file(attachment, settings)
    response = alice.get(reverse("file-download", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == content
    assert alice.get(reverse("file-thumbnail", args=[attachment.pk])).status_code == 404


def test_a_decompression_bomb_is_a_plain_file_and_is_never_decoded(receive, settings):
    bomb = files.bomb()  # 30 000 × 30 000 grey pixels: 900 MB decoded, under 1 MB sent
    peak_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        attachment = receive(bomb, "poster.png")
        _, python_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    process_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before_kb) / 1024

    assert python_peak < 50 * 1024 * 1024, f"{python_peak / 2**20:.0f} MB allocated by Python"
    assert process_growth_mb < 100, (
        f"the process grew by {process_growth_mb:.0f} MB"
    )  # Pillow's pixels are not Python's
    assert_plain_file(attachment, settings)
    assert (Path(settings.MEDIA_ROOT) / attachment.file.name).read_bytes() == bomb


# --- thumbnails --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "size", "thumbnail_size"),
    [
        pytest.param("사진.png", files.png((64, 48)), (64, 48), (64, 48), id="png"),
        pytest.param("rotated.jpg", files.jpeg_rotated(), (40, 80), (40, 80), id="jpeg-exif-orientation-6"),
        pytest.param("움짤.GIF", files.gif((30, 30)), (30, 30), (30, 30), id="gif"),
        pytest.param("scan.bmp", files.bmp((30, 20)), (30, 20), (30, 20), id="bmp"),
        pytest.param("wide.png", files.png((2000, 1000)), (2000, 1000), (320, 160), id="large-png"),
        pytest.param("wide.jpeg", files.image_bytes("JPEG", (2000, 1000)), (2000, 1000), (320, 160), id="large-jpeg"),
        pytest.param("tall.jpg", files.image_bytes("JPEG", (900, 1800)), (900, 1800), (160, 320), id="tall-jpeg"),
    ],
)
def test_a_real_image_stays_an_image_and_gets_a_thumbnail(
    alice, receive, settings, center, name, content, size, thumbnail_size
):
    attachment = receive(content, name)

    attachment.refresh_from_db()
    assert attachment.message.kind == Message.Kind.IMAGE
    assert (attachment.width, attachment.height) == size
    thumbnail = open_thumbnail(settings, attachment)
    assert thumbnail.size == thumbnail_size
    assert max(thumbnail.size) <= images.THUMBNAIL_SIZE
    assert thumbnails_stored(settings) == [attachment.thumbnail.name]
    assert attachment.thumbnail.name.startswith(f"thumbnails/{center.pk}/")
    assert file_ready_events(attachment) == [{"message_id": attachment.message_id, "thumbnail": True}]

    served = alice.get(reverse("file-thumbnail", args=[attachment.pk]))
    assert served.status_code == 200
    assert served["Content-Type"] in ("image/png", "image/jpeg")
    assert Image.open(io.BytesIO(b"".join(served.streaming_content))).size == thumbnail_size


def test_an_image_the_agent_sends_gets_a_thumbnail_too(
    alice, agent, make_consultation, settings, django_capture_on_commit_callbacks
):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    with django_capture_on_commit_callbacks(execute=True):
        files.agent_sends(alice, consultation, files.image_bytes("JPEG", (1000, 500)), name="안내도.jpg")

    attachment = Attachment.objects.get()
    assert attachment.message.kind == Message.Kind.IMAGE
    assert open_thumbnail(settings, attachment).size == (320, 160)
    assert file_ready_events(attachment) == [{"message_id": attachment.message_id, "thumbnail": True}]


def test_the_thumbnail_task_run_twice_makes_one_thumbnail(receive, settings):
    attachment = receive(files.png(), "사진.png")

    assert thumbnails.make_thumbnail(attachment.pk) == "skipped"

    attachment.refresh_from_db()
    assert thumbnails_stored(settings) == [attachment.thumbnail.name]
    assert len(file_ready_events(attachment)) == 1


def test_two_copies_of_the_task_at_once_leave_one_thumbnail(
    channel, center, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """A second copy runs to the end while the first is decoding: the first records nothing and deletes its file."""
    with django_capture_on_commit_callbacks(execute=False):  # no task yet
        files.customer_sends(channel, files.png(), name="사진.png")
    attachment = Attachment.objects.get()
    real_thumbnail = images.thumbnail
    other_copy = []

    def thumbnail_while_another_copy_runs(source):
        result = real_thumbnail(source)
        if not other_copy:
            other_copy.append(None)
            other_copy.append(thumbnails.make_thumbnail(attachment.pk))
        return result

    monkeypatch.setattr(images, "thumbnail", thumbnail_while_another_copy_runs)

    first_copy = thumbnails.make_thumbnail(attachment.pk)

    assert (first_copy, other_copy[-1]) == ("skipped", "made")
    attachment.refresh_from_db()
    assert thumbnails_stored(settings) == [attachment.thumbnail.name]
    assert len(file_ready_events(attachment)) == 1


@pytest.mark.parametrize("failure", ["undecodable-data", "decoder-raises"])
def test_an_image_whose_full_decode_fails_becomes_a_plain_file(alice, receive, settings, monkeypatch, failure):
    if failure == "undecodable-data":
        content = files.undecodable_png()
    else:
        content = files.png()

        def broken(source):
            raise OSError("broken data stream when reading image file")

        monkeypatch.setattr(images, "thumbnail", broken)

    attachment = receive(content, "스캔.png")

    attachment.refresh_from_db()
    assert attachment.message.kind == Message.Kind.FILE
    assert attachment.thumbnail.name == ""
    assert thumbnails_stored(settings) == []
    assert file_ready_events(attachment) == [{"message_id": attachment.message_id, "thumbnail": False}]
    download = alice.get(reverse("file-download", args=[attachment.pk]))
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == content
    assert alice.get(reverse("file-thumbnail", args=[attachment.pk])).status_code == 404

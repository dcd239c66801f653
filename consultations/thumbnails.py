"""Thumbnails of verified images (R15), made by a Celery task after the message commits.

The task decodes the stored image once (images.thumbnail), stores the result,
and records it through the lifecycle, whose FILE_READY event shows it in open
consoles. An image Pillow cannot decode after all becomes a plain file. With
the broker down the image keeps its placeholder, and the periodic sweep
queues it again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from kombu.exceptions import OperationalError
from PIL import Image

from counsel_center import clock

from . import images, lifecycle
from .models import Attachment, thumbnail_storage_name

logger = logging.getLogger(__name__)

# An image without a thumbnail this long after its message is queued again by the sweep.
STALL_GRACE_SECONDS = 120


def enqueue(attachment_id: int) -> bool:
    """Queue the thumbnail of an image; False (logged) when the broker cannot be reached."""
    try:
        make_thumbnail.delay(attachment_id)
    except (OperationalError, OSError) as error:
        logger.warning("attachment %s: thumbnail not queued, the broker is unreachable (%s)", attachment_id, error)
        return False
    return True


@shared_task(name="consultations.thumbnails.make_thumbnail", ignore_result=True)
def make_thumbnail(attachment_id: int) -> str:
    """Make and record one image's thumbnail; returns what happened, for logs and tests."""
    attachment = (
        Attachment.objects.select_related("message__consultation")
        .filter(pk=attachment_id, thumbnail_pending=True)
        .first()
    )
    if attachment is None:
        return "skipped"
    center_id = attachment.message.consultation.center_id
    try:
        with default_storage.open(attachment.file.name, "rb") as source:
            content, extension = images.thumbnail(source)
    except FileNotFoundError:
        logger.warning("attachment %s: the stored image is missing", attachment_id)
        return "missing"
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:
        logger.info("attachment %s: not a decodable image after all (%s); now a plain file", attachment_id, error)
        lifecycle.do_record_thumbnail(attachment_id, None)
        return "not_an_image"
    name = default_storage.save(thumbnail_storage_name(center_id, extension), ContentFile(content))
    if lifecycle.do_record_thumbnail(attachment_id, name) is None:
        default_storage.delete(name)  # another copy of the task was first
        return "skipped"
    return "made"


@shared_task(name="consultations.thumbnails.sweep_thumbnails", ignore_result=True)
def sweep_thumbnails() -> int:
    """Queue again images still without a thumbnail STALL_GRACE_SECONDS after their message (periodic, beat)."""
    cutoff = clock.now() - timedelta(seconds=STALL_GRACE_SECONDS)
    stalled = Attachment.objects.filter(thumbnail_pending=True, message__created_at__lt=cutoff).values_list(
        "pk", flat=True
    )[:500]
    queued = 0
    for attachment_id in stalled:
        if not enqueue(attachment_id):
            break
        queued += 1
    return queued

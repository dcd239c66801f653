"""The response that sends a stored attachment (R15), for every download view.

The member views (console/views/files.py) and the channel's signed links
(`channel_file`, consultations/channel/file_links.py) check who may have the file,
then answer with `send_attachment` or `send_stored`.

There is no public media URL. A file goes out through `FileResponse`, or,
when ATTACHMENT_SERVE_WITH says so, through the web server (X-Accel-Redirect,
X-Sendfile) after the same checks. `Content-Disposition` carries the name as
sent (RFC 6266/5987 via Django, so Korean names work), the content type is
ours, never the sender's, and no response can run script (nosniff, a
sandboxing CSP).
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header

from .models import Attachment


def send_stored(name: str, *, filename: str, content_type: str, as_attachment: bool) -> HttpResponseBase:
    """The stored file `name`, by Django or by the web server (ATTACHMENT_SERVE_WITH)."""
    serve_with = settings.ATTACHMENT_SERVE_WITH
    disposition = content_disposition_header(as_attachment, filename)
    if serve_with == "x-accel-redirect":
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.ATTACHMENT_ACCEL_PREFIX + quote(name)
    elif serve_with == "x-sendfile":
        response = HttpResponse(content_type=content_type)
        response["X-Sendfile"] = quote(default_storage.path(name))  # mod_xsendfile url-decodes it
    else:
        try:
            handle = default_storage.open(name, "rb")
        except FileNotFoundError:
            raise Http404("The file is no longer stored.") from None
        response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    patch_cache_control(response, private=True, max_age=3600)
    return response


def send_attachment(attachment: Attachment, *, download: bool) -> HttpResponseBase:
    """Only a verified image may show inline; everything else is an attachment, whatever it says it is."""
    return send_stored(
        attachment.file.name,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
        as_attachment=download or not attachment.is_image,
    )

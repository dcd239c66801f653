"""Downloads of attachments (R15): only to members of the file's center, or to the channel by a signed link.

    GET files/<id>                        the file: a verified image inline, anything else as an attachment
    GET files/<id>?download=1             always as an attachment (the card's download button)
    GET files/<id>/thumbnail              a verified image's thumbnail
    GET channel/<slug>/files/<token>      an agent's file for the channel, no session (docs/channel.md)

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
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import path
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from counsel_center.membership import member_required

from .. import file_links
from ..access import access_attachment
from ..models import Attachment


def _send(name: str, *, filename: str, content_type: str, as_attachment: bool) -> HttpResponseBase:
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
    return _send(
        attachment.file.name,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
        as_attachment=download or not attachment.is_image,
    )


@require_GET
@member_required
def download(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    attachment = access_attachment(request.member, attachment_id)
    return send_attachment(attachment, download=request.GET.get("download") == "1")


@require_GET
@member_required
def thumbnail(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    attachment = access_attachment(request.member, attachment_id)
    if not attachment.thumbnail or not attachment.is_image:
        raise Http404("This file has no thumbnail.")
    name = attachment.thumbnail.name
    content_type = "image/png" if name.endswith(".png") else "image/jpeg"
    return _send(name, filename=f"thumbnail-{attachment.name}", content_type=content_type, as_attachment=False)


@require_GET
def channel_file(request: HttpRequest, slug: str, token: str) -> HttpResponseBase:
    """A link of file_links.channel_link; a wrong, expired or other center's link is a 404, like a missing file."""
    attachment = file_links.attachment_for(slug, token)
    if attachment is None:
        raise Http404("This link is not valid.")
    return send_attachment(attachment, download=True)


urlpatterns = [
    path("files/<int:attachment_id>", download, name="file-download"),
    path("files/<int:attachment_id>/thumbnail", thumbnail, name="file-thumbnail"),
]

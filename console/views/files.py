"""Downloads of attachments by members of the file's center (R15).

    GET files/<id>                        the file: a verified image inline, anything else as an attachment
    GET files/<id>?download=1             always as an attachment (the card's download button)
    GET files/<id>/thumbnail              a verified image's thumbnail

The channel fetches an agent's file by a signed link instead, without a
session (`channel_file`, consultations/file_links.py, docs/channel.md). Both
answer through consultations/file_responses.py: no public media URL, our
content type, no script.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponseBase
from django.urls import path
from django.views.decorators.http import require_GET

from consultations.access import access_attachment
from consultations.file_responses import send_attachment, send_stored
from counsel_center.membership import member_required


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
    return send_stored(name, filename=f"thumbnail-{attachment.name}", content_type=content_type, as_attachment=False)


urlpatterns = [
    path("files/<int:attachment_id>", download, name="file-download"),
    path("files/<int:attachment_id>/thumbnail", thumbnail, name="file-thumbnail"),
]

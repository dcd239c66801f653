"""Files arriving in a request body (R14), and how they are stored (SPEC §4).

`CappedUploadHandler` is the site's only upload handler (FILE_UPLOAD_HANDLERS):
every file part streams to a temporary file in FILE_UPLOAD_TEMP_DIR, never into
memory, its SHA-256 is computed on the way, and reading stops as soon as the
part passes MAX_FILE_BYTES (at once when the declared body is already larger).
The view asks `upload_too_large(request)` and refuses; Django deletes the
temporary file when the request ends, so nothing partial is left behind.

`store` moves a checked upload into the default storage under a path that
never uses the sent name (`attachment_storage_name`); on the file system
storage that is a rename when the temporary directory is on the same disk.
"""

from __future__ import annotations

import hashlib

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

from . import file_policy, images
from .lifecycle import IncomingFile
from .models import attachment_storage_name

# Room for the multipart envelope and the form fields around the one file.
ENVELOPE_BYTES = 1024 * 1024
MAX_BODY_BYTES = file_policy.MAX_FILE_BYTES + ENVELOPE_BYTES


class CappedUploadHandler(TemporaryFileUploadHandler):
    """Streams each file part to disk, hashing it, and stops reading past MAX_FILE_BYTES."""

    too_large = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > MAX_BODY_BYTES:
            self.too_large = True
            return QueryDict(), MultiValueDict()  # parse nothing: the view refuses
        return super().handle_raw_input(input_data, META, content_length, boundary, encoding)

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self._digest = hashlib.sha256()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > file_policy.MAX_FILE_BYTES:
            self.too_large = True
            self.file.close()  # deletes the partial temporary file now
            raise StopUpload(connection_reset=True)
        self._digest.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> UploadedFile:
        upload = super().file_complete(file_size)
        upload.sha256 = self._digest.hexdigest()
        return upload


def upload_too_large(request: HttpRequest) -> bool:
    """Whether reading the request's files stopped at the cap. Read `request.FILES` first."""
    return any(getattr(handler, "too_large", False) for handler in request.upload_handlers)


def sha256_of(upload: UploadedFile) -> str:
    """The upload's SHA-256: computed while it streamed in, or now for a file from elsewhere."""
    known = getattr(upload, "sha256", None)
    if known:
        return known
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def store(center_id: int, upload: UploadedFile, *, name: str, category: str) -> IncomingFile:
    """Write an upload that passed the policy to storage; images are checked by Pillow first (R15).

    Called outside any transaction; the caller deletes the stored file with
    `discard` if the message is then refused.
    """
    kind, size = category, None
    if category == file_policy.IMAGE:
        upload.seek(0)
        size = images.inspect(upload, file_policy.extension_of(name))
        if size is None:
            kind = file_policy.FILE  # not an image of its extension: sent as a plain file (R15)
    sha256 = sha256_of(upload)
    upload.seek(0)
    stored_name = default_storage.save(attachment_storage_name(center_id, name), upload)
    return IncomingFile(
        stored_name=stored_name,
        name=name,
        size=upload.size,
        sha256=sha256,
        kind=kind,
        width=size[0] if size else None,
        height=size[1] if size else None,
    )


def discard(stored: IncomingFile | None) -> None:
    if stored is not None:
        default_storage.delete(stored.stored_name)

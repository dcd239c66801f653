"""Which files may be exchanged (SPEC §4, the seed's 파일 첨부 table): one place for every path.

The webhook, the composer, the admin, the simulator and the tests all ask
here. A file's category comes from its last extension, case-insensitive; a
name without one is refused, as is any extension not in the table (R13).
"""

from __future__ import annotations

import mimetypes
import os

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from counsel_center.rules import Refused

# 300 MB in the seed's sense: 300 × 1024 × 1024 bytes, the same for every category.
MAX_FILE_BYTES = 300 * 1024 * 1024

IMAGE, VIDEO, AUDIO, FILE = "image", "video", "audio", "file"

EXTENSIONS: dict[str, tuple[str, ...]] = {
    IMAGE: ("jpg", "jpeg", "gif", "bmp", "png"),
    VIDEO: ("m4v", "avi", "asf", "wmv", "mkv", "mpg", "mpeg", "mp4", "mov", "flv", "ogv", "ts"),
    AUDIO: ("mp3", "wav", "flac", "tta", "tak", "aac", "wma", "ogg", "m4a"),
    FILE: (
        "pdf", "ods", "csv", "tsv", "cxls", "xlsx", "numbers", "cell", "odp", "ppt", "pptx", "key", "show",
        "doc", "docx", "hwp", "txt", "rtf", "xml", "wks", "wps", "xps", "md", "odf", "odt", "pages", "gz",
        "bz2", "rar", "7z", "zip", "lzh", "alz", "psd", "ai", "sketch", "tif", "tiff", "tga", "webp",
    ),
}  # fmt: skip

CATEGORY_OF: dict[str, str] = {ext: category for category, exts in EXTENSIONS.items() for ext in exts}

# What Pillow must find inside an "image" for it to be shown as one (R15).
IMAGE_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "gif": "GIF", "bmp": "BMP", "png": "PNG"}

IMAGE_CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "BMP": "image/bmp"}

CATEGORY_LABELS = {IMAGE: _("Image"), VIDEO: _("Video"), AUDIO: _("Audio"), FILE: _("File")}


def extension_of(name: str) -> str:
    """The last extension, lower case, without the dot; "" when there is none ("a", ".", "a.", ".png")."""
    return os.path.splitext(name)[1][1:].lower()


def category_of(name: str) -> str | None:
    """The seed's category of a file name, or None when its extension is not allowed."""
    return CATEGORY_OF.get(extension_of(name))


def allowed_types_text() -> str:
    """The table as one line, for refusals and hints: "Image: jpg, …; Video: …"."""
    return "; ".join(f"{CATEGORY_LABELS[category]}: {', '.join(exts)}" for category, exts in EXTENSIONS.items())


# Read in the language active where the refusal is shown, like the refusal itself.
_allowed_types_lazy = lazy(allowed_types_text, str)


def accept_attribute() -> str:
    """The file picker's `accept` list: ".jpg,.jpeg,…"."""
    return ",".join(f".{ext}" for ext in CATEGORY_OF)


def check_file_name(name: str) -> str:
    """The category of `name`, or Refused naming the allowed types (R13)."""
    category = category_of(name)
    if category is None:
        extension = extension_of(name)
        if extension:
            raise Refused(
                "file_type_not_allowed",
                _("Files of type .%(extension)s cannot be sent. Allowed types — %(allowed)s."),
                extension=extension,
                allowed=_allowed_types_lazy(),
            )
        raise Refused(
            "file_type_not_allowed",
            _("A file without an extension cannot be sent. Allowed types — %(allowed)s."),
            allowed=_allowed_types_lazy(),
        )
    return category


TOO_LARGE = _("A file can be at most 300 MB.")
MAX_NAME_LENGTH = 255  # Attachment.name


def clean_name(name: str) -> str:
    """A sent name fit to keep: printable characters only, trimmed, at most MAX_NAME_LENGTH with its extension kept."""
    name = "".join(char for char in name if char.isprintable()).strip()
    if len(name) <= MAX_NAME_LENGTH:
        return name
    stem, extension = os.path.splitext(name)
    return stem[: MAX_NAME_LENGTH - len(extension)] + extension


def content_type_of(name: str, kind: str) -> str:
    """What a file is served as, never what its sender claimed: a verified image as its format."""
    image_format = IMAGE_FORMATS.get(extension_of(name))
    if kind == IMAGE and image_format:
        return IMAGE_CONTENT_TYPES[image_format]
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"

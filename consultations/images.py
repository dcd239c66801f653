"""Images (R15): is an "image" really one, and its thumbnail.

`inspect` runs in the request, before the file is stored: Pillow reads the
header, the format must be the one of the extension (a `.png` holding text,
or a JPEG named `.png`, is not an image), the pixel count must be at most
ATTACHMENT_MAX_IMAGE_PIXELS (a decompression bomb is a plain file, never
decoded), and `verify()` checks the data's structure without decoding it.

`thumbnail` runs in a Celery task after commit: the one full decode, with
JPEG's draft mode decoding at a reduced scale, EXIF orientation applied,
longest side THUMBNAIL_SIZE.
"""

from __future__ import annotations

import io
import struct
import warnings

from django.conf import settings
from PIL import ExifTags, Image, ImageOps

from .file_policy import IMAGE_FORMATS

THUMBNAIL_SIZE = 320
# EXIF orientations that turn the picture a quarter: its width and height as shown are swapped.
QUARTER_TURNS = (5, 6, 7, 8)

# The pixel limit is checked here against the header, before any decode;
# Pillow's own warning between the limit and twice it would only repeat that.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def configure() -> None:
    """Pillow refuses to open an image past twice its limit: make the limit ours (called from AppConfig.ready)."""
    Image.MAX_IMAGE_PIXELS = settings.ATTACHMENT_MAX_IMAGE_PIXELS


def inspect(file, extension: str) -> tuple[int, int] | None:
    """(width, height) when `file` is a decodable-looking image of the extension's format, else None."""
    expected = IMAGE_FORMATS.get(extension)
    if expected is None:
        return None
    try:
        with Image.open(file, formats=[expected]) as image:
            width, height = image.size
            if width * height > settings.ATTACHMENT_MAX_IMAGE_PIXELS or width < 1 or height < 1:
                return None
            exif = image.info.get("exif")  # the raw block read with the header: nothing decoded
            image.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, EOFError):
        # Pillow's documented failures: not this format, truncated, or corrupt.
        return None
    if exif and _orientation(exif) in QUARTER_TURNS:
        width, height = height, width  # as shown: the thumbnail applies the orientation
    return width, height


def _orientation(exif: bytes) -> int | None:
    parsed = Image.Exif()
    try:
        parsed.load(exif)
    except (OSError, SyntaxError, ValueError, struct.error):
        return None
    return parsed.get(ExifTags.Base.Orientation)


def thumbnail(file) -> tuple[bytes, str]:
    """A thumbnail of an image inspected before: (bytes, extension), PNG when it has transparency, else JPEG.

    Raises OSError (or another of Pillow's errors) when the full decode fails.
    """
    with Image.open(file) as image:
        image.draft("RGB", (THUMBNAIL_SIZE * 2, THUMBNAIL_SIZE * 2))  # JPEG: decode at 1/2–1/8 scale
        image.seek(0)  # an animated GIF: its first frame
        oriented = ImageOps.exif_transpose(image)
        oriented.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        transparent = oriented.mode in ("RGBA", "LA") or (oriented.mode == "P" and "transparency" in oriented.info)
        out = io.BytesIO()
        if transparent:
            oriented.convert("RGBA").save(out, "PNG", optimize=True)
            return out.getvalue(), "png"
        oriented.convert("RGB").save(out, "JPEG", quality=85)
        return out.getvalue(), "jpg"

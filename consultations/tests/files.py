"""Real files for the attachment tests, made with Pillow in memory."""

from __future__ import annotations

import functools
import io
import struct
import zlib
from pathlib import Path

from PIL import Image


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), color=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    mode = "RGB" if fmt in ("JPEG", "BMP") else "RGBA" if fmt == "PNG" else "P"
    image = Image.new(mode if mode != "P" else "RGB", size, color)
    if mode == "P":
        image = image.convert("P")
    image.save(out, fmt, **save)
    return out.getvalue()


def png(size=(64, 48)) -> bytes:
    return image_bytes("PNG", size)


def jpeg_rotated(size=(80, 40)) -> bytes:
    """A landscape JPEG whose EXIF says to turn it a quarter (orientation 6): it shows portrait."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return image_bytes("JPEG", size, exif=exif.tobytes())


def gif(size=(30, 30)) -> bytes:
    return image_bytes("GIF", size)


def bmp(size=(30, 20)) -> bytes:
    return image_bytes("BMP", size)


def bomb_png(side: int = 30_000) -> bytes:
    """A valid PNG header and one compressed zero stream for side×side grey pixels: 900 M pixels, a few hundred KB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- for the attachment policy, image, download and composer tests ------------------------------

# A ".png" (or any image name) that holds text: not an image (R15).
TEXT_AS_PNG = b"These are the meeting notes, saved with the wrong name.\n"

# What a file of each image extension is, for content that must really be one.
IMAGE_FORMAT_OF = {"jpg": "JPEG", "jpeg": "JPEG", "gif": "GIF", "bmp": "BMP", "png": "PNG"}


@functools.cache
def bomb(side: int = 30_000) -> bytes:
    """A PNG like bomb_png(side), made in half a second instead of several: with a full flush after each
    block of 1000 zero rows the compressor starts afresh, so every block compresses to the same bytes and is
    compressed once; the stream's Adler-32 of n zero bytes is (n mod 65521) << 16 | 1."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = 1000
    assert side % rows == 0
    block = b"\x00" * ((side + 1) * rows)  # each row: filter byte 0, then `side` grey pixels of 0
    compressor = zlib.compressobj(9)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)  # with the 2-byte zlib header
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert first[2:] == again
    adler = ((side * (side + 1)) % 65521) << 16 | 1
    data = first + again * (side // rows - 1) + b"\x03\x00" + struct.pack(">I", adler)  # an empty final block
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def undecodable_png(size=(64, 48)) -> bytes:
    """A PNG whose chunks are all well formed (Pillow's verify() passes) but whose pixel data is cut short:
    only the full decode, in the thumbnail task, finds out."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    width, height = size
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * (width * 3) for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels[: len(pixels) // 2]) + chunk(b"IEND", b"")
    )


def content_for(extension: str) -> bytes:
    """Bytes for a file of `extension`: a real image of its format for the image extensions, else a few bytes."""
    image_format = IMAGE_FORMAT_OF.get(extension.lower())
    if image_format:
        return image_bytes(image_format, (24, 16))
    return f"content of a .{extension} file\n".encode()


def stored_files(media_root) -> list[str]:
    """Every file under MEDIA_ROOT, as storage names ("attachments/1/…/a.pdf")."""
    root = Path(media_root)
    if not root.exists():
        return []
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def left_in(directory) -> list[str]:
    """The files left in a directory (the upload temporary directory), recursively."""
    root = Path(directory)
    return sorted(str(path) for path in root.rglob("*") if path.is_file()) if root.exists() else []


def multipart(fields: dict[str, str], *, filename: str, content: bytes, content_type: str = "application/octet-stream"):
    """A multipart body with one `file` part under exactly `filename` (the test client would strip a path):
    (body, content type) for `client.post(url, body, content_type=...)`."""
    boundary = "----counsel-test-boundary-7d1f"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


WEBHOOK_SECRETS = {"alpha": "alpha-secret", "beta": "beta-secret"}  # the conftest's centers
HX = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT_LANGUAGE": "en"}


def customer_sends(
    client,
    content: bytes,
    *,
    name: str,
    kind: str | None = None,
    upload_name: str | None = None,
    content_type: str = "application/octet-stream",
    slug: str = "alpha",
    user_key: str = "kakao-user-1",
    declared: dict | None = None,
):
    """The channel posts a customer's file (multipart, signed): the event describes `content` as `name`.

    `kind` defaults to the name's category; `declared` overrides fields of the event's `message.file`.
    """
    from django.core.files.uploadedfile import SimpleUploadedFile

    from consultations import file_policy

    from .channel_client import file_event, post_multipart

    event = file_event(content, name=name, kind=kind or file_policy.category_of(name) or "file", user_key=user_key)
    event["message"]["file"].update(declared or {})
    upload_name = upload_name or name
    if upload_name in ("", ".", ".."):  # Django's test client cannot send these; a part without a name is dropped
        upload_name = "upload.bin"
    upload = SimpleUploadedFile(upload_name, content, content_type)
    return post_multipart(client, slug, event, {"file": upload}, secret=WEBHOOK_SECRETS[slug])


def agent_sends(
    client, consultation, content: bytes | None = None, *, name: str = "", text: str = "", content_type: str = ""
):
    """The composer's POST (HTMX, in English): `text`, and one file sent as exactly `name` when `content` is given."""
    from django.urls import reverse

    url = reverse("chat-messages", args=[consultation.public_id])
    if content is None:
        return client.post(url, {"text": text}, **HX)
    body, body_type = multipart(
        {"text": text}, filename=name, content=content, content_type=content_type or "application/octet-stream"
    )
    return client.post(url, body, content_type=body_type, **HX)

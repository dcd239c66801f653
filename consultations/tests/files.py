"""Real files for the attachment tests, made with Pillow in memory."""

from __future__ import annotations

import io
import struct
import zlib

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

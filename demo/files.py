"""The files of the demo stories (a photo, a PDF), drawn here so that the repository holds no binaries."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

# A script line whose text starts with this sends the named file instead of text (demo/stories.py: SCRIPTS).
FILE_PREFIX = "file:"


def photo_of_broken_glasses() -> bytes:
    """A 960×720 JPEG: a box on a table with two of six glasses broken."""
    image = Image.new("RGB", (960, 720), (226, 214, 196))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 520, 960, 720), fill=(150, 111, 76))  # the table
    draw.rectangle((150, 260, 810, 560), fill=(196, 160, 112), outline=(120, 90, 60), width=6)  # the box
    for index in range(6):
        left = 180 + index * 105
        draw.rectangle((left, 200, left + 80, 470), fill=(214, 232, 240), outline=(150, 180, 196), width=4)
        if index in (1, 4):  # the broken two
            draw.line((left + 10, 230, left + 60, 330, left + 25, 400, left + 70, 460), fill=(90, 90, 90), width=5)
            draw.polygon(((left + 40, 200), (left + 80, 200), (left + 62, 250)), fill=(226, 214, 196))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82)
    return out.getvalue()


def guide_pdf(title: str) -> bytes:
    """A one-page PDF with one line of (ASCII) text."""
    stream = f"BT /F1 24 Tf 72 720 Td ({title}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    table = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, table))
    return out.getvalue()


FILES = {
    "깨진컵.jpg": photo_of_broken_glasses,
    "세금계산서_발행안내.pdf": lambda: guide_pdf("Tax invoice: how to apply"),
}


def content_of(name: str) -> bytes:
    return FILES[name]()

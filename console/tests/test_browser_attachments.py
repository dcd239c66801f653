"""Files in the console, in a real browser (SPEC §3, §4): the composer's picker, progress bar and checks, the
chat's thumbnails and file cards, and the download button.

Debian's Chromium (consultations/tests/browser.py) against the uvicorn test server of the live-update tests
(consultations/tests/live.py), whose tasks run eagerly: a thumbnail is made when the message commits. The
upload is slowed with Chromium's own network throttling (DevTools protocol), so the progress bar shows
values between 0 and 100 % however fast the machine is, and the cancel button meets an upload in flight.

`test_screenshots` saves docs/screenshots/chat-files-{ko,en}-{desktop,phone}.png; it runs only with
CHAT_FILES_SCREENSHOTS=1 (it writes into the source tree).
"""

import io
import os
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from consultations import file_policy, lifecycle, thumbnails, uploads
from consultations.models import Consultation, Message, Status
from consultations.tests import browser
from consultations.tests.files import PDF, image_bytes, png

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1024 * 1024
COMPOSER = "#composer-text"
PICKER = "#composer-file"
PROGRESS_TEXT = re.compile(r"^(\d{1,3})% · \d+\.\d / (\d+\.\d) MB$")
LOADED = "img => img.complete && img.naturalWidth > 0"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Records what the progress bar showed at each of htmx's progress events: composer.js listens first (it loaded
# with the page), so this listener reads the bar as composer.js just set it.
RECORD_PROGRESS = """() => {
  window.__progress = [];
  document.addEventListener("htmx:xhr:progress", () => {
    const box = document.querySelector("form.composer .composer-progress");
    if (box && !box.hidden) {
      window.__progress.push(box.querySelector(".composer-progress-text").textContent);
    }
  });
}"""


@pytest.fixture
def server_media(server, settings):
    """Files this test process stores land where the server reads them (its MEDIA_ROOT)."""
    settings.MEDIA_ROOT = Path(server.env.get("MEDIA_ROOT") or Path(server.env["VAR_DIR"]) / "media")
    return settings.MEDIA_ROOT


def base_url(server) -> str:
    return f"http://127.0.0.1:{server.port}"


def waiting_for(center, agent, *, user_key: str = "kakao-files") -> Consultation:
    """A consultation assigned to `agent` who has not answered yet: their first file starts it (R7)."""
    received = lifecycle.do_receive_customer_message(
        center, user_key=user_key, text="견적서랑 제품 사진 보내주실 수 있나요?", profile_nickname="최유나"
    )
    return lifecycle.do_assign_to_me(received.consultation, actor=agent)


def customer_file(center, name: str, content: bytes, *, user_key: str, text: str = "") -> Message:
    """A customer's file as the webhook stores it (uploads.store decides image or file, R15)."""
    category = file_policy.check_file_name(name)
    stored = uploads.store(center.pk, SimpleUploadedFile(name, content), name=name, category=category)
    return lifecycle.do_receive_customer_message(
        center, user_key=user_key, text=text, kind=stored.kind, attachment=stored
    ).message


def chat_tab(chromium, server, member, consultation, **options) -> browser.Tab:
    context = browser.session_context(chromium, base_url(server), browser.session_of(member.user), **options)
    tab = browser.open_tab(context)
    tab.page.goto(f"{base_url(server)}/consultations/{consultation.public_id}/")
    tab.page.wait_for_selector(f'#chat[data-consultation="{consultation.public_id}"] form.composer')
    return tab


def throttle_uploads(page, bytes_per_second: int) -> None:
    """Chromium sends request bodies at most this fast (DevTools' network throttling); answers are not slowed."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second},
    )


def wait_for_upload_underway(page, percent: str = "[1-9]\\d?") -> None:
    """Until the progress bar shows a percentage matching `percent` (a regular expression; 1–99 by default)."""
    page.wait_for_function(
        "(percent) => new RegExp(`^${percent}% `)"
        ".test(document.querySelector('form.composer .composer-progress-text').textContent)",
        arg=percent,
    )


def padded_pdf(size: int) -> bytes:
    """A PDF of about `size` bytes: the minimal one, then comment lines."""
    line = b"% padding to make the upload take a moment\n"
    return PDF + line * (max(0, size - len(PDF)) // len(line))


def a_file(name: str, content: bytes, mime: str) -> dict:
    return {"name": name, "mimeType": mime, "buffer": content}


def sends_of(page) -> list[str]:
    """The URLs of the messages the page sends from now on (not the read mark the chat pane posts as it loads)."""
    posts: list[str] = []

    def record(request) -> None:
        if request.method == "POST" and request.url.split("?")[0].endswith("/messages"):
            posts.append(request.url)

    page.on("request", record)
    return posts


def test_an_agent_sends_a_pdf_and_an_image_sees_them_and_downloads_the_pdf(chromium, server, center, agent):
    consultation = waiting_for(center, agent)
    tab = chat_tab(chromium, server, agent, consultation)
    page = tab.page
    posts = sends_of(page)
    page.evaluate(RECORD_PROGRESS)
    throttle_uploads(page, 2 * MB)

    # The PDF: chosen with the picker, shown as a chip, sent with Enter and no text.
    pdf = padded_pdf(3 * MB)
    page.set_input_files(PICKER, files=[a_file("견적서 2026.pdf", pdf, "application/pdf")])
    chip = page.locator("form.composer .composer-chip")
    chip.wait_for()
    assert chip.locator(".composer-chip-name").inner_text() == "견적서 2026.pdf"
    assert chip.locator(".composer-chip-size").inner_text() == "3.0 MB"
    page.press(COMPOSER, "Enter")
    card = page.locator("#chat-messages .msg-agent .msg-file-file", has_text="견적서 2026.pdf")
    card.wait_for()
    assert "3.0" in card.locator(".msg-file-size").inner_text()
    assert page.locator("form.composer .composer-file").is_hidden()  # the new composer has no file chosen

    # The bar was shown while the body went out, with its percent and megabytes, and values in between.
    shown = page.evaluate("window.__progress")
    parsed = [PROGRESS_TEXT.match(text) for text in shown]
    assert shown and all(parsed), f"progress texts: {shown}"
    percents = [int(match[1]) for match in parsed]
    assert any(0 < percent < 100 for percent in percents), f"no value between 0 and 100 %: {shown}"
    assert percents == sorted(percents) and percents[-1] == 100
    assert {match[2] for match in parsed} == {"3.0"}

    # The image: picked, sent with the button; its thumbnail shows in the box of its shape (800×600 → 320×240).
    page.evaluate("window.__progress = []")
    page.set_input_files(PICKER, files=[a_file("제품 사진.png", png((800, 600)), "image/png")])
    page.locator("form.composer .composer-chip-name", has_text="제품 사진.png").wait_for()
    page.fill(COMPOSER, "제품 사진입니다.")
    page.click("#chat .composer-send")
    image = page.locator("#chat-messages .msg-agent a.msg-image img")
    image.wait_for()
    image.evaluate(f"img => new Promise(done => ({LOADED})(img) ? done() : img.addEventListener('load', done))")
    assert (image.get_attribute("width"), image.get_attribute("height")) == ("320", "240")
    assert image.get_attribute("alt") == "제품 사진.png"
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [320, 240]
    link = page.locator("#chat-messages a.msg-image")
    assert link.get_attribute("target") == "_blank" and link.get_attribute("rel") == "noopener"
    assert "제품 사진입니다." in page.inner_text("#chat-messages .msg-agent:has(a.msg-image)")
    assert page.evaluate("window.__progress"), "no progress was shown for the image"

    # The PDF's download button: the file as sent, under its name.
    with page.expect_download() as info:
        card.locator(".msg-file-download").click()
    download = info.value
    assert download.suggested_filename == "견적서 2026.pdf"
    assert Path(download.path()).read_bytes() == pdf

    consultation.refresh_from_db()
    assert consultation.status == Status.IN_PROGRESS  # the first file started it (R7)
    sent = list(consultation.messages.filter(sender=Message.Sender.AGENT).select_related("attachment").order_by("id"))
    assert [(m.kind, m.attachment.name, m.attachment.size) for m in sent] == [
        (Message.Kind.FILE, "견적서 2026.pdf", len(pdf)),
        (Message.Kind.IMAGE, "제품 사진.png", len(png((800, 600)))),
    ]
    assert len(posts) == 2
    assert tab.errors == [], f"script errors: {tab.errors}"


def test_an_image_shows_a_placeholder_until_its_thumbnail_arrives_live(
    chromium, server, server_media, center, agent, monkeypatch
):
    monkeypatch.setattr(thumbnails, "enqueue", lambda attachment_id: True)  # the task has not run yet
    consultation = waiting_for(center, agent)
    message = customer_file(center, "영수증.jpg", image_bytes("JPEG", (1000, 1500)), user_key="kakao-files")
    tab = chat_tab(chromium, server, agent, consultation)
    page = tab.page
    page.wait_for_selector('#live[data-state="open"]', state="attached")

    line = page.locator(f"#message-{message.pk}")
    placeholder = line.locator(".msg-image-pending")
    assert placeholder.is_visible() and line.locator("img").count() == 0
    box = placeholder.locator("svg.msg-image-box")
    assert (box.get_attribute("width"), box.get_attribute("height")) == ("213", "320")  # portrait: 320 high
    assert "영수증.jpg" in line.inner_text()

    assert thumbnails.make_thumbnail(message.attachment.pk) == "made"  # as the worker would, after commit

    image = page.locator(f"#message-{message.pk} a.msg-image img")
    image.wait_for()  # live.js fetched the line again on message.file_ready
    image.evaluate(f"img => new Promise(done => ({LOADED})(img) ? done() : img.addEventListener('load', done))")
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [213, 320]
    assert tab.errors == [], f"script errors: {tab.errors}"


def test_a_refused_file_is_never_sent_and_the_composer_says_why(chromium, server, center, agent):
    consultation = waiting_for(center, agent)
    tab = chat_tab(chromium, server, agent, consultation)
    page = tab.page
    posts = sends_of(page)
    problem = page.locator("form.composer .composer-problem")

    # A type the server refuses (R13): the server's sentence, naming the allowed types; no file stays chosen.
    page.set_input_files(PICKER, files=[a_file("virus.exe", b"MZ\x90\x00 not a program", "application/octet-stream")])
    problem.wait_for()
    refusal = problem.inner_text()
    assert ".exe" in refusal and "jpg" in refusal and "pdf" in refusal, refusal
    assert page.eval_on_selector(PICKER, "input => input.files.length") == 0
    assert page.locator("form.composer .composer-file").is_hidden()
    page.press(COMPOSER, "Enter")  # nothing to send, no text and no file: Enter sends nothing
    assert posts == []

    # A file over 300 MB is refused at once, before a byte is read (the browser knows its size). Such a
    # file is too big to hand to Chromium here, so the check is shown with the limit lowered on the page.
    page.eval_on_selector("form.composer", "form => form.setAttribute('data-max-bytes', '1000')")
    page.set_input_files(PICKER, files=[a_file("회의록.pdf", padded_pdf(2000), "application/pdf")])
    page.wait_for_function(
        "(text) => document.querySelector('form.composer .composer-problem').textContent === text",
        arg=str(file_policy.TOO_LARGE),
    )
    assert page.eval_on_selector(PICKER, "input => input.files.length") == 0

    # A valid file after a refused one: the refusal goes, the chip comes.
    page.set_input_files(PICKER, files=[a_file("사진.png", png(), "image/png")])
    page.locator("form.composer .composer-chip-name", has_text="사진.png").wait_for()
    assert problem.is_hidden()
    # …and is removed again with ×.
    page.click("form.composer .composer-chip-remove")
    assert page.locator("form.composer .composer-file").is_hidden()
    assert page.eval_on_selector(PICKER, "input => input.files.length") == 0

    assert posts == []
    assert not consultation.messages.filter(sender=Message.Sender.AGENT).exists()
    assert tab.errors == [], f"script errors: {tab.errors}"


# Drags `names` (empty files) over the message list and drops them, as the browser would: DragEvents carrying a
# DataTransfer. Returns whether the drop overlay showed during the drag.
DRAG_AND_DROP = """(names) => {
  const data = new DataTransfer();
  for (const name of names) { data.items.add(new File(["%PDF-1.4"], name, { type: "application/pdf" })); }
  const list = document.getElementById("chat-messages");
  const fire = (type) =>
    list.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
  fire("dragenter");
  fire("dragover");
  const overlay = document.querySelector("#chat .chat-drop");
  const shown = !!overlay && !overlay.hidden;
  fire("drop");
  return shown && overlay.hidden;
}"""


def test_a_file_dropped_on_the_chat_is_attached_one_at_a_time(chromium, server, center, agent):
    consultation = waiting_for(center, agent)
    tab = chat_tab(chromium, server, agent, consultation, locale="en-US")
    page = tab.page
    problem = page.locator("form.composer .composer-problem")

    assert page.evaluate(DRAG_AND_DROP, ["a.pdf", "b.pdf"])  # highlighted while dragged, not after the drop
    assert problem.inner_text() == "One file per message: drop a single file."
    assert page.eval_on_selector(PICKER, "input => input.files.length") == 0

    page.evaluate(DRAG_AND_DROP, ["setup.exe"])
    assert problem.inner_text().startswith("Files of type .exe cannot be sent. Allowed types — Image: jpg")
    assert page.eval_on_selector(PICKER, "input => input.files.length") == 0

    page.evaluate(DRAG_AND_DROP, ["주문서.pdf"])
    assert problem.is_hidden()
    assert page.locator("form.composer .composer-chip-name").inner_text() == "주문서.pdf"
    assert page.eval_on_selector(PICKER, "input => input.files[0].name") == "주문서.pdf"
    page.press(COMPOSER, "Enter")
    page.locator("#chat-messages .msg-agent .msg-file-name", has_text="주문서.pdf").wait_for()
    assert tab.errors == [], f"script errors: {tab.errors}"


def test_the_cancel_button_stops_an_upload_in_flight(chromium, server, center, agent):
    consultation = waiting_for(center, agent)
    tab = chat_tab(chromium, server, agent, consultation)
    page = tab.page
    throttle_uploads(page, 256 * 1024)  # 6 MB: about 24 s, far longer than the test waits

    page.set_input_files(PICKER, files=[a_file("설명서.pdf", padded_pdf(6 * MB), "application/pdf")])
    page.click("#chat .composer-send")
    wait_for_upload_underway(page)
    assert page.is_disabled("#chat .composer-send")  # hx-disabled-elt while the request runs
    page.click("form.composer .composer-cancel")

    page.locator("form.composer .composer-progress").wait_for(state="hidden")
    problem = page.locator("form.composer .composer-problem")
    problem.wait_for()
    assert problem.inner_text() != ""
    assert page.locator("form.composer .composer-chip-name").inner_text() == "설명서.pdf"  # still chosen
    assert page.is_enabled("#chat .composer-send") and page.is_enabled(PICKER)
    assert not consultation.messages.filter(sender=Message.Sender.AGENT).exists()
    assert tab.errors == [], f"script errors: {tab.errors}"


def test_sending_refused_disables_the_picker_too(chromium, server, center, agent):
    consultation = waiting_for(center, agent)
    lifecycle.do_send_message(consultation, actor=agent, text="확인해 보겠습니다.")
    lifecycle.do_set_hold(consultation, actor=agent, on_hold=True)
    tab = chat_tab(chromium, server, agent, consultation)

    assert tab.page.is_disabled(PICKER) and tab.page.is_disabled(COMPOSER)
    assert (
        tab.page.locator("form.composer .composer-attach").evaluate("label => getComputedStyle(label).opacity") == "0.5"
    )
    assert tab.errors == []


# --- screenshots ---------------------------------------------------------------------------------------------

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def photo(size=(1280, 480)) -> bytes:
    """A customer's photo: a table top and a chair leg broken in two (something to look at, made with Pillow)."""
    image = Image.new("RGB", size, (236, 226, 208))
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle([0, height * 0.62, width, height], fill=(196, 170, 132))
    draw.rounded_rectangle([width * 0.18, height * 0.42, width * 0.5, height * 0.56], radius=12, fill=(122, 78, 44))
    draw.rounded_rectangle([width * 0.56, height * 0.47, width * 0.8, height * 0.6], radius=12, fill=(122, 78, 44))
    draw.polygon(
        [(width * 0.5, height * 0.42), (width * 0.54, height * 0.5), (width * 0.5, height * 0.56)], fill=(236, 226, 208)
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.mark.skipif(
    os.environ.get("CHAT_FILES_SCREENSHOTS") != "1", reason="writes docs/screenshots: set CHAT_FILES_SCREENSHOTS=1"
)
def test_screenshots(chromium, server, server_media, center, agent):
    """The chat with a video, an audio, an image and a PDF, and the composer mid-upload (cancelled afterwards)."""
    user_key = "kakao-shots"
    received = lifecycle.do_receive_customer_message(
        center, user_key=user_key, text="주문한 의자 다리가 부러져서 왔어요.", profile_nickname="최유나"
    )
    consultation = lifecycle.do_assign_to_me(received.consultation, actor=agent)
    lifecycle.do_send_message(consultation, actor=agent, text="죄송합니다. 사진이나 영상을 보내주시겠어요?")
    customer_file(center, "개봉 영상.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 18_874_368, user_key=user_key)
    customer_file(center, "음성 메모.m4a", b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 412_000, user_key=user_key)
    customer_file(center, "의자 다리.png", photo(), user_key=user_key)
    form = uploads.store(
        center.pk, SimpleUploadedFile("교환 신청서.pdf", padded_pdf(245_000)), name="교환 신청서.pdf", category="file"
    )
    lifecycle.do_send_message(consultation, actor=agent, text="", kind=form.kind, attachment=form)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for locale, language in (("ko-KR", "ko"), ("en-US", "en")):
        for viewport, device in ((DESKTOP, "desktop"), (PHONE, "phone")):
            tab = chat_tab(chromium, server, agent, consultation, viewport=viewport, locale=locale)
            page = tab.page
            page.locator("#chat-messages a.msg-image img").evaluate(
                f"img => new Promise(done => ({LOADED})(img) ? done() : img.addEventListener('load', done))"
            )
            throttle_uploads(page, MB)
            page.set_input_files(PICKER, files=[a_file("영수증 스캔.pdf", padded_pdf(12 * MB), "application/pdf")])
            page.fill(COMPOSER, "영수증도 함께 보내드립니다.")
            page.click("#chat .composer-send")
            wait_for_upload_underway(page, "(3[5-9]|[45]\\d)")  # 35–59 %: about 4 s in
            page.evaluate("document.getElementById('chat-messages').scrollTop = 1e9")
            page.screenshot(path=str(SCREENSHOTS / f"chat-files-{language}-{device}.png"))
            page.click("form.composer .composer-cancel")
            page.locator("form.composer .composer-progress").wait_for(state="hidden")
            assert tab.errors == [], f"script errors: {tab.errors}"
            page.context.close()

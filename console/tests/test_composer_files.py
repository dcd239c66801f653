"""The composer's one file per message (SPEC §3, §4): R7 and R8 apply to a file as to text, and a refused
file leaves nothing behind — no message, no attachment, no file in MEDIA_ROOT, no temporary upload."""

import hashlib
import html
import re
from pathlib import Path

import pytest

from consultations import file_policy
from consultations.models import Attachment, Event, Message, Status
from consultations.tests import files
from consultations.tests.helpers import consultation_in, fill

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_dir")]  # uploads land in a directory of their own

DRAFT = "자료 보내드립니다"
NOT_SENDABLE = "Messages can be sent only while the consultation is waiting or in progress."
NOT_MINE = "You can send messages only in consultations assigned to you."
ON_HOLD = "This consultation is on hold; release the hold to send messages."
CENTER_STOPPED = "The center is stopped (운영 중지); sending is paused."
PNG = files.png()


def page_of(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def assert_refused_in_place(response, reason: str) -> None:
    page = page_of(response)
    assert not response.has_header("HX-Trigger")
    # Said once, as an alert above the composer (when it is why the composer is disabled, it describes the
    # composer too, and is not repeated under it).
    assert re.search(rf'<p (id="composer-reason" )?class="chat-error" role="alert">{re.escape(reason)}</p>', page)
    assert page.count(f">{reason}</p>") == 1
    assert f"{DRAFT}</textarea>" in page  # the draft is kept


def assert_nothing_stored(settings, upload_dir) -> None:
    assert Message.objects.filter(sender=Message.Sender.AGENT).count() == 0
    assert Attachment.objects.count() == 0
    assert files.stored_files(settings.MEDIA_ROOT) == []
    assert files.left_in(upload_dir) == []


def consultation_where(case, center, agent, agent2, make_consultation):
    if case == "not_mine":
        return consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent2)
    if case == "on_hold":
        return consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent, is_on_hold=True)
    if case == "center_stopped":
        center.is_operating = False
        center.save()
        return consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    if case == "closed":
        return consultation_in(make_consultation, Status.CLOSED, assignee=agent)
    return consultation_in(make_consultation, Status.UNASSIGNED)


R8_CASES = [
    ("not_mine", NOT_MINE),
    ("on_hold", ON_HOLD),
    ("center_stopped", CENTER_STOPPED),
    ("closed", NOT_SENDABLE),
    ("unassigned", NOT_SENDABLE),
]


# --- R8 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "reason"), R8_CASES)
@pytest.mark.parametrize(("name", "content"), [("사진.png", PNG), ("견적서.pdf", files.PDF)])
def test_a_file_is_refused_where_sending_is_and_nothing_is_kept(
    alice_client, center, agent, agent2, make_consultation, settings, upload_dir, case, reason, name, content
):
    consultation = consultation_where(case, center, agent, agent2, make_consultation)
    before = (consultation.status, consultation.last_message_id)

    response = files.agent_sends(alice_client, consultation, content, name=name, text=DRAFT)

    assert_refused_in_place(response, reason)
    assert_nothing_stored(settings, upload_dir)
    consultation.refresh_from_db()
    assert (consultation.status, consultation.last_message_id) == before


@pytest.mark.parametrize("case", [case for case, _ in R8_CASES])
def test_a_file_of_a_refused_type_is_refused_there_too_and_nothing_is_kept(
    alice_client, center, agent, agent2, make_consultation, settings, upload_dir, case
):
    consultation = consultation_where(case, center, agent, agent2, make_consultation)

    response = files.agent_sends(alice_client, consultation, b"MZ\x90\x00", name="setup.exe", text=DRAFT)

    page = page_of(response)
    assert "Files of type .exe cannot be sent." in page  # the file's type is checked first
    assert f"{DRAFT}</textarea>" in page
    assert_nothing_stored(settings, upload_dir)


def test_another_centers_consultation_is_a_404_and_keeps_no_file(
    client, outsider, agent, make_consultation, settings, upload_dir
):
    client.force_login(outsider.user)
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    response = files.agent_sends(client, consultation, files.PDF, name="견적서.pdf")

    assert response.status_code == 404
    assert_nothing_stored(settings, upload_dir)


# --- R7 ----------------------------------------------------------------------------------------------


def test_a_file_as_the_first_message_starts_the_consultation(alice_client, agent, make_consultation, settings):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    response = files.agent_sends(alice_client, consultation, files.PDF, name="안내문.pdf")

    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"consultation-changed": {}}'
    consultation.refresh_from_db()
    message = consultation.messages.get()
    assert consultation.status == Status.IN_PROGRESS
    assert consultation.first_response_at == message.created_at
    assert consultation.last_message == message
    assert (message.kind, message.text, message.attachment.name) == (Message.Kind.FILE, "", "안내문.pdf")
    assert Event.objects.filter(consultation=consultation, kind=Event.Kind.STARTED).count() == 1
    assert files.stored_files(settings.MEDIA_ROOT) == [message.attachment.file.name]


def test_a_first_file_over_the_concurrent_limit_is_refused_and_its_file_deleted(
    alice_client, agent, make_consultation, settings, upload_dir
):
    fill(make_consultation, agent, Status.IN_PROGRESS, 3)  # the center's default limit
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    response = files.agent_sends(alice_client, consultation, PNG, name="사진.png", text=DRAFT)

    assert_refused_in_place(response, "Alice already has 3 consultations in progress, the center's concurrent limit.")
    assert_nothing_stored(settings, upload_dir)  # stored before the send, deleted when it was refused
    consultation.refresh_from_db()
    assert consultation.status == Status.WAITING
    assert not Event.objects.filter(consultation=consultation, kind=Event.Kind.STARTED).exists()


# --- what is sent ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [("사진.png", PNG, Message.Kind.IMAGE), ("견적서.pdf", files.PDF, Message.Kind.FILE)],
)
def test_text_and_a_file_go_as_one_message(alice_client, agent, make_consultation, settings, name, content, kind):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    response = files.agent_sends(alice_client, consultation, content, name=name, text="첫 줄\r\n둘째 줄")

    page = page_of(response)
    message = Message.objects.get()
    assert (message.consultation, message.kind, message.text) == (consultation, kind, "첫 줄\n둘째 줄")
    attachment = message.attachment
    assert (attachment.name, attachment.size) == (name, len(content))
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert (Path(settings.MEDIA_ROOT) / attachment.file.name).read_bytes() == content
    assert "첫 줄<br>둘째 줄" in page and name in page
    assert "></textarea>" in page  # the composer is emptied


def test_a_text_only_message_still_works_and_stores_no_file(alice_client, agent, make_consultation, settings):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    files.agent_sends(alice_client, consultation, text="파일 없이 보냅니다")

    message = Message.objects.get()
    assert (message.kind, message.text) == (Message.Kind.TEXT, "파일 없이 보냅니다")
    assert not Attachment.objects.exists()
    assert files.stored_files(settings.MEDIA_ROOT) == []


def test_an_image_that_is_not_one_goes_as_a_plain_file(alice_client, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    files.agent_sends(alice_client, consultation, files.TEXT_AS_PNG, name="메모.png", content_type="image/png")

    assert Message.objects.get().kind == Message.Kind.FILE


def test_the_file_is_ours_to_type_not_the_browsers(alice_client, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    files.agent_sends(alice_client, consultation, files.PDF, name="견적서.pdf", content_type="text/html")

    assert Attachment.objects.get().content_type == "application/pdf"


def test_a_file_over_the_limit_is_refused_in_place_and_nothing_is_kept(
    alice_client, agent, make_consultation, settings, upload_dir, monkeypatch
):
    monkeypatch.setattr(file_policy, "MAX_FILE_BYTES", 1000)
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    response = files.agent_sends(alice_client, consultation, b"x" * 1001, name="자료.zip", text=DRAFT)

    assert_refused_in_place(response, "A file can be at most 300 MB.")
    assert_nothing_stored(settings, upload_dir)


def test_a_file_at_the_limit_is_sent(alice_client, agent, make_consultation, settings, monkeypatch):
    monkeypatch.setattr(file_policy, "MAX_FILE_BYTES", 1000)
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    files.agent_sends(alice_client, consultation, b"x" * 1000, name="자료.zip")

    assert Attachment.objects.get().size == 1000


def test_an_empty_file_without_text_is_a_file_message(alice_client, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    response = files.agent_sends(alice_client, consultation, b"", name="빈 파일.txt")

    assert response.status_code == 200
    message = consultation.messages.get()
    assert (message.kind, message.attachment.size) == (Message.Kind.FILE, 0)
    assert message.attachment.sha256 == hashlib.sha256(b"").hexdigest()


def test_without_htmx_a_refused_file_redirects_with_the_reason_and_keeps_nothing(
    alice_client, agent, make_consultation, settings, upload_dir
):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    body, content_type = files.multipart({"text": DRAFT}, filename="setup.exe", content=b"MZ")

    response = alice_client.post(
        f"/consultations/{consultation.public_id}/messages", body, content_type=content_type, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 302
    assert response.url.startswith(f"/consultations/{consultation.public_id}/")
    follow = alice_client.get(response.url, HTTP_ACCEPT_LANGUAGE="en")
    assert "Files of type .exe cannot be sent." in html.unescape(follow.content.decode())
    assert_nothing_stored(settings, upload_dir)

"""The customer simulator (SPEC §7): who may open it, what it shows, and that it speaks the real webhook."""

import hashlib
import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from consultations import file_policy, lifecycle, thumbnails
from consultations.models import Attachment, CloseReason, Consultation, Message, Status
from consultations.tests import browser, files
from consultations.tests.helpers import T0, customer_writes, incoming_file
from counsel_center import clock
from counsel_center.tests.factories import UserFactory
from customers import rules as customer_rules
from customers.models import Block, Customer
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PAGE = "/simulator/alpha/"
MESSAGES = "/simulator/alpha/messages"


@pytest.fixture
def enabled(settings):
    settings.DEBUG = False
    settings.SIMULATOR_ENABLED = True


# --- who may open it ------------------------------------------------------------------


@pytest.mark.parametrize("url", [PAGE, MESSAGES])
def test_it_does_not_exist_unless_debug_or_enabled(client, settings, agent, url):
    settings.DEBUG = False
    settings.SIMULATOR_ENABLED = False
    client.force_login(agent.user)

    assert client.get(url).status_code == 404


def test_it_is_on_in_debug(client, settings, agent):
    settings.DEBUG = True
    settings.SIMULATOR_ENABLED = False
    client.force_login(agent.user)

    assert client.get(PAGE).status_code == 200


@pytest.mark.parametrize("url", [PAGE, MESSAGES])
def test_it_opens_for_a_member_of_the_center(client, enabled, agent, url):
    client.force_login(agent.user)

    assert client.get(url).status_code == 200


def test_it_opens_for_a_superuser_of_no_center(client, enabled, center):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))

    assert client.get(PAGE).status_code == 200


@pytest.mark.parametrize("url", [PAGE, MESSAGES])
def test_it_does_not_exist_for_another_centers_member(client, enabled, center, outsider, url):
    client.force_login(outsider.user)

    assert client.get(url).status_code == 404


def test_it_does_not_exist_for_an_inactive_member(client, enabled, agent):
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    client.force_login(agent.user)

    assert client.get(PAGE).status_code == 404


@pytest.mark.parametrize("url", [PAGE, MESSAGES])
def test_it_sends_anonymous_visitors_to_log_in(client, enabled, center, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert "next=" in response.url


def test_an_unknown_center_is_404(client, enabled, agent):
    client.force_login(agent.user)

    assert client.get("/simulator/nowhere/").status_code == 404
    assert client.get("/simulator/nowhere/messages").status_code == 404


# --- the page ----------------------------------------------------------------------------


def test_the_page_carries_the_webhook_url_the_secret_and_the_script(client, enabled, agent):
    client.force_login(agent.user)

    response = client.get(PAGE)

    html = response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")  # never_cache: it holds the secret
    assert f'data-webhook-url="{reverse("channel-events", args=["alpha"])}"' in html
    assert 'data-webhook-url="/channel/alpha/events"' in html
    assert 'data-secret="alpha-secret"' in html
    assert 'data-messages-url="/simulator/alpha/messages"' in html
    assert "js/simulator.js" in html
    assert "css/simulator.css" in html
    assert 'id="simulator-strings"' in html
    # CSP-friendly: no inline handlers or styles, no inline script other than the JSON data blocks.
    assert " onclick=" not in html and " onsubmit=" not in html and " style=" not in html
    assert html.count("<script") == 3
    assert html.count('type="application/json"') == 2


def test_the_page_carries_the_file_policy_of_the_server(client, enabled, agent):
    client.force_login(agent.user)

    response = client.get(PAGE)

    html = response.content.decode()
    assert f'accept="{file_policy.accept_attribute()}"' in html
    policy = json.loads(re.search(r'id="simulator-file-policy"[^>]*>(.*?)</script>', html).group(1))
    assert policy == {"categories": file_policy.CATEGORY_OF, "max_bytes": 300 * 1024 * 1024}
    strings = response.context["strings"]
    # The server's own refusal (Korean by default), with a slot for the extension the page fills in.
    assert strings["type_not_allowed"].startswith(".{extension} 파일은 보낼 수 없습니다.")
    assert "png" in strings["type_not_allowed"]  # the allowed types, from the same table


def test_the_picker_lists_the_centers_customers_only(client, enabled, agent, other_center):
    CustomerFactory(center=agent.center, user_key="kakao-7", profile_nickname="이수진", is_friend=True)
    CustomerFactory(center=other_center, user_key="kakao-8", profile_nickname="다른센터고객")
    client.force_login(agent.user)

    html = client.get(PAGE).content.decode()

    assert 'value="kakao-7"' in html
    assert "이수진" in html
    assert "kakao-8" not in html and "다른센터고객" not in html
    assert 'value="sim-' in html  # a fresh key for a new customer


# --- the messages endpoint -----------------------------------------------------------------


@pytest.fixture
def conversation(center, agent, other_center):
    """kakao-user-1 asks, Alice answers, the customer ends it with !종료, then asks again.

    Around it: another customer of the same center, and a customer of another
    center with the same user key, whose messages must never show.
    """
    with clock.frozen_at(T0):
        first = customer_writes(center, "배송 문의드립니다", profile_nickname="김민지").consultation
    with clock.frozen_at(T0 + timedelta(minutes=1)):
        customer_writes(center, "다른 고객입니다", user_key="kakao-user-2")
        lifecycle.do_assign_to_me(first, actor=agent)
    with clock.frozen_at(T0 + timedelta(minutes=2)):
        lifecycle.do_send_message(first, actor=agent, text="안녕하세요, 상담원 앨리스입니다.")
    with clock.frozen_at(T0 + timedelta(minutes=3)):
        customer_writes(center, "!종료")
    with clock.frozen_at(T0 + timedelta(minutes=4)):
        customer_writes(other_center, "베타 센터 문의", user_key="kakao-user-1")
        second = customer_writes(center, "하나 더 물어볼게요").consultation
    return first, second


def get_items(client, **params):
    response = client.get(MESSAGES, {"user_key": "kakao-user-1", **params})
    assert response.status_code == 200
    return response.json()


def summary(items: list[dict]) -> list[tuple]:
    return [(i["type"], i["sender"], i["text"]) if i["type"] == "message" else (i["type"], i["reason"]) for i in items]


def test_it_returns_the_customers_messages_and_closes_in_time_order(client, enabled, agent, conversation):
    first, second = conversation
    client.force_login(agent.user)

    answer = get_items(client)

    items = answer["items"]
    assert summary(items) == [
        ("message", "customer", "배송 문의드립니다"),
        ("message", "agent", "안녕하세요, 상담원 앨리스입니다."),
        ("message", "customer", "!종료"),  # the close it caused comes right after it
        ("closed", CloseReason.CUSTOMER_END),
        ("message", "customer", "하나 더 물어볼게요"),
    ]
    assert [i["author"] for i in items if i["type"] == "message"] == [None, "Alice", None, None]
    assert items[1]["delivery_state"] == "local"
    assert items[3]["consultation_id"] == first.public_id
    assert str(CloseReason.CUSTOMER_END.label) in items[3]["text"]
    assert items[4]["consultation_id"] == second.public_id
    assert items[0]["created_at"] == T0.isoformat()
    assert len({i["key"] for i in items}) == len(items)
    customer = Customer.objects.get(center=agent.center, user_key="kakao-user-1")
    assert answer["customer"] == {
        "customer_id": customer.customer_id,
        "profile_nickname": "김민지",
        "is_friend": False,
        "is_blocked": False,
        "consultation_id": second.public_id,
        "status": Status.UNASSIGNED,
        "status_display": str(Status.UNASSIGNED.label),
    }


def test_it_returns_only_what_came_after_the_cursors(client, enabled, agent, conversation):
    client.force_login(agent.user)
    everything = get_items(client)["items"]
    agent_message = everything[1]
    close = everything[3]

    after_agent = get_items(client, after=agent_message["id"], after_event=close["id"])["items"]
    after_agent_no_event_cursor = get_items(client, after=agent_message["id"])["items"]
    nothing_new = get_items(client, after=everything[-1]["id"], after_event=close["id"])["items"]

    assert summary(after_agent) == [("message", "customer", "!종료"), ("message", "customer", "하나 더 물어볼게요")]
    assert ("closed", CloseReason.CUSTOMER_END) in summary(after_agent_no_event_cursor)
    assert nothing_new == []


def test_it_shows_nothing_of_another_customer_or_center(client, enabled, agent, conversation):
    client.force_login(agent.user)

    other_customer = get_items(client, user_key="kakao-user-2")["items"]
    unknown = get_items(client, user_key="kakao-user-404")

    assert summary(other_customer) == [("message", "customer", "다른 고객입니다")]
    assert unknown == {"customer": None, "items": []}
    texts = [i["text"] for i in get_items(client)["items"]]
    assert "베타 센터 문의" not in texts  # the same user key in center beta is another customer


def test_the_other_centers_member_sees_only_their_own_customer(client, enabled, outsider, conversation):
    client.force_login(outsider.user)

    response = client.get("/simulator/beta/messages", {"user_key": "kakao-user-1"})

    assert summary(response.json()["items"]) == [("message", "customer", "베타 센터 문의")]


def test_it_describes_attachments_and_blocks(client, enabled, agent, center):
    received = customer_writes(center, "", kind=Message.Kind.FILE, attachment=incoming_file("견적서.pdf", b"%PDF-1.4"))
    customer_rules.do_block_customer(received.customer, actor=None, reason=Block.Reason.ABUSE)
    client.force_login(agent.user)

    answer = get_items(client)

    attachment = received.message.attachment
    assert answer["items"][0]["kind"] == "file"
    assert answer["items"][0]["attachment"] == {
        "name": "견적서.pdf",
        "size": 8,
        "kind": "file",
        "url": reverse("file-download", args=[attachment.pk]),
        "thumbnail_url": None,  # only an image gets one
    }
    assert answer["items"][1]["reason"] == CloseReason.CUSTOMER_BLOCKED
    assert answer["customer"]["is_blocked"] is True


def test_an_attachments_links_work_for_the_member_and_the_thumbnail_only_once_made(client, enabled, agent, center):
    content = files.png((120, 80))
    received = customer_writes(
        center, "사진입니다", kind=Message.Kind.IMAGE, attachment=incoming_file("a.png", content)
    )
    attachment = received.message.attachment
    client.force_login(agent.user)

    before = get_items(client)["items"][0]["attachment"]
    not_yet = client.get(reverse("file-thumbnail", args=[attachment.pk]))
    assert thumbnails.make_thumbnail(attachment.pk) == "made"  # the task queued on commit
    after = get_items(client)["items"][0]["attachment"]

    assert (before["kind"], before["thumbnail_url"]) == ("image", None)
    assert not_yet.status_code == 404
    assert after["thumbnail_url"] == reverse("file-thumbnail", args=[attachment.pk])
    assert after["url"] == before["url"] == reverse("file-download", args=[attachment.pk])
    image = client.get(after["url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == content
    thumbnail = client.get(after["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"].startswith("image/")


def test_another_centers_member_reaches_neither_the_messages_nor_the_files(client, enabled, agent, center, outsider):
    received = customer_writes(center, "", kind=Message.Kind.FILE, attachment=incoming_file("견적서.pdf", files.PDF))
    client.force_login(agent.user)
    url = get_items(client)["items"][0]["attachment"]["url"]
    client.force_login(outsider.user)

    assert client.get(MESSAGES, {"user_key": "kakao-user-1"}).status_code == 404
    assert client.get(url).status_code == 404
    assert received.message.attachment.name == "견적서.pdf"


@pytest.mark.parametrize("params", [{"after": "x"}, {"after": "-1"}, {"after_event": "1.5"}])
def test_it_refuses_a_bad_cursor(client, enabled, agent, params):
    client.force_login(agent.user)

    response = client.get(MESSAGES, {"user_key": "kakao-user-1", **params})

    assert response.status_code == 400
    assert response.json()["error"] == "bad_cursor"


def test_it_answers_in_a_fixed_number_of_queries(client, enabled, agent, conversation, django_assert_max_num_queries):
    for n in range(10):
        customer_writes(agent.center, f"메시지 {n}", kind=Message.Kind.FILE, attachment=incoming_file(f"f{n}.txt"))
    client.force_login(agent.user)

    # session, user, center, membership, customer (+ block state), messages (+ consultation,
    # author, attachment), close events (+ consultation), the current consultation
    with django_assert_max_num_queries(8):
        items = get_items(client)["items"]

    assert len(items) == 15


# --- the browser: real signed webhook calls ---------------------------------------------------


@pytest.fixture
def browser_page(live_server, client, settings, agent, monkeypatch):
    """A Chromium page logged in as Alice, on the simulator of center alpha."""
    settings.SIMULATOR_ENABLED = True
    client.force_login(agent.user)
    session = (settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    with browser.chromium(monkeypatch) as chromium:
        context = browser.session_context(chromium, live_server.url, session, viewport={"width": 1100, "height": 900})
        tab = browser.open_tab(context)
        tab.page.goto(f"{live_server.url}{PAGE}")
        yield tab.page
        assert tab.errors == [], f"script errors: {tab.errors}"


def send(page, text: str) -> None:
    page.fill('[data-role="text"]', text)
    page.press('[data-role="text"]', "Enter")


@pytest.mark.django_db(transaction=True)
def test_the_simulators_calls_are_real_signed_webhook_calls(browser_page, agent, center, tmp_path):
    page = browser_page
    user_key = page.input_value('[data-role="user-key"]')
    assert user_key.startswith("sim-")

    # A text: the webhook accepted the browser's signature and opened a consultation.
    send(page, "배송 문의드립니다")
    page.wait_for_selector('[data-role="outgoing"][data-state="sent"]')
    message = Message.objects.get(consultation__customer__user_key=user_key)
    assert (message.sender, message.text) == (Message.Sender.CUSTOMER, "배송 문의드립니다")
    consultation = message.consultation
    assert consultation.status == Status.UNASSIGNED
    assert Customer.objects.get(user_key=user_key).is_friend is True

    # Shift+Enter is a new line, not a send.
    page.fill('[data-role="text"]', "첫 줄")
    page.press('[data-role="text"]', "Shift+Enter")
    page.keyboard.type("둘째 줄")
    page.press('[data-role="text"]', "Enter")
    page.wait_for_selector('[data-role="outgoing"][data-state="sent"] >> nth=1')
    assert Message.objects.filter(consultation=consultation).last().text == "첫 줄\n둘째 줄"

    # What the agent sends shows up as an incoming bubble with the agent's name (polled).
    lifecycle.do_assign_to_me(consultation, actor=agent)
    lifecycle.do_send_message(consultation, actor=agent, text="안녕하세요, 앨리스입니다.")
    incoming = page.wait_for_selector('[data-role="incoming"]')
    assert "안녕하세요, 앨리스입니다." in incoming.inner_text()
    assert "Alice" in incoming.inner_text()

    # !종료 closes the consultation, and the close shows as a system line.
    page.click('[data-action="end"]')
    page.wait_for_selector('[data-role="system"][data-key^="c"]')
    consultation.refresh_from_db()
    assert (consultation.status, consultation.close_reason) == (Status.CLOSED, CloseReason.CUSTOMER_END)

    # A PNG goes as an image attachment, multipart, with its SHA-256 and the text typed with it.
    content = files.png()
    path = tmp_path / "사진.png"
    path.write_bytes(content)
    page.set_input_files('[data-role="file-input"]', str(path))
    assert "사진.png" in page.text_content('[data-role="staged"]')
    send(page, "영수증 사진입니다")
    page.wait_for_selector('[data-role="outgoing"][data-state="sent"] .attachment img')
    assert page.is_hidden('[data-role="staged"]')
    attachment = Attachment.objects.select_related("message__consultation").get(
        message__consultation__customer__user_key=user_key
    )
    assert (attachment.name, attachment.size) == ("사진.png", len(content))
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.message.kind == Message.Kind.IMAGE
    assert attachment.message.text == "영수증 사진입니다"
    second = attachment.message.consultation
    assert second.pk != consultation.pk and second.status == Status.UNASSIGNED

    # 챗봇으로 전환 closes the new consultation.
    page.click('[data-action="chatbot"]')
    page.wait_for_selector('[data-role="system"][data-key^="c"] >> nth=1')
    second.refresh_from_db()
    assert (second.status, second.close_reason) == (Status.CLOSED, CloseReason.CHATBOT_SWITCH)

    # !종료 with nothing open is accepted and keeps nothing; the page says so.
    page.click('[data-action="end"]')
    page.wait_for_selector(".system-note >> nth=1")  # the first said 챗봇으로 전환 worked
    assert Message.objects.filter(consultation__customer__user_key=user_key).count() == 5

    # Unticking 채널 친구 is a friend_status event.
    page.uncheck('[data-role="friend"]')
    page.wait_for_selector(".system-note >> nth=2")
    assert Customer.objects.get(user_key=user_key).is_friend is False

    # Nothing was shown twice, although every message came back through the poll.
    keys = page.eval_on_selector_all("[data-key]", "nodes => nodes.map(n => n.dataset.key)")
    assert len(keys) == len(set(keys)) == Message.objects.count() + 2


@pytest.mark.django_db(transaction=True)
def test_the_simulator_shows_the_webhooks_refusal(browser_page, agent, center):
    page = browser_page
    user_key = page.input_value('[data-role="user-key"]')
    send(page, "안녕하세요")
    page.wait_for_selector('[data-role="outgoing"][data-state="sent"]')
    customer_rules.do_block_customer(Customer.objects.get(user_key=user_key), actor=None, reason=Block.Reason.ABUSE)

    send(page, "왜 답이 없나요")

    failed = page.wait_for_selector('[data-role="outgoing"][data-state="failed"]')
    assert failed.get_attribute("data-error") == "customer_blocked"
    error = page.text_content('[data-role="error"]')
    assert "This customer is blocked." in error or "차단된 고객입니다" in error
    assert Customer.objects.get(user_key=user_key).blocked_attempts == 1
    assert not Consultation.objects.filter(customer__user_key=user_key).exclude(status=Status.CLOSED).exists()


def pick(page, path) -> None:
    """Choose `path` in the simulator's file picker (the hidden input behind 파일)."""
    page.set_input_files('[data-role="file-input"]', str(path))


@pytest.mark.django_db(transaction=True)
def test_the_simulator_sends_a_file_with_its_upload_progress(browser_page, tmp_path):
    page = browser_page
    user_key = page.input_value('[data-role="user-key"]')
    content = files.png((640, 480))
    path = tmp_path / "receipt.PNG"
    path.write_bytes(content)
    # Slow the upload down (Chromium's network emulation), so its progress can be seen.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    throttled = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 64 * 1024}
    cdp.send("Network.emulateNetworkConditions", throttled)
    big = tmp_path / "manual.pdf"
    big.write_bytes(files.PDF + bytes(range(256)) * 512)  # 128 KB: about two seconds

    pick(page, big)
    page.click('[data-action="send"]')  # a file needs no text
    # The label as it was halfway (read in the same moment: the box goes when the upload ends).
    label = page.wait_for_function(
        """() => {
          const box = document.querySelector('[data-role="progress"]');
          const percent = Number(box?.dataset.percent);
          return percent > 0 && percent < 100 && box.querySelector(".upload-text").textContent;
        }"""
    ).json_value()
    assert re.fullmatch(r"\d{1,2}% · 0\.\d / 0\.1 MB", label), label
    page.wait_for_selector('[data-role="outgoing"][data-state="sent"]', timeout=30_000)
    assert page.query_selector('[data-role="progress"]') is None
    cdp.send("Network.emulateNetworkConditions", {**throttled, "uploadThroughput": -1})

    message = Message.objects.select_related("attachment").get(consultation__customer__user_key=user_key)
    assert (message.kind, message.text, message.attachment.name) == (Message.Kind.FILE, "", "manual.pdf")
    assert message.attachment.sha256 == hashlib.sha256(big.read_bytes()).hexdigest()

    # The extension's case does not matter; the server decides the kind of what it verified.
    pick(page, path)
    page.click('[data-action="send"]')
    page.wait_for_selector('[data-role="outgoing"][data-state="sent"] >> nth=1')
    image = Message.objects.select_related("attachment").filter(consultation__customer__user_key=user_key).last()
    assert (image.kind, image.attachment.sha256) == (Message.Kind.IMAGE, hashlib.sha256(content).hexdigest())


@pytest.mark.django_db(transaction=True)
def test_the_simulator_refuses_a_file_type_before_sending_it(browser_page, tmp_path):
    page = browser_page
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    path = tmp_path / "a.exe"
    path.write_bytes(b"MZ" + bytes(100))
    send(page, "설치 파일 보내드려요")
    page.wait_for_selector('[data-role="outgoing"][data-state="sent"]')

    pick(page, path)

    failed = page.wait_for_selector('[data-role="outgoing"][data-state="failed"]')
    assert failed.get_attribute("data-error") == "file_type_not_allowed"
    assert "a.exe" in failed.inner_text()
    error = page.text_content('[data-role="error"]')
    assert ".exe" in error and "png" in error  # the type, and what is allowed instead
    assert page.is_hidden('[data-role="staged"]')
    assert len(posts) == 1  # the text only: the file never left the browser
    assert Message.objects.count() == 1 and not Attachment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_simulator_shows_the_webhooks_refusal_of_a_file(browser_page, tmp_path, monkeypatch):
    """A page loaded before the server's table changed: the webhook's own refusal shows, with its detail."""
    page = browser_page
    monkeypatch.setattr(file_policy, "CATEGORY_OF", {k: v for k, v in file_policy.CATEGORY_OF.items() if k != "txt"})
    path = tmp_path / "메모.txt"
    path.write_text("안녕하세요")

    pick(page, path)
    send(page, "메모 첨부합니다")

    failed = page.wait_for_selector('[data-role="outgoing"][data-state="failed"]')
    assert failed.get_attribute("data-error") == "file_type_not_allowed"
    error = page.text_content('[data-role="error"]')
    assert "400 file_type_not_allowed" in error
    assert "Files of type .txt cannot be sent." in error  # the webhook's detail
    assert not Message.objects.exists() and not Attachment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_simulator_shows_the_files_agents_send(browser_page, agent, center):
    page = browser_page
    user_key = page.input_value('[data-role="user-key"]')
    send(page, "견적서 보내주세요")
    page.wait_for_selector('[data-role="outgoing"][data-state="sent"]')
    consultation = Consultation.objects.get(customer__user_key=user_key)
    lifecycle.do_assign_to_me(consultation, actor=agent)

    pdf = lifecycle.do_send_message(
        consultation, actor=agent, text="견적서입니다.", kind="file", attachment=incoming_file("견적서.pdf", files.PDF)
    )
    image_content = files.png((300, 200))
    image = lifecycle.do_send_message(
        consultation, actor=agent, text="", kind="image", attachment=incoming_file("매장.png", image_content)
    )
    lifecycle.do_send_message(
        consultation, actor=agent, text="", kind="audio", attachment=incoming_file("안내.m4a", b"\x00" * 2048)
    )

    # The PDF: a card with its name, size and a download link that works.
    card = page.wait_for_selector('[data-role="incoming"] [data-role="attachment"][data-kind="file"]')
    assert "견적서.pdf" in card.inner_text() and f"{len(files.PDF)} B" in card.inner_text()
    assert "견적서입니다." in page.text_content('[data-role="incoming"] >> nth=0')
    link = card.query_selector('[data-role="download"]')
    href = link.get_attribute("href")
    assert href == reverse("file-download", args=[pdf.attachment.pk]) + "?download=1"
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "견적서.pdf"
    with open(download.path(), "rb") as downloaded:
        assert downloaded.read() == files.PDF

    # The image: the full image while the page saw no thumbnail yet (the task runs after the commit)…
    shown = page.wait_for_selector('[data-role="incoming"] [data-kind="image"] a[target="_blank"] img')
    thumbnail_url = reverse("file-thumbnail", args=[image.attachment.pk])
    assert shown.get_attribute("src") in (thumbnail_url, reverse("file-download", args=[image.attachment.pk]))
    image.attachment.refresh_from_db()
    assert image.attachment.thumbnail
    # … and its thumbnail once made: here on the page loaded again, the customer picked from the list.
    page.reload()
    page.select_option('[data-role="customer-select"]', user_key)
    thumbnail = page.wait_for_selector('[data-role="incoming"] [data-kind="image"] a[target="_blank"] img')
    assert thumbnail.get_attribute("src") == thumbnail_url
    assert page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail)
    opener = page.query_selector('[data-kind="image"] a[target="_blank"]')
    assert opener.get_attribute("href") == reverse("file-download", args=[image.attachment.pk])
    assert opener.get_attribute("rel") == "noopener"
    full = page.request.get(page.url.split("/simulator/")[0] + opener.get_attribute("href"))
    assert full.status == 200 and full.body() == image_content

    # The audio: a card that says where it plays.
    audio = page.wait_for_selector('[data-role="incoming"] [data-role="attachment"][data-kind="audio"]')
    note = audio.inner_text()
    assert "Audio plays in mobile KakaoTalk only." in note or "모바일 카카오톡에서만 재생 가능" in note


@pytest.mark.django_db(transaction=True)
def test_the_simulator_shows_times_in_the_centers_time_zone_not_the_browsers(
    live_server, client, settings, agent, monkeypatch
):
    """A browser in New York, a center in Seoul: the simulator reads the clock as the console does."""
    settings.SIMULATOR_ENABLED = True
    client.force_login(agent.user)
    session = (settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    with browser.chromium(monkeypatch) as chromium:
        context = browser.session_context(chromium, live_server.url, session, timezone_id="America/New_York")
        tab = browser.open_tab(context)
        page = tab.page
        page.goto(f"{live_server.url}{PAGE}")
        user_key = page.input_value('[data-role="user-key"]')
        send(page, "몇 시에 여나요?")
        page.wait_for_selector('[data-role="outgoing"][data-state="sent"]')
        message = Message.objects.get(consultation__customer__user_key=user_key)
        lifecycle.do_assign_to_me(message.consultation, actor=agent)
        answer = lifecycle.do_send_message(message.consultation, actor=agent, text="오전 9시에 엽니다.")

        shown = page.wait_for_selector('[data-role="incoming"] .msg-meta').inner_text()
        iso = answer.created_at.isoformat()
        in_zone = '([iso, zone]) => new Date(iso).toLocaleTimeString("ko", {hour: "numeric", minute: "2-digit", '
        in_zone += "timeZone: zone})"
        in_seoul = page.evaluate(in_zone, [iso, "Asia/Seoul"])
        in_browser = page.evaluate(in_zone, [iso, "America/New_York"])
        assert in_seoul != in_browser  # 13 or 14 hours apart: the test can tell them apart
        assert shown == in_seoul
        assert tab.errors == [], f"script errors: {tab.errors}"

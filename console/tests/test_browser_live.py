"""Live updates in a real browser: what other members, the customer and the idle sweep do shows without a reload.

Debian's Chromium (consultations/tests/browser.py) against a uvicorn server
(the stream is an async view only an ASGI server serves; consultations/tests/live.py),
in Korean. Changes are made the way they happen in production — a signed
webhook call to the server, another member's browser, lifecycle calls as the
idle sweep and other members' requests make them — and the page under test
is never reloaded: each test marks its `window` first and checks the mark is
still there at the end.
"""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from consultations import lifecycle
from consultations.models import Consultation, ReadMark, Status
from consultations.tests import browser
from consultations.tests.files import PDF
from consultations.tests.live import eventually, post_message
from counsel_center.models import Center

pytestmark = pytest.mark.django_db(transaction=True)

COMPOSER = "#composer-text"


def base_url(server) -> str:
    return f"http://127.0.0.1:{server.port}"


def console_tab(chromium, server, user, path: str) -> browser.Tab:
    """A logged-in tab showing `path`, its live stream connected, its window marked (see the module's doc)."""
    context = browser.session_context(chromium, base_url(server), browser.session_of(user))
    tab = browser.open_tab(context)
    tab.page.goto(base_url(server) + path)
    tab.page.wait_for_selector('#live[data-state="open"]', state="attached")
    tab.page.evaluate("window.__notReloaded = true")
    return tab


def still_the_same_page(tab: browser.Tab) -> bool:
    return tab.page.evaluate("window.__notReloaded === true")


def in_progress_for(center, agent, *, text="주문한 상품이 아직 안 왔어요") -> Consultation:
    received = lifecycle.do_receive_customer_message(
        center, user_key="kakao-live", text=text, profile_nickname="박지훈"
    )
    consultation = lifecycle.do_assign_to_me(received.consultation, actor=agent)
    lifecycle.do_send_message(consultation, actor=agent, text="확인해 보겠습니다.")
    return Consultation.objects.get(pk=consultation.pk)


def test_a_customer_message_appears_in_the_open_chat_and_the_list(chromium, server, center, agent):
    consultation = in_progress_for(center, agent)
    tab = console_tab(chromium, server, agent.user, f"/consultations/{consultation.public_id}/?tab=in_progress")
    page = tab.page
    row = f'#list-pane a.row[data-consultation="{consultation.public_id}"]'
    page.wait_for_selector(row)
    page.set_input_files("#composer-file", files=[{"name": "견적서.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.fill(COMPOSER, "확인해 보니")  # the member is answering

    post_message(server, center, "송장 번호 좀 알려주세요", user_key="kakao-live")

    page.wait_for_function(
        "() => document.querySelector('#chat-messages').innerText.includes('송장 번호 좀 알려주세요')"
    )
    page.wait_for_function(
        "(row) => document.querySelector(row)?.innerText.includes('송장 번호 좀 알려주세요')", arg=row
    )
    # Appended once: the line is not doubled by the list refresh or a second read.
    assert page.locator("#chat-messages .msg-customer", has_text="송장 번호 좀 알려주세요").count() == 1
    # The composer was not touched: the draft, the caret and the file are where they were.
    assert page.input_value(COMPOSER) == "확인해 보니" and chosen_files(page) == ["견적서.pdf"]
    assert page.evaluate("document.activeElement.id") == "composer-text"
    # The member saw it: the page posted the read mark up to it (the refresh itself, a GET, writes nothing).
    newest = Consultation.objects.get(pk=consultation.pk).last_message_id
    eventually(
        lambda: ReadMark.objects.filter(member=agent, consultation=consultation, last_read_message_id=newest).exists(),
        message="read mark posted",
    )
    assert still_the_same_page(tab)
    assert tab.errors == []


def test_a_colleague_taking_a_consultation_shows_in_my_list(chromium, server, center, agent, agent2):
    received = lifecycle.do_receive_customer_message(
        center, user_key="kakao-new", text="문의드려요", profile_nickname="이서연"
    )
    public_id = received.consultation.public_id
    mine = console_tab(chromium, server, agent.user, "/consultations/?scope=all&tab=unassigned")
    row = f'#list-pane a.row[data-consultation="{public_id}"]'
    mine.page.wait_for_selector(row)

    # Bob, in a browser of his own, opens it and presses 나에게 할당.
    theirs = console_tab(chromium, server, agent2.user, f"/consultations/{public_id}/?scope=all&tab=unassigned")
    theirs.page.click("#chat-assign-to-me")
    theirs.page.wait_for_function(
        "() => document.querySelector('#chat .chat-header .state').innerText.trim() === '대기'"
    )

    # My 할당 전 tab loses the row and its count drops to zero, without a reload.
    mine.page.wait_for_selector(row, state="detached")
    mine.page.wait_for_function(
        "() => document.querySelector('#list-pane [data-count=\"unassigned\"]').innerText.trim() === '0'"
    )
    assert Consultation.objects.get(public_id=public_id).assignee == agent2
    assert still_the_same_page(mine)
    assert mine.errors == [] and theirs.errors == []


def chosen_files(page) -> list[str]:
    return page.evaluate("[...document.querySelector('#composer-file').files].map((file) => file.name)")


def test_the_composer_follows_changes_made_elsewhere_and_keeps_the_draft_and_the_file(
    chromium, server, center, agent, manager
):
    consultation = in_progress_for(center, agent)
    tab = console_tab(chromium, server, agent.user, f"/consultations/{consultation.public_id}/?tab=in_progress")
    page = tab.page
    page.set_input_files("#composer-file", files=[{"name": "견적서.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.locator("form.composer .composer-chip").wait_for()
    page.fill(COMPOSER, "잠시만 기다려 주세요")  # a draft being typed, the caret in it
    assert page.is_enabled(COMPOSER)

    # A manager marks it important: the header and the bar change, the draft, the caret and the file stay.
    lifecycle.do_set_important(consultation, actor=manager, important=True)
    page.wait_for_selector("#chat .chat-header .flag-important")
    assert page.evaluate("document.activeElement.id") == "composer-text"
    assert page.input_value(COMPOSER) == "잠시만 기다려 주세요"
    assert chosen_files(page) == ["견적서.pdf"] and page.locator("form.composer .composer-chip").is_visible()
    assert page.get_attribute("#chat-important", "aria-pressed") == "true"

    # The manager puts it on hold: my composer disables itself, the draft and the file kept.
    lifecycle.do_set_hold(consultation, actor=manager, on_hold=True)
    page.wait_for_selector(f"{COMPOSER}:disabled")
    assert page.input_value(COMPOSER) == "잠시만 기다려 주세요"
    assert page.locator("#chat .chat-header .flag-hold").count() == 1
    assert page.locator("#composer-reason").is_visible()

    lifecycle.do_set_hold(consultation, actor=manager, on_hold=False)
    page.wait_for_selector(f"{COMPOSER}:enabled")
    assert page.input_value(COMPOSER) == "잠시만 기다려 주세요"
    assert chosen_files(page) == ["견적서.pdf"] and page.locator("form.composer .composer-chip").is_visible()

    # The idle sweep closes it: the state, the system line and the disabled composer show up by themselves.
    closed = lifecycle.close_idle(now=timezone.now() + timedelta(minutes=center.idle_close_minutes + 1), center=center)
    assert consultation.pk in closed
    page.wait_for_function("() => document.querySelector('#chat .chat-header .state').innerText.trim() === '종료'")
    page.wait_for_selector(f"{COMPOSER}:disabled")
    assert Consultation.objects.get(pk=consultation.pk).status == Status.CLOSED
    assert still_the_same_page(tab)
    assert tab.errors == []


def test_reading_older_messages_keeps_its_place_and_offers_the_new_ones(chromium, server, center, agent):
    consultation = in_progress_for(center, agent)
    for n in range(60):  # more than a page: the pane opens at the newest 50
        lifecycle.do_receive_customer_message(center, user_key="kakao-live", text=f"이전 메시지 {n}")
    tab = console_tab(chromium, server, agent.user, f"/consultations/{consultation.public_id}/?tab=in_progress")
    page = tab.page
    page.evaluate("document.querySelector('#chat-messages').scrollTop = 0")  # reading from the top
    page.wait_for_function("() => document.querySelector('#chat-messages').innerText.includes('이전 메시지 0')")
    page.evaluate("document.querySelector('#chat-messages').scrollTop = 0")
    first_line = page.evaluate("document.querySelector('#chat-messages li.msg').getBoundingClientRect().top")

    post_message(server, center, "새로 온 메시지입니다", user_key="kakao-live")

    button = page.locator("#chat .chat-new")
    button.wait_for()
    assert button.inner_text() == "새 메시지 ↓"
    # What the member was reading did not move.
    assert page.evaluate("document.querySelector('#chat-messages li.msg').getBoundingClientRect().top") == first_line
    button.click()
    page.wait_for_function(
        "() => { const l = document.querySelector('#chat-messages');"
        " return l.scrollHeight - l.scrollTop - l.clientHeight < 40; }"
    )
    assert page.locator("#chat .chat-new").is_hidden()
    assert page.locator("#chat-messages .msg-customer", has_text="새로 온 메시지입니다").count() == 1
    assert tab.errors == []


def test_the_tab_title_counts_what_waits_for_me_and_an_assignment_notifies(chromium, server, center, agent, manager):
    tab = console_tab(chromium, server, agent.user, "/consultations/")
    page = tab.page
    page.evaluate(
        "window.__notes = []; document.getElementById('live')"
        ".addEventListener('counsel:notify', (e) => window.__notes.push(e.detail.kind))"
    )
    assert not page.title().startswith("(")
    received = lifecycle.do_receive_customer_message(center, user_key="kakao-title", text="상담 부탁드립니다")

    # The manager hands it to me: the title counts it, and the page announces it (sound and desktop
    # notification follow when the member turned them on in the top bar).
    lifecycle.do_change_assignee(received.consultation, actor=manager, assignee=agent)
    page.wait_for_function("() => document.title.startsWith('(1) ')")
    page.wait_for_function(
        "() => window.__notes.includes('consultation.assignee_changed')"
        " || window.__notes.includes('consultation.assigned')"
    )
    toggle = page.locator("#notify-toggle")
    assert toggle.is_visible() and toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true" and toggle.inner_text() == "알림 켜짐"
    assert still_the_same_page(tab)
    assert tab.errors == []


def test_stopping_the_center_in_the_admin_disables_open_composers_within_two_seconds(
    chromium, server, center, agent, master
):
    consultation = in_progress_for(center, agent)
    tab = console_tab(chromium, server, agent.user, f"/consultations/{consultation.public_id}/?tab=in_progress")
    page = tab.page
    assert page.is_enabled(COMPOSER)
    assert page.inner_text("#center-state").strip() == "운영 중"
    with translation.override("ko"):
        stopped_reason = str(lifecycle.CENTER_STOPPED.message)
    admin = browser.open_tab(browser.session_context(chromium, base_url(server), browser.session_of(master.user)))
    change_url = base_url(server) + f"/admin/counsel_center/center/{center.pk}/change/"

    def save_operating(operating: bool) -> None:
        admin.page.goto(change_url)
        admin.page.set_checked("#id_is_operating", operating)
        with admin.page.expect_navigation():
            admin.page.click("input[name=_save]")
        assert Center.objects.get(pk=center.pk).is_operating is operating

    # A master stops the center (운영 중지) in another browser: this console follows, without a reload.
    save_operating(False)
    page.wait_for_function(f"() => document.querySelector('{COMPOSER}').disabled", timeout=2000)
    page.wait_for_function("() => document.querySelector('#center-state').innerText.trim() === '운영 중지'")
    assert page.inner_text("#chat").count(stopped_reason) == 1  # said once, under the composer

    # …and restarts it: the composer opens again.
    save_operating(True)
    page.wait_for_function(f"() => !document.querySelector('{COMPOSER}').disabled", timeout=2000)
    page.wait_for_function("() => document.querySelector('#center-state').innerText.trim() === '운영 중'")
    assert stopped_reason not in page.inner_text("#chat")
    assert still_the_same_page(tab)
    assert tab.errors == [], f"script errors: {tab.errors}"

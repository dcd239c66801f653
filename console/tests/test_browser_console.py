"""The console in a real browser (SPEC §3): an agent's whole consultation, and two agents racing for one.

Debian's Chromium driven by Playwright (consultations/tests/browser.py), against
pytest-django's live server, in Korean (the context's locale sets
Accept-Language), logged in through the real login form.
"""

import re

import pytest

from consultations import lifecycle
from consultations.models import CloseReason, Consultation, Event, Message, ReadMark, Status, Template
from consultations.tests import browser

pytestmark = pytest.mark.django_db(transaction=True)

STATE = "#chat .chat-header .state"
COMPOSER = "#composer-text"


@pytest.fixture
def chromium(live_server, settings, monkeypatch):
    settings.SIMULATOR_ENABLED = True
    with browser.chromium(monkeypatch) as running:
        yield running


def wait_for_state(page, label: str) -> None:
    page.wait_for_function(
        "([selector, label]) => document.querySelector(selector)?.textContent.trim() === label", arg=[STATE, label]
    )


def test_an_agent_takes_answers_holds_and_closes_a_consultation(chromium, live_server, center, agent):
    received = lifecycle.do_receive_customer_message(
        center, user_key="kakao-user-1", text="배송이 아직 안 왔어요", profile_nickname="김민지", is_friend=True
    )
    consultation = received.consultation
    context = browser.new_context(chromium)
    tab = browser.open_tab(context)
    page = tab.page
    browser.log_in(page, live_server.url, "alice")

    # 전체 상담 → 할당 전: the new consultation is there; opening it shows the conversation.
    page.get_by_text("전체 상담", exact=True).click()
    page.wait_for_url(re.compile(r"scope=all"))
    page.click(".tabs a.tab:has-text('할당 전')")
    row = page.locator(f'a.row[data-consultation="{consultation.public_id}"]')
    row.wait_for()
    assert "김민지" in row.inner_text()
    read = f"/consultations/{consultation.public_id}/read"
    with page.expect_response(lambda response: response.url.endswith(read)) as marked:
        row.click()  # the page's GET only reads; once shown, the pane posts its read mark
    page.wait_for_selector(f'#chat[data-consultation="{consultation.public_id}"]')
    wait_for_state(page, "할당 전")
    assert "배송이 아직 안 왔어요" in page.inner_text("#chat-messages")
    assert (marked.value.request.method, marked.value.status) == ("POST", 204)
    assert ReadMark.objects.get(member=agent, consultation=consultation).last_read_message_id == received.message.pk

    # 나에게 할당: waiting, assigned to Alice.
    assign = page.locator("#chat-assign-to-me")
    assert assign.inner_text().strip() == "나에게 할당"
    assign.click()
    wait_for_state(page, "대기")
    assert "담당자: Alice" in page.inner_text("#chat .chat-assignee")

    # The first message, sent with Enter: the consultation is in progress and the message shows.
    page.fill(COMPOSER, "안녕하세요, 상담원 앨리스입니다. 주문번호를 알려주시겠어요?")
    page.press(COMPOSER, "Enter")
    wait_for_state(page, "상담 중")
    page.wait_for_selector("#chat-messages .msg-agent:has-text('주문번호를 알려주시겠어요?')")
    assert page.input_value(COMPOSER) == ""

    # The customer answers through the simulator (real signed webhook calls), in a second page.
    simulator = browser.open_tab(context)
    simulator.page.goto(f"{live_server.url}/simulator/alpha/")
    simulator.page.select_option('[data-role="customer-select"]', "kakao-user-1")
    simulator.page.wait_for_selector('[data-role="incoming"]:has-text("주문번호를 알려주시겠어요?")')
    simulator.page.fill('[data-role="text"]', "주문번호는 DM12345678 입니다")
    simulator.page.press('[data-role="text"]', "Enter")
    simulator.page.wait_for_selector('[data-role="outgoing"][data-state="sent"]:has-text("DM12345678")')
    assert consultation.messages.filter(sender=Message.Sender.CUSTOMER).count() == 2

    # No live updates yet: the refresh the UI offers is to open the row again. After the assignment the
    # list (still on 할당 전) no longer holds it, so: tab 상담 중, then the row.
    page.bring_to_front()  # a page in the background gets its timers throttled
    assert page.locator("#chat-messages").get_by_text("DM12345678").count() == 0
    page.click(".tabs a.tab:has-text('상담 중')")
    page.locator(f'a.row[data-consultation="{consultation.public_id}"]').click()
    page.wait_for_selector("#chat-messages .msg-customer:has-text('주문번호는 DM12345678 입니다')")
    wait_for_state(page, "상담 중")

    # 보류: the composer is disabled, with the reason.
    page.click("#chat-hold")
    page.wait_for_selector("#chat .chat-header .flag-hold")
    assert page.locator("#chat-hold").get_attribute("aria-pressed") == "true"
    assert page.is_disabled(COMPOSER)
    assert page.is_disabled("#chat .composer-send")
    assert "보류 중인 상담입니다" in page.inner_text("#composer-reason")

    # 상담 종료, after the confirmation dialog: closed, the composer disabled with its reason.
    dialogs: list[str] = []

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.click("#chat-close")
    wait_for_state(page, "종료")
    assert dialogs == ["상담을 종료할까요? 다시 열 수 없습니다."]
    assert page.is_disabled(COMPOSER)
    assert "대기 또는 상담 중인 상담에서만 메시지를 보낼 수 있습니다." in page.inner_text("#composer-reason")
    assert page.locator("#chat-close, #chat-hold").count() == 0
    consultation.refresh_from_db()
    assert (consultation.status, consultation.close_reason) == (Status.CLOSED, CloseReason.AGENT)
    assert consultation.assignee_id == agent.pk

    assert tab.errors == [] and simulator.errors == [], f"script errors: {tab.errors + simulator.errors}"


def test_two_agents_press_assign_to_me_at_once_one_wins(chromium, live_server, center, agent, agent2):
    consultation = lifecycle.do_receive_customer_message(
        center, user_key="kakao-user-2", text="환불 문의드립니다", profile_nickname="이수진"
    ).consultation
    tabs = {}
    for member in (agent, agent2):
        tab = browser.open_tab(browser.new_context(chromium))
        browser.log_in(tab.page, live_server.url, member.user.username)
        tab.page.goto(f"{live_server.url}/consultations/{consultation.public_id}/?scope=all&tab=unassigned")
        tab.page.wait_for_selector("#chat-assign-to-me")
        tabs[member.pk] = tab

    # Both clicks start before either answer is waited for.
    for tab in tabs.values():
        tab.page.click("#chat-assign-to-me", no_wait_after=True)
    for tab in tabs.values():
        tab.page.wait_for_selector("#chat .chat-error, #chat .state-waiting")

    consultation.refresh_from_db()
    assert consultation.status == Status.WAITING
    assert consultation.assignee_id in tabs
    winner = consultation.assignee
    loser = agent2 if winner.pk == agent.pk else agent
    won, lost = tabs[winner.pk].page, tabs[loser.pk].page
    wait_for_state(won, "대기")
    assert won.locator("#chat .chat-error").count() == 0
    assert f"담당자: {winner.name}" in won.inner_text("#chat .chat-assignee")
    # The refusal shows in place, in the pane (not an error page), and the pane shows who has it now.
    refusal = lost.locator("#chat .chat-error[role=alert]")
    assert refusal.inner_text().strip() == f"이미 {winner.name} 님에게 할당된 상담입니다."
    wait_for_state(lost, "대기")
    assert f"담당자: {winner.name}" in lost.inner_text("#chat .chat-assignee")
    assert lost.locator("#chat-assign-to-me").count() == 0
    assert lost.locator("#list-pane").count() == 1
    assert Consultation.objects.get(pk=consultation.pk).events.filter(kind=Event.Kind.ASSIGNED).count() == 1

    errors = [error for tab in tabs.values() for error in tab.errors]
    assert errors == [], f"script errors: {errors}"


def test_two_templates_inserted_one_after_the_other_stay_on_lines_of_their_own(chromium, live_server, center, agent):
    Template.objects.create(center=center, title="첫 인사", body="안녕하세요, 상담원입니다.")
    Template.objects.create(center=center, title="마무리", body="문의해 주셔서 감사합니다.")
    received = lifecycle.do_receive_customer_message(center, user_key="kakao-user-9", text="문의 있어요")
    lifecycle.do_assign_to_me(received.consultation, actor=agent)
    tab = browser.open_tab(browser.new_context(chromium))
    page = tab.page
    browser.log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/consultations/{received.consultation.public_id}/")

    page.wait_for_selector("#assist-tab-templates", state="attached")  # the drawer's panel has loaded, closed
    for title in ("첫 인사", "마무리"):
        page.click(".composer-assist")  # the button beside the composer opens the drawer; an insert closes it
        page.click("#assist-tab-templates")
        page.click(f".assist-template:has-text('{title}')")
        page.wait_for_selector(f"#assist-template-preview .assist-preview-title:has-text('{title}')")
        page.click("#assist-template-preview .assist-insert")
        assert page.locator("#assist-drawer").is_hidden()

    text = page.input_value(COMPOSER)
    assert text == "안녕하세요, 상담원입니다.\n문의해 주셔서 감사합니다."
    # The cursor is where the member goes on typing: after the last text inserted.
    assert page.evaluate(f"document.querySelector('{COMPOSER}').selectionStart") == len(text)
    assert tab.errors == [], f"script errors: {tab.errors}"

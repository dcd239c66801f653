"""The console by keyboard (issue 18): the assist drawer opened by "/" and closed by Esc, the list walked with
j/k and ↑/↓ and opened with Enter, Esc closing the assignee picker, and "?" showing the shortcuts.

Debian's Chromium driven by Playwright (consultations/tests/browser.py) against pytest-django's live server,
in Korean, logged in through the real login form; keys are pressed as a member would press them.
"""

import re

import pytest

from consultations import lifecycle
from consultations.models import Template
from consultations.tests import browser

pytestmark = pytest.mark.django_db(transaction=True)

COMPOSER = "#composer-text"
DRAWER = "#assist-drawer"


@pytest.fixture
def chromium(live_server, monkeypatch):
    with browser.chromium(monkeypatch) as running:
        yield running


def taken(center, agent, user_key: str, text: str):
    received = lifecycle.do_receive_customer_message(center, user_key=user_key, text=text, profile_nickname=user_key)
    return lifecycle.do_assign_to_me(received.consultation, actor=agent)


def logged_in(chromium, live_server, path: str = "/consultations/"):
    tab = browser.open_tab(browser.new_context(chromium))
    browser.log_in(tab.page, live_server.url, "alice")
    tab.page.goto(f"{live_server.url}{path}")
    return tab


def focused(page) -> str:
    """What has the focus: its id, else its data-consultation, else its tag."""
    return page.evaluate(
        "() => { const e = document.activeElement; return e.id || e.dataset.consultation || e.tagName }"
    )


def test_slash_opens_the_assist_and_a_template_found_by_keyboard_goes_in_on_a_line_of_its_own(
    chromium, live_server, center, agent
):
    Template.objects.create(center=center, title="첫 인사", body="안녕하세요, 상담원입니다.")
    Template.objects.create(center=center, title="마무리 인사", body="문의해 주셔서 감사합니다.")
    consultation = taken(center, agent, "kakao-1", "문의 있어요")
    tab = logged_in(chromium, live_server, f"/consultations/{consultation.public_id}/")
    page = tab.page
    page.wait_for_selector("#assist-tab-templates", state="attached")
    assert page.locator(DRAWER).is_hidden()  # closed until asked for: the conversation has the pane

    # "/" inside a line is a slash; at the start of a line it opens the drawer instead.
    page.click(COMPOSER)
    page.keyboard.type("확인했습니다 1/2")
    assert page.locator(DRAWER).is_hidden()
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("/")
    page.locator(DRAWER).wait_for(state="visible")
    assert page.input_value(COMPOSER) == "확인했습니다 1/2\n"
    assert focused(page) == "assist-q"  # the Q&A search has the focus: type at once
    assert page.get_attribute(".composer-assist", "aria-expanded") == "true"

    # The templates tab, filtered by typing, walked with ↓, previewed with Enter, inserted with Enter.
    page.click("#assist-tab-templates")
    page.click("#assist-template-q")
    page.keyboard.type("마무리")
    assert page.locator(".assist-template:visible").all_inner_texts() == ["마무리 인사\n문의해 주셔서 감사합니다."]
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.matches('.assist-template')")
    page.keyboard.press("Enter")
    # A function, not an expression: Playwright polls an expression with eval, which the page's CSP refuses.
    page.wait_for_function("() => document.activeElement.matches('#assist-template-preview .assist-insert')")
    page.keyboard.press("Enter")

    page.locator(DRAWER).wait_for(state="hidden")
    text = "확인했습니다 1/2\n문의해 주셔서 감사합니다."
    assert page.input_value(COMPOSER) == text
    assert focused(page) == "composer-text"
    assert page.evaluate(f"document.querySelector('{COMPOSER}').selectionStart") == len(text)
    assert tab.errors == [], f"script errors: {tab.errors}"


def test_esc_closes_the_assist_and_a_second_slash_types_one(chromium, live_server, center, agent):
    consultation = taken(center, agent, "kakao-2", "문의 있어요")
    tab = logged_in(chromium, live_server, f"/consultations/{consultation.public_id}/")
    page = tab.page
    page.wait_for_selector("#assist-q", state="attached")

    page.click(COMPOSER)
    page.keyboard.press("/")
    page.locator(DRAWER).wait_for(state="visible")
    page.keyboard.press("Escape")
    page.locator(DRAWER).wait_for(state="hidden")
    assert focused(page) == "composer-text"  # back where the member was typing
    assert page.get_attribute(".composer-assist", "aria-expanded") == "false"

    # "/" twice: the member meant a slash after all.
    page.keyboard.press("/")
    page.locator(DRAWER).wait_for(state="visible")
    page.keyboard.press("/")
    page.locator(DRAWER).wait_for(state="hidden")
    assert page.input_value(COMPOSER) == "/"

    # "/" outside any field opens it too; a click elsewhere closes it.
    page.click(".chat-header")
    page.keyboard.press("/")
    page.locator(DRAWER).wait_for(state="visible")
    page.click(".chat-header")
    page.locator(DRAWER).wait_for(state="hidden")
    assert tab.errors == [], f"script errors: {tab.errors}"


def test_j_k_and_arrows_walk_the_list_and_enter_opens_the_row(chromium, live_server, center, agent):
    first, second, third = (taken(center, agent, f"kakao-{n}", f"문의 {n}") for n in (1, 2, 3))
    tab = logged_in(chromium, live_server)
    page = tab.page
    rows = [row.get_attribute("data-consultation") for row in page.locator("#list-pane a.row").all()]
    assert sorted(rows) == sorted(c.public_id for c in (first, second, third))

    page.keyboard.press("j")
    assert focused(page) == rows[0]
    page.keyboard.press("j")
    assert focused(page) == rows[1]
    page.keyboard.press("ArrowDown")  # from the list, the arrows move it too
    assert focused(page) == rows[2]
    page.keyboard.press("j")  # the end stays the end
    assert focused(page) == rows[2]
    page.keyboard.press("k")
    assert focused(page) == rows[1]
    # The focused row shows it: the browser's focus ring.
    assert page.evaluate("document.activeElement.matches(':focus-visible')")

    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rows[1]))
    page.wait_for_selector(f'#chat[data-consultation="{rows[1]}"]')
    # The opened row keeps the focus, so the keys go on from it.
    page.wait_for_function(f"() => document.activeElement.dataset.consultation === '{rows[1]}'")
    assert page.get_attribute(f'#list-pane a.row[data-consultation="{rows[1]}"]', "aria-current") == "true"
    page.keyboard.press("ArrowUp")
    assert focused(page) == rows[0]

    # Typing in a field is typing: j and k go into the search.
    page.click("#q")
    page.keyboard.type("jk")
    assert page.input_value("#q") == "jk"
    assert tab.errors == [], f"script errors: {tab.errors}"


def test_esc_closes_the_assignee_picker_and_question_mark_shows_the_shortcuts(
    chromium, live_server, center, agent, agent2
):
    consultation = taken(center, agent, "kakao-5", "문의 있어요")
    tab = logged_in(chromium, live_server, f"/consultations/{consultation.public_id}/")
    page = tab.page

    page.click(".assignee-picker summary")
    assert page.locator(".assignee-picker form").is_visible()
    page.keyboard.press("Escape")
    assert page.locator(".assignee-picker form").is_hidden()
    assert page.evaluate("document.activeElement.matches('.assignee-picker summary')")

    page.click(".chat-header")
    page.keyboard.press("?")
    dialog = page.locator("#shortcuts")
    dialog.wait_for(state="visible")
    assert "다음 상담" in dialog.inner_text() and "/" in dialog.inner_text()
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert tab.errors == [], f"script errors: {tab.errors}"

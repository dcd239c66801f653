"""The console on a phone (issue 18): one pane at a time, and a bottom bar (목록 · 채팅 · 상세) between them.

Debian's Chromium at 390×844 driven by Playwright (consultations/tests/browser.py) against pytest-django's live
server, in Korean, logged in through the real login form.
"""

import pytest

from consultations import lifecycle
from consultations.tests import browser

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
PANES = {"list": "#list-pane", "chat": "#chat-pane", "details": "#details-pane"}


@pytest.fixture
def chromium(live_server, monkeypatch):
    with browser.chromium(monkeypatch) as running:
        yield running


def shown(page) -> list[str]:
    return [name for name, selector in PANES.items() if page.locator(selector).is_visible()]


def bar(page, label: str):
    return page.locator(".phone-bar").get_by_role("button", name=label, exact=True)


def test_the_bottom_bar_moves_between_list_chat_and_details(chromium, live_server, center, agent):
    received = lifecycle.do_receive_customer_message(
        center, user_key="kakao-1", text="배송 문의", profile_nickname="김민지"
    )
    consultation = lifecycle.do_assign_to_me(received.consultation, actor=agent)
    tab = browser.open_tab(browser.new_context(chromium, viewport=PHONE))
    page = tab.page
    browser.log_in(page, live_server.url, "alice")

    # Nothing open: the list alone; 채팅 and 상세 have nothing to show yet.
    assert shown(page) == ["list"]
    assert bar(page, "목록").get_attribute("aria-pressed") == "true"
    assert bar(page, "채팅").is_disabled() and bar(page, "상세").is_disabled()
    # The bar stays at the bottom of the screen, over nothing the member needs.
    box = page.locator(".phone-bar").bounding_box()
    assert box["y"] + box["height"] == PHONE["height"]

    # A row opens the conversation, alone on the screen, composer above the bar.
    page.click(f'a.row[data-consultation="{consultation.public_id}"]')
    page.wait_for_selector(f'#chat[data-consultation="{consultation.public_id}"]')
    assert shown(page) == ["chat"]
    assert bar(page, "채팅").get_attribute("aria-pressed") == "true"
    composer = page.locator("#composer-text").bounding_box()
    assert composer["y"] + composer["height"] <= box["y"]

    # 상세: the customer and the consultation's details, at the top of the screen, not 1,400 px down.
    bar(page, "상세").click()
    assert shown(page) == ["details"]
    page.wait_for_selector("#details-pane .details-section")
    assert page.locator("#details-pane").bounding_box()["y"] < 120
    assert "김민지" in page.inner_text("#details-pane")

    bar(page, "목록").click()
    assert shown(page) == ["list"]
    assert [bar(page, label).get_attribute("aria-pressed") for label in ("목록", "채팅", "상세")] == [
        "true",
        "false",
        "false",
    ]
    bar(page, "채팅").click()
    assert shown(page) == ["chat"]
    assert tab.errors == [], f"script errors: {tab.errors}"


def test_the_desktop_shows_all_three_panes_and_no_bar(chromium, live_server, center, agent):
    received = lifecycle.do_receive_customer_message(center, user_key="kakao-2", text="문의")
    consultation = lifecycle.do_assign_to_me(received.consultation, actor=agent)
    tab = browser.open_tab(browser.new_context(chromium))
    page = tab.page
    browser.log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/consultations/{consultation.public_id}/")
    assert shown(page) == ["list", "chat", "details"]
    assert page.locator(".phone-bar").is_hidden()

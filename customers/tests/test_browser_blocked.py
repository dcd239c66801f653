"""Block and unblock in a real browser (R16, R17): a manager blocks from the details, finds the customer in
차단고객관리 from the top bar, unblocks them there, and the customer can write again.

Debian's Chromium driven by Playwright (consultations/tests/browser.py), against
pytest-django's live server, in Korean, logged in through the real login form.
"""

import pytest

from consultations.models import Status
from consultations.tests import browser
from consultations.tests.helpers import customer_writes
from customers.models import Block
from customers.rules import do_record_blocked_attempt

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chromium(live_server, monkeypatch):
    with browser.chromium(monkeypatch) as running:
        yield running


def test_a_manager_blocks_from_the_details_unblocks_in_the_blocked_list_and_the_customer_can_write_again(
    chromium, live_server, center, manager
):
    first = customer_writes(center, "광고 보고 연락드립니다", user_key="kakao-user-1")
    customer = first.customer
    tab = browser.open_tab(browser.new_context(chromium))
    page = tab.page
    browser.log_in(page, live_server.url, "mina")
    dialogs: list[str] = []

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    # 고객 차단 from the consultation's details: it closes at once.
    page.goto(f"{live_server.url}/consultations/{first.consultation.public_id}/")
    page.locator(".details-block summary").click()
    page.locator("#details-block-reason").select_option("promotion")
    page.locator("#details-block-note").fill("홍보 링크 반복")
    page.once("dialog", accept)
    page.locator(".details-block-form").get_by_role("button", name="차단", exact=True).click()
    page.locator("#details-customer .details-badge.is-danger").wait_for()
    first.consultation.refresh_from_db()
    assert first.consultation.status == Status.CLOSED
    assert customer.blocks.active().get().reason == Block.Reason.PROMOTION
    do_record_blocked_attempt(center, user_key="kakao-user-1")  # one message refused while blocked

    # 차단고객관리 in the top bar: the blocked customer's row.
    page.locator(".topbar").get_by_role("link", name="차단고객관리", exact=True).click()
    page.wait_for_url(f"{live_server.url}/blocked/")
    row = page.locator(f"#blocked-{customer.customer_id}")
    assert customer.display_name in row.inner_text()
    assert "홍보" in row.inner_text() and "홍보 링크 반복" in row.inner_text() and "Mina" in row.inner_text()
    assert "1건" in row.inner_text()

    # 차단 해제, confirmed: the row goes, a message says so, the page stays.
    page.once("dialog", accept)
    row.get_by_role("button", name="차단 해제").click()
    page.locator(".blocked-message").wait_for()
    assert row.count() == 0
    assert page.locator(".blocked-message").inner_text() == f"{customer.display_name} 님의 차단을 해제했습니다."
    assert "차단된 고객이 없습니다" in page.locator("#blocked").inner_text()
    assert page.url == f"{live_server.url}/blocked/"
    assert len(dialogs) == 2 and dialogs[1].startswith(f"{customer.display_name} 님의 차단을 해제할까요?")
    block = customer.blocks.get()
    assert block.ended_by == manager

    # The customer writes again: a new consultation opens.
    again = customer_writes(center, "다시 문의드립니다", user_key="kakao-user-1")
    assert again.opened and again.consultation.pk != first.consultation.pk
    assert again.consultation.status == Status.UNASSIGNED

    assert tab.errors == [], f"script errors: {tab.errors}"

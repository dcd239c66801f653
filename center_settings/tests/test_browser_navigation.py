"""The top bar by role in a real browser, and the refusal page an agent meets at each URL that is not theirs.

agent: 상담 only; manager without 상담 권한: 상담, 차단고객관리, 설정; manager with it: + 통계; master: all.
Debian's Chromium driven by Playwright (consultations/tests/browser.py), against
pytest-django's live server, in Korean. The masters' and managers' sessions are
made in Python; the agent logs in through the real form.
"""

import pytest

from consultations.tests import browser

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def chromium(live_server, monkeypatch):
    with browser.chromium(monkeypatch) as running:
        yield running


def topbar_links(page) -> list[str]:
    return [text.strip() for text in page.locator(".topbar a.topbar-link").all_inner_texts()]


def current_link(page) -> str:
    return page.locator(".topbar a.topbar-link[aria-current=page]").inner_text().strip()


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("agent", ["상담"]),
        ("plain_manager", ["상담", "차단고객관리", "설정"]),
        ("manager", ["상담", "통계", "차단고객관리", "설정"]),
        ("master", ["상담", "통계", "차단고객관리", "설정"]),
    ],
)
def test_each_role_sees_its_links_and_each_link_opens_its_page(request, chromium, live_server, fixture, expected):
    member = request.getfixturevalue(fixture)
    context = browser.session_context(chromium, live_server.url, browser.session_of(member.user))
    tab = browser.open_tab(context)
    page = tab.page

    page.goto(f"{live_server.url}/consultations/")
    assert topbar_links(page) == expected
    assert current_link(page) == "상담"

    for label in expected[1:]:
        page.locator(".topbar").get_by_role("link", name=label, exact=True).click()
        page.wait_for_load_state()
        assert current_link(page) == label
        assert topbar_links(page) == expected  # the same menu on every page

    assert tab.errors == [], f"script errors: {tab.errors}"


def test_a_master_moves_through_the_settings_menu(chromium, live_server, master):
    context = browser.session_context(chromium, live_server.url, browser.session_of(master.user))
    page = browser.open_tab(context).page
    page.goto(f"{live_server.url}/settings/")

    for label, path in (
        ("구성원", "/settings/members/"),
        ("Q&A", "/settings/qna/"),
        ("템플릿", "/settings/templates/"),
    ):
        page.locator(".settings-nav").get_by_role("link", name=label, exact=True).click()
        page.wait_for_url(f"{live_server.url}{path}")
        assert page.locator(".settings-nav a[aria-current=page]").inner_text().strip() == label
        assert current_link(page) == "설정"
    assert page.locator(".settings-nav a[href='/admin/']").inner_text().startswith("관리자 화면")


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_an_agent_gets_the_refusal_page_at_each_url_that_is_not_theirs(chromium, live_server, agent, viewport):
    tab = browser.open_tab(browser.new_context(chromium, viewport=viewport))
    page = tab.page
    browser.log_in(page, live_server.url, "alice")

    refusals = {
        "/stats/": "현재 역할로는 통계를 볼 수 없습니다",
        "/blocked/": "차단고객관리는 마스터와 매니저만 볼 수 있습니다",
        "/settings/": "설정은 마스터와 매니저가 관리합니다",
        "/settings/members/": "설정은 마스터와 매니저가 관리합니다",
        "/settings/members/add/": "설정은 마스터와 매니저가 관리합니다",
        "/settings/qna/": "설정은 마스터와 매니저가 관리합니다",
        "/settings/templates/": "설정은 마스터와 매니저가 관리합니다",
    }
    for path, heading in refusals.items():
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403, path
        assert heading in page.locator("main h1").inner_text(), path
        assert topbar_links(page) == ["상담"], path
        page.get_by_role("link", name="상담목록으로 돌아가기").wait_for()
        if viewport:  # nothing wider than the phone
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path

    page.get_by_role("link", name="상담목록으로 돌아가기").click()
    page.wait_for_url(f"{live_server.url}/consultations/**")
    assert tab.errors == [], f"script errors: {tab.errors}"

"""The Django admin in a real browser: the console's dark header, a way back to the console, one language.

Debian's Chromium driven by Playwright (consultations/tests/browser.py) against
the browser tests' uvicorn server (console/tests/conftest.py's, with DEBUG for
the static files), logged in as a master with a session made in Python. The
context's locale sets Accept-Language: English or Korean.
"""

import re

import pytest

from consultations.models import QnA
from consultations.tests import browser
from consultations.tests.live import redis_url

pytestmark = pytest.mark.django_db(transaction=True)

HANGUL = re.compile(r"[\uac00-\ud7a3]")
CONSOLE_DARK = "rgb(31, 35, 41)"  # the console's top bar, #1f2329 (static/css/console.css)
MEMBERS = "/admin/counsel_center/member/"
QNA = "/admin/consultations/qna/"
# The admin's own words, apart from the rows of data: the language switch names Korean in Korean.
CHROME_TEXT = """() => [
    '#header', 'ol.breadcrumbs', '#nav-sidebar', '#content h1', '#changelist-filter', '#changelist .actions',
    '#changelist-search', '#result_list thead', '.paginator',
].flatMap(selector => [...document.querySelectorAll(selector)])
 .map(element => element.innerText + ' ' + [...element.querySelectorAll('option')].map(o => o.text).join(' '))
 .join('\\n').replace('한국어', '')"""


@pytest.fixture
def server(live_servers):
    return live_servers.get("browser", redis=redis_url(), debug=True)


@pytest.fixture
def chromium(monkeypatch):
    with browser.chromium(monkeypatch) as running:
        yield running


def base_url(server) -> str:
    return f"http://127.0.0.1:{server.port}"


def admin_tab(chromium, server, master, *, locale: str) -> browser.Tab:
    context = browser.session_context(chromium, base_url(server), browser.session_of(master.user), locale=locale)
    return browser.open_tab(context)


def header_background(page) -> str:
    return page.evaluate("getComputedStyle(document.querySelector('#header')).backgroundColor")


def test_the_members_list_in_english_has_the_consoles_header_and_no_korean_in_its_chrome(
    chromium, server, center, master, agent
):
    QnA.objects.create(center=center, question="환불은 언제 되나요?", answer="3~5영업일")
    tab = admin_tab(chromium, server, master, locale="en-US")
    page = tab.page

    page.goto(base_url(server) + MEMBERS)
    assert header_background(page) == CONSOLE_DARK
    assert page.inner_text("#site-name").strip() == "Consultation Admin Center"
    assert page.inner_text("ol.breadcrumbs").split() == ["Home", "Centers", "and", "members", "Members"]
    assert "By role" in page.inner_text("#changelist-filter")
    chrome = page.evaluate(CHROME_TEXT)
    assert HANGUL.findall(chrome) == [], chrome

    # A list with actions: the action menu is English too (Django 6's "- Select an option -").
    page.goto(base_url(server) + QNA)
    assert page.locator("select[name=action] option").first.inner_text() == "- Select an option -"
    chrome = page.evaluate(CHROME_TEXT)
    assert "Delete selected Q&A" in chrome
    assert HANGUL.findall(chrome) == [], chrome

    # The way back: the header's link opens the console.
    page.goto(base_url(server) + MEMBERS)
    page.get_by_role("link", name="Back to the console").click()
    page.wait_for_url(re.compile(r"/consultations/"))
    assert page.locator(".topbar").is_visible()
    assert tab.errors == [], f"script errors: {tab.errors}"


def test_the_members_list_in_korean_has_the_consoles_header_and_switches_to_english(chromium, server, master):
    tab = admin_tab(chromium, server, master, locale="ko-KR")
    page = tab.page

    page.goto(base_url(server) + MEMBERS)
    assert header_background(page) == CONSOLE_DARK
    assert page.inner_text("#site-name").strip() == "상담 관리자센터"
    assert page.inner_text("ol.breadcrumbs").split() == ["홈", "센터와", "구성원", "구성원"]
    back = page.get_by_role("link", name="상담 화면으로")
    assert back.get_attribute("href") == "/consultations/"
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith('"Noto Sans CJK KR"')

    # The language switch, as in the console: the same page, in English.
    with page.expect_navigation():
        page.locator("#header").get_by_role("button", name="English").click()
    assert page.url == base_url(server) + MEMBERS
    assert page.inner_text("#site-name").strip() == "Consultation Admin Center"
    assert HANGUL.findall(page.evaluate(CHROME_TEXT)) == []
    assert tab.errors == [], f"script errors: {tab.errors}"

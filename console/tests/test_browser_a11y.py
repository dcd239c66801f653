"""An automated accessibility check (issue 18): axe-core, vendored from the npm registry, run in Debian's Chromium
on the console, the 통계 page and 차단고객관리, in Korean and in English. No serious or critical finding passes.

axe is injected into the page under test from static/vendor (never a CDN); its rules are WCAG 2.x A and AA
(contrast, names, labels, landmarks, ARIA). Each page is checked as its member sees it, with data on it.
"""

from pathlib import Path

import pytest
from django.conf import settings

from consultations import lifecycle
from consultations.models import Template
from consultations.tests import browser
from customers import rules as customer_rules
from customers.models import Block

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe-core-4.14.1.min.js"
LANGUAGES = {"ko": "ko-KR", "en": "en-US"}
BLOCKING = ("serious", "critical")
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@pytest.fixture
def chromium(live_server, monkeypatch):
    with browser.chromium(monkeypatch) as running:
        yield running


def findings(page) -> list[str]:
    """axe's serious and critical violations on the page as it is now, one line per rule and element."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(" ")),
            }));
        }""",
        RULES,
    )
    return [
        f"{v['impact']} {v['id']} ({v['help']}): {', '.join(v['targets'][:5])}"
        for v in violations
        if v["impact"] in BLOCKING
    ]


def signed_in(chromium, live_server, username: str, language: str):
    # axe goes in as an inline script, which the pages' Content-Security-Policy refuses (test_csp.py checks the
    # pages under it): this context leaves the policy out.
    tab = browser.open_tab(browser.new_context(chromium, locale=LANGUAGES[language], bypass_csp=True))
    browser.log_in(tab.page, live_server.url, username)
    return tab


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_console_has_no_serious_accessibility_finding(chromium, live_server, center, agent, language):
    Template.objects.create(center=center, title="첫 인사", body="안녕하세요, 상담원입니다.")
    received = lifecycle.do_receive_customer_message(
        center, user_key="kakao-1", text="배송 문의", profile_nickname="김민지"
    )
    consultation = lifecycle.do_assign_to_me(received.consultation, actor=agent)
    lifecycle.do_set_important(consultation, actor=agent, important=True)
    lifecycle.do_receive_customer_message(center, user_key="kakao-2", text="환불 문의", profile_nickname="박준호")
    tab = signed_in(chromium, live_server, "alice", language)
    page = tab.page

    assert findings(page) == [], "the list with nothing open"

    page.goto(f"{live_server.url}/consultations/{consultation.public_id}/?scope=all")
    page.wait_for_selector("#details-pane .details-section")
    page.wait_for_selector("#assist-tab-templates", state="attached")
    assert findings(page) == [], "a consultation open, with its details"

    page.click(".composer-assist")
    page.click("#assist-tab-templates")
    assert findings(page) == [], "the assist drawer open"

    page.keyboard.press("Escape")
    page.click(".chat-header")
    page.keyboard.press("?")
    page.locator("#shortcuts").wait_for(state="visible")
    assert findings(page) == [], "the shortcuts dialog"
    assert tab.errors == [], f"script errors: {tab.errors}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_statistics_page_has_no_serious_accessibility_finding(chromium, live_server, center, master, language):
    tab = signed_in(chromium, live_server, master.user.username, language)
    tab.page.goto(f"{live_server.url}/stats/")
    assert findings(tab.page) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_blocked_customers_page_has_no_serious_accessibility_finding(
    chromium, live_server, center, manager, customer, language
):
    customer_rules.do_block_customer(customer, reason=Block.Reason.ABUSE, note="욕설", actor=manager)
    tab = signed_in(chromium, live_server, manager.user.username, language)
    tab.page.goto(f"{live_server.url}/blocked/")
    assert tab.page.locator("main.blocked table").count() == 1  # the page with a blocked customer on it
    assert findings(tab.page) == []

"""The Content-Security-Policy (issue 19, docs/security.md): every page carries it, without 'unsafe-inline' or
'unsafe-eval'; the templates hold nothing inline it would refuse; and in a real browser no page of the product
(the console with its assist drawer, 통계, 차단고객관리, 설정, the simulator, the admin) trips it.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from consultations import lifecycle
from consultations.models import Template
from consultations.tests import browser

TEMPLATES = Path(settings.BASE_DIR) / "templates"


@pytest.fixture
def consultation(center, agent):
    received = lifecycle.do_receive_customer_message(
        center, user_key="kakao-1", text="배송 문의", profile_nickname="김민지"
    )
    return lifecycle.do_assign_to_me(received.consultation, actor=agent)


def assert_strict_policy(response) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy, policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, policy


@pytest.mark.django_db
def test_every_page_carries_the_policy(client, settings, center, agent, master, consultation):
    settings.SIMULATOR_ENABLED = True
    assert_strict_policy(client.get(reverse("login")))

    client.force_login(agent.user)
    for url in (reverse("console"), reverse("console-consultation", args=[consultation.public_id])):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)

    client.force_login(master.user)
    for url in (
        reverse("stats"),
        reverse("blocked-customers"),
        reverse("settings:center"),
        reverse("simulator", args=[center.slug]),
        reverse("admin:index"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)


def test_report_only_is_the_same_policy_in_the_other_header(client, settings, db):
    settings.SECURE_CSP_REPORT_ONLY, settings.SECURE_CSP = settings.SECURE_CSP, {}

    response = client.get(reverse("login"))

    assert "Content-Security-Policy" not in response.headers
    assert "script-src 'self'" in response.headers["Content-Security-Policy-Report-Only"]


# What the policy refuses when it is written in a template. A <script> with a src, or of type application/json
# (json_script: data, never run), is fine; an hx-trigger filter (`event[condition]`) is compiled by htmx with eval.
INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    "<style> block": re.compile(r"<style[\s>]", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "on… handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on attribute": re.compile(r"\shx-on[:-]", re.I),
    "hx-vars (eval)": re.compile(r"\shx-vars\s*=", re.I),
    "js: value (eval)": re.compile(r"\shx-vals\s*=\s*['\"]\s*(js|javascript):", re.I),
    "javascript: URL": re.compile(r"=\s*['\"]\s*javascript:", re.I),
}
TRIGGER = re.compile(r"\shx-trigger=\"([^\"]*)\"", re.S)
FILTER = re.compile(r"(?:^|,)\s*[^\s,\[]+\[")  # an event name followed by [condition]; a selector's [attr] is not


def inline_code(path: Path) -> list[str]:
    text = path.read_text()
    found = [f"{path.relative_to(TEMPLATES)}: {what}" for what, pattern in INLINE.items() if pattern.search(text)]
    found += [
        f"{path.relative_to(TEMPLATES)}: hx-trigger filter (eval) in {spec!r}"
        for spec in TRIGGER.findall(text)
        if FILTER.search(spec)
    ]
    return found


def test_the_templates_hold_no_inline_script_style_or_eval():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20

    assert [finding for path in templates for finding in inline_code(path)] == []


def test_the_scan_sees_what_it_looks_for(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.TEMPLATES", tmp_path)
    page = tmp_path / "page.html"
    page.write_text(
        '<script>alert(1)</script><div style="x" onclick="y" hx-trigger="sse:a[detail.data==\'1\'] from:#live">'
        '<script src="/static/a.js"></script><script type="application/json">{}</script>'
        '<form hx-trigger="input changed from:find input[name=q]"></form>'
    )

    assert inline_code(page) == [
        "page.html: inline <script>",
        "page.html: style attribute",
        "page.html: on… handler attribute",
        "page.html: hx-trigger filter (eval) in \"sse:a[detail.data=='1'] from:#live\"",
    ]


# --- in Chromium ---------------------------------------------------------------------------------------------------

# Each violation as a console error, whichever way the browser reports it (an event, or its own console line).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"} `
    + `at ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture
def chromium(live_server, settings, monkeypatch):
    settings.SIMULATOR_ENABLED = True
    with browser.chromium(monkeypatch) as running:
        yield running


def watched(context) -> tuple[browser.Tab, list[str]]:
    context.add_init_script(REPORT_VIOLATIONS)
    tab = browser.open_tab(context)
    violations: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text or "CSP violation" in message.text:
            violations.append(f"{tab.page.url}: {message.text}")

    tab.page.on("console", on_console)
    return tab, violations


@pytest.mark.django_db(transaction=True)
def test_no_page_trips_the_policy_in_a_browser(chromium, live_server, center, agent, master, consultation):
    Template.objects.create(center=center, title="첫 인사", body="안녕하세요, 상담원입니다.")
    tab, violations = watched(browser.new_context(chromium))
    page = tab.page
    browser.log_in(page, live_server.url, "alice")

    # The console with a consultation open and the assist drawer.
    page.goto(f"{live_server.url}/consultations/{consultation.public_id}/")
    page.wait_for_selector(f'#chat[data-consultation="{consultation.public_id}"]')
    page.wait_for_selector("#live", state="attached")  # (live_server is WSGI: its stream answers 204)
    page.click(".composer-assist")
    page.wait_for_selector("#assist-drawer:not([hidden])")
    page.wait_for_selector("#assist-tab-templates", state="attached")
    page.wait_for_timeout(300)  # what htmx loads after the drawer opens

    master_tab, master_violations = watched(
        browser.session_context(chromium, live_server.url, browser.session_of(master.user))
    )
    for path, ready in (
        ("/stats/", "main"),
        ("/blocked/", "main"),
        ("/settings/", ".settings-nav"),
        (f"/simulator/{center.slug}/", "#simulator"),
        ("/admin/", "#site-name"),
    ):
        master_tab.page.goto(f"{live_server.url}{path}")
        master_tab.page.wait_for_selector(ready)
        master_tab.page.wait_for_load_state("load")
        master_tab.page.wait_for_timeout(200)

    assert violations + master_violations == []
    assert tab.errors == [] and master_tab.errors == [], f"script errors: {tab.errors + master_tab.errors}"

#!/usr/bin/env python
"""Take the README's screenshots (docs/screenshots/*.png) of a freshly seeded demo center.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

In a temporary VAR_DIR (so a temporary SQLite database, whatever DATABASE_URL
says) it migrates, runs `seed_demo`, adds a few Q&A entries and templates the
demo seed does not have, starts `uvicorn counsel_center.asgi:application` with
DEBUG=1 on a free port of 127.0.0.1, logs in as agent1 / counsel-demo through
the login form with a Korean browser, and saves the main screens; then, as
master, the 통계 page (rolled up by `rollup_stats` after the seed); as manager,
the 차단고객관리 page (the demo's blocked customers); as master again, 설정. The server
is stopped and the temporary directory removed however it ends.

Needs the dev requirements (playwright) and Debian's Chromium at
/usr/bin/chromium (apt-get install chromium fonts-noto-cjk); never a browser
that Playwright downloads.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consultations.tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - after the path is set

USERNAME, PASSWORD = "agent1", "counsel-demo"  # demo/stories.py
STATS_USERNAME = "master"  # agents do not see statistics (SPEC §6)
BLOCKED_USERNAME = "manager"  # only masters and managers see the blocked customers (R16a)
BLOCKED_USER_KEY = "demo-customer-38"  # 도박 스팸, blocked by the demo seed
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
# Customers of the demo seed (demo/stories.py) whose consultation agent1 has in progress.
REFUND_CUSTOMER = "소연맘"  # demo-customer-15: a refund, marked important
MEMO_CUSTOMER = "이동현(이중결제)"  # demo-customer-16: internal nickname, memo and an earlier visit; on hold
SIMULATOR_USER_KEY = "demo-customer-15"
QNA_SEARCH = "환불"
# True when the chat's message list shows its newest message (SPEC §3: newest at the bottom).
AT_NEWEST = "(l => l.scrollTop + l.clientHeight >= l.scrollHeight - 2)(document.getElementById('chat-messages'))"


def seed_assist() -> None:
    """Run in a child process with the temporary VAR_DIR: agent1's favorites (seed_demo made the Q&A and templates)
    and a blocked customer's refused messages."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "counsel_center.settings")
    django.setup()
    from consultations.models import Favorite, Template
    from counsel_center.models import Center, Member
    from customers.rules import do_record_blocked_attempt

    center = Center.objects.get(slug="demo")
    member = Member.objects.get(center=center, user__username=USERNAME)
    Favorite.objects.create(member=member, kind=Favorite.Kind.QNA_TERM, term=QNA_SEARCH)
    Favorite.objects.create(member=member, kind=Favorite.Kind.TEMPLATE, template=Template.objects.get(title="첫 인사"))
    for _ in range(3):  # messages the blocked 도박 스팸 sent anyway, counted on 차단고객관리
        do_record_blocked_attempt(center, user_key=BLOCKED_USER_KEY)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"The server exited with code {server.returncode}.")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http://127.0.0.1 URL
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"The server did not answer {url} within {timeout:.0f} s.")


def prepare(env: dict[str, str]) -> None:
    python = sys.executable
    for command in (
        [python, "manage.py", "migrate", "--no-input", "-v0"],
        [python, "manage.py", "seed_demo"],
        [python, "manage.py", "rollup_stats"],  # the demo history's daily statistics, up to yesterday
        [python, __file__, "--seed-assist"],
    ):
        subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


def take(base: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved: list[Path] = []

    def shot(target, name: str, **options) -> None:
        path = out / name
        target.screenshot(path=str(path), **options)
        saved.append(path)
        print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

    def context(browser, viewport, *, locale: str = "ko-KR", **options):
        page = browser.new_context(
            locale=locale, timezone_id="Asia/Seoul", viewport=viewport, color_scheme="light", **options
        ).new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: print(f"  script error on {page.url}: {error}", file=sys.stderr))
        return page

    def log_in(page, username: str = USERNAME) -> None:
        page.goto(f"{base}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click(".login-form button[type=submit]")
        page.wait_for_url(f"{base}/consultations/**")

    def open_row(page, name: str) -> None:
        """Open the row's consultation by its URL: a page load, which shows the conversation at its newest message.

        (Clicking the row swaps the console in place; chat.js then scrolls the new message list before the
        swapped-in chat.css applies, so the list may stay at its top: reported, not worked around here.)
        """
        href = page.locator("a.row", has_text=name).first.get_attribute("href")
        page.goto(f"{base}{href}")
        page.locator("#chat .chat-title", has_text=name).wait_for()
        page.wait_for_load_state("networkidle")
        if not page.evaluate(AT_NEWEST):
            print(f"  warning: {name}'s conversation is not shown at its newest message", file=sys.stderr)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = context(browser, {"width": 1024, "height": 640})
            page.goto(f"{base}/login/")
            page.fill("#id_username", USERNAME)
            shot(page, "login.png")

            page = context(browser, DESKTOP)
            log_in(page)
            page.goto(f"{base}/consultations/?scope=mine&tab=in_progress")
            open_row(page, REFUND_CUSTOMER)
            shot(page, "console-list.png")

            # The assist drawer, opened as a member would: "/" at the start of the composer.
            page.click("#composer-text")
            page.keyboard.press("/")
            page.fill("#assist-q", QNA_SEARCH)
            page.wait_for_selector("#assist-qna-results .assist-qna")
            page.wait_for_load_state("networkidle")
            shot(page.locator("#chat-pane"), "assist-panel.png")
            page.keyboard.press("Escape")

            # The keyboard shortcuts (?), over the console.
            page.click(".chat-header")
            page.keyboard.press("?")
            page.locator("#shortcuts").wait_for(state="visible")
            shot(page, "console-shortcuts.png")
            page.keyboard.press("Escape")

            # A long tab: 14 and more rows on a 900 px screen, the tabs fixed above them.
            closed = context(browser, DESKTOP)
            log_in(closed)
            closed.goto(f"{base}/consultations/?scope=all&tab=closed")
            closed.wait_for_selector("#list-pane a.row")
            shot(closed, "console-list-closed.png")

            english = context(browser, DESKTOP, locale="en-US")
            log_in(english)
            english.goto(f"{base}/consultations/?scope=mine&tab=in_progress")
            open_row(english, REFUND_CUSTOMER)
            shot(english, "console-en-desktop.png")

            # The whole details pane, in a taller window.
            open_row(page, MEMO_CUSTOMER)
            needed = page.evaluate("document.querySelector('#details').scrollHeight + 52 + 16")
            page.set_viewport_size({"width": DESKTOP["width"], "height": max(DESKTOP["height"], needed)})
            page.wait_for_timeout(200)
            shot(page, "console-details.png")

            phone = context(browser, PHONE, is_mobile=True, has_touch=True)
            log_in(phone)
            phone.goto(f"{base}/consultations/?scope=mine&tab=in_progress")
            open_row(phone, REFUND_CUSTOMER)
            shot(phone, "console-chat-phone.png")
            phone.click(".phone-bar [data-pane-show=details]")  # the bottom bar: 목록 · 채팅 · 상세
            phone.wait_for_selector("#details-pane .details-section")
            shot(phone, "console-details-phone.png")
            phone.click(".phone-bar [data-pane-show=list]")
            shot(phone, "console-list-phone.png")

            simulator = context(browser, DESKTOP)
            log_in(simulator)
            simulator.goto(f"{base}/simulator/demo/")
            simulator.select_option('[data-role="customer-select"]', SIMULATOR_USER_KEY)
            simulator.wait_for_selector('[data-role="incoming"]')
            simulator.fill('[data-role="text"]', "기사님 방문 전에 꼭 연락 부탁드려요!")
            simulator.press('[data-role="text"]', "Enter")
            simulator.wait_for_selector('[data-role="outgoing"][data-state="sent"]:has-text("기사님 방문 전에")')
            shot(simulator, "simulator.png")

            # 통계, as the master: opened from the top bar like a user would, in Korean and in English.
            for name, viewport, tab, options in (
                ("stats-desktop.png", DESKTOP, "counts", {}),
                ("stats-phone.png", PHONE, "counts", {"is_mobile": True, "has_touch": True}),
                ("stats-times-en.png", DESKTOP, "times", {"locale": "en-US"}),
            ):
                stats = context(browser, viewport, **options)
                log_in(stats, STATS_USERNAME)
                stats.click(".topbar a.topbar-link[href='/stats/']")
                stats.wait_for_selector(".stats .chart-svg")
                if tab != "counts":
                    stats.click(f'.stats-tabs a[href="?tab={tab}"]')
                    stats.wait_for_url(f"**/stats/?tab={tab}")
                shot(stats, name)

            # 차단고객관리, as the manager: opened from the top bar, on a desktop and on a phone.
            for name, viewport, options in (
                ("blocked-desktop.png", DESKTOP, {}),
                ("blocked-phone.png", PHONE, {"is_mobile": True, "has_touch": True}),
            ):
                blocked = context(browser, viewport, **options)
                log_in(blocked, BLOCKED_USERNAME)
                blocked.click(".topbar a.topbar-link[href='/blocked/']")
                blocked.wait_for_selector("#blocked .blocked-row")
                shot(blocked, name, full_page=True)

            # 설정, as the master: the center's settings, opened from the top bar, on a desktop and on a phone.
            for name, viewport, options in (
                ("settings-ko-desktop.png", DESKTOP, {}),
                ("settings-ko-phone.png", PHONE, {"is_mobile": True, "has_touch": True}),
            ):
                settings_page = context(browser, viewport, **options)
                log_in(settings_page, STATS_USERNAME)
                settings_page.click(".topbar a.topbar-link[href='/settings/']")
                settings_page.wait_for_selector(".settings-form")
                shot(settings_page, name, full_page=True)
        finally:
            browser.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="where the PNGs go")
    parser.add_argument("--seed-assist", action="store_true", help=argparse.SUPPRESS)  # the child step
    args = parser.parse_args()
    if args.seed_assist:
        seed_assist()
        return 0
    if not shutil.which(CHROMIUM):
        print(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium).", file=sys.stderr)
        return 1

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    var_dir = Path(tempfile.mkdtemp(prefix="counsel-screenshots-"))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DEBUG="1", VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="counsel_center.settings")
    server = None
    try:
        print(f"Seeding the demo center in {var_dir} …")
        prepare(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "uvicorn", "counsel_center.asgi:application", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--log-level", "warning"]
        server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - a fixed command line
        wait_until_up(f"{base}/login/", server)
        print(f"Taking screenshots from {base}:")
        take(base, out)
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The 통계 page in a real browser (SPEC §6): a master opens it from the top bar, switches tabs, downloads the CSV.

Debian's Chromium driven by Playwright (consultations/tests/browser.py), against
pytest-django's live server, in Korean, logged in through the real login form.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from consultations.tests import browser
from stats.models import DailyStat

from .conftest import LAST

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chromium(live_server, monkeypatch, fixed_yesterday):
    with browser.chromium(monkeypatch) as running:
        yield running


def test_a_master_opens_statistics_switches_to_times_and_downloads_the_csv(chromium, live_server, center, master):
    now = timezone.now()
    DailyStat.objects.create(
        center=center,
        day=LAST,
        inbound=30,
        closed_same_day=27,
        completed=12,
        conversation_seconds=12 * 610,
        first_response_count=4,
        first_response_seconds=320,
        rolled_up_at=now,
    )
    DailyStat.objects.create(center=center, day=LAST - timedelta(days=7), inbound=24, rolled_up_at=now)
    tab = browser.open_tab(browser.new_context(chromium))
    page = tab.page
    browser.log_in(page, live_server.url, "max")

    # 통계 in the top bar: the counts tab, its chart and the whole daily table.
    page.locator(".topbar").get_by_role("link", name="통계", exact=True).click()
    page.wait_for_url(f"{live_server.url}/stats/")
    assert page.locator("nav.stats-tabs [aria-current=page]").inner_text() == "상담건 수"
    assert page.locator("svg.chart-svg circle").count() == 26
    assert page.locator(".tile-value").all_inner_texts() == ["30", "12"]
    assert "25.0% ↑" in page.locator(".tile").first.inner_text()
    assert page.locator("table.daily tbody tr").count() == 92
    assert page.locator("table.daily tbody tr").first.inner_text().split() == ["2026-03-15", "일", "30", "12", "90.0"]

    # 상담시간: the average times, written as durations.
    page.get_by_role("link", name="상담시간", exact=True).click()
    page.wait_for_url(re.compile(r"/stats/\?tab=times$"))
    page.locator("svg.chart-svg[data-chart=times]").wait_for()
    assert page.locator(".tile-value").all_inner_texts() == ["1분 20초", "10분 10초"]

    # CSV 다운로드: the file the browser saves, Korean header behind a BOM.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV 다운로드").click()
    download = download_info.value
    assert download.suggested_filename == "stats-alpha-20251214-20260315.csv"
    with open(download.path(), encoding="utf-8") as saved:
        lines = saved.read().splitlines()
    assert lines[0] == "\ufeff날짜,인입건 수,상담완료건 수,당일 상담완료율 (%),평균 첫 응대시간 (초),평균 대화시간 (초)"
    assert lines[-1] == "2026-03-15,30,12,90.0,80,610"
    assert len(lines) == 93

    assert tab.errors == [], f"script errors: {tab.errors}"

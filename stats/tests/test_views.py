"""The 통계 page (SPEC §6): who sees it, what it shows from hand-made daily rows, and what it reads."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from stats.models import DailyStat
from stats.templatetags.stats_format import duration

from .conftest import LAST

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixed_yesterday")]

STATS = reverse("stats")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
FIRST = LAST - timedelta(days=91)
TOPBAR_LINK = f'class="topbar-link" href="{STATS}"'


@pytest.fixture
def alpha_days(center, stat):
    """Center A's numbers. The latest 7 days are 3/9–3/15, the 7 before 3/2–3/8.

    Latest: 30 inbound, 12 completed, first responses 320 s over 4 (1 min 20 s), conversations
    44,400 s over the 12 completed (1 h 1 min 40 s). Previous: 24 inbound, nothing completed,
    first responses 100 s over 2 (50 s).
    """
    stat(center, LAST, inbound=10, closed_same_day=8, completed=12, conversation_seconds=44_400)
    stat(
        center,
        LAST - timedelta(days=3),
        inbound=20,
        closed_same_day=5,
        first_response_count=4,
        first_response_seconds=320,
    )
    stat(center, LAST - timedelta(days=10), inbound=24, first_response_count=2, first_response_seconds=100)


@pytest.fixture
def beta_days(other_center, stat):
    stat(other_center, LAST, inbound=777, closed_same_day=700, completed=555, conversation_seconds=555 * 59)


def page(client, member, *, tab: str | None = None, **extra):
    client.force_login(member.user)
    return client.get(STATS, {"tab": tab} if tab else {}, **extra)


def tiles(html: str) -> list[str]:
    return re.findall(r'class="tile-value">([^<]*)<', html)


def changes(html: str) -> list[str]:
    """Each tile's change, its arrow included, as text."""
    return [
        re.sub(r"<[^>]+>|\s+", " ", change).split()
        for change in re.findall(r'class="tile-change[^"]*">.*?<strong>(.*?)</strong>', html, re.S)
    ]


def daily_row(html: str, day: date) -> list[str]:
    """The cells of the daily table's row of `day`, after the day itself."""
    row = re.search(rf'<time datetime="{day:%Y-%m-%d}">{day:%Y-%m-%d}</time> <span class="weekday">.*?</tr>', html)
    return re.findall(r"<td>([^<]*)</td>", row.group(0))


# Who sees it


def test_a_master_sees_the_statistics(client, master, alpha_days):
    response = page(client, master)

    assert response.status_code == 200
    assert TOPBAR_LINK in response.content.decode()


def test_a_manager_with_consultation_permission_sees_the_statistics(client, manager, alpha_days):
    assert page(client, manager).status_code == 200


def test_a_manager_without_consultation_permission_gets_the_not_available_page(client, manager, alpha_days):
    manager.can_consult = False
    manager.save()

    response = page(client, manager, **EN)

    html = response.content.decode()
    assert response.status_code == 403
    assert "Statistics are not available for your role" in html
    assert f'href="{STATS}"' not in html  # no 통계 link in its top bar
    assert "tile-value" not in html


def test_an_agent_gets_the_not_available_page_in_korean_and_no_link(client, agent, alpha_days):
    response = page(client, agent)

    html = response.content.decode()
    assert response.status_code == 403
    assert "현재 역할로는 통계를 볼 수 없습니다" in html
    assert 'class="topbar"' in html and f'href="{STATS}"' not in html


def test_the_top_bar_of_the_console_links_to_statistics_only_for_those_who_see_them(client, master, agent):
    client.force_login(master.user)
    assert TOPBAR_LINK in client.get(reverse("console")).content.decode()

    client.force_login(agent.user)
    assert STATS not in client.get(reverse("console")).content.decode()


def test_it_asks_anonymous_visitors_to_log_in(client):
    response = client.get(STATS)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_member_of_another_center_sees_only_its_own_numbers(client, outsider, alpha_days, beta_days):
    html = page(client, outsider).content.decode()

    assert daily_row(html, LAST) == ["777", "555", "90.1"]
    assert tiles(html) == ["777", "555"]
    assert daily_row(html, LAST - timedelta(days=3)) == ["0", "0", "–"]
    assert "알파 상담센터" not in html


def test_center_a_never_shows_center_b_numbers(client, master, alpha_days, beta_days):
    html = page(client, master).content.decode()

    assert "777" not in html and "555" not in html
    assert daily_row(html, LAST) == ["10", "12", "80.0"]


# What it shows


def test_the_counts_tab_shows_the_latest_7_days_and_their_change(client, master, alpha_days):
    html = page(client, master).content.decode()

    assert tiles(html) == ["30", "12"]  # inbound, completed
    # +25 % against 24 inbound; nothing completed the 7 days before: nothing to compare with.
    assert changes(html) == [["25.0%", "↑"], ["–"]]
    assert 'class="tile-change change-up"' in html and 'class="tile-change change-none"' in html
    assert "직전 7일 대비" in html


def test_the_counts_tab_shows_every_day_newest_first_with_the_same_day_rate(client, master, alpha_days):
    html = page(client, master).content.decode()

    days = re.findall(r'<th scope="row"><time datetime="(\d{4}-\d\d-\d\d)">[^<]*</time> <span class="weekday">', html)
    assert len(days) == 92
    assert days[0] == "2026-03-15" and days[-1] == f"{FIRST:%Y-%m-%d}"
    assert daily_row(html, LAST) == ["10", "12", "80.0"]
    assert daily_row(html, LAST - timedelta(days=3)) == ["20", "0", "25.0"]
    assert daily_row(html, LAST - timedelta(days=1)) == ["0", "0", "–"]  # no inbound: no rate
    for label in ("인입건 수", "상담완료건 수", "당일 상담완료율 (%)", "일별 지표 상세보기"):
        assert label in html


def test_the_daily_table_follows_a_rebuild_of_the_rollups(client, master, alpha_days):
    """The table is kept in the cache by the rows' version: a rebuild (new rolled_up_at) shows at once."""
    assert daily_row(page(client, master).content.decode(), LAST) == ["10", "12", "80.0"]

    DailyStat.objects.filter(day=LAST).update(inbound=11, rolled_up_at=timezone.now())

    assert daily_row(page(client, master).content.decode(), LAST) == ["11", "12", "72.7"]


def test_the_page_shows_its_range_up_to_yesterday(client, master, alpha_days):
    html = page(client, master).content.decode()

    assert f"{FIRST:%Y-%m-%d}</time> – <time" in html and "2026-03-15</time>" in html
    assert "어제까지" in html


def test_the_counts_chart_has_two_lines_of_13_periods_and_a_table_of_them(client, master, alpha_days):
    html = page(client, master).content.decode()

    svg = re.search(r"<svg .*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert svg.count("<circle") == 26  # two series, 13 periods each
    assert "3/9–3/15 · 인입건 수 30" in svg  # the newest point's tooltip
    periods = re.search(r'<details class="chart-data">.*?</details>', html, re.S).group(0)
    assert periods.count("<tr>") == 14  # the header and 13 periods
    assert re.search(r"2026-03-09</time> – <time[^>]*>2026-03-15</time></th><td>30</td><td>12</td>", periods)


def test_the_times_tab_shows_durations_in_korean(client, master, alpha_days):
    html = page(client, master, tab="times").content.decode()

    assert tiles(html) == ["1분 20초", "1시간 1분"]
    assert changes(html) == [["30초", "↑"], ["–"]]  # 50 s the 7 days before; no conversation then
    assert daily_row(html, LAST) == ["–", "1시간 1분"]
    assert daily_row(html, LAST - timedelta(days=3)) == ["1분 20초", "–"]
    assert daily_row(html, LAST - timedelta(days=10)) == ["50초", "–"]
    assert 'aria-current="page">상담시간<' in html
    assert "평균 첫 응대시간" in html and "평균 대화시간" in html


def test_the_times_tab_shows_durations_in_english(client, master, alpha_days):
    html = page(client, master, tab="times", **EN).content.decode()

    assert tiles(html) == ["1 min 20 s", "1 h 1 min"]
    assert changes(html) == [["30", "s", "↑"], ["–"]]
    assert daily_row(html, LAST - timedelta(days=10)) == ["50 s", "–"]
    assert "Average first response time" in html and "vs. previous 7 days" in html


@pytest.mark.parametrize(
    ("seconds", "korean", "english"),
    [
        (None, "–", "–"),
        (0, "0초", "0 s"),
        (44.6, "45초", "45 s"),
        (60, "1분", "1 min"),
        (80, "1분 20초", "1 min 20 s"),
        (-80, "1분 20초", "1 min 20 s"),  # a change: its direction is the arrow's
        (3_600, "1시간", "1 h"),
        (7_530, "2시간 5분", "2 h 5 min"),  # from an hour on, no seconds
        (90_000, "25시간", "25 h"),
    ],
)
def test_durations_are_written_in_the_member_s_language(seconds, korean, english):
    with translation.override("ko"):
        assert duration(seconds) == korean
    with translation.override("en"):
        assert duration(seconds) == english


def test_a_time_that_went_down_shows_a_down_arrow(client, master, center, stat):
    stat(center, LAST, first_response_count=1, first_response_seconds=40)
    stat(center, LAST - timedelta(days=7), first_response_count=1, first_response_seconds=3_700)

    html = page(client, master, tab="times").content.decode()

    assert changes(html)[0] == ["1시간", "1분", "↓"]
    assert 'class="tile-change change-down"' in html


def test_a_count_that_went_down_shows_the_percent_and_a_down_arrow(client, master, center, stat):
    stat(center, LAST, inbound=3)
    stat(center, LAST - timedelta(days=7), inbound=4)

    html = page(client, master, **EN).content.decode()

    assert changes(html) == [["25.0%", "↓"], ["–"]]


def test_an_unknown_tab_is_the_counts_tab(client, master, alpha_days):
    html = page(client, master, tab="nope").content.decode()

    assert 'aria-current="page">상담건 수<' in html
    assert tiles(html) == ["30", "12"]


def test_with_nothing_rolled_up_it_says_so(client, master):
    html = page(client, master).content.decode()

    assert "아직 통계가 없습니다" in html
    assert "<svg" not in html and "stats-csv" not in html and "tile-value" not in html


# What it reads


@pytest.mark.parametrize("rows", [0, 92])
def test_it_reads_the_daily_rows_in_one_query_and_never_the_consultations(
    client, master, center, stat, rows, django_assert_max_num_queries
):
    for n in range(rows):
        stat(center, LAST - timedelta(days=n), inbound=n, completed=n, closed_same_day=n)
    client.force_login(master.user)

    # session, user, memberships (with their centers), the center's daily rows
    with django_assert_max_num_queries(4), CaptureQueriesContext(connection) as queries:
        assert client.get(STATS).status_code == 200

    tables = " ".join(query["sql"] for query in queries)
    assert "stats_dailystat" in tables
    for raw in ("consultations_consultation", "consultations_message", "consultations_event"):
        assert raw not in tables

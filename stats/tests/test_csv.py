"""The daily table as CSV (SPEC §6): Excel-ready UTF-8, headed in the member's language, one row per day."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from .conftest import LAST

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixed_yesterday")]

CSV = reverse("stats-csv")
BOM = "\ufeff".encode()


@pytest.fixture
def days(center, other_center, stat):
    stat(
        center,
        LAST,
        inbound=10,
        closed_same_day=8,
        completed=12,
        conversation_seconds=44_401,
        first_response_count=3,
        first_response_seconds=100,
    )
    stat(center, LAST - timedelta(days=91), inbound=3, closed_same_day=1)
    stat(other_center, LAST, inbound=777, completed=555)


def download(client, member, **extra):
    client.force_login(member.user)
    return client.get(CSV, **extra)


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_it_is_utf8_with_a_bom_as_an_attachment_named_after_the_center_and_range(client, master, days):
    response = download(client, master)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="stats-alpha-20251214-20260315.csv"'
    assert response.content.startswith(BOM)


def test_the_header_is_in_korean(client, master, days):
    header = rows(download(client, master))[0]

    assert header == [
        "날짜",
        "인입건 수",
        "상담완료건 수",
        "당일 상담완료율 (%)",
        "평균 첫 응대시간 (초)",
        "평균 대화시간 (초)",
    ]


def test_the_header_is_in_english_for_an_english_browser(client, master, days):
    header = rows(download(client, master, HTTP_ACCEPT_LANGUAGE="en"))[0]

    assert header == [
        "Day",
        "Inbound",
        "Completed",
        "Same-day completion rate (%)",
        "Average first response time (seconds)",
        "Average conversation time (seconds)",
    ]


def test_it_has_one_row_per_day_oldest_first_with_plain_numbers(client, master, days):
    body = rows(download(client, master))[1:]

    assert len(body) == 92
    assert body[0] == ["2025-12-14", "3", "0", "33.3", "", ""]
    assert body[1] == ["2025-12-15", "0", "0", "", "", ""]  # nothing that day: no rate, no averages
    # 8 of 10 closed the same day; 100 s over 3 first responses; 44,401 s over 12 completed: whole seconds.
    assert body[-1] == ["2026-03-15", "10", "12", "80.0", "33", "3700"]


def test_a_member_of_another_center_downloads_only_its_own(client, outsider, days):
    response = download(client, outsider)

    body = rows(response)[1:]
    assert 'filename="stats-beta-' in response["Content-Disposition"]
    assert body[-1] == ["2026-03-15", "777", "555", "0.0", "", "0"]
    assert all(row[1] == "0" for row in body[:-1])


@pytest.mark.parametrize("who", ["agent", "manager_without_permission"])
def test_agents_and_managers_without_permission_get_the_not_available_page(client, agent, manager, days, who):
    member = agent if who == "agent" else manager
    manager.can_consult = False
    manager.save()

    response = download(client, member)

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert "현재 역할로는 통계를 볼 수 없습니다" in response.content.decode()

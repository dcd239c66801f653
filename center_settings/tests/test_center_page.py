"""센터 설정: masters edit, managers read; the operating switch tells open consoles (an Event), as the admin does."""

import pytest
from django.urls import reverse

from consultations.models import Event

pytestmark = pytest.mark.django_db

URL = "/settings/"


def form_data(center, **changes) -> dict:
    data = {
        "name": center.name,
        "is_operating": str(center.is_operating),
        "concurrent_limit": center.concurrent_limit,
        "idle_close_minutes": center.idle_close_minutes,
        "time_zone": center.time_zone,
        "outbound_url": center.outbound_url,
    }
    return data | changes


def center_events(center):
    return list(Event.objects.filter(center=center, kind=Event.Kind.CENTER_CHANGED))


def test_a_master_saves_the_settings_and_is_sent_back_with_a_notice(as_member, master, center):
    client = as_member(master)

    response = client.post(
        URL,
        form_data(
            center,
            name="새 이름",
            concurrent_limit=5,
            idle_close_minutes=30,
            time_zone="Asia/Tokyo",
            outbound_url="https://channel.example/outbound",
        ),
    )

    assert response.status_code == 302 and response["Location"] == URL
    center.refresh_from_db()
    assert (center.name, center.concurrent_limit, center.idle_close_minutes, center.time_zone) == (
        "새 이름",
        5,
        30,
        "Asia/Tokyo",
    )
    assert center.outbound_url == "https://channel.example/outbound"
    assert center_events(center) == []  # the switch did not change: consoles have nothing to hear
    assert "센터 설정을 저장했습니다." in client.get(URL).content.decode()


def test_stopping_the_center_records_the_event_open_consoles_hear(as_member, master, center):
    client = as_member(master)

    client.post(URL, form_data(center, is_operating="False"))

    center.refresh_from_db()
    assert center.is_operating is False
    (event,) = center_events(center)
    assert event.kind == "center.changed" and event.data["is_operating"] is False

    client.post(URL, form_data(center, is_operating="True"))

    assert [e.data["is_operating"] for e in center_events(center)] == [False, True]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "필수 항목입니다."),
        ({"concurrent_limit": "0"}, "concurrent_limit", "1"),
        ({"idle_close_minutes": "abc"}, "idle_close_minutes", "정수를 입력하세요."),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Mars/Olympus"),
        ({"outbound_url": "not a url"}, "outbound_url", "올바른 URL을 입력하세요."),
        ({"is_operating": ""}, "is_operating", "필수 항목입니다."),
    ],
)
def test_bad_input_is_shown_inline_and_nothing_is_saved(as_member, master, center, changes, field, message):
    before = (center.name, center.is_operating, center.concurrent_limit, center.idle_close_minutes)
    client = as_member(master)

    response = client.post(URL, {**form_data(center, is_operating="False", name="반만 저장"), **changes})

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in html and message in html
    assert "저장하지 않았습니다" in html
    center.refresh_from_db()
    assert (center.name, center.is_operating, center.concurrent_limit, center.idle_close_minutes) == before
    assert center_events(center) == []
    assert "알파 상담센터" in html.split("</header>")[0]  # the top bar still shows the stored name


def test_a_manager_sees_the_settings_read_only_without_the_secret(as_member, manager, center):
    html = as_member(manager).get(URL).content.decode()

    assert 'name="name"' in html and "disabled" in html.split('name="name"')[1].split(">")[0]
    assert "마스터만 변경할 수 있습니다" in html or "조회만 할 수 있습니다" in html
    assert center.webhook_secret not in html and "비밀키 재발급" not in html
    assert 'type="submit" class="settings-primary"' not in html


def test_a_managers_post_is_refused_and_changes_nothing(as_member, manager, center):
    response = as_member(manager).post(URL, form_data(center, name="매니저가 바꿈", is_operating="False"))

    assert response.status_code == 403
    assert "마스터만 변경할 수 있습니다" in response.content.decode()
    center.refresh_from_db()
    assert center.name == "알파 상담센터" and center.is_operating
    assert center_events(center) == []


def test_a_master_sees_the_secret_and_makes_a_new_one(as_member, master, center):
    client = as_member(master)
    assert "alpha-secret" in client.get(URL).content.decode()

    response = client.post(reverse("settings:new-secret"))

    assert response.status_code == 302
    center.refresh_from_db()
    assert center.webhook_secret != "alpha-secret" and len(center.webhook_secret) >= 40
    html = client.get(URL).content.decode()
    assert center.webhook_secret in html and "새 웹훅 비밀키를 만들었습니다" in html


def test_a_manager_cannot_make_a_new_secret(as_member, manager, center):
    assert as_member(manager).post(reverse("settings:new-secret")).status_code == 403

    center.refresh_from_db()
    assert center.webhook_secret == "alpha-secret"


def test_a_get_of_the_secret_url_is_refused(as_member, master):
    assert as_member(master).get(reverse("settings:new-secret")).status_code == 405

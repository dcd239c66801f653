"""Every member changes their own password in the console (agents have no admin): Django's views and validators.

The browser that changed it stays signed in; the member's other sessions end,
because the session's hash follows the password.
"""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "password"  # the factories' password
NEW = "quiet-harbor-lantern-42"


def signed_in(username: str, password: str = PASSWORD) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="ko")
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, response.content
    return client


def change(client: Client, old: str, new: str, again: str | None = None):
    data = {"old_password": old, "new_password1": new, "new_password2": new if again is None else again}
    return client.post(reverse("password_change"), data)


def test_an_agent_finds_the_page_in_the_top_bar_in_korean(agent):
    client = signed_in("alice")

    console = client.get(reverse("console")).content.decode()
    page = client.get(reverse("password_change"))

    assert f'<a class="me-password" href="{reverse("password_change")}">비밀번호 변경</a>' in console
    assert page.status_code == 200
    text = page.content.decode()
    for label in ("기존 비밀번호", "새 비밀번호", "다른 곳에서 로그인한 브라우저는 로그아웃됩니다"):
        assert label in text


def test_a_change_keeps_this_browser_signed_in_and_signs_the_others_out(agent):
    here, elsewhere = signed_in("alice"), signed_in("alice")

    response = change(here, PASSWORD, NEW)

    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    assert "비밀번호를 바꿨습니다" in here.get(response["Location"]).content.decode()
    assert here.get(reverse("console")).status_code == 200
    away = elsewhere.get(reverse("console"))
    assert away.status_code == 302 and away["Location"].startswith(reverse("login"))
    assert SESSION_KEY in signed_in("alice", NEW).session
    assert Client().post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 200


@pytest.mark.parametrize(
    ("old", "new", "again", "error"),
    [
        ("wrong-password", NEW, None, "기존 비밀번호를 잘못 입력하셨습니다"),
        (PASSWORD, NEW, NEW + "x", "비밀번호가 일치하지 않습니다"),
        (PASSWORD, "short1", None, "이 비밀번호는 너무 짧습니다"),
        (PASSWORD, "password123", None, "너무 흔히 사용되는 비밀번호입니다"),
    ],
    ids=["wrong old password", "confirmation differs", "too short", "too common"],
)
def test_a_refused_change_says_why_in_korean_and_changes_nothing(agent, old, new, again, error):
    client = signed_in("alice")

    response = change(client, old, new, again)

    assert response.status_code == 200
    assert error in response.content.decode()
    agent.user.refresh_from_db()
    assert agent.user.check_password(PASSWORD)
    assert client.get(reverse("console")).status_code == 200  # still signed in


def test_without_a_session_it_asks_to_log_in_first(client):
    response = client.get(reverse("password_change"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('password_change')}"

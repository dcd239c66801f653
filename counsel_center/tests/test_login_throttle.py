"""Attacks refused (issue 19): login throttling with django-axes, and sessions that end.

The limit is 5 failures (LOGIN_FAILURE_LIMIT), per username from any address and per address for any
username, for 15 minutes after the last failure (LOGIN_COOLOFF_MINUTES).
"""

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from io import StringIO

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from counsel_center.models import Member

from .factories import MemberFactory, UserFactory

LIMIT = 5
PASSWORD = "password"  # the factories' password


def _log_in(client, username, password, *, ip="10.0.0.1", path="/login/", **extra):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def _fail(client, username, times, *, ip="10.0.0.1", path="/login/"):
    for _ in range(times):
        response = _log_in(client, username, "wrong-password", ip=ip, path=path)
    return response


def _logged_in(client) -> bool:
    return SESSION_KEY in client.session


def test_the_settings_are_the_documented_ones():
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username"], ["ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_a_wrong_password_is_just_refused_below_the_limit(client, master):
    response = _fail(client, "max", LIMIT - 1)
    assert response.status_code == 200
    assert "form-error" in response.content.decode()
    assert _log_in(client, "max", PASSWORD).status_code == 302
    assert _logged_in(client)


def test_it_locks_a_username_after_the_limit_even_with_the_right_password_from_anywhere(client, master):
    response = _fail(client, "max", LIMIT, ip="10.0.0.1")
    assert response.status_code == 429

    response = _log_in(client, "max", PASSWORD, ip="10.9.9.9")  # another address, the right password
    assert response.status_code == 429
    assert not _logged_in(client)
    html = response.content.decode()
    assert "로그인이 잠겼습니다" in html  # Korean by default (LANGUAGE_CODE)
    assert "15분 후에 다시 시도하거나" in html
    assert 'href="/login/"' in html


def test_the_lockout_page_speaks_english(client, master):
    _fail(client, "max", LIMIT)
    response = _log_in(client, "max", PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    html = response.content.decode()
    assert "Login is locked after 5 failed attempts." in html
    assert "Try again in 15 minutes, or ask a master of your center to unlock your login." in html


def test_other_usernames_from_another_address_are_not_locked(client, master, agent):
    _fail(client, "max", LIMIT, ip="10.0.0.1")
    assert _log_in(client, "alice", PASSWORD, ip="10.0.0.2").status_code == 302


def test_it_locks_an_address_that_tries_many_usernames(client, master, agent):
    for username in ("a1", "a2", "a3", "a4", "a5"):
        _fail(client, username, 1, ip="10.6.6.6")
    response = _log_in(client, "alice", PASSWORD, ip="10.6.6.6")
    assert response.status_code == 429
    assert not _logged_in(client)
    assert _log_in(client, "alice", PASSWORD, ip="10.0.0.7").status_code == 302  # elsewhere, Alice is fine


def test_a_success_forgives_that_usernames_failures(client, master):
    _fail(client, "max", LIMIT - 1)
    assert _log_in(client, "max", PASSWORD).status_code == 302
    client.logout()
    assert _fail(client, "max", LIMIT - 1).status_code == 200  # counting starts again
    assert _log_in(client, "max", PASSWORD).status_code == 302


def test_a_success_does_not_forgive_failures_for_other_usernames_from_the_same_address(client, master, agent):
    """Else a member could guess a master's password four times, log in as themselves, and go on forever."""
    _fail(client, "max", LIMIT - 1, ip="10.0.0.3")
    assert _log_in(client, "alice", PASSWORD, ip="10.0.0.3").status_code == 302
    client.logout()
    assert _fail(client, "max", 1, ip="10.0.0.4").status_code == 429


def test_it_lets_the_user_in_again_after_the_cool_off(client, master):
    _fail(client, "max", LIMIT)
    assert _log_in(client, "max", PASSWORD).status_code == 429
    # Time passes: the last failure is now older than the 15-minute cool-off.
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(minutes=16)
        attempt.save(update_fields=["attempt_time"])
    assert _log_in(client, "max", PASSWORD).status_code == 302


def test_the_admin_login_is_throttled_too(client, master):
    admin_login = reverse("admin:login")
    assert _fail(client, "max", LIMIT, path=admin_login).status_code == 429
    response = _log_in(client, "max", PASSWORD, path=admin_login)
    assert response.status_code == 429
    assert not _logged_in(client)
    assert _log_in(client, "max", PASSWORD).status_code == 429  # the same lock on the console's login


def test_the_limit_follows_the_setting(client, master, settings):
    settings.AXES_FAILURE_LIMIT = 2
    assert _fail(client, "max", 2).status_code == 429


# --- unlocking ---------------------------------------------------------------------------------


def _unlock(client, *members):
    return client.post(
        reverse("admin:counsel_center_member_changelist"),
        {"action": "unlock_login", "_selected_action": [m.pk for m in members]},
        follow=True,
    )


def test_a_master_sees_and_unlocks_a_locked_member_of_their_center(agent, master):
    attacker = Client()
    _fail(attacker, "alice", LIMIT)
    admin = Client()
    admin.force_login(master.user)

    changelist = admin.get(reverse("admin:counsel_center_member_changelist")).content.decode()
    assert "잠금 해제" in changelist  # the action, in Korean
    locked = re.findall(r'<td class="field-login_locked"><img [^>]*alt="(\w+)"', changelist)
    assert sorted(locked) == ["False", "True"]  # Alice locked, Max not

    response = _unlock(admin, agent)
    assert "1명의 로그인 잠금을 해제했습니다." in response.content.decode()
    assert not AccessAttempt.objects.filter(username="alice").exists()
    assert _log_in(Client(), "alice", PASSWORD, ip="10.0.0.8").status_code == 302


def test_a_master_cannot_unlock_a_member_of_another_center(master, outsider):
    _fail(Client(), "oscar", LIMIT)
    admin = Client()
    admin.force_login(master.user)
    assert "oscar" not in admin.get(reverse("admin:counsel_center_member_changelist")).content.decode()

    _unlock(admin, outsider)
    assert AccessAttempt.objects.filter(username="oscar").exists()  # still locked
    assert _log_in(Client(), "oscar", PASSWORD, ip="10.0.0.9").status_code == 429


def test_a_manager_cannot_unlock(manager, agent):
    _fail(Client(), "alice", LIMIT)
    admin = Client()
    admin.force_login(manager.user)
    assert "unlock_login" not in admin.get(reverse("admin:counsel_center_member_changelist")).content.decode()
    _unlock(admin, agent)
    assert AccessAttempt.objects.filter(username="alice").exists()


def test_a_master_who_manages_another_center_unlocks_only_where_they_are_master(master, other_center):
    """The list shows center B's members to a manager of B; the unlock stays with B's masters."""
    MemberFactory(center=other_center, user=master.user, role=Member.Role.MANAGER)
    bea = MemberFactory(center=other_center, user=UserFactory(username="bea"), role=Member.Role.AGENT)
    _fail(Client(), "bea", LIMIT)
    admin = Client()
    admin.force_login(master.user)
    response = _unlock(admin, bea)
    assert "0명의 로그인 잠금을 해제했습니다." in response.content.decode()
    assert AccessAttempt.objects.filter(username="bea").exists()


def test_an_operator_unlocks_with_axes_command(master):
    _fail(Client(), "max", LIMIT)
    call_command("axes_reset_username", "max", stdout=StringIO())
    assert _log_in(Client(), "max", PASSWORD).status_code == 302


def test_an_operator_unlocks_an_address_with_axes_command(agent):
    for username in ("a1", "a2", "a3", "a4", "a5"):
        _fail(Client(), username, 1, ip="10.6.6.6")
    call_command("axes_reset_ip", "10.6.6.6", stdout=StringIO())
    assert _log_in(Client(), "alice", PASSWORD, ip="10.6.6.6").status_code == 302


# --- the client's address behind the proxy -----------------------------------------------------


def test_it_reads_the_address_from_remote_addr_by_default(client, master):
    _fail(client, "x1", LIMIT, ip="10.0.0.1")  # a header a client sends is not believed
    response = _log_in(client, "max", PASSWORD, ip="10.0.0.1", HTTP_X_REAL_IP="10.2.2.2")
    assert response.status_code == 429


def test_behind_the_proxy_it_reads_the_header_the_proxy_sets(client, master, settings):
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    for n in range(LIMIT):
        _log_in(client, f"x{n}", "wrong", ip="127.0.0.1", HTTP_X_REAL_IP="10.3.3.3")
    # Another client behind the same proxy is not locked by the first one's failures.
    assert _log_in(client, "max", PASSWORD, ip="127.0.0.1", HTTP_X_REAL_IP="10.4.4.4").status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.3.3.3"}


# --- sessions ----------------------------------------------------------------------------------


def _settings_with(env: dict[str, str]) -> dict:
    """The session settings as a process started with `env` reads them."""
    code = (
        "import json, counsel_center.settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_AGE, s.SESSION_EXPIRE_AT_BROWSER_CLOSE, s.AXES_FAILURE_LIMIT, "
        "s.AXES_COOLOFF_TIME.total_seconds(), s.CLIENT_IP_HEADER]))"
    )
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SESSION_", "LOGIN_", "CLIENT_IP"))}
    result = subprocess.run(  # noqa: S603 (a fixed command line)
        [sys.executable, "-c", code], env={**keep, **env}, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_sessions_last_a_working_day_and_end_with_the_browser_by_default():
    assert _settings_with({}) == [9 * 60 * 60, True, 5, 15 * 60, ""]


def test_the_session_and_throttle_settings_are_read_from_the_environment():
    env = {
        "SESSION_COOKIE_AGE_SECONDS": "3600",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": "0",
        "LOGIN_FAILURE_LIMIT": "10",
        "LOGIN_COOLOFF_MINUTES": "30",
        "CLIENT_IP_HEADER": "X-Real-IP",
    }
    assert _settings_with(env) == [3600, False, 10, 30 * 60, "X-Real-IP"]


def test_the_session_cookie_has_no_expiry_so_it_ends_with_the_browser(client, master):
    response = _log_in(client, "max", PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
    assert client.session.get_expire_at_browser_close()


def test_a_password_change_ends_the_users_other_sessions(master):
    office, home = Client(), Client()
    assert _log_in(office, "max", PASSWORD).status_code == 302
    assert _log_in(home, "max", PASSWORD, ip="10.0.0.2").status_code == 302
    assert office.get(reverse("console")).status_code == 200

    # Changed elsewhere (`manage.py changepassword`, or any form that calls set_password).
    master.user.set_password("a-brand-new-passphrase")
    master.user.save()

    for client in (office, home):
        response = client.get(reverse("console"))
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert _log_in(Client(), "max", "a-brand-new-passphrase").status_code == 302

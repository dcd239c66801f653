"""R2: center settings and members in the admin — masters edit, managers look.

Covers counsel_center/admin.py (CenterAdmin and MemberAdmin).
"""

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from counsel_center.models import Center, Member
from counsel_center.tests.factories import MemberFactory, UserFactory

User = get_user_model()
STRONG_PASSWORD = "kettle-orbit-93-sunflower"


def _center_url(center):
    return reverse("admin:counsel_center_center_change", args=[center.pk])


def _member_url(member):
    return reverse("admin:counsel_center_member_change", args=[member.pk])


def _settings(**changes):
    data = {
        "name": "알파 상담센터",
        "is_operating": "on",
        "concurrent_limit": "3",
        "idle_close_minutes": "10",
        "time_zone": "Asia/Seoul",
        "outbound_url": "",
        "webhook_secret": "alpha-secret",
        "_save": "1",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _new_member(**changes):
    data = {
        "username": "jin",
        "display_name": "진",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
        "role": Member.Role.AGENT,
        "_save": "1",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _member_change(member, **changes):
    data = {"display_name": member.display_name, "role": member.role, "is_active": "on", "_save": "1"}
    if member.can_consult:
        data["can_consult"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- center settings ----------------------------------------------------------------------


def test_it_lets_a_master_edit_the_center_settings(client, master, center):
    client.force_login(master.user)
    response = client.post(
        _center_url(center),
        _settings(
            name="알파 센터",
            is_operating=None,  # unchecked: 운영 중지
            concurrent_limit="5",
            idle_close_minutes="30",
            time_zone="Europe/Paris",
            outbound_url="https://example.com/out",
            webhook_secret="new-secret",
        ),
    )
    assert response.status_code == 302
    center.refresh_from_db()
    assert center.name == "알파 센터"
    assert center.is_operating is False
    assert (center.concurrent_limit, center.idle_close_minutes) == (5, 30)
    assert center.time_zone == "Europe/Paris"
    assert center.outbound_url == "https://example.com/out"
    assert center.webhook_secret == "new-secret"


def test_it_keeps_the_slug_out_of_a_masters_reach(client, master, center):
    client.force_login(master.user)
    client.post(_center_url(center), _settings(slug="hijacked"))
    center.refresh_from_db()
    assert center.slug == "alpha"
    html = client.get(_center_url(center)).content.decode()
    assert 'name="slug"' not in html
    assert 'name="name"' in html


def test_it_refuses_an_unknown_time_zone(client, master, center):
    client.force_login(master.user)
    response = client.post(_center_url(center), _settings(time_zone="Mars/Olympus"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.as_data()["time_zone"][0].code == "bad_time_zone"
    center.refresh_from_db()
    assert center.time_zone == "Asia/Seoul"


def test_it_refuses_a_concurrent_limit_below_one(client, master, center):
    client.force_login(master.user)
    response = client.post(_center_url(center), _settings(concurrent_limit="0"))
    assert response.status_code == 200
    center.refresh_from_db()
    assert center.concurrent_limit == 3


def test_it_shows_a_manager_the_settings_read_only(client, manager, center):
    client.force_login(manager.user)
    response = client.get(_center_url(center))
    assert response.status_code == 200
    html = response.content.decode()
    assert "알파 상담센터" in html
    assert 'name="name"' not in html
    assert 'name="_save"' not in html
    # The webhook secret signs customer events; only masters see it.
    assert "alpha-secret" not in html


def test_it_refuses_a_managers_settings_change_with_403(client, manager, center):
    client.force_login(manager.user)
    response = client.post(_center_url(center), _settings(name="매니저가 바꿈", concurrent_limit="9"))
    assert response.status_code == 403
    center.refresh_from_db()
    assert (center.name, center.concurrent_limit) == ("알파 상담센터", 3)


def test_it_leaves_adding_and_deleting_centers_to_superusers(client, admin_client, master, center):
    client.force_login(master.user)
    assert client.get(reverse("admin:counsel_center_center_add")).status_code == 403
    delete = reverse("admin:counsel_center_center_delete", args=[center.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Center.objects.filter(pk=center.pk).exists()

    response = admin_client.post(
        reverse("admin:counsel_center_center_add"), _settings(name="감마 상담센터", slug="gamma", webhook_secret="g")
    )
    assert response.status_code == 302
    assert Center.objects.get(slug="gamma").name == "감마 상담센터"


def test_it_lets_a_superuser_change_the_slug(admin_client, center):
    admin_client.post(_center_url(center), _settings(slug="alpha-2"))
    center.refresh_from_db()
    assert center.slug == "alpha-2"


# --- members: creation ----------------------------------------------------------------------


def test_it_lets_a_master_add_an_agent_who_can_log_in(client, master, center):
    client.force_login(master.user)
    response = client.post(reverse("admin:counsel_center_member_add"), _new_member(center=center.pk))
    assert response.status_code == 302
    member = Member.objects.select_related("user").get(user__username="jin")
    assert (member.center, member.role, member.display_name, member.is_active) == (center, "agent", "진", True)
    assert member.user.is_staff is False  # agents work in the console, not the admin
    client.logout()
    assert client.login(request=HttpRequest(), username="jin", password=STRONG_PASSWORD)


def test_it_makes_a_new_manager_staff_so_they_reach_the_admin(client, master, center):
    client.force_login(master.user)
    response = client.post(
        reverse("admin:counsel_center_member_add"),
        _new_member(center=center.pk, role=Member.Role.MANAGER, can_consult="on"),
    )
    assert response.status_code == 302
    user = User.objects.get(username="jin")
    assert user.is_staff is True
    assert user.memberships.get().can_consult is True
    client.logout()
    assert client.login(request=HttpRequest(), username="jin", password=STRONG_PASSWORD)
    assert client.get(reverse("admin:customers_customer_changelist")).status_code == 200


def test_it_offers_the_masters_center_by_default(client, master, center, other_center):
    client.force_login(master.user)
    html = client.get(reverse("admin:counsel_center_member_add")).content.decode()
    assert f'<option value="{center.pk}" selected>' in html
    assert "베타 상담센터" not in html


@pytest.mark.parametrize(
    ("changes", "error_field"),
    [
        ({"password2": "something-else-entirely"}, "password2"),
        ({"password1": "1234", "password2": "1234"}, "password2"),  # too short, too common, numeric
        ({"username": "sunflower", "password1": "sunflower7", "password2": "sunflower7"}, "password2"),  # too alike
        ({"username": "MAX"}, "username"),  # Max exists; case does not make another person
        ({"username": "no spaces"}, "username"),
    ],
)
def test_it_refuses_bad_credentials(client, master, center, changes, error_field):
    client.force_login(master.user)
    response = client.post(reverse("admin:counsel_center_member_add"), _new_member(center=center.pk, **changes))
    assert response.status_code == 200
    assert error_field in response.context["adminform"].form.errors
    assert not Member.objects.filter(display_name="진").exists()
    assert not User.objects.filter(username__in=["jin", "sunflower", "no spaces"]).exists()


def test_it_refuses_a_member_for_another_center(client, master, center, other_center):
    client.force_login(master.user)
    response = client.post(reverse("admin:counsel_center_member_add"), _new_member(center=other_center.pk))
    assert response.status_code == 200
    assert "center" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="jin").exists()


def test_it_lets_managers_only_look_at_members(client, manager, agent, center):
    client.force_login(manager.user)
    assert client.get(reverse("admin:counsel_center_member_changelist")).status_code == 200
    assert client.get(reverse("admin:counsel_center_member_add")).status_code == 403
    response = client.post(reverse("admin:counsel_center_member_add"), _new_member(center=center.pk))
    assert response.status_code == 403
    assert not User.objects.filter(username="jin").exists()

    response = client.get(_member_url(agent))
    assert response.status_code == 200
    assert 'name="role"' not in response.content.decode()
    response = client.post(_member_url(agent), _member_change(agent, role=Member.Role.MASTER))
    assert response.status_code == 403
    agent.refresh_from_db()
    assert agent.role == Member.Role.AGENT


# --- members: changes ------------------------------------------------------------------------


def test_it_lets_a_master_promote_an_agent_to_manager(client, master, agent):
    client.force_login(master.user)
    response = client.post(
        _member_url(agent), _member_change(agent, role=Member.Role.MANAGER, can_consult="on", display_name="앨리스")
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.role, agent.can_consult, agent.display_name) == ("manager", True, "앨리스")
    agent.user.refresh_from_db()
    assert agent.user.is_staff is True


def test_it_takes_staff_away_from_a_deactivated_manager(client, master, manager):
    client.force_login(master.user)
    response = client.post(_member_url(manager), _member_change(manager, is_active=None))
    assert response.status_code == 302
    manager.refresh_from_db()
    manager.user.refresh_from_db()
    assert manager.is_active is False
    assert manager.user.is_staff is False
    assert manager.user.is_active is True  # the login stays; only the membership ends


def test_it_refuses_to_demote_the_last_active_master(client, master):
    client.force_login(master.user)
    response = client.post(_member_url(master), _member_change(master, role=Member.Role.MANAGER))
    assert response.status_code == 200
    [error] = response.context["adminform"].form.non_field_errors().as_data()
    assert error.code == "last_master"
    with translation.override("ko"):  # the page's language
        assert escape(error.messages[0]) in response.content.decode()
    master.refresh_from_db()
    assert master.role == Member.Role.MASTER


def test_it_refuses_to_deactivate_the_last_active_master(client, master, center):
    # Another master who is no longer active does not count.
    MemberFactory(center=center, user=UserFactory(username="old"), role=Member.Role.MASTER, is_active=False)
    client.force_login(master.user)
    response = client.post(_member_url(master), _member_change(master, is_active=None))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors().as_data()[0].code == "last_master"
    master.refresh_from_db()
    assert master.is_active is True


def test_it_lets_a_master_step_down_when_another_master_remains(client, master, center):
    MemberFactory(center=center, user=UserFactory(username="max2", is_staff=True), role=Member.Role.MASTER)
    client.force_login(master.user)
    response = client.post(_member_url(master), _member_change(master, role=Member.Role.MANAGER))
    assert response.status_code == 302
    master.refresh_from_db()
    assert master.role == Member.Role.MANAGER


def test_it_does_not_count_another_centers_master(client, master, other_center):
    MemberFactory(center=other_center, user=UserFactory(username="beta-master"), role=Member.Role.MASTER)
    client.force_login(master.user)
    response = client.post(_member_url(master), _member_change(master, role=Member.Role.AGENT))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors().as_data()[0].code == "last_master"
    master.refresh_from_db()
    assert master.role == Member.Role.MASTER


def test_it_never_deletes_members_for_a_master(client, master, agent):
    client.force_login(master.user)
    response = client.post(reverse("admin:counsel_center_member_delete", args=[agent.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Member.objects.filter(pk=agent.pk).exists()


def test_it_lists_members_with_their_roles(client, master, agent, manager, outsider):
    client.force_login(master.user)
    response = client.get(reverse("admin:counsel_center_member_changelist"), {"q": "mina"})
    html = response.content.decode()
    assert "Mina" in html
    assert _member_url(agent) not in html
    assert _member_url(outsider) not in html
    response = client.get(reverse("admin:counsel_center_member_changelist"), {"role__exact": "agent"})
    html = response.content.decode()
    assert _member_url(agent) in html
    assert _member_url(manager) not in html

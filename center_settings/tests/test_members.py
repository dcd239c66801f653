"""구성원: the list (everyone who opens settings), add and edit (masters), with the admin's rules."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from counsel_center.models import Member
from counsel_center.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

LIST = "/settings/members/"
ADD = "/settings/members/add/"
User = get_user_model()


def edit_url(member) -> str:
    return reverse("settings:member-edit", args=[member.pk])


def listed_names(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/settings/members/\d+/">([^<]+)</a>', html)


def test_the_list_shows_the_centers_members_masters_first(as_member, master, manager, agent, agent2, outsider):
    html = as_member(manager).get(LIST).content.decode()

    assert listed_names(html) == ["Max", "Mina", "Alice", "Bob"]
    assert "oscar" not in html.lower()
    assert "<code>mina</code>" in html and "매니저" in html and "상담직원" in html
    assert 'href="/settings/members/add/"' not in html  # managers look; masters add


def test_a_master_sees_the_add_button(as_member, master):
    assert 'href="/settings/members/add/"' in as_member(master).get(LIST).content.decode()


@pytest.mark.parametrize("extra", [0, 20])
def test_the_list_costs_the_same_queries_whatever_the_number_of_members(
    as_member, master, center, extra, django_assert_num_queries
):
    for n in range(extra):
        MemberFactory(center=center, display_name=f"직원{n}")
    client = as_member(master)

    # session, user, memberships (with their centers and users), the members (with their users)
    with django_assert_num_queries(4):
        response = client.get(LIST)

    assert len(listed_names(response.content.decode())) == 1 + extra


def test_a_master_adds_a_manager_who_can_log_in_to_the_admin(as_member, master, center):
    client = as_member(master)

    response = client.post(
        ADD,
        {
            "username": "newbie",
            "display_name": "신입 매니저",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
            "role": "manager",
            "can_consult": "on",
        },
    )

    assert response.status_code == 302 and response["Location"] == LIST
    member = Member.objects.select_related("user").get(user__username="newbie")
    assert (member.center, member.role, member.can_consult, member.display_name) == (
        center,
        "manager",
        True,
        "신입 매니저",
    )
    assert member.user.is_staff and member.user.check_password("a-long-passphrase-42")
    assert "신입 매니저 님을 센터 구성원으로 추가했습니다." in client.get(LIST).content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password2": "something-else-99"}, "비밀번호가 일치하지 않습니다"),
        ({"username": "MAX"}, "이미 사용 중인 아이디입니다."),
        ({"username": "bad name!"}, "아이디"),
        ({"role": "owner"}, "올바르게 선택해 주세요"),
        ({"password1": "123", "password2": "123"}, "비밀번호"),
    ],
)
def test_adding_with_bad_input_shows_the_error_and_creates_nobody(as_member, master, changes, message):
    data = {
        "username": "newbie",
        "display_name": "신입",
        "password1": "a-long-passphrase-42",
        "password2": "a-long-passphrase-42",
        "role": "agent",
    }
    users_before = User.objects.count()

    response = as_member(master).post(ADD, data | changes)

    html = response.content.decode()
    assert response.status_code == 200
    assert "저장하지 않았습니다" in html and message in html
    assert User.objects.count() == users_before and not Member.objects.filter(display_name="신입").exists()


def test_a_master_changes_a_members_role_and_the_admin_flag_follows(as_member, master, agent):
    response = as_member(master).post(
        edit_url(agent), {"display_name": "앨리스", "role": "manager", "can_consult": "on", "is_active": "on"}
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    agent.user.refresh_from_db()
    assert (agent.role, agent.can_consult, agent.display_name) == ("manager", True, "앨리스")
    assert agent.user.is_staff


def test_deactivating_a_manager_takes_away_the_admin_flag(as_member, master, manager):
    as_member(master).post(edit_url(manager), {"display_name": "Mina", "role": "manager"})

    manager.refresh_from_db()
    manager.user.refresh_from_db()
    assert not manager.is_active and not manager.user.is_staff


@pytest.mark.parametrize("data", [{"role": "manager", "is_active": "on"}, {"role": "master"}])
def test_the_last_master_cannot_demote_or_deactivate_themself(as_member, master, data):
    response = as_member(master).post(edit_url(master), {"display_name": "Max", **data})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Max 님은 이 센터의 마지막 마스터입니다." in html
    master.refresh_from_db()
    master.user.refresh_from_db()
    assert master.role == "master" and master.is_active and master.user.is_staff


def test_a_master_may_step_down_when_another_master_remains(as_member, master, center):
    MemberFactory(center=center, role="master", display_name="Second")

    response = as_member(master).post(edit_url(master), {"display_name": "Max", "role": "manager", "is_active": "on"})

    assert response.status_code == 302
    master.refresh_from_db()
    assert master.role == "manager"


def test_a_manager_sees_a_member_read_only_and_cannot_change_it(as_member, manager, agent):
    client = as_member(manager)

    html = client.get(edit_url(agent)).content.decode()
    assert "disabled" in html.split('name="role"')[1].split(">")[0]
    assert "저장</button>" not in html

    response = client.post(edit_url(agent), {"display_name": "바뀜", "role": "master", "is_active": "on"})

    assert response.status_code == 403
    agent.refresh_from_db()
    assert (agent.role, agent.display_name) == ("agent", "Alice")


def test_a_managers_add_is_refused(as_member, manager):
    response = as_member(manager).post(
        ADD, {"username": "sneaky", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"}
    )

    assert response.status_code == 403
    assert not User.objects.filter(username="sneaky").exists()

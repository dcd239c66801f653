"""R2: the admin shows masters and managers their own center only; agents get nothing.

The mixin is counsel_center.admin_scoping.CenterScopedAdmin; these tests go
through every scoped admin with the fixed cast (Mina manages alpha, Oscar beta).
"""

import pytest
from django.urls import reverse

from consultations.models import Status
from consultations.tests.factories import ConsultationFactory
from counsel_center.models import Member
from counsel_center.tests.factories import MemberFactory, UserFactory
from customers.models import Block, Customer
from customers.tests.factories import CustomerFactory

CHANGELISTS = [
    "admin:counsel_center_center_changelist",
    "admin:counsel_center_member_changelist",
    "admin:customers_customer_changelist",
    "admin:customers_block_changelist",
    "admin:consultations_consultation_changelist",
    "admin:consultations_event_changelist",
]


def _block(customer, member=None):
    return Block.objects.create(
        customer=customer, reason=Block.Reason.ABUSE, blocked_by=member, blocked_at=customer.created_at
    )


@pytest.fixture
def world(center, other_center, agent, manager, master, outsider, customer):
    """One of everything in alpha and in beta."""
    beta_customer = CustomerFactory(center=other_center, user_key="beta-key", profile_nickname="베타고객")
    return {
        "alpha": {
            "center": center,
            "member": agent,
            "customer": customer,
            "block": _block(customer, manager),
            "consultation": ConsultationFactory(center=center, customer=customer),
        },
        "beta": {
            "center": other_center,
            "member": outsider,
            "customer": beta_customer,
            "block": _block(beta_customer, outsider),
            "consultation": ConsultationFactory(center=other_center, customer=beta_customer),
        },
    }


def _change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def test_it_shows_a_manager_their_centers_rows_only(client, world, manager):
    client.force_login(manager.user)
    alpha, beta = world["alpha"], world["beta"]

    html = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert alpha["customer"].customer_id in html
    assert beta["customer"].customer_id not in html

    html = client.get(reverse("admin:consultations_consultation_changelist")).content.decode()
    assert alpha["consultation"].public_id in html
    assert beta["consultation"].public_id not in html

    html = client.get(reverse("admin:counsel_center_member_changelist")).content.decode()
    assert "Alice" in html
    assert "Oscar" not in html

    html = client.get(reverse("admin:customers_block_changelist")).content.decode()
    assert _change_url(alpha["block"]) in html
    assert _change_url(beta["block"]) not in html

    html = client.get(reverse("admin:counsel_center_center_changelist")).content.decode()
    assert "알파 상담센터" in html
    assert "베타 상담센터" not in html


def test_it_lists_the_scoped_models_on_the_index_for_a_manager(client, world, manager):
    client.force_login(manager.user)
    html = client.get(reverse("admin:index")).content.decode()
    for name in CHANGELISTS:
        assert reverse(name) in html
    # Django's own user admin goes by model permissions, which members do not get.
    assert reverse("admin:auth_user_changelist") not in html


@pytest.mark.parametrize("kind", ["center", "member", "customer", "block", "consultation"])
def test_it_answers_404_for_another_centers_object(client, world, manager, kind):
    client.force_login(manager.user)
    obj = world["beta"][kind]
    assert client.get(_change_url(obj)).status_code == 404
    history = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_history", args=[obj.pk])
    assert client.get(history).status_code == 404


def test_it_answers_404_for_a_missing_object_too(client, world, manager):
    client.force_login(manager.user)
    url = reverse("admin:customers_customer_change", args=[999_999])
    assert client.get(url).status_code == 404


def test_it_refuses_a_change_to_another_centers_customer_with_404(client, world, manager):
    client.force_login(manager.user)
    beta_customer = world["beta"]["customer"]
    response = client.post(
        _change_url(beta_customer),
        {"nickname": "해킹", "memo": "x", "blocks-TOTAL_FORMS": "0", "blocks-INITIAL_FORMS": "0", "_save": "1"},
    )
    assert response.status_code == 404
    beta_customer.refresh_from_db()
    assert beta_customer.nickname == ""
    assert beta_customer.memo == ""


def test_it_refuses_a_change_to_another_centers_settings_with_404(client, world, master):
    client.force_login(master.user)
    beta = world["beta"]["center"]
    response = client.post(
        _change_url(beta),
        {"name": "뺏은 센터", "concurrent_limit": 9, "idle_close_minutes": 10, "time_zone": "Asia/Seoul"},
    )
    assert response.status_code == 404
    beta.refresh_from_db()
    assert beta.name == "베타 상담센터"


def test_it_refuses_a_change_to_another_centers_member_with_404(client, world, master):
    client.force_login(master.user)
    oscar = world["beta"]["member"]
    response = client.post(_change_url(oscar), {"display_name": "X", "role": "agent", "is_active": ""})
    assert response.status_code == 404
    oscar.refresh_from_db()
    assert (oscar.role, oscar.is_active) == (Member.Role.MANAGER, True)


def test_it_ignores_another_centers_rows_selected_for_an_action(client, world, manager):
    client.force_login(manager.user)
    beta_customer = world["beta"]["customer"]
    client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "unblock_customers", "_selected_action": [beta_customer.pk], "index": 0},
    )
    assert beta_customer.is_blocked


@pytest.mark.parametrize("is_staff", [False, True])
def test_it_gives_agents_no_admin(client, world, agent, is_staff):
    agent.user.is_staff = is_staff
    agent.user.save()
    client.force_login(agent.user)
    for name in CHANGELISTS:
        response = client.get(reverse(name))
        # Not staff: the admin's login page. Staff without a master/manager membership: forbidden.
        assert response.status_code == (403 if is_staff else 302), name
    response = client.get(_change_url(world["alpha"]["customer"]))
    assert response.status_code == (403 if is_staff else 302)


def test_it_shows_a_staff_user_without_membership_nothing(client, world):
    user = UserFactory(username="drifter", is_staff=True)
    client.force_login(user)
    html = client.get(reverse("admin:index")).content.decode()
    for name in CHANGELISTS:
        assert reverse(name) not in html
        assert client.get(reverse(name)).status_code == 403


def test_it_ignores_django_model_permissions(client, world):
    """A model permission granted by mistake does not open any center's data."""
    from django.contrib.auth.models import Permission

    user = UserFactory(username="permitted", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["customers", "consultations"]))
    client.force_login(user)
    assert client.get(reverse("admin:customers_customer_changelist")).status_code == 403
    assert client.get(_change_url(world["alpha"]["customer"])).status_code == 403


def test_it_shuts_out_a_deactivated_manager(client, world, manager):
    manager.is_active = False
    manager.save()
    client.force_login(manager.user)
    assert client.get(reverse("admin:customers_customer_changelist")).status_code == 403


def test_it_shows_a_superuser_every_center(admin_client, world):
    html = admin_client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert world["alpha"]["customer"].customer_id in html
    assert world["beta"]["customer"].customer_id in html
    html = admin_client.get(reverse("admin:consultations_consultation_changelist")).content.decode()
    assert world["alpha"]["consultation"].public_id in html
    assert world["beta"]["consultation"].public_id in html
    assert admin_client.get(_change_url(world["beta"]["customer"])).status_code == 200


def test_it_shows_a_member_of_two_centers_both(client, world, manager, other_center):
    MemberFactory(center=other_center, user=manager.user, role=Member.Role.MANAGER)
    client.force_login(manager.user)
    html = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert world["alpha"]["customer"].customer_id in html
    assert world["beta"]["customer"].customer_id in html
    # With two centers the list gets a center column and filter.
    assert "베타 상담센터" in html


def test_it_does_not_name_other_centers_members_in_the_assignee_filter(client, world, manager, outsider):
    client.force_login(manager.user)
    # A beta member in a filter would leak who works there; the filter appears once alpha has two members.
    html = client.get(reverse("admin:consultations_consultation_changelist")).content.decode()
    assert "Alice" in html
    assert "Oscar" not in html


def test_it_limits_the_block_forms_customers_to_the_users_centers(client, world, manager):
    client.force_login(manager.user)
    beta_customer = world["beta"]["customer"]
    Block.objects.all().delete()
    response = client.post(reverse("admin:customers_block_add"), {"customer": beta_customer.pk, "reason": "abuse"})
    assert response.status_code == 200  # the form again, with an error
    assert not Block.objects.exists()
    # The customer picker's search answers from the user's centers only.
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "customers", "model_name": "block", "field_name": "customer", "term": ""},
    )
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {str(world["alpha"]["customer"].pk)}


def test_it_keeps_consultation_state_out_of_reach(client, world, manager):
    client.force_login(manager.user)
    consultation = world["alpha"]["consultation"]
    response = client.post(_change_url(consultation), {"status": Status.CLOSED})
    assert response.status_code == 403
    consultation.refresh_from_db()
    assert consultation.status == Status.UNASSIGNED
    assert Customer.objects.count() == 2

"""Customers and blocks in the admin (R2, R16, R17): every write goes through lifecycle.

Covers customers/admin.py (CustomerAdmin, BlockAdmin).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from consultations.models import CloseReason, Event, Status
from customers import rules as customer_rules
from customers.models import Block, Customer, Report
from customers.tests.factories import CustomerFactory


def _customer_url(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


def _customer_change(**changes):
    # The block history inline is view-only, but its management form is always posted.
    data = {"nickname": "", "memo": "", "blocks-TOTAL_FORMS": "0", "blocks-INITIAL_FORMS": "0", "_save": "1"}
    data.update(changes)
    return data


# --- the customer list -----------------------------------------------------------------


def test_it_lists_customers_with_their_block_state(client, manager, customer, center):
    quiet = CustomerFactory(center=center, profile_nickname="조용한고객", nickname="단골")
    customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.ABUSE)
    client.force_login(manager.user)

    html = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert customer.customer_id in html
    assert "김민지" in html
    assert "단골" in html  # the internal nickname is the name shown
    assert "조용한고객" in html  # and the profile name beside it

    html = client.get(reverse("admin:customers_customer_changelist"), {"blocked": "yes"}).content.decode()
    assert customer.customer_id in html
    assert quiet.customer_id not in html


def test_it_searches_customers_by_id_nickname_and_user_key(client, manager, customer, center):
    other = CustomerFactory(center=center, user_key="kakao-user-2", profile_nickname="박서준")
    client.force_login(manager.user)
    for term in (customer.customer_id, "민지", "kakao-user-1"):
        html = client.get(reverse("admin:customers_customer_changelist"), {"q": term}).content.decode()
        assert customer.customer_id in html, term
        assert other.customer_id not in html, term


def test_it_lists_customers_in_a_bounded_number_of_queries(client, manager, center, django_assert_max_num_queries):
    for n in range(30):
        customer = CustomerFactory(center=center)
        if n % 3 == 0:
            customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.PROMOTION)
    client.force_login(manager.user)
    url = reverse("admin:customers_customer_changelist")
    # session, user, memberships, COUNT, full COUNT, the user's and groups' Django permissions (the nav
    # sidebar asks about the auth app), the page with the block state annotated: no query per row.
    with django_assert_max_num_queries(8):
        response = client.get(url)
    assert response.status_code == 200


# --- editing a customer ------------------------------------------------------------------


def test_it_records_a_memo_edit_through_lifecycle(client, manager, customer):
    client.force_login(manager.user)
    response = client.post(_customer_url(customer), _customer_change(nickname="VIP 민지", memo="환불 문의 이력 있음"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.nickname == "VIP 민지"
    assert customer.memo == "환불 문의 이력 있음"
    assert customer.memo_updated_by == manager
    assert customer.memo_updated_at is not None
    event = Event.objects.get(kind=Event.Kind.CUSTOMER_UPDATED)
    assert (event.customer, event.actor) == (customer, manager)
    assert sorted(event.data["fields"]) == ["memo", "nickname"]

    html = client.get(_customer_url(customer)).content.decode()
    assert "Mina" in html  # memo last edited by


def test_it_leaves_other_customer_fields_read_only(client, master, customer):
    client.force_login(master.user)
    response = client.post(
        _customer_url(customer),
        _customer_change(
            memo="메모", profile_nickname="바꾼이름", user_key="stolen", customer_id="C000", is_friend="on"
        ),
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.profile_nickname, customer.user_key, customer.is_friend) == ("김민지", "kakao-user-1", False)
    assert customer.customer_id != "C000"
    assert customer.memo_updated_by == master


def test_it_writes_nothing_when_nothing_changed(client, manager, customer):
    client.force_login(manager.user)
    client.post(_customer_url(customer), _customer_change())
    customer.refresh_from_db()
    assert customer.memo_updated_by is None
    assert not Event.objects.filter(kind=Event.Kind.CUSTOMER_UPDATED).exists()


def test_it_asks_a_superuser_outside_the_center_to_join_it_first(admin_client, customer):
    response = admin_client.post(_customer_url(customer), _customer_change(memo="운영자 메모"))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors().as_data()[0].code == "not_member"
    customer.refresh_from_db()
    assert customer.memo == ""


def test_it_shows_the_block_history_under_the_customer(client, manager, customer):
    customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.GAMBLING, note="도박 광고 반복")
    customer_rules.do_unblock_customer(customer, actor=manager)
    client.force_login(manager.user)
    html = client.get(_customer_url(customer)).content.decode()
    assert "도박 광고 반복" in html
    assert 'name="blocks-0-note"' not in html  # listed, not editable


def test_it_adds_or_deletes_no_customers_for_members(client, master, customer):
    client.force_login(master.user)
    assert client.get(reverse("admin:customers_customer_add")).status_code == 403
    response = client.post(reverse("admin:customers_customer_delete", args=[customer.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_it_unblocks_selected_customers(client, manager, customer, center):
    second = CustomerFactory(center=center)
    never_blocked = CustomerFactory(center=center)
    for c in (customer, second):
        customer_rules.do_block_customer(c, actor=manager, reason=Block.Reason.ABUSE)
    client.force_login(manager.user)
    response = client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "unblock_customers", "_selected_action": [customer.pk, second.pk, never_blocked.pk], "index": 0},
        follow=True,
    )
    assert response.status_code == 200
    assert not customer.is_blocked
    assert not second.is_blocked
    block = customer.blocks.get()
    assert (block.ended_by, block.ended_at is not None) == (manager, True)
    assert Event.objects.filter(kind=Event.Kind.CUSTOMER_UNBLOCKED).count() == 2
    html = response.content.decode()
    assert never_blocked.customer_id in html  # named in the warning that it was not blocked


def test_it_unblocks_from_the_customer_page(client, manager, customer):
    customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.ABUSE)
    client.force_login(manager.user)
    response = client.post(
        _customer_url(customer),
        {"CHANGE_FORM-action": "unblock_customers", "_selected_action": [customer.pk]},
    )
    assert response.status_code == 302
    assert not customer.is_blocked


# --- blocks -----------------------------------------------------------------------------------


def test_it_blocks_a_customer_and_closes_their_consultation(client, manager, customer, make_consultation, agent):
    consultation = make_consultation(customer=customer, status=Status.IN_PROGRESS, assignee=agent)
    client.force_login(manager.user)
    assert client.get(reverse("admin:customers_block_add")).status_code == 200
    response = client.post(
        reverse("admin:customers_block_add"),
        {"customer": customer.pk, "reason": Block.Reason.OBSCENE, "note": "음란물 전송", "_save": "1"},
    )
    assert response.status_code == 302
    block = Block.objects.get()
    assert (block.customer, block.reason, block.note, block.blocked_by) == (customer, "obscene", "음란물 전송", manager)
    assert block.is_active
    consultation.refresh_from_db()
    assert consultation.status == Status.CLOSED
    assert consultation.close_reason == CloseReason.CUSTOMER_BLOCKED
    assert consultation.closed_by == manager
    assert Event.objects.filter(kind=Event.Kind.CUSTOMER_BLOCKED, actor=manager).exists()

    html = client.get(reverse("admin:customers_block_changelist"), {"active": "yes"}).content.decode()
    assert customer.customer_id in html

    response = client.post(
        reverse("admin:customers_block_changelist"),
        {"action": "unblock", "_selected_action": [block.pk], "index": 0},
    )
    assert response.status_code == 302
    block.refresh_from_db()
    assert block.ended_at is not None
    assert block.ended_by == manager
    assert not customer.is_blocked


def test_it_shows_an_already_blocked_customer_as_a_form_error(client, manager, customer):
    customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.ABUSE)
    client.force_login(manager.user)
    response = client.post(reverse("admin:customers_block_add"), {"customer": customer.pk, "reason": "promotion"})
    assert response.status_code == 200
    [error] = response.context["adminform"].form.non_field_errors().as_data()
    assert error.code == "already_blocked"  # lifecycle's refusal, not Django's constraint message
    with translation.override("ko"):  # the page's language
        assert escape(error.messages[0]) in response.content.decode()
    assert Block.objects.count() == 1


def test_it_never_changes_or_deletes_a_block(client, admin_client, manager, customer):
    block = customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.ABUSE)
    client.force_login(manager.user)
    url = reverse("admin:customers_block_change", args=[block.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert 'name="reason"' not in response.content.decode()
    assert client.post(url, {"customer": customer.pk, "reason": "gambling"}).status_code == 403
    for c in (client, admin_client):
        assert c.post(reverse("admin:customers_block_delete", args=[block.pk]), {"post": "yes"}).status_code == 403
    block.refresh_from_db()
    assert block.reason == Block.Reason.ABUSE


def test_it_lists_blocks_without_a_query_per_row(client, manager, center):
    def page_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("admin:customers_block_changelist")).status_code == 200
        return len(queries)

    client.force_login(manager.user)
    for _ in range(3):
        customer_rules.do_block_customer(CustomerFactory(center=center), actor=manager, reason=Block.Reason.ABUSE)
    few = page_queries()
    for _ in range(12):
        customer_rules.do_block_customer(CustomerFactory(center=center), actor=manager, reason=Block.Reason.ABUSE)
    assert page_queries() == few


@pytest.mark.parametrize("reason", ["abuse", "promotion"])
def test_a_report_for_abuse_or_promotion_is_a_form_error(client, manager, customer, reason):
    client.force_login(manager.user)

    response = client.post(
        reverse("admin:customers_block_add"),
        {"customer": customer.pk, "reason": reason, "report": "on"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    refusal = "Only obscene (음란) or gambling (도박) can be reported to the channel operator."
    assert refusal in response.content.decode()
    assert not Block.objects.exists()


def test_it_reports_a_gambling_customer_and_lists_the_report_state(client, manager, customer):
    client.force_login(manager.user)

    response = client.post(
        reverse("admin:customers_block_add"), {"customer": customer.pk, "reason": "gambling", "report": "on"}
    )

    assert response.status_code == 302
    assert Report.objects.get(block__customer=customer).delivery_state == "pending"
    listing = client.get(reverse("admin:customers_block_changelist"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Waiting to be sent" in listing

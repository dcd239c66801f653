"""The details pane (상담 상세정보, SPEC §3): customer, consultation, history; nickname and memo edits; block (R16)."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from consultations import lifecycle
from consultations.models import CloseReason, Event, Status
from consultations.tests.factories import ConsultationFactory
from consultations.tests.helpers import T0, consultation_in, customer_writes, db_state, in_progress_with
from counsel_center import clock
from customers import rules as customer_rules
from customers.models import Block, Report
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

# Every text assertion reads English: the new strings have no Korean yet.
HTMX = {"HX-Request": "true", "Accept-Language": "en"}
AT = T0 + timedelta(minutes=20)  # 10:20 in Asia/Seoul


def pane_url(consultation) -> str:
    return f"/consultations/{consultation.public_id}/details"


def profile_url(customer) -> str:
    return f"/customers/{customer.customer_id}/profile"


def block_url(customer) -> str:
    return f"/customers/{customer.customer_id}/block"


def unblock_url(customer) -> str:
    return f"/customers/{customer.customer_id}/unblock"


@pytest.fixture
def consultation(center, customer, agent):
    """In progress with Alice since 10:00 (Seoul), reached through the lifecycle."""
    return in_progress_with(center, agent)


@pytest.fixture
def alice(client, agent):
    client.force_login(agent.user)
    return client


def text_of(response) -> str:
    return response.content.decode()


# --- what the pane shows ------------------------------------------------------------------


def test_it_renders_a_self_refreshing_fragment(alice, consultation):
    response = alice.get(pane_url(consultation), headers=HTMX)

    assert response.status_code == 200
    html = text_of(response)
    assert "<html" not in html
    assert 'class="details" id="details"' in html
    assert f'hx-get="/consultations/{consultation.public_id}/details"' in html
    assert "consultation-changed" in html and "from:body" in html
    assert 'hx-target="this" hx-swap="outerHTML"' in html


def test_it_shows_the_customer(alice, consultation, customer, manager):
    with clock.frozen_at(T0 + timedelta(minutes=5)):
        customer_rules.do_update_customer(customer, actor=manager, nickname="단골 고객", memo="배송 문의가 잦음")
    customer.is_friend = True
    customer.save(update_fields=["is_friend"])

    html = text_of(alice.get(pane_url(consultation), headers=HTMX))

    assert "Customer information" in html
    assert "Customer nickname" in html
    assert 'value="단골 고객"' in html
    assert "never shown to the customer" in html
    assert "Customer memo" in html
    assert ">배송 문의가 잦음</textarea>" in html
    assert "Last edited by Mina at 2025-03-03 10:05." in html
    assert "KakaoTalk profile" in html and "김민지" in html
    assert "Customer state" in html and "Channel friend" in html and "Normal" in html
    assert "Blocked" not in html
    assert "Customer ID" in html and customer.customer_id in html
    assert "refused while blocked" not in html


def test_it_shows_a_customer_who_is_not_a_friend_and_was_refused_while_blocked(alice, consultation, customer):
    customer.blocked_attempts = 3
    customer.save(update_fields=["blocked_attempts"])

    html = text_of(alice.get(pane_url(consultation), headers=HTMX))

    assert "Not a friend" in html
    assert "3 messages refused while blocked" in html


def test_it_shows_the_consultation(alice, consultation):
    lifecycle.do_set_important(consultation, actor=consultation.assignee, important=True)
    lifecycle.do_set_hold(consultation, actor=consultation.assignee, on_hold=True)

    html = text_of(alice.get(pane_url(consultation), headers=HTMX))

    assert "Consultation information" in html
    assert "Consultation ID" in html and consultation.public_id in html
    assert "State" in html and "In progress" in html
    assert "Requested at" in html and "Assigned at" in html and "First response at" in html
    # Requested, assigned and answered at 10:00 (Seoul): three times in the center's time zone.
    info = html[html.index('id="details-consultation-title"') : html.index('id="details-history-title"')]
    assert info.count(">2025-03-03 10:00</time>") == 3
    assert 'datetime="2025-03-03T10:00:00+09:00"' in html
    assert "Assignee" in html and "Alice" in html
    assert "Closed at" in html
    assert "Close reason" not in html
    assert 'class="flag flag-important"' in html and 'class="flag flag-hold"' in html


def test_it_shows_when_why_and_by_whom_it_was_closed(alice, consultation, agent):
    with clock.frozen_at(AT):
        lifecycle.do_close(consultation, actor=agent)

    html = text_of(alice.get(pane_url(consultation), headers=HTMX))

    assert "Closed" in html
    assert ">2025-03-03 10:20</time>" in html
    assert "Close reason" in html and "Closed by a member" in html
    assert "Closed by" in html and "<dd>Alice</dd>" in html


def test_it_says_the_customer_closed_it(alice, center, consultation):
    customer_writes(center, "!종료")

    html = text_of(alice.get(pane_url(consultation), headers=HTMX))

    assert "The customer sent !종료" in html
    assert "<dd>Customer</dd>" in html


def test_it_shows_the_history_newest_first_without_messages(alice, consultation, agent, agent2, manager):
    with clock.frozen_at(AT):
        lifecycle.do_change_assignee(consultation, actor=manager, assignee=agent2)
        lifecycle.do_set_important(consultation, actor=agent2, important=True)
        lifecycle.do_set_hold(consultation, actor=agent2, on_hold=True)
        lifecycle.do_set_hold(consultation, actor=agent2, on_hold=False)
        lifecycle.do_set_important(consultation, actor=manager, important=False)
        lifecycle.do_close(consultation, actor=manager)

    response = alice.get(pane_url(consultation), headers=HTMX)

    lines = [(line.text, line.actor) for line in response.context["history_lines"]]
    assert lines == [
        ("Closed (Closed by a member)", "Mina"),
        ("Important mark removed", "Mina"),
        ("Hold released", "Bob"),
        ("Put on hold", "Bob"),
        ("Marked important", "Bob"),
        ("Assignee changed: Alice → Bob", "Mina"),
        ("Consultation started", "Alice"),
        ("Assigned to Alice", "Alice"),
        ("Consultation requested", "Customer"),
    ]
    html = text_of(response)
    assert "History" in html
    assert "Assignee changed: Alice → Bob" in html
    assert html.index("Closed (Closed by a member)") < html.index("Consultation requested")
    assert 'data-kind="message.created"' not in html


def test_it_names_the_system_for_an_idle_close(alice, center, consultation):
    lifecycle.close_idle(now=T0 + timedelta(hours=1), center=center)

    response = alice.get(pane_url(consultation), headers=HTMX)

    assert (response.context["history_lines"][0].text, response.context["history_lines"][0].actor) == (
        "Closed (No answer from the customer (idle timeout))",
        "System",
    )
    assert "<dd>System</dd>" in text_of(response)


def test_it_links_the_five_latest_earlier_consultations(alice, center, customer, agent, make_consultation):
    earlier = [
        consultation_in(
            make_consultation,
            Status.CLOSED,
            customer=customer,
            assignee=agent,
            requested_at=T0 - timedelta(days=10 - day),
        )
        for day in range(7)
    ]
    consultation = in_progress_with(center, agent)
    other = ConsultationFactory(center=center, customer=CustomerFactory(center=center), requested_at=T0)

    response = alice.get(pane_url(consultation), headers=HTMX)

    assert response.context["earlier_consultations"] == earlier[::-1][:5]
    html = text_of(response)
    assert "Earlier consultations" in html
    for shown in earlier[2:]:
        assert f'href="/consultations/{shown.public_id}/"' in html
    for hidden in [*earlier[:2], other, consultation]:
        assert f'href="/consultations/{hidden.public_id}/"' not in html
    assert ">2025-02-27</time>" in html  # the newest earlier one: T0 - 4 days, 10:00 in Seoul


def test_it_says_when_there_are_no_earlier_consultations(alice, consultation):
    assert "No earlier consultations." in text_of(alice.get(pane_url(consultation), headers=HTMX))


def test_its_forms_carry_the_csrf_token(alice, consultation):
    html = text_of(alice.get(pane_url(consultation), headers=HTMX))

    assert html.count('name="csrfmiddlewaretoken"') == 3  # nickname, memo, block


# --- nickname and memo -----------------------------------------------------------------------


def test_it_saves_the_nickname(alice, consultation, customer, agent):
    with clock.frozen_at(AT):
        response = alice.post(profile_url(customer), {"nickname": "  VIP 고객 "}, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"consultation-changed": {}}'
    customer.refresh_from_db()
    assert customer.nickname == "VIP 고객"
    assert customer.memo == ""
    html = text_of(response)
    assert "<html" not in html
    assert 'id="details-customer"' in html
    assert 'value="VIP 고객"' in html
    event = Event.objects.filter(customer=customer, kind=Event.Kind.CUSTOMER_UPDATED).get()
    assert (event.actor, event.created_at, event.data["fields"]) == (agent, AT, ["nickname"])


def test_it_saves_the_memo_with_who_and_when(alice, consultation, customer, agent):
    with clock.frozen_at(AT):
        response = alice.post(profile_url(customer), {"memo": "환불 요청 이력 있음\r\n주의"}, headers=HTMX)

    assert response["HX-Trigger"] == '{"consultation-changed": {}}'
    customer.refresh_from_db()
    assert customer.memo == "환불 요청 이력 있음\n주의"
    assert (customer.memo_updated_by, customer.memo_updated_at) == (agent, AT)
    assert customer.nickname == ""
    assert "Last edited by Alice at 2025-03-03 10:20." in text_of(response)
    event = Event.objects.filter(customer=customer, kind=Event.Kind.CUSTOMER_UPDATED).get()
    assert (event.actor, event.data["fields"]) == (agent, ["memo"])


def test_a_memo_of_5000_characters_with_browser_newlines_fits(alice, consultation, customer):
    memo = "가" * 4998 + "\r\n" + "나"  # 5000 characters as the textarea counts them

    response = alice.post(profile_url(customer), {"memo": memo}, headers=HTMX)

    assert response["HX-Trigger"] == '{"consultation-changed": {}}'
    customer.refresh_from_db()
    assert len(customer.memo) == 5000


def test_it_clears_the_nickname(alice, consultation, customer, agent):
    customer_rules.do_update_customer(customer, actor=agent, nickname="옛 닉네임")

    alice.post(profile_url(customer), {"nickname": ""}, headers=HTMX)

    customer.refresh_from_db()
    assert customer.nickname == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nickname", "가" * 101, "Ensure this value has at most 100 characters (it has 101)."),
        ("memo", "m" * 5001, "Ensure this value has at most 5000 characters (it has 5001)."),
    ],
)
def test_it_refuses_too_long_input_in_place(alice, consultation, customer, field, value, message):
    before = db_state()

    response = alice.post(profile_url(customer), {field: value}, headers=HTMX)

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    html = text_of(response)
    assert message in html
    assert f'id="details-{field}-error"' in html
    assert value in html  # the draft is kept for trimming
    assert db_state() == before


def test_without_htmx_it_goes_back_to_the_consultation(alice, consultation, customer):
    response = alice.post(profile_url(customer), {"nickname": "단골", "consultation": consultation.public_id})

    assert response.status_code == 302
    assert response["Location"] == f"/consultations/{consultation.public_id}/"
    customer.refresh_from_db()
    assert customer.nickname == "단골"


def test_without_htmx_it_never_goes_back_to_another_customers_consultation(alice, center, consultation, customer):
    someone_else = ConsultationFactory(center=center, customer=CustomerFactory(center=center))

    response = alice.post(profile_url(customer), {"nickname": "단골", "consultation": someone_else.public_id})

    assert response["Location"] == "/consultations/"


@pytest.mark.parametrize(
    "payload", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "</textarea><b>굵게</b>"]
)
def test_it_escapes_html_in_the_nickname_and_memo(alice, consultation, customer, agent, payload):
    customer_rules.do_update_customer(customer, actor=agent, nickname=payload[:100], memo=payload)

    for response in (
        alice.get(pane_url(consultation), headers=HTMX),
        alice.post(profile_url(customer), {"memo": payload + "!"}, headers=HTMX),
    ):
        html = text_of(response)
        assert payload not in html
        assert "&lt;" in html


# --- block and unblock (R16, R17) --------------------------------------------------------------


def test_blocking_closes_the_open_consultation_and_the_pane_says_blocked(alice, consultation, customer, agent):
    with clock.frozen_at(AT):
        response = alice.post(
            block_url(customer),
            {"reason": "abuse", "note": "욕설 반복", "consultation": consultation.public_id},
            headers=HTMX,
        )

    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"consultation-changed": {}}'
    assert "Blocked" in text_of(response)
    block = Block.objects.get(customer=customer)
    assert (block.reason, block.note, block.blocked_by, block.ended_at) == ("abuse", "욕설 반복", agent, None)
    consultation.refresh_from_db()
    assert consultation.status == Status.CLOSED
    assert consultation.close_reason == CloseReason.CUSTOMER_BLOCKED

    html = text_of(alice.get(pane_url(consultation), headers=HTMX))
    assert "Blocked" in html
    assert "Abuse (욕설), since 2025-03-03 10:20" in html
    assert "욕설 반복" in html
    assert "The customer was blocked" in html
    assert "Customer blocked (Abuse (욕설))" in html
    assert "Only a master or a manager can unblock a customer." in html  # an agent cannot unblock (R16a)
    assert f'action="/customers/{customer.customer_id}/block"' not in html


def test_a_manager_sees_the_unblock_button(client, consultation, customer, manager):
    customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.ABUSE)
    client.force_login(manager.user)

    html = client.get(pane_url(consultation), headers=HTMX).content.decode()

    assert f'action="/customers/{customer.customer_id}/unblock"' in html
    assert "Unblock</button>" in html


def test_an_agent_who_does_not_hold_the_consultation_sees_no_block_form(client, consultation, customer, agent2):
    client.force_login(agent2.user)

    html = client.get(pane_url(consultation), headers=HTMX).content.decode()

    assert f'action="/customers/{customer.customer_id}/block"' not in html


def test_the_block_form_asks_for_confirmation(alice, consultation, customer):
    html = text_of(alice.get(pane_url(consultation), headers=HTMX))

    assert f'hx-post="/customers/{customer.customer_id}/block"' in html
    assert 'hx-confirm="Block this customer?' in html
    for value in Block.Reason.values:
        assert f'<option value="{value}"' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "spam"}, "Select a valid choice. spam is not one of the available choices."),
        ({"reason": ""}, "This field is required."),
        ({"reason": "abuse", "note": "n" * 2001}, "Ensure this value has at most 2000 characters (it has 2001)."),
    ],
)
def test_it_refuses_a_bad_block_form_in_place(alice, consultation, customer, data, message):
    before = db_state()

    response = alice.post(block_url(customer), data, headers=HTMX)

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert message in text_of(response)
    assert db_state() == before


def test_blocking_a_blocked_customer_is_refused_in_place(alice, consultation, customer):
    customer_rules.do_block_customer(customer, actor=None, reason=Block.Reason.PROMOTION)
    before = db_state()

    response = alice.post(block_url(customer), {"reason": "abuse"}, headers=HTMX)

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert "This customer is already blocked." in text_of(response)
    assert db_state() == before


def test_a_manager_unblocks(client, consultation, customer, manager):
    customer_rules.do_block_customer(customer, actor=None, reason=Block.Reason.GAMBLING)
    client.force_login(manager.user)

    with clock.frozen_at(AT):
        response = client.post(unblock_url(customer), headers=HTMX)

    assert response["HX-Trigger"] == '{"consultation-changed": {}}'
    block = Block.objects.get(customer=customer)
    assert (block.ended_at, block.ended_by) == (AT, manager)
    html = text_of(response)
    assert "Normal" in html
    assert "Unblock" not in html
    assert "Block this customer" in html


def test_an_agent_sees_no_unblock_button_and_is_refused_in_place(alice, consultation, customer):
    customer_rules.do_block_customer(customer, actor=None, reason=Block.Reason.GAMBLING)
    before = db_state()

    response = alice.post(unblock_url(customer), headers=HTMX)

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    html = text_of(response)
    assert html.count("Only a master or a manager can unblock a customer.") == 2  # the refusal, and the hint
    assert "Unblock</button>" not in response.content.decode()
    assert db_state() == before


def test_unblocking_a_customer_who_is_not_blocked_is_refused_in_place(client, consultation, customer, manager):
    client.force_login(manager.user)
    response = client.post(unblock_url(customer), headers=HTMX)

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert "This customer is not blocked." in text_of(response)


# --- who may use it -------------------------------------------------------------------------


@pytest.fixture
def beta_consultation(other_center, outsider):
    customer = CustomerFactory(center=other_center, user_key="beta-user")
    return consultation_in(
        ConsultationFactory, Status.WAITING, center=other_center, customer=customer, assignee=outsider
    )


def other_center_requests(consultation):
    customer = consultation.customer
    return [
        ("get", pane_url(consultation), {}),
        ("post", profile_url(customer), {"nickname": "침입"}),
        ("post", block_url(customer), {"reason": "abuse"}),
        ("post", unblock_url(customer), {}),
    ]


@pytest.mark.parametrize("index", range(4))
def test_another_centers_ids_are_404(alice, consultation, beta_consultation, index):
    method, url, data = other_center_requests(beta_consultation)[index]
    before = db_state()

    response = getattr(alice, method)(url, data, headers=HTMX)

    assert response.status_code == 404
    assert db_state() == before


@pytest.mark.parametrize("index", range(4))
def test_an_outsider_gets_404_for_this_centers_ids(client, outsider, consultation, index):
    method, url, data = other_center_requests(consultation)[index]
    client.force_login(outsider.user)
    before = db_state()

    response = getattr(client, method)(url, data, headers=HTMX)

    assert response.status_code == 404
    assert db_state() == before


@pytest.mark.parametrize("index", range(4))
def test_anonymous_visitors_are_sent_to_log_in(client, consultation, index):
    method, url, data = other_center_requests(consultation)[index]

    response = getattr(client, method)(url, data)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_the_pane_is_get_only_and_the_actions_post_only(alice, consultation, customer):
    assert alice.post(pane_url(consultation), headers=HTMX).status_code == 405
    for url in (profile_url(customer), block_url(customer), unblock_url(customer)):
        assert alice.get(url, headers=HTMX).status_code == 405


def test_a_post_without_the_csrf_token_is_refused(agent, consultation, customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent.user)

    response = client.post(profile_url(customer), {"nickname": "토큰 없음"}, headers=HTMX)

    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.nickname == ""


# --- queries --------------------------------------------------------------------------------


def test_the_pane_takes_the_same_few_queries_whatever_the_history(
    alice, center, customer, agent, agent2, manager, django_assert_max_num_queries
):
    """Expected queries:
    1. the session
    2. the user
    3. the user's memberships (member_required)
    4. the consultation with its center, customer, assignee and closer (access_consultation)
    5. the customer with the memo's last editor
    6. the customer's active block
    7. whether Alice holds the customer's open consultation (may she block: R16a)
    8. the history's events
    9. every member those events name
    10. the earlier consultations
    """
    short = in_progress_with(center, agent)  # opened, assigned, started: 3 events (its message is not shown)
    with django_assert_max_num_queries(10) as few:
        alice.get(pane_url(short), headers=HTMX)
    lifecycle.do_close(short, actor=agent)

    long = in_progress_with(center, agent)
    lifecycle.do_change_assignee(long, actor=manager, assignee=agent2)
    for n in range(56):
        lifecycle.do_set_important(long, actor=[agent2, manager][n % 2], important=n % 2 == 0)
    assert Event.objects.filter(consultation=long).exclude(kind=Event.Kind.MESSAGE).count() == 60
    with django_assert_max_num_queries(10) as many:
        response = alice.get(pane_url(long), headers=HTMX)

    assert len(response.context["history_lines"]) == 60
    assert len(many) == len(few)


# --- report (신고) ---------------------------------------------------------------------------


def test_the_assignee_reports_a_gambling_customer_from_the_details(alice, consultation, customer):
    response = alice.post(
        block_url(customer),
        {"reason": "gambling", "note": "도박 사이트 홍보", "report": "1", "consultation": consultation.public_id},
        headers=HTMX,
    )

    assert response["HX-Trigger"] == '{"consultation-changed": {}}'
    report = Report.objects.get(block__customer=customer)
    assert report.excerpt[0]["text"] == "문의드립니다"
    html = text_of(response)
    assert "Reported to the channel operator · Waiting to be sent" in html
    assert "no outbound URL was set: it waits here until a master or a manager sends it again." in html


@pytest.mark.parametrize("reason", ["abuse", "promotion"])
def test_a_report_for_abuse_or_promotion_is_refused_in_place(alice, consultation, customer, reason):
    before = db_state()

    response = alice.post(block_url(customer), {"reason": reason, "report": "1"}, headers=HTMX)

    assert "HX-Trigger" not in response
    assert "Only obscene (음란) or gambling (도박) can be reported to the channel operator." in text_of(response)
    assert db_state() == before
    assert not Report.objects.exists()


def test_a_manager_sends_a_failed_report_again_and_an_agent_sees_no_button(
    client, alice, consultation, customer, manager, receiver, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_BACKOFF_SECONDS = 0
    block = customer_rules.do_block_customer(customer, actor=manager, reason="obscene", report=True)
    Report.objects.filter(block=block).update(delivery_state="failed", delivery_error="HTTP 500")
    center = customer.center
    center.outbound_url = receiver.url
    center.save(update_fields=["outbound_url"])
    retry = f"/customers/{customer.customer_id}/report/retry"

    assert retry not in alice.get(pane_url(consultation), headers=HTMX).content.decode()
    assert "HTTP 500" in text_of(alice.get(pane_url(consultation), headers=HTMX))
    client.force_login(manager.user)
    assert f'action="{retry}"' in client.get(pane_url(consultation), headers=HTMX).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(retry, headers=HTMX)

    assert response["HX-Trigger"] == '{"consultation-changed": {}}'
    assert Report.objects.get(block=block).delivery_state == "sent"
    assert len(receiver.requests) == 1


def test_the_block_history_stays_on_the_details_after_unblocking(client, consultation, customer, manager, master):
    with clock.frozen_at(AT):
        customer_rules.do_block_customer(
            customer, actor=manager, reason=Block.Reason.OBSCENE, report=True, note="음란물"
        )
    with clock.frozen_at(AT + timedelta(hours=1)):
        customer_rules.do_unblock_customer(customer, actor=master)
    client.force_login(manager.user)

    html = text_of(client.get(pane_url(consultation), headers=HTMX))
    flat = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))  # the text a reader sees

    assert "Normal" in html
    assert "Earlier block (1)" in flat
    assert "Obscene (음란) 2025-03-03 10:20 · Mina → unblocked 2025-03-03 11:20 · Max" in flat
    assert "Reported to the channel operator (Waiting to be sent)" in flat
    assert "음란물" in html

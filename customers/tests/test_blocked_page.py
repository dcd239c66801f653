"""차단고객관리 (R16a, R17): who sees it, what each row shows, search, pages, unblock, and what it reads."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from customers.models import Block
from customers.rules import do_block_customer
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("blocked-customers")
TOPBAR_LINK = f'class="topbar-link" href="{PAGE}"'
BLOCKED_AT = datetime(2026, 3, 15, 1, 30, tzinfo=UTC)  # 10:30 in Seoul, the center's time zone


def unblock_url(customer) -> str:
    return reverse("blocked-customers-unblock", args=[customer.customer_id])


def block(customer, *, by=None, reason=Block.Reason.ABUSE, note="", at=BLOCKED_AT) -> Block:
    """A block in force, written straight (set-up only; the rule has tests of its own)."""
    return Block.objects.create(customer=customer, reason=reason, note=note, blocked_by=by, blocked_at=at)


def page(client, member, **params):
    client.force_login(member.user)
    return client.get(PAGE, params)


def customer_ids(html: str) -> list[str]:
    """The customer IDs of the rows shown, in order."""
    return re.findall(r'<tr class="blocked-row" id="blocked-([^"]+)"', html)


@pytest.fixture
def blocked(customer, manager):
    """김민지, blocked by Mina through the rule, with a note."""
    return do_block_customer(customer, actor=manager, reason=Block.Reason.PROMOTION, note="광고 링크 반복 전송")


# --- who sees it -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["master", "manager"])
def test_masters_and_managers_see_their_centers_blocked_customers(
    client, request, role, center, other_center, blocked, customer
):
    unblocked = CustomerFactory(center=center, profile_nickname="해제된고객")
    Block.objects.create(
        customer=unblocked, reason=Block.Reason.ABUSE, blocked_at=BLOCKED_AT, ended_at=BLOCKED_AT + timedelta(days=1)
    )
    elsewhere = block(CustomerFactory(center=other_center, profile_nickname="베타고객"))

    response = page(client, request.getfixturevalue(role))

    html = response.content.decode()
    assert response.status_code == 200
    assert customer_ids(html) == [customer.customer_id]
    assert "김민지" in html and "광고 링크 반복 전송" in html and "홍보" in html and "Mina" in html
    assert "해제된고객" not in html and "베타고객" not in html and elsewhere.customer.customer_id not in html
    assert TOPBAR_LINK in html and 'aria-current="page">차단고객관리</a>' in html


def test_an_agent_gets_the_not_available_page_and_no_link(client, agent, blocked, customer):
    response = page(client, agent)

    html = response.content.decode()
    assert response.status_code == 403
    assert "차단고객관리는 마스터와 매니저만 볼 수 있습니다" in html
    assert customer.customer_id not in html
    assert 'class="topbar"' in html and f'href="{PAGE}"' not in html


def test_the_top_bar_links_to_the_page_only_for_masters_and_managers(client, master, manager, agent):
    for member in (master, manager):
        client.force_login(member.user)
        assert TOPBAR_LINK in client.get(reverse("console")).content.decode()

    client.force_login(agent.user)
    assert PAGE not in client.get(reverse("console")).content.decode()


def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- what a row shows ------------------------------------------------------------------------------------


def test_a_row_shows_the_nickname_profile_id_reason_note_blocker_and_refused_messages(client, manager, customer):
    customer.nickname = "단골 민지"
    customer.blocked_attempts = 3
    customer.last_blocked_attempt_at = BLOCKED_AT + timedelta(hours=5, minutes=2)
    customer.save()
    block(customer, by=manager, reason=Block.Reason.GAMBLING, note="도박 사이트\n홍보")

    html = page(client, manager).content.decode()

    row = re.search(r'<tr class="blocked-row".*?</tr>', html, re.S).group(0)
    text = " ".join(re.sub(r"<[^>]+>", " ", row).split())
    assert "단골 민지 카카오톡 프로필: 김민지" in text
    assert customer.customer_id in text
    assert "도박" in text and "도박 사이트 홍보" in text
    assert "Mina 2026-03-15 10:30" in text  # the center's time zone (Asia/Seoul)
    assert "3건 마지막 2026-03-15 15:32" in text
    assert 'datetime="2026-03-15T10:30:00+09:00"' in row


def test_a_block_without_a_member_shows_the_operator_and_no_refused_messages(client, manager, customer):
    block(customer, by=None)

    html = page(client, manager).content.decode()

    row = re.search(r'<tr class="blocked-row".*?</tr>', html, re.S).group(0)
    text = " ".join(re.sub(r"<[^>]+>", " ", row).split())
    assert "운영자 2026-03-15 10:30" in text
    assert "카카오톡 프로필" not in text  # no internal nickname: the profile nickname is the name shown
    assert re.search(r'class="blocked-refused">\s*–\s*</div>', row)


def test_newest_block_first(client, manager, center):
    older = block(CustomerFactory(center=center), at=BLOCKED_AT - timedelta(days=2))
    newer = block(CustomerFactory(center=center), at=BLOCKED_AT)

    html = page(client, manager).content.decode()

    assert customer_ids(html) == [newer.customer.customer_id, older.customer.customer_id]


def test_with_no_blocked_customer_the_page_says_so(client, manager):
    html = page(client, manager).content.decode()

    assert "차단된 고객이 없습니다" in html
    assert "<table" not in html


# --- search and pages -------------------------------------------------------------------------------------


@pytest.fixture
def three_blocked(center):
    """Three blocked customers: one with an internal nickname, two known by their profile nickname."""
    nicknamed = CustomerFactory(center=center, nickname="환불요청 VIP", profile_nickname="박지훈")
    kim = CustomerFactory(center=center, profile_nickname="김민수")
    lee = CustomerFactory(center=center, profile_nickname="이서연")
    for n, each in enumerate((nicknamed, kim, lee)):
        block(each, at=BLOCKED_AT - timedelta(minutes=n))
    return nicknamed, kim, lee


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("vip", [0]),  # the internal nickname, case-insensitively
        ("박지", [0]),  # the profile nickname behind a nickname
        ("민수", [1]),  # a profile nickname
        ("김", [1]),
        ("", [0, 1, 2]),
    ],
)
def test_search_by_nickname_and_profile_nickname(client, manager, three_blocked, q, expected):
    html = page(client, manager, q=q).content.decode()

    assert customer_ids(html) == [three_blocked[i].customer_id for i in expected]


def test_search_by_customer_id_whole_or_its_beginning(client, manager, three_blocked):
    lee = three_blocked[2]

    assert customer_ids(page(client, manager, q=lee.customer_id).content.decode()) == [lee.customer_id]
    assert lee.customer_id in customer_ids(page(client, manager, q=lee.customer_id[:6].lower()).content.decode())


def test_a_search_without_match_says_so_and_offers_the_whole_list(client, manager, three_blocked):
    html = page(client, manager, q="없는고객").content.decode()

    assert customer_ids(html) == []
    assert "검색 결과가 없습니다" in html
    assert f'<a href="{PAGE}">' in html


def test_35_blocks_make_two_pages_and_the_page_links_keep_the_search(client, manager, center):
    blocks = [
        block(CustomerFactory(center=center, profile_nickname=f"스팸{n:02}"), at=BLOCKED_AT - timedelta(minutes=n))
        for n in range(35)
    ]

    first = page(client, manager, q="스팸").content.decode()
    second = page(client, manager, q="스팸", page=2).content.decode()

    assert customer_ids(first) == [b.customer.customer_id for b in blocks[:30]]
    assert customer_ids(second) == [b.customer.customer_id for b in blocks[30:]]
    assert 'href="?q=%EC%8A%A4%ED%8C%B8&amp;page=2"' in first
    assert "<span>1 / 2</span>" in first
    assert 'href="?q=%EC%8A%A4%ED%8C%B8&amp;page=1"' in second


# --- unblock ---------------------------------------------------------------------------------------------


def test_a_manager_unblocks_from_the_page_and_the_row_is_gone(client, manager, blocked, customer):
    client.force_login(manager.user)

    response = client.post(unblock_url(customer), {"q": "김", "page": "1"})

    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?q=%EA%B9%80&page=1"
    blocked.refresh_from_db()
    assert blocked.ended_by == manager and blocked.ended_at is not None
    assert Block.objects.filter(customer=customer).count() == 1  # history kept
    html = client.get(response["Location"]).content.decode()
    assert "김민지 님의 차단을 해제했습니다." in html
    assert customer_ids(html) == []


def test_the_unblock_form_posts_with_csrf_a_confirm_and_htmx_picking_the_list(client, manager, blocked, customer):
    html = page(client, manager).content.decode()

    form = re.search(rf'<form method="post" action="{re.escape(unblock_url(customer))}".*?</form>', html, re.S)
    assert form, "no unblock form"
    assert 'name="csrfmiddlewaretoken"' in form.group(0)
    assert 'hx-confirm="김민지 님의 차단을 해제할까요?' in form.group(0)
    assert 'hx-target="#blocked" hx-select="#blocked"' in form.group(0)


def test_an_htmx_request_gets_the_list_without_the_layout(client, manager, blocked, customer):
    client.force_login(manager.user)

    html = client.get(PAGE, HTTP_HX_REQUEST="true").content.decode()

    assert html.lstrip().startswith('<section id="blocked"')
    assert customer.customer_id in html
    assert 'class="topbar"' not in html


def test_an_agent_posting_an_unblock_gets_403_and_nothing_changes(client, agent, blocked, customer):
    client.force_login(agent.user)

    response = client.post(unblock_url(customer))

    assert response.status_code == 403
    blocked.refresh_from_db()
    assert blocked.is_active


def test_another_centers_customer_is_a_404(client, outsider, blocked, customer):
    client.force_login(outsider.user)

    assert client.post(unblock_url(customer)).status_code == 404
    blocked.refresh_from_db()
    assert blocked.is_active


def test_unblocking_a_customer_no_longer_blocked_shows_why_in_place(client, manager, customer):
    client.force_login(manager.user)

    response = client.post(unblock_url(customer), follow=True)

    assert response.status_code == 200
    assert "차단된 고객이 아닙니다" in response.content.decode()


def test_only_post_unblocks(client, manager, blocked, customer):
    client.force_login(manager.user)

    assert client.get(unblock_url(customer)).status_code == 405
    blocked.refresh_from_db()
    assert blocked.is_active


# --- what it reads ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 35])
def test_the_page_costs_the_same_queries_whatever_the_number_of_rows(
    client, manager, center, rows, django_assert_max_num_queries
):
    for n in range(rows):
        customer = CustomerFactory(center=center, nickname=f"닉네임{n}", blocked_attempts=n)
        block(customer, by=manager, at=BLOCKED_AT - timedelta(minutes=n))
    client.force_login(manager.user)

    # session, user, memberships (with their centers), the paginator's count, the page's blocks (with their
    # customers, blockers and the blockers' users)
    with django_assert_max_num_queries(5):
        response = client.get(PAGE, {"q": "닉네임"})

    assert len(customer_ids(response.content.decode())) == min(rows, 30)


def test_each_row_says_whether_the_customer_was_reported_and_how_the_report_went(client, manager, center):
    reported = CustomerFactory(center=center, profile_nickname="도박 스팸")
    plain = CustomerFactory(center=center, profile_nickname="욕설 고객")
    do_block_customer(reported, actor=manager, reason="gambling", report=True)
    do_block_customer(plain, actor=manager, reason="abuse")
    client.force_login(manager.user)

    html = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    row = re.search(rf'id="blocked-{reported.customer_id}".*?</tr>', html, re.S).group(0)
    assert "Waiting to be sent" in row and "no outbound URL was set" in row
    row = re.search(rf'id="blocked-{plain.customer_id}".*?</tr>', html, re.S).group(0)
    assert "Waiting to be sent" not in row

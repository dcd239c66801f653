"""The console's lists (상담목록): scopes, tabs with counts, status filter, search, paging (SPEC §3)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from console import filters
from console.templatetags.console import tab_count
from console.views import list as list_views
from consultations import lifecycle
from consultations.models import Status
from consultations.tests.factories import ConsultationFactory
from counsel_center.membership import SESSION_KEY
from counsel_center.tests.factories import CenterFactory, MemberFactory
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LIST = reverse("console")


def counts_of(response) -> dict[str, int]:
    return {status: int(n) for status, n in re.findall(r'data-count="(\w+)">(\d+)<', response.content.decode())}


def rows_of(response) -> list[str]:
    return re.findall(r'data-consultation="(\w+)"', response.content.decode())


def test_it_asks_anonymous_visitors_to_log_in(client):
    response = client.get(LIST)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_an_agent_logs_in_with_the_console_login_page(client, agent):
    response = client.post(reverse("login"), {"username": "alice", "password": "password"})

    assert response.status_code == 302
    assert response.url == LIST
    assert client.get(LIST).status_code == 200


def test_a_user_of_no_center_gets_a_clear_refusal(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))

    response = client.get(LIST, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 403
    assert "You are not a member of any center" in response.content.decode()


def test_the_top_bar_shows_the_member_role_center_and_its_state(alice_client, center):
    center.is_operating = False
    center.save()

    html = alice_client.get(LIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Alice" in html and "Agent" in html and "알파 상담센터" in html
    assert "Stopped" in html


def test_my_consultations_have_no_unassigned_tab_and_the_whole_center_has_four(alice_client, agent, make_consultation):
    make_consultation()
    make_consultation(status=Status.WAITING, assignee=agent)

    mine = alice_client.get(LIST, {"scope": "mine"})
    everyone = alice_client.get(LIST, {"scope": "all"})

    assert counts_of(mine) == {"waiting": 1, "in_progress": 0, "closed": 0}
    assert counts_of(everyone) == {"unassigned": 1, "waiting": 1, "in_progress": 0, "closed": 0}


def test_mine_lists_only_my_consultations_and_all_lists_the_center(alice_client, agent, agent2, make_consultation):
    own = make_consultation(status=Status.WAITING, assignee=agent)
    other = make_consultation(status=Status.WAITING, assignee=agent2)

    assert rows_of(alice_client.get(LIST, {"scope": "mine", "tab": "waiting"})) == [own.public_id]
    assert set(rows_of(alice_client.get(LIST, {"scope": "all", "tab": "waiting"}))) == {own.public_id, other.public_id}


def test_another_centers_consultations_never_show(alice_client, other_center):
    ConsultationFactory(center=other_center)

    response = alice_client.get(LIST, {"scope": "all", "tab": "unassigned"})

    assert rows_of(response) == []
    assert counts_of(response)["unassigned"] == 0


@pytest.mark.parametrize(
    ("flag", "expected"),
    [("all", {"plain", "important", "hold", "both"}), ("important", {"important", "both"}),
     ("hold", {"hold", "both"}), ("both", {"both"})],
)  # fmt: skip
def test_the_status_filter_narrows_by_flags(alice_client, agent, make_consultation, flag, expected):
    made = {
        "plain": make_consultation(status=Status.IN_PROGRESS, assignee=agent),
        "important": make_consultation(status=Status.IN_PROGRESS, assignee=agent, is_important=True),
        "hold": make_consultation(status=Status.IN_PROGRESS, assignee=agent, is_on_hold=True),
        "both": make_consultation(status=Status.IN_PROGRESS, assignee=agent, is_important=True, is_on_hold=True),
    }

    response = alice_client.get(LIST, {"scope": "mine", "tab": "in_progress", "flag": flag})

    assert set(rows_of(response)) == {made[name].public_id for name in expected}
    assert counts_of(response)["in_progress"] == len(expected)


@pytest.mark.parametrize("term", ["단골", "김민지", "CUSTOMER1", "환불"])
def test_search_finds_nickname_profile_name_customer_id_and_message_text(alice_client, center, term):
    customer = CustomerFactory(center=center, nickname="단골손님", profile_nickname="김민지", customer_id="CUSTOMER1")
    received = lifecycle.do_receive_customer_message(center, user_key=customer.user_key, text="환불 문의드립니다")
    lifecycle.do_receive_customer_message(center, user_key="someone-else", text="배송 문의")

    response = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": term})

    assert rows_of(response) == [received.consultation.public_id]


def test_a_row_shows_the_internal_nickname_last_message_and_assignee(alice_client, center, agent):
    customer = CustomerFactory(center=center, nickname="VIP 고객", profile_nickname="김민지")
    received = lifecycle.do_receive_customer_message(center, user_key=customer.user_key, text="주문 취소하고 싶어요")
    lifecycle.do_assign_to_me(received.consultation, actor=agent)

    html = alice_client.get(LIST, {"scope": "mine", "tab": "waiting"}).content.decode()

    assert "VIP 고객" in html and "김민지" not in html
    assert "주문 취소하고 싶어요" in html
    assert "Alice" in html


def test_message_text_in_a_row_is_escaped(alice_client, center):
    lifecycle.do_receive_customer_message(center, user_key="k", text="<script>alert(1)</script>")

    html = alice_client.get(LIST, {"scope": "all", "tab": "unassigned"}).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_newest_activity_comes_first(alice_client, center):
    first = lifecycle.do_receive_customer_message(center, user_key="a", text="먼저").consultation
    second = lifecycle.do_receive_customer_message(center, user_key="b", text="나중").consultation
    lifecycle.do_receive_customer_message(center, user_key="a", text="다시 먼저")

    assert rows_of(alice_client.get(LIST, {"scope": "all", "tab": "unassigned"})) == [first.public_id, second.public_id]


def test_it_pages_the_rows_and_keeps_the_state_in_the_links(alice_client, make_consultation):
    for _ in range(35):
        make_consultation()

    first = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "flag": "all"})
    second = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "flag": "all", "page": 2})

    assert len(rows_of(first)) == 30 and len(rows_of(second)) == 5
    assert "?scope=all&amp;tab=unassigned&amp;flag=all&amp;page=2" in first.content.decode()


def test_unknown_state_values_fall_back_to_defaults(alice_client):
    response = alice_client.get(LIST, {"scope": "everything", "tab": "unassigned", "flag": "nope", "page": "x"})

    assert response.status_code == 200
    assert set(counts_of(response)) == {"waiting", "in_progress", "closed"}  # scope "mine"


def test_an_htmx_request_gets_only_the_list_pane(alice_client, make_consultation):
    make_consultation()

    response = alice_client.get(
        LIST, {"scope": "all", "tab": "unassigned"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-pane"
    )

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="list-pane"')
    assert len(rows_of(response)) == 1


def test_another_centers_consultation_url_is_a_404(alice_client, other_center):
    foreign = ConsultationFactory(center=other_center)

    assert alice_client.get(reverse("console-consultation", args=[foreign.public_id])).status_code == 404


@pytest.mark.parametrize("rows", [5, 200])
def test_the_list_costs_the_same_queries_for_5_or_200_consultations(
    alice_client, agent, make_consultation, django_assert_max_num_queries, rows
):
    for i in range(rows):
        make_consultation(status=Status.WAITING if i % 2 else Status.UNASSIGNED, assignee=agent if i % 2 else None)

    # session, user, memberships (+ center), the live stream's cursor, the search term's probe (without a
    # search: the open tabs' counts), the tab counts (which also size the pager), page rows
    # and, with nothing open, my load against the limits (the empty chat pane)
    with django_assert_max_num_queries(8):
        response = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": "고객"})

    assert response.status_code == 200


def test_a_member_of_two_centers_switches_between_them(client, agent, other_center):
    MemberFactory(center=other_center, user=agent.user)
    client.force_login(agent.user)
    ConsultationFactory(center=other_center)

    assert "베타 상담센터" in client.get(LIST).content.decode()  # the switcher lists both
    client.post(reverse("choose-center"), {"center": other_center.pk})

    assert client.session[SESSION_KEY] == other_center.pk
    assert counts_of(client.get(LIST, {"scope": "all"}))["unassigned"] == 1


def test_switching_to_a_center_that_is_not_mine_changes_nothing(alice_client, center):
    stranger = CenterFactory(slug="gamma")

    alice_client.post(reverse("choose-center"), {"center": stranger.pk})

    assert alice_client.session.get(SESSION_KEY) != stranger.pk


def test_an_htmx_request_from_an_expired_session_is_sent_to_the_login_page(client):
    response = client.get(
        LIST, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/consultations/?scope=all"
    )

    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login") + "?next=")


def open_and_read(client, consultation) -> None:
    """What a browser does: open the consultation, then the chat pane posts its read mark (chat.html)."""
    client.get(reverse("console-consultation", args=[consultation.public_id]))
    consultation.refresh_from_db()
    read = reverse("chat-read", args=[consultation.public_id])
    assert client.post(read, {"upto": consultation.last_message_id}, HTTP_HX_REQUEST="true").status_code == 204


def test_a_row_is_unread_until_the_member_opens_it_and_again_when_the_customer_writes(alice_client, center, agent):
    received = lifecycle.do_receive_customer_message(center, user_key="k", text="문의드려요")
    lifecycle.do_assign_to_me(received.consultation, actor=agent)
    waiting = {"scope": "mine", "tab": "waiting"}

    assert 'class="unread"' in alice_client.get(LIST, waiting).content.decode()

    open_and_read(alice_client, received.consultation)
    assert 'class="unread"' not in alice_client.get(LIST, waiting).content.decode()

    lifecycle.do_receive_customer_message(center, user_key="k", text="답변 기다려요")
    assert 'class="unread"' in alice_client.get(LIST, waiting).content.decode()


def test_a_row_read_by_one_member_stays_unread_for_another(client, center, agent, agent2):
    received = lifecycle.do_receive_customer_message(center, user_key="k", text="문의드려요")
    client.force_login(agent.user)
    open_and_read(client, received.consultation)

    client.force_login(agent2.user)

    assert 'class="unread"' in client.get(LIST, {"scope": "all", "tab": "unassigned"}).content.decode()


# --- counting and paging a long tab (docs/perf.md) ----------------------------------------------------


def test_the_closed_tab_is_counted_up_to_a_cap_and_the_open_tabs_exactly(
    alice_client, agent, make_consultation, monkeypatch
):
    monkeypatch.setattr(filters, "COUNT_CAP", 3)
    for _ in range(4):
        make_consultation(status=Status.CLOSED, assignee=agent, closed_at=timezone.now())
        make_consultation(status=Status.WAITING, assignee=agent)

    html = alice_client.get(LIST, {"scope": "mine"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'data-count="closed" title="More than 2">2+<' in html
    assert 'data-count="waiting">4<' in html


def test_the_cap_reads_in_korean(alice_client, agent, make_consultation, monkeypatch):
    monkeypatch.setattr(filters, "COUNT_CAP", 3)
    for _ in range(3):
        make_consultation(status=Status.CLOSED, assignee=agent, closed_at=timezone.now())

    html = alice_client.get(LIST, {"scope": "mine"}).content.decode()

    assert 'data-count="closed" title="2건 초과">2+<' in html
    assert tab_count(filters.TabCount(1000, capped=True)) == "999+"
    assert tab_count(filters.TabCount(12)) == "12"


def test_a_capped_tab_pages_without_a_total(alice_client, agent, make_consultation, monkeypatch):
    monkeypatch.setattr(filters, "COUNT_CAP", 3)
    monkeypatch.setattr(list_views, "PAGE_SIZE", 2)
    made = [
        make_consultation(status=Status.CLOSED, assignee=agent, closed_at=timezone.now(),
                          last_activity_at=timezone.now() - timedelta(minutes=i))
        for i in range(5)
    ]  # fmt: skip
    closed = {"scope": "mine", "tab": "closed"}

    pages = [alice_client.get(LIST, {**closed, "page": n}).content.decode() for n in (1, 2, 3, 4)]

    assert [rows_of_html(page) for page in pages[:3]] == [
        [made[0].public_id, made[1].public_id],
        [made[2].public_id, made[3].public_id],
        [made[4].public_id],
    ]
    assert "<span>1</span>" in pages[0] and "page=2" in pages[0] and "page=0" not in pages[0]
    assert "<span>2</span>" in pages[1] and "page=1" in pages[1] and "page=3" in pages[1]
    assert "<span>3</span>" in pages[2] and "page=2" in pages[2] and "page=4" not in pages[2]
    # Past the end of a tab that was not counted to the end: empty, with the way back.
    assert rows_of_html(pages[3]) == [] and "page=3" in pages[3]


def test_an_exactly_counted_tab_shows_the_number_of_pages_and_keeps_to_them(
    alice_client, agent, make_consultation, monkeypatch
):
    monkeypatch.setattr(list_views, "PAGE_SIZE", 2)
    for _ in range(5):
        make_consultation(status=Status.WAITING, assignee=agent)
    waiting = {"scope": "mine", "tab": "waiting"}

    assert "<span>1 / 3</span>" in alice_client.get(LIST, waiting).content.decode()
    last = alice_client.get(LIST, {**waiting, "page": 99}).content.decode()  # beyond the end: the last page
    assert "<span>3 / 3</span>" in last and len(rows_of_html(last)) == 1
    assert "<span>1 / 3</span>" in alice_client.get(LIST, {**waiting, "page": "-4"}).content.decode()


def test_a_row_links_to_its_consultation_with_the_lists_state(alice_client, make_consultation):
    made = make_consultation()
    url = reverse("console-consultation", args=[made.public_id])

    with_state = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": ""}).content.decode()
    without = alice_client.get(LIST + "?scope=all&tab=unassigned&tab=unassigned").content.decode()

    assert f'href="{url}?scope=all&amp;tab=unassigned&amp;q="' in with_state
    assert f'href="{url}?scope=all&amp;tab=unassigned&amp;tab=unassigned"' in without  # as {% querystring %} gives


@pytest.mark.parametrize("scope", ["mine", "all"])
@pytest.mark.parametrize("flag", ["all", "important", "hold", "both"])
@pytest.mark.parametrize("rows", [5, 200])
def test_every_tab_and_filter_costs_the_same_queries_for_5_or_200_consultations(
    alice_client, agent, make_consultation, django_assert_max_num_queries, scope, flag, rows
):
    states = [Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS, Status.CLOSED]
    for i in range(rows):
        status = states[i % 4]
        make_consultation(
            status=status,
            assignee=None if status == Status.UNASSIGNED else agent,
            is_important=i % 3 == 0,
            is_on_hold=status in (Status.IN_PROGRESS, Status.CLOSED) and i % 5 == 0,
            closed_at=timezone.now() if status == Status.CLOSED else None,
        )

    for tab in filters.TABS[scope]:
        # session, user, memberships (+ center), the live stream's cursor, the open tabs' counts, the closed
        # tab's capped count, the page's rows; and with nothing open, my load against the limits (the empty
        # chat pane)
        with django_assert_max_num_queries(8):
            response = alice_client.get(LIST, {"scope": scope, "tab": tab, "flag": flag})
        assert response.status_code == 200


# --- the full console page --------------------------------------------------------------------------------


def test_the_console_page_renders_the_list_and_the_chat_and_loads_the_other_panels_after(
    alice_client, agent, make_consultation, django_assert_max_num_queries
):
    consultation = make_consultation(status=Status.WAITING, assignee=agent)

    # session, user, memberships, the live stream's cursor, the consultation, the list (open tabs' counts, closed
    # tab's count, rows), the chat pane (read mark, messages, events, the members they name, assignee choices);
    # nothing of the details or the assist panel
    with django_assert_max_num_queries(13):
        response = alice_client.get(reverse("console-consultation", args=[consultation.public_id]))

    html = response.content.decode()
    assert '<section id="list-pane"' in html and '<div id="chat"' in html
    details_url = reverse("details-pane", args=[consultation.public_id])
    assert f'hx-get="{details_url}" hx-trigger="load" hx-swap="outerHTML"' in html
    assert f'hx-get="{reverse("assist-panel")}" hx-trigger="load" hx-swap="outerHTML"' in html
    assert 'id="details"' not in html and 'id="assist"' not in html
    assert "불러오는 중…" in html
    # What the placeholders load.
    details = alice_client.get(details_url, HTTP_HX_REQUEST="true").content.decode()
    assert details.lstrip().startswith('<div class="details" id="details"')
    panel = alice_client.get(reverse("assist-panel"), HTTP_HX_REQUEST="true").content.decode()
    assert panel.lstrip().startswith('<section id="assist"')


def rows_of_html(html: str) -> list[str]:
    return re.findall(r'data-consultation="(\w+)"', html)


def test_with_nothing_open_the_chat_pane_shows_my_load_against_the_limits_and_the_centers_state(
    alice_client, center, agent, agent2
):
    ConsultationFactory(center=center, status=Status.WAITING, assignee=agent)
    for _ in range(2):
        ConsultationFactory(center=center, status=Status.IN_PROGRESS, assignee=agent)
    ConsultationFactory(center=center, status=Status.IN_PROGRESS, assignee=agent2)  # someone else's
    center.concurrent_limit = 7
    center.is_operating = False
    center.save()

    page = alice_client.get(LIST, HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    workload = page[page.index('<dl class="workload"') : page.index("</dl>")]
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", workload)
    assert pairs == [("대기", "1 / 5"), ("상담 중", "2 / 7"), ("상담센터", "운영 중지")]
    assert "상담을 열면" in page  # the details pane says what it will hold


def test_another_members_consultation_is_unread_for_me_only_once_i_have_looked_at_it(
    alice_client, center, agent, agent2
):
    received = lifecycle.do_receive_customer_message(center, user_key="k", text="문의드려요")
    lifecycle.do_assign_to_me(received.consultation, actor=agent2)
    waiting = {"scope": "all", "tab": "waiting"}

    # Not mine and never opened: nothing waits on me there.
    assert 'class="unread"' not in alice_client.get(LIST, waiting).content.decode()

    open_and_read(alice_client, received.consultation)
    lifecycle.do_receive_customer_message(center, user_key="k", text="아직인가요?")

    # Once looked at, I follow it: the customer's new line is marked.
    assert 'class="unread"' in alice_client.get(LIST, waiting).content.decode()


def test_a_closed_consultation_carries_no_unread_mark(alice_client, center, agent):
    received = lifecycle.do_receive_customer_message(center, user_key="k", text="문의드려요")
    lifecycle.do_assign_to_me(received.consultation, actor=agent)
    lifecycle.do_receive_customer_message(center, user_key="k", text=lifecycle.END_COMMAND)  # the customer ends it

    html = alice_client.get(LIST, {"scope": "mine", "tab": "closed"}).content.decode()

    assert rows_of_html(html) == [received.consultation.public_id]
    assert 'class="unread"' not in html


# --- the open consultation: highlighted in its row, or on top as 열린 상담 ------------------------------------


def row_links(html: str) -> list[str]:
    """The consultations of the list's rows, in order (the chat pane names its consultation too)."""
    return re.findall(r'<a class="row[^"]*"[^>]*data-consultation="(\w+)"', html)


def opened_section(html: str) -> str:
    """The 열린 상담 part of the list: its label and the row after it, '' when absent."""
    if 'class="rows-opened"' not in html:
        return ""
    return html[html.index('class="rows-label"') : html.index("</li>", html.index('class="rows-opened"'))]


def test_the_open_consultation_is_highlighted_in_its_own_row(alice_client, agent, make_consultation):
    opened = make_consultation(status=Status.WAITING, assignee=agent)
    make_consultation(status=Status.WAITING, assignee=agent)
    url = reverse("console-consultation", args=[opened.public_id])

    html = alice_client.get(url, {"scope": "mine", "tab": "waiting"}, HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    assert re.findall(r'<a class="row is-open"[^>]*aria-current="true" data-consultation="(\w+)"', html) == [
        opened.public_id
    ]
    assert opened_section(html) == "" and "열린 상담" not in html
    assert row_links(html).count(opened.public_id) == 1


@pytest.mark.parametrize(
    "state",
    [
        {"scope": "all", "tab": "unassigned"},  # another tab
        {"scope": "mine", "tab": "waiting"},  # another scope: not mine
        {"scope": "all", "tab": "in_progress", "flag": "important"},  # another filter
        {"scope": "all", "tab": "in_progress", "q": "없는검색어"},  # a search that does not find it
    ],
)
def test_an_open_consultation_the_list_does_not_show_is_on_top_as_the_opened_consultation(
    alice_client, agent2, make_consultation, state
):
    opened = make_consultation(status=Status.IN_PROGRESS, assignee=agent2)
    others = [make_consultation() for _ in range(2)]
    url = reverse("console-consultation", args=[opened.public_id])

    html = alice_client.get(url, state, HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    section = opened_section(html)
    assert "열린 상담" in section
    assert re.findall(r'<a class="row is-open"[^>]*aria-current="true" data-consultation="(\w+)"', section) == [
        opened.public_id
    ]
    assert row_links(html).count(opened.public_id) == 1
    if state["tab"] == "unassigned":
        assert row_links(html)[1:] == [o.public_id for o in reversed(others)]
    # The pane's tabs, filters and live refresh keep the consultation open.
    assert f'hx-get="{url}?' in html and f'action="{url}"' in html


def test_the_opened_consultation_reads_in_english(alice_client, agent2, make_consultation):
    opened = make_consultation(status=Status.IN_PROGRESS, assignee=agent2)
    url = reverse("console-consultation", args=[opened.public_id])

    html = alice_client.get(url, {"scope": "mine"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Opened consultation" in opened_section(html)


def test_a_live_refresh_of_the_list_keeps_the_open_consultation_highlighted(alice_client, agent, make_consultation):
    opened = make_consultation(status=Status.WAITING, assignee=agent)
    url = reverse("console-consultation", args=[opened.public_id])
    elsewhere = make_consultation(status=Status.IN_PROGRESS, assignee=agent)

    in_tab = alice_client.get(url, {"tab": "waiting"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-pane")
    other_tab = alice_client.get(url, {"tab": "in_progress"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-pane")

    assert in_tab.content.decode().lstrip().startswith('<section id="list-pane"')
    assert f'aria-current="true" data-consultation="{opened.public_id}"' in in_tab.content.decode()
    html = other_tab.content.decode()
    assert opened.public_id in opened_section(html) and row_links(html) == [opened.public_id, elsewhere.public_id]


def test_the_open_consultation_costs_one_query_more_only_when_the_page_does_not_hold_it(
    alice_client, agent, make_consultation, django_assert_num_queries
):
    opened = make_consultation(status=Status.WAITING, assignee=agent)
    for _ in range(5):
        make_consultation(status=Status.UNASSIGNED)
    url = reverse("console-consultation", args=[opened.public_id])
    pane = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "list-pane"}

    # session, user, memberships (+ center), the consultation, the open tabs' counts, the closed tab's capped
    # count, the page's rows
    with django_assert_num_queries(7):
        alice_client.get(url, {"scope": "mine", "tab": "waiting"}, **pane)
    # ... and the open consultation's row, read apart (views/list.py, opened_row)
    with django_assert_num_queries(8):
        alice_client.get(url, {"scope": "all", "tab": "unassigned"}, **pane)

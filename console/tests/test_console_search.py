"""The list's search (SPEC §3, console/search.py) and the `__substring` lookup under it (consultations/lookups.py).

See docs/perf.md.

A search finds the consultations of the center's newest matching messages and
customers (search.newest_matches: through the grams indexes on PostgreSQL,
plain icontains on SQLite). Run on SQLite and on PostgreSQL
(DATABASE_URL=postgres://…). That another center's data changes nothing:
test_search_between_centers.py.
"""

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from console import filters, search
from consultations.models import Message, Status
from consultations.tests.factories import ConsultationFactory, MessageFactory
from customers.models import Customer
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LIST = reverse("console")
POSTGRES = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL only (the grams indexes)")


def rows_of(response) -> set[str]:
    return set(re.findall(r'data-consultation="(\w+)"', response.content.decode()))


@pytest.fixture
def made(center):
    """One unassigned consultation per thing a search can match."""

    def consultation(text="안녕하세요", **customer):
        made = ConsultationFactory(center=center, customer=CustomerFactory(center=center, **customer))
        MessageFactory(consultation=made, text=text)
        return made.public_id

    return {
        "lost": consultation("택배가 분실된 것 같아요."),
        "refund": consultation("환불 요청합니다"),
        "symbols": consultation("""할인율 100% 적용_쿠폰 "VIP" 'a' 끝\\"""),
        "latin": consultation("Hello World, I need a Refund"),
        "nickname": consultation(nickname="단골손님"),
        "profile": consultation(profile_nickname="김민지"),
        "customer_id": consultation(customer_id="CTEST12345"),
    }


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("분", {"lost"}),  # 1 syllable
        ("분실", {"lost"}),  # 2 syllables: no trigram, the bigram index finds it
        ("분실된", {"lost"}),  # 3 syllables
        ("분실된 것", {"lost"}),  # with a space
        ("실분", set()),  # its characters, not in that order
        ("환불", {"refund"}),
        ("100%", {"symbols"}),
        ("%", {"symbols"}),
        ("_", {"symbols"}),
        ("적용_쿠", {"symbols"}),
        ("할%용", set()),  # % is a character, not a wildcard
        ("할_율", set()),  # so is _
        ('"VIP"', {"symbols"}),
        ("'a'", {"symbols"}),
        ("끝\\", {"symbols"}),  # a backslash, LIKE's escape character
        ("refund", {"latin"}),  # Latin text, any case
        ("HELLO world", {"latin"}),
        ("단골", {"nickname"}),  # the internal nickname
        ("민지", {"profile"}),  # the KakaoTalk profile name
        ("ctest12345", {"customer_id"}),  # the customer ID, whole, any case
        ("CTEST", set()),
        ("없는말", set()),
    ],
)
def test_search_finds_the_consultations_with_the_term(alice_client, made, term, expected):
    response = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": term})

    assert response.status_code == 200
    assert rows_of(response) == {made[name] for name in expected}
    assert f'data-count="unassigned">{len(expected)}<' in response.content.decode()


def test_search_stays_in_the_tab_the_scope_and_the_center(alice_client, center, other_center, agent):
    def consultation(center, **fields):
        made = ConsultationFactory(center=center, **fields)
        MessageFactory(consultation=made, text="환불 문의")
        return made.public_id

    mine = consultation(center, status=Status.WAITING, assignee=agent)
    unassigned = consultation(center)
    consultation(other_center)

    everyone = alice_client.get(LIST, {"scope": "all", "tab": "waiting", "q": "환불"})
    assert rows_of(everyone) == {mine}
    assert rows_of(alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": "환불"})) == {unassigned}
    assert rows_of(alice_client.get(LIST, {"scope": "mine", "tab": "waiting", "q": "환불"})) == {mine}


def test_a_consultation_matching_twice_is_listed_once(alice_client, center):
    made = ConsultationFactory(center=center, customer=CustomerFactory(center=center, nickname="환불왕"))
    MessageFactory(consultation=made, text="환불 해주세요")
    MessageFactory(consultation=made, text="환불 언제 되나요")

    response = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": "환불"})

    assert response.content.decode().count(f'data-consultation="{made.public_id}"') == 1
    assert 'data-count="unassigned">1<' in response.content.decode()


def test_a_search_counts_up_to_a_cap(alice_client, center, monkeypatch):
    monkeypatch.setattr(filters, "SEARCH_COUNT_CAP", 3)
    for _ in range(4):
        MessageFactory(consultation=ConsultationFactory(center=center), text="환불")
    MessageFactory(consultation=ConsultationFactory(center=center), text="배송")

    html = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": "환불"}, HTTP_ACCEPT_LANGUAGE="en").content
    html = html.decode()

    assert 'data-count="unassigned" title="More than 2">2+<' in html
    assert 'data-count="waiting">0<' in html
    assert len(re.findall(r'data-consultation="', html)) == 4


def test_a_search_shows_99_plus_past_the_cap(alice_client, center):
    for _ in range(filters.SEARCH_COUNT_CAP + 1):
        MessageFactory(consultation=ConsultationFactory(center=center), text="환불 문의")

    html = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": "환불"}, HTTP_ACCEPT_LANGUAGE="en").content
    html = html.decode()

    assert 'data-count="unassigned" title="More than 99">99+<' in html
    assert len(re.findall(r'data-consultation="', html)) == 30  # the first page
    assert "<span>1</span>" in html  # capped: the pager shows the page number alone


def test_a_search_counts_exactly_below_the_cap(alice_client, center, monkeypatch):
    monkeypatch.setattr(filters, "SEARCH_COUNT_CAP", 5)
    for _ in range(4):
        MessageFactory(consultation=ConsultationFactory(center=center), text="환불")

    html = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": "환불"}).content.decode()

    assert 'data-count="unassigned">4<' in html


def test_a_search_reads_the_newest_matches_only_and_says_there_may_be_more(alice_client, center, monkeypatch):
    monkeypatch.setattr(search, "SEARCH_MATCHES", 3)
    now = timezone.now()
    made = []
    for i in range(5):  # the newest message last
        consultation = ConsultationFactory(center=center, last_activity_at=now - timedelta(minutes=5 - i))
        MessageFactory(consultation=consultation, text="환불 문의")
        made.append(consultation.public_id)

    html = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": "환불"}, HTTP_ACCEPT_LANGUAGE="en").content
    html = html.decode()

    assert re.findall(r'data-consultation="(\w+)"', html) == made[:1:-1]  # the 3 newest matches, newest first
    # 3 found, older ones may match too
    assert 'data-count="unassigned" title="The first 3 results; type more to narrow them.">3+<' in html
    assert 'data-count="waiting">0<' in html
    korean = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": "환불"}).content.decode()
    assert 'title="처음 3건입니다. 검색어를 더 입력해 좁혀 보세요.">3+<' in korean  # as the assist pane says it


def test_a_search_for_a_customer_reads_the_newest_matches_only(center):
    customers = [CustomerFactory(center=center, nickname=f"단골 {i}") for i in range(4)]
    made = [ConsultationFactory(center=center, customer=customer) for customer in customers]

    found = search.newest_matches(center.pk, "단골", limit=3)

    assert found == search.Matches(ids=frozenset(c.pk for c in made[1:]), complete=False)
    assert not search.newest_matches(center.pk, "단골", limit=4).complete  # as many as it reads: maybe more
    assert search.newest_matches(center.pk, "단골", limit=5).complete


@pytest.mark.parametrize("rows", [5, 200])
def test_a_search_costs_the_same_queries_for_5_or_200_consultations(
    alice_client, center, agent, django_assert_max_num_queries, rows
):
    for i in range(rows):
        made = ConsultationFactory(center=center, status=Status.WAITING if i % 2 else Status.UNASSIGNED,
                                   assignee=agent if i % 2 else None)  # fmt: skip
        MessageFactory(consultation=made, text=f"고객 {i} 환불 문의")

    # session, user, memberships (+ center), the live stream's cursor, the term's matches, the tab counts,
    # the page's rows
    # and, with nothing open, my load against the limits (the empty chat pane)
    with django_assert_max_num_queries(8):
        response = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": "환불"})

    assert len(rows_of(response)) == min(rows // 2 + rows % 2, 30)


# --- the lookup ---------------------------------------------------------------------------------------


def test_the_substring_lookup_matches_what_icontains_matches(center):
    consultation = ConsultationFactory(center=center)
    texts = ["택배가 분실된 것 같아요", "환불 요청", "Refund please", "100% 적용", "a_b", "", "분", "실분"]
    texts += ["x\\y", "Ab", "Straße"]
    for text in texts:
        MessageFactory(consultation=consultation, text=text)

    texts += ["환불A", "İstanbul", "ǅemal"]
    for text in texts[-3:]:
        MessageFactory(consultation=consultation, text=text)

    terms = ["분", "분실", "분실된", "실된 것", "REFUND", "fund p", "%", "0% 적", "_", "a_b", "a%b", "없음"]
    terms += ["aB", "b", "\\", "실분", "분 ", " 것", "\\y", "ß", "SS", "불a", "İ", "i", "ǆ", "Ǆ", "100"]
    for term in terms:
        found = set(Message.objects.filter(text__substring=term).values_list("text", flat=True))
        assert found == set(Message.objects.filter(text__icontains=term).values_list("text", flat=True)), term


def test_the_lookups_are_registered_when_django_starts_not_when_the_list_is_imported():
    code = (
        "import sys, django; django.setup()\n"
        "from consultations.models import Message\n"
        "print(str(Message.objects.filter(text__substring='분실').query))\n"
        "assert 'console.filters' not in sys.modules, 'the lookups came with the list'\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "counsel_center.settings"}
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603 (a fixed command line)

    assert done.returncode == 0, done.stderr


@POSTGRES
def test_on_postgresql_the_lookup_goes_through_the_grams_index(center):
    sql = str(Message.objects.filter(text__substring="분실된").query)
    assert "counsel_grams" in sql and "strpos" in sql and "UPPER" not in sql  # nothing to fold in Korean
    latin = str(Message.objects.filter(text__substring="Refund").query)
    assert "counsel_grams" in latin and "strpos(UPPER(" in latin
    with connection.cursor() as cursor:
        # A few test rows: leave the planner only the bitmap scans, which need an index condition.
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        plan = Message.objects.filter(text__substring="분실").explain()
        cursor.execute("SELECT counsel_grams('Ab환불 환'), counsel_term_grams('환불'), counsel_term_grams('분')")
        grams, term_grams, one = cursor.fetchone()
    assert "msg_text_grams" in plan
    assert sorted(grams) == sorted(["A", "B", "AB", "B환", "환", "불", "환불", "불 ", " ", " 환"])
    assert (term_grams, one) == (["환불"], ["분"])


@POSTGRES
def test_on_postgresql_the_search_conditions_are_answered_by_the_grams_indexes(center):
    """The `__substring` SQL matches the expressions of migration 0005's indexes, so PostgreSQL can answer a
    search from them. Which plan it picks for a whole search depends on its statistics (the benchmark's
    business, docs/perf.md); here every other way in is switched off, so the index is read or the plan fails."""
    MessageFactory(consultation=ConsultationFactory(center=center), text="배송 문의")
    messages = Message.objects.filter(text__substring="분실").values("pk")
    customers = Customer.objects.filter(
        Q(nickname__substring="분실") | Q(profile_nickname__substring="분실") | Q(customer_id__iexact="분실")
    ).values("pk")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        plans = messages.explain(), customers.explain()
    assert "msg_text_grams" in plans[0], plans[0]
    for index in ("customer_nickname_grams", "customer_profile_grams", "customer_upper_id"):
        assert index in plans[1], plans[1]


def test_search_results_page(alice_client, center, agent, monkeypatch):
    from console.views import list as list_views

    monkeypatch.setattr(list_views, "PAGE_SIZE", 2)
    now = timezone.now()
    made = []
    for i in range(5):
        consultation = ConsultationFactory(center=center, last_activity_at=now - timedelta(minutes=i))
        MessageFactory(consultation=consultation, text=f"환불 {i}")
        made.append(consultation.public_id)
    ConsultationFactory(center=center, status=Status.WAITING, assignee=agent)  # another tab, no match
    query = {"scope": "all", "tab": "unassigned", "q": "환불"}

    pages = [alice_client.get(LIST, {**query, "page": n}).content.decode() for n in (1, 2, 3)]

    assert [re.findall(r'data-consultation="(\w+)"', page) for page in pages] == [made[0:2], made[2:4], made[4:5]]
    assert "page=2" in pages[0] and "page=3" in pages[1] and "page=4" not in pages[2]
    # counted exactly (under the cap): the number of pages, and an old link past the end gets the last
    assert "<span>1 / 3</span>" in pages[0]
    beyond = alice_client.get(LIST, {**query, "page": 7}).content.decode()
    assert "<span>3 / 3</span>" in beyond and re.findall(r'data-consultation="(\w+)"', beyond) == made[4:5]
    assert 'data-count="waiting">0<' in pages[0]

"""The list's search (SPEC §3) and the `__substring` lookup under it (consultations/search.py, docs/perf.md).

Every search is run both ways the list can take (filters.search_condition):
"common" walks the tab and looks at each consultation's messages, "rare"
matches through the grams indexes (on PostgreSQL; plain icontains on SQLite).
Run on SQLite and on PostgreSQL (DATABASE_URL=postgres://…).
"""

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from consultations import filters
from consultations.models import Message, Status
from counsel_center.tests.factories import ConsultationFactory, CustomerFactory, MessageFactory

pytestmark = pytest.mark.django_db

LIST = reverse("console")
POSTGRES = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL only (the grams indexes)")


def rows_of(response) -> set[str]:
    return set(re.findall(r'data-consultation="(\w+)"', response.content.decode()))


@pytest.fixture
def alice_client(client, agent):
    client.force_login(agent.user)
    return client


@pytest.fixture(params=["common", "rare"])
def strategy(request, monkeypatch):
    """Both ways of searching; the probe that chooses between them is tested below."""
    monkeypatch.setattr(filters, "search_is_common", lambda term: request.param == "common")
    return request.param


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
def test_search_finds_the_same_consultations_either_way(alice_client, made, strategy, term, expected):
    response = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": term})

    assert response.status_code == 200
    assert rows_of(response) == {made[name] for name in expected}
    assert f'data-count="unassigned">{len(expected)}<' in response.content.decode()


def test_search_stays_in_the_tab_the_scope_and_the_center(alice_client, center, other_center, agent, strategy):
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


def test_a_consultation_matching_twice_is_listed_once(alice_client, center, strategy):
    made = ConsultationFactory(center=center, customer=CustomerFactory(center=center, nickname="환불왕"))
    MessageFactory(consultation=made, text="환불 해주세요")
    MessageFactory(consultation=made, text="환불 언제 되나요")

    response = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": "환불"})

    assert response.content.decode().count(f'data-consultation="{made.public_id}"') == 1
    assert 'data-count="unassigned">1<' in response.content.decode()


def test_a_common_search_counts_up_to_a_cap(alice_client, center, monkeypatch):
    monkeypatch.setattr(filters, "SEARCH_COUNT_CAP", 3)
    monkeypatch.setattr(filters, "search_is_common", lambda term: True)
    for _ in range(4):
        MessageFactory(consultation=ConsultationFactory(center=center), text="환불")
    MessageFactory(consultation=ConsultationFactory(center=center), text="배송")

    html = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": "환불"}, HTTP_ACCEPT_LANGUAGE="en").content
    html = html.decode()

    assert 'data-count="unassigned" title="More than 2">2+<' in html
    assert 'data-count="waiting">0<' in html
    assert len(re.findall(r'data-consultation="', html)) == 4


def test_a_rare_search_counts_exactly(alice_client, center, monkeypatch):
    monkeypatch.setattr(filters, "SEARCH_COUNT_CAP", 3)
    monkeypatch.setattr(filters, "search_is_common", lambda term: False)
    for _ in range(4):
        MessageFactory(consultation=ConsultationFactory(center=center), text="환불")

    html = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": "환불"}).content.decode()

    assert 'data-count="unassigned">4<' in html


def test_the_probe_tells_a_common_term_from_a_rare_one(center, monkeypatch):
    consultation = ConsultationFactory(center=center)
    for i in range(100):
        MessageFactory(consultation=consultation, text="환불 문의" if i < 10 else ("분실" if i == 10 else "배송 문의"))
    monkeypatch.setattr(filters, "PROBE_SIZE", 50)  # the newest 50: 분실 is not among them, 환불 neither

    assert filters.search_is_common("문의")  # all of the newest 50
    assert not filters.search_is_common("환불")  # only in older messages
    assert not filters.search_is_common("분실")
    assert not filters.search_is_common("없는말")
    monkeypatch.setattr(filters, "PROBE_SIZE", 1000)
    assert filters.search_is_common("환불")  # 10 of 100
    assert not filters.search_is_common("분실")  # 1 of 100, under 2 %


def test_the_probe_answer_is_kept_for_a_while(center, settings, django_assert_num_queries):
    settings.SEARCH_PROBE_CACHE_SECONDS = 60
    term = f"드문말{uuid.uuid4().hex[:8]}"  # a term no other test's cache entry has
    consultation = ConsultationFactory(center=center)
    MessageFactory(consultation=consultation, text=f"{term} 문의")

    with django_assert_num_queries(1):
        assert filters.search_is_common(term)
    MessageFactory.create_batch(200, consultation=consultation, text="다른 말")  # now under 2 %
    with django_assert_num_queries(0):
        assert filters.search_is_common(term)  # the kept answer, no query
    settings.SEARCH_PROBE_CACHE_SECONDS = 0
    assert not filters.search_is_common(term)  # asked again: the data decides


@pytest.mark.parametrize("strategy", ["common", "rare", None])
@pytest.mark.parametrize("rows", [5, 200])
def test_a_search_costs_the_same_queries_for_5_or_200_consultations(
    alice_client, center, agent, monkeypatch, django_assert_max_num_queries, strategy, rows
):
    if strategy is not None:
        monkeypatch.setattr(filters, "search_is_common", lambda term: strategy == "common")
    for i in range(rows):
        made = ConsultationFactory(center=center, status=Status.WAITING if i % 2 else Status.UNASSIGNED,
                                   assignee=agent if i % 2 else None)  # fmt: skip
        MessageFactory(consultation=made, text=f"고객 {i} 환불 문의")

    # session, user, memberships (+ center), the live stream's cursor, the term's probe, the tab counts,
    # the page's rows
    with django_assert_max_num_queries(7):
        response = alice_client.get(LIST, {"scope": "all", "tab": "unassigned", "q": "환불"})

    assert len(rows_of(response)) == min(rows // 2 + rows % 2, 30)


# --- the lookup ---------------------------------------------------------------------------------------


def test_the_substring_lookup_matches_what_icontains_matches(center):
    consultation = ConsultationFactory(center=center)
    texts = ["택배가 분실된 것 같아요", "환불 요청", "Refund please", "100% 적용", "a_b", "", "분", "실분"]
    texts += ["x\\y", "Ab", "Straße"]
    for text in texts:
        MessageFactory(consultation=consultation, text=text)

    terms = ["분", "분실", "분실된", "실된 것", "REFUND", "fund p", "%", "0% 적", "_", "a_b", "a%b", "없음"]
    for term in [*terms, "aB", "b", "\\", "실분", "분 ", " 것", "\\y", "ß", "SS"]:
        found = set(Message.objects.filter(text__substring=term).values_list("text", flat=True))
        assert found == set(Message.objects.filter(text__icontains=term).values_list("text", flat=True)), term


@POSTGRES
def test_on_postgresql_the_lookup_goes_through_the_grams_index(center):
    sql = str(Message.objects.filter(text__substring="분실된").query)
    assert "counsel_grams" in sql and "LIKE" in sql
    short = str(Message.objects.filter(text__substring="분실").query)  # one gram: the index decides alone
    assert "counsel_grams" in short and "LIKE" not in short
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
def test_on_postgresql_a_rare_search_reads_the_indexes_of_messages_and_customers(center):
    query = filters.Consultation.objects.filter(filters.search_condition("분실", common=False))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        plan = query.explain()
    for index in ("msg_text_grams", "customer_nickname_grams", "customer_profile_grams", "customer_upper_id"):
        assert index in plan
    assert "= ANY(ARRAY((SELECT" in str(query.query)  # the matches collected once (search.AnyOf)


def test_any_of_finds_what_in_finds(center):
    made = [ConsultationFactory(center=center) for _ in range(4)]
    chosen = filters.Consultation.objects.filter(pk__in=[made[1].pk, made[3].pk]).values("pk")
    either = chosen.union(filters.Consultation.objects.filter(pk=made[0].pk).values("pk"), all=True)

    assert set(filters.Consultation.objects.filter(pk__any_of=chosen)) == {made[1], made[3]}
    assert set(filters.Consultation.objects.filter(pk__any_of=either)) == {made[0], made[1], made[3]}
    assert set(filters.Consultation.objects.filter(pk__any_of=[made[2].pk])) == {made[2]}


@pytest.mark.parametrize("strategy", ["common", "rare"], indirect=True)
def test_search_results_page_either_way(alice_client, center, agent, strategy, monkeypatch):
    from consultations.views import list as list_views

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
    if strategy == "rare":  # counted exactly: the number of pages, and an old link past the end gets the last
        assert "<span>1 / 3</span>" in pages[0]
        beyond = alice_client.get(LIST, {**query, "page": 7}).content.decode()
        assert "<span>3 / 3</span>" in beyond and re.findall(r'data-consultation="(\w+)"', beyond) == made[4:5]
    assert 'data-count="waiting">0<' in pages[0]

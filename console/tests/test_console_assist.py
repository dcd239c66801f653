"""The assist panel (SPEC §3 즐겨찾기): Q&A search, templates, and each member's own favorites.

Covers console/views/assist.py and templates/console/assist.html.
"""

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from console.views.assist import QNA_LIMIT, assist_context
from consultations.models import Favorite, QnA, Template
from counsel_center.tests.factories import MemberFactory, UserFactory

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT_LANGUAGE": "en"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def qna(center, question="배송은 얼마나 걸리나요?", answer="보통 2~3일 걸립니다.", keywords="배송, 택배", **extra):
    return QnA.objects.create(center=center, question=question, answer=answer, keywords=keywords, **extra)


def template(center, title="첫 인사", body="안녕하세요, 상담원입니다.\n무엇을 도와드릴까요?", **extra):
    return Template.objects.create(center=center, title=title, body=body, **extra)


def search(client, q):
    return client.get(reverse("assist-qna"), {"q": q}, **HTMX)


def term_favorite(member, term):
    return Favorite.objects.create(member=member, kind=Favorite.Kind.QNA_TERM, term=term)


def template_favorite(member, tpl):
    return Favorite.objects.create(member=member, kind=Favorite.Kind.TEMPLATE, template=tpl)


@pytest.fixture
def alice(client, agent):
    client.force_login(agent.user)
    return client


# --- Q&A search ------------------------------------------------------------------------------


def test_it_finds_qna_by_question_answer_or_keywords(alice, center, other_center):
    by_question = qna(center, question="환불 규정이 궁금해요", answer="구매 후 7일 이내 가능합니다.", keywords="")
    by_answer = qna(center, question="반품하려면?", answer="택배 기사님이 회수합니다.", keywords="")
    by_keywords = qna(center, question="교환 문의", answer="교환은 1회 무료입니다.", keywords="사이즈, 색상")
    qna(other_center, question="환불 받고 싶어요", answer="베타 센터의 택배 사이즈 답변", keywords="사이즈")

    html = search(alice, "환불").content.decode()
    assert by_question.question in html
    assert "환불 받고 싶어요" not in html
    assert "1 result" in html

    html = search(alice, "택배").content.decode()
    assert by_answer.question in html
    assert "베타 센터" not in html

    html = search(alice, "사이즈").content.decode()
    assert by_keywords.question in html
    assert by_keywords.answer in html
    assert "베타 센터" not in html
    assert by_question.question not in html


def test_it_searches_case_insensitively_and_trims_the_term(alice, center):
    entry = qna(center, question="How do I reset my PASSWORD?", answer="Use the link.", keywords="")
    html = search(alice, "  password  ").content.decode()
    assert entry.question in html


def test_it_hides_inactive_entries(alice, center):
    qna(center, question="현재 이벤트 안내", is_active=True)
    qna(center, question="지난 이벤트 안내", is_active=False)
    html = search(alice, "이벤트").content.decode()
    assert "현재 이벤트 안내" in html
    assert "지난 이벤트 안내" not in html


def test_it_shows_only_a_hint_for_an_empty_term(alice, center):
    qna(center)
    response = search(alice, "   ")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Type a word to search the Q&A." in html
    assert "assist-qna" not in html.replace('id="assist-qna-results"', "")  # no result rows
    assert "Add this search to favorites" not in html


def test_it_says_when_nothing_matches(alice, center):
    qna(center)
    html = search(alice, "없는말").content.decode()
    assert "No Q&A matches “없는말”." in html


def test_it_shows_at_most_20_results(alice, center):
    for n in range(QNA_LIMIT + 5):
        qna(center, question=f"질문 {n:02}", answer="답변")
    html = search(alice, "질문").content.decode()
    assert html.count('class="assist-qna"') == QNA_LIMIT
    assert "The first 20 results; type more to narrow them." in html


def test_it_offers_the_answer_for_the_composer(alice, center):
    qna(center, answer="첫 줄\n둘째 줄")
    html = search(alice, "배송").content.decode()
    assert 'data-assist-insert="첫 줄\n둘째 줄"' in html  # the raw text, for the composer
    assert "첫 줄<br>둘째 줄" in html  # shown with its line breaks
    assert "Insert answer" in html


def test_it_answers_htmx_with_a_fragment_and_a_plain_link_with_the_whole_panel(alice, center):
    qna(center)
    fragment = search(alice, "배송").content.decode()
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<div id="assist-qna-results"')

    page = alice.get(reverse("assist-qna"), {"q": "배송"}, **EN).content.decode()
    assert 'id="assist"' in page
    assert 'value="배송"' in page
    assert "배송은 얼마나 걸리나요?" in page


def test_it_escapes_html_in_answers_and_templates(alice, center):
    qna(center, question="<b>굵게</b>", answer='<script>alert("a")</script>\n<img src=x onerror=alert(1)>')
    tpl = template(center, title="<i>제목</i>", body="<script>alert(2)</script>")

    html = search(alice, "굵게").content.decode()
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;b&gt;굵게&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(&quot;a&quot;)&lt;/script&gt;<br>&lt;img" in html

    for url in (reverse("assist-templates"), reverse("assist-template", args=[tpl.pk])):
        html = alice.get(url, **HTMX).content.decode()
        assert "<script>" not in html
        assert "<i>" not in html
        assert "&lt;i&gt;제목&lt;/i&gt;" in html

    html = search(alice, "<b>").content.decode()  # the term itself, echoed in the panel
    assert "<b>" not in html


# --- templates -------------------------------------------------------------------------------------


def test_it_lists_the_centers_active_templates_with_their_first_line(alice, center, other_center):
    template(center, title="첫 인사", body="\n  안녕하세요, 상담원입니다.  \n무엇을 도와드릴까요?")
    template(center, title="퇴근 안내", body="운영 시간이 끝났어요.", is_active=False)
    template(other_center, title="베타 인사", body="베타입니다.")

    response = alice.get(reverse("assist-templates"), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "첫 인사" in html
    assert "안녕하세요, 상담원입니다." in html
    assert "무엇을 도와드릴까요?" not in html  # the first line only
    assert "퇴근 안내" not in html
    assert "베타 인사" not in html


def test_it_says_when_there_are_no_templates(alice):
    html = alice.get(reverse("assist-templates"), **HTMX).content.decode()
    assert "No templates yet." in html


def test_it_previews_a_template(alice, center):
    tpl = template(center)
    response = alice.get(reverse("assist-template", args=[tpl.pk]), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="assist-template-preview"')
    assert "첫 인사" in html
    assert "안녕하세요, 상담원입니다.<br>무엇을 도와드릴까요?" in html
    assert f'data-assist-insert="{tpl.body}"' in html
    assert "Insert into composer" in html
    assert reverse("assist-favorite-template", args=[tpl.pk]) in html  # ☆: not pinned yet


def test_it_refuses_another_centers_or_a_retired_template(alice, center, other_center):
    theirs = template(other_center, title="베타 인사")
    retired = template(center, title="지난 안내", is_active=False)
    for tpl in (theirs, retired):
        assert alice.get(reverse("assist-template", args=[tpl.pk]), **HTMX).status_code == 404
        assert alice.post(reverse("assist-favorite-template", args=[tpl.pk]), **HTMX).status_code == 404
        assert alice.get(reverse("assist-panel"), {"template": tpl.pk}, **HTMX).status_code == 404
    assert alice.get(reverse("assist-template", args=[999999]), **HTMX).status_code == 404
    assert alice.get(reverse("assist-template", args=[10**30]), **HTMX).status_code == 404
    assert not Favorite.objects.exists()


# --- favorites ---------------------------------------------------------------------------------------


def test_it_pins_a_term_once(alice, agent):
    for _ in range(2):
        response = alice.post(reverse("assist-favorite-term"), {"term": "  환불   규정 "}, **HTMX)
        assert response.status_code == 204
        assert response["HX-Trigger"] == '{"assist-favorites-changed": {}}'
    favorite = Favorite.objects.get()
    assert (favorite.member, favorite.kind, favorite.term) == (agent, Favorite.Kind.QNA_TERM, "환불 규정")


def test_it_refuses_an_empty_or_too_long_term(alice):
    for term in ("", "   ", "가" * 101):
        assert alice.post(reverse("assist-favorite-term"), {"term": term}, **HTMX).status_code == 400
    assert alice.post(reverse("assist-favorite-term"), **HTMX).status_code == 400
    assert not Favorite.objects.exists()


def test_it_stars_a_pinned_term_and_unpins_it(alice, agent, center):
    qna(center)
    html = search(alice, "배송").content.decode()
    assert "☆" in html
    assert "Add this search to favorites" in html
    assert 'name="term" value="배송"' in html

    alice.post(reverse("assist-favorite-term"), {"term": "배송"}, **HTMX)
    favorite = Favorite.objects.get()
    html = search(alice, "배송").content.decode()
    assert "★" in html
    assert "Remove this search from favorites" in html
    assert reverse("assist-favorite-delete", args=[favorite.pk]) in html
    # The results reload themselves when a favorite changes anywhere in the panel.
    assert 'hx-trigger="assist-favorites-changed from:body"' in html

    response = alice.post(reverse("assist-favorite-delete", args=[favorite.pk]), **HTMX)
    assert response.status_code == 204
    assert "assist-favorites-changed" in response["HX-Trigger"]
    assert not Favorite.objects.exists()
    assert "☆" in search(alice, "배송").content.decode()


def test_it_pins_and_unpins_a_template(alice, agent, center):
    tpl = template(center)
    url = reverse("assist-favorite-template", args=[tpl.pk])
    for _ in range(2):  # a double click pins once
        assert alice.post(url, **HTMX).status_code == 204
    favorite = Favorite.objects.get()
    assert (favorite.member, favorite.kind, favorite.template) == (agent, Favorite.Kind.TEMPLATE, tpl)

    html = alice.get(reverse("assist-template", args=[tpl.pk]), **HTMX).content.decode()
    assert "★" in html
    assert reverse("assist-favorite-delete", args=[favorite.pk]) in html

    assert alice.post(reverse("assist-favorite-delete", args=[favorite.pk]), **HTMX).status_code == 204
    assert not Favorite.objects.exists()
    assert "☆" in alice.get(reverse("assist-template", args=[tpl.pk]), **HTMX).content.decode()


def test_it_lists_only_the_members_own_favorites(alice, agent, agent2, outsider, center, other_center):
    mine = template(center, title="내 템플릿")
    term_favorite(agent, "환불")
    template_favorite(agent, mine)
    term_favorite(agent2, "밥의 검색어")
    template_favorite(agent2, template(center, title="밥의 템플릿"))
    term_favorite(outsider, "오스카의 검색어")

    response = alice.get(reverse("assist-favorites"), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "환불" in html
    assert "내 템플릿" in html
    assert "밥의" not in html
    assert "오스카" not in html


def test_it_hides_the_favorite_of_a_retired_template(alice, agent, center):
    template_favorite(agent, template(center, title="지난 안내", is_active=False))
    html = alice.get(reverse("assist-favorites"), **HTMX).content.decode()
    assert "지난 안내" not in html
    assert "No favorites yet" in html


def test_it_refuses_to_remove_someone_elses_favorite(alice, agent2, outsider, center):
    theirs = [term_favorite(agent2, "밥의 검색어"), term_favorite(outsider, "오스카의 검색어")]
    for favorite in theirs:
        assert alice.post(reverse("assist-favorite-delete", args=[favorite.pk]), **HTMX).status_code == 404
    assert alice.post(reverse("assist-favorite-delete", args=[999999]), **HTMX).status_code == 404
    assert Favorite.objects.count() == 2


def test_it_opens_a_favorite_term_as_a_search(alice, agent, center):
    qna(center)
    favorite = term_favorite(agent, "배송")
    html = alice.get(reverse("assist-favorites"), **HTMX).content.decode()
    link = f"{reverse('assist-panel')}?tab=qna&amp;q=%EB%B0%B0%EC%86%A1"
    assert f'hx-get="{link}"' in html
    assert 'hx-target="#assist"' in html

    response = alice.get(reverse("assist-panel"), {"tab": "qna", "q": favorite.term}, **HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="assist"')
    assert 'value="배송"' in html  # the search box filled in
    assert "배송은 얼마나 걸리나요?" in html  # and the results shown
    assert "★" in html
    qna_tab, templates_tab = html.index('id="assist-qna"'), html.index('id="assist-templates"')
    assert " hidden" not in html[qna_tab : html.index(">", qna_tab)]
    assert " hidden" in html[templates_tab : html.index(">", templates_tab)]


def test_it_opens_a_favorite_template_as_a_preview(alice, agent, center):
    tpl = template(center)
    template_favorite(agent, tpl)
    html = alice.get(reverse("assist-favorites"), **HTMX).content.decode()
    assert f"{reverse('assist-panel')}?tab=templates&amp;template={tpl.pk}" in html

    html = alice.get(reverse("assist-panel"), {"tab": "templates", "template": tpl.pk}, **HTMX).content.decode()
    templates_tab = html.index('id="assist-templates"')
    assert " hidden" not in html[templates_tab : html.index(">", templates_tab)]
    assert "안녕하세요, 상담원입니다.<br>무엇을 도와드릴까요?" in html
    assert 'class="assist-template is-selected"' in html
    assert "★" in html


def test_it_ignores_a_bad_panel_state(alice):
    response = alice.get(reverse("assist-panel"), {"tab": "<evil>", "template": "1 OR 1=1", "q": "x" * 500}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<evil>" not in html
    assert 'value="' + "x" * 100 + '"' in html


def test_it_goes_back_to_the_panel_after_a_plain_form(alice, center):
    tpl = template(center)
    response = alice.post(reverse("assist-favorite-term"), {"term": "환불"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('assist-panel')}?tab=qna&q=%ED%99%98%EB%B6%88"
    response = alice.post(reverse("assist-favorite-template", args=[tpl.pk]))
    assert response["Location"] == f"{reverse('assist-panel')}?tab=templates&template={tpl.pk}"
    response = alice.post(reverse("assist-favorite-delete", args=[Favorite.objects.first().pk]))
    assert response["Location"] == f"{reverse('assist-panel')}?tab=favorites"


# --- the panel in the console ------------------------------------------------------------------------


def test_it_gives_the_console_the_members_favorites_and_the_centers_templates(agent, agent2, center):
    tpl = template(center, title="첫 인사")
    template_favorite(agent, tpl)
    term_favorite(agent, "환불")
    term_favorite(agent2, "밥의 검색어")
    request = RequestFactory().get("/consultations/", {"q": "list search", "tab": "closed"})  # the list's own state
    request.user, request.member = agent.user, agent

    context = assist_context(request)
    assist = context["assist"]
    assert (assist.tab, assist.q, assist.template) == ("qna", "", None)
    assert [row.title for row in assist.templates] == ["첫 인사"]
    assert sorted(str(f) for f in assist.favorites) == ["첫 인사", "환불"]

    html = render_to_string("console/assist.html", context, request=request)
    assert html.lstrip().startswith('<section id="assist"')
    assert "첫 인사" in html
    assert "환불" in html
    assert "밥의" not in html
    assert 'value=""' in html  # the list's search term does not leak into the panel


# --- access ------------------------------------------------------------------------------------------


def _urls(center):
    tpl = template(center)
    favorite = term_favorite(MemberFactory(center=center), "환불")
    gets = [
        reverse("assist-panel"),
        reverse("assist-qna") + "?q=a",
        reverse("assist-templates"),
        reverse("assist-template", args=[tpl.pk]),
        reverse("assist-favorites"),
    ]
    posts = [
        reverse("assist-favorite-term"),
        reverse("assist-favorite-template", args=[tpl.pk]),
        reverse("assist-favorite-delete", args=[favorite.pk]),
    ]
    return gets, posts


def test_it_sends_anonymous_users_to_the_login_page(client, center):
    gets, posts = _urls(center)
    # htmx requests are told to load the login page (HX-Redirect) rather than swap it into the panel.
    for url in gets:
        response = client.get(url, **HTMX)
        assert response.status_code == 204, url
        assert response["HX-Redirect"].startswith(reverse("login")), url
    for url in posts:
        response = client.post(url, {"term": "환불"}, **HTMX)
        assert response.status_code == 204, url
        assert response["HX-Redirect"].startswith(reverse("login")), url
    assert Favorite.objects.count() == 1


def test_it_refuses_a_user_of_no_center(client, center):
    client.force_login(UserFactory(username="nobody"))
    gets, posts = _urls(center)
    for url in gets:
        assert client.get(url, **HTMX).status_code == 403, url
    for url in posts:
        assert client.post(url, {"term": "환불"}, **HTMX).status_code == 403, url


def test_it_allows_each_view_only_its_method(alice, center):
    gets, posts = _urls(center)
    for url in gets:
        assert alice.post(url, **HTMX).status_code == 405, url
    for url in posts:
        assert alice.get(url, **HTMX).status_code == 405, url


def test_it_requires_the_csrf_token(agent, center):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(agent.user)
    # The token the page carries (base.html puts it in hx-headers on <body>; forms have {% csrf_token %}).
    html = csrf_client.get(reverse("assist-panel"), {"q": "배송"}, **HTMX).content.decode()
    token = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]

    assert csrf_client.post(reverse("assist-favorite-term"), {"term": "환불"}, **HTMX).status_code == 403
    assert not Favorite.objects.exists()
    response = csrf_client.post(reverse("assist-favorite-term"), {"term": "환불"}, HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 204
    assert Favorite.objects.count() == 1


# --- query counts --------------------------------------------------------------------------------------


def _fill(center, member, start, n):
    for i in range(start, start + n):
        qna(center, question=f"배송 질문 {i}", answer=f"답변 {i}")
        tpl = template(center, title=f"템플릿 {i}", body=f"본문 {i}\n둘째 줄")
        template_favorite(member, tpl)
        term_favorite(member, f"검색어 {i}")
    return tpl


# Each view reads the session, the user and the user's memberships (member_required: 3), then only its part:
#   panel    + the previewed template, Q&A matches, favorites (☆/★ and the tab), templates  = 7
#   qna      + Q&A matches, favorites (the ☆/★ of the term)                                  = 5
#   templates + templates (titles and the start of each body)                                = 4
#   preview  + the template, favorites (its ☆/★)                                             = 5
#   favorites + favorites, with their templates                                              = 4
QUERIES = {"panel": 7, "qna": 5, "templates": 4, "preview": 5, "favorites": 4}


@pytest.mark.parametrize("part", QUERIES)
def test_it_reads_a_constant_number_of_queries(alice, agent, center, part, django_assert_max_num_queries):
    def url(tpl):
        return {
            "panel": f"{reverse('assist-panel')}?q=배송&template={tpl.pk}",
            "qna": f"{reverse('assist-qna')}?q=배송",
            "templates": reverse("assist-templates"),
            "preview": reverse("assist-template", args=[tpl.pk]),
            "favorites": reverse("assist-favorites"),
        }[part]

    counts = []
    for start, n in ((0, 3), (3, 47)):  # 3 of each, then 50 of each
        tpl = _fill(center, agent, start, n)
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(QUERIES[part]):
            response = alice.get(url(tpl), **HTMX)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts == [QUERIES[part], QUERIES[part]]

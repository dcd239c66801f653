"""Q&A and 템플릿: masters and managers list, search, add, edit and retire the center's entries."""

import re

import pytest
from django.urls import reverse

from consultations.models import QnA, Template

pytestmark = pytest.mark.django_db


def titles(html: str) -> list[str]:
    return re.findall(r'class="settings-entry-title" href="[^"]+">([^<]+)</a>', html)


@pytest.fixture
def qnas(center, other_center):
    QnA.objects.create(center=center, question="환불은 언제 되나요?", answer="3일 안에 됩니다.", keywords="환불, 카드")
    QnA.objects.create(center=center, question="배송은 얼마나 걸리나요?", answer="1~2일 걸립니다.", keywords="배송")
    QnA.objects.create(center=center, question="옛 질문", answer="더 쓰지 않습니다.", is_active=False)
    QnA.objects.create(center=other_center, question="베타 환불 질문", answer="베타", keywords="환불")


@pytest.fixture
def templates(center, other_center):
    Template.objects.create(center=center, title="첫 인사", body="안녕하세요, 무엇을 도와드릴까요?")
    Template.objects.create(center=center, title="마무리", body="이용해 주셔서 감사합니다.")
    Template.objects.create(center=other_center, title="베타 인사", body="베타")


@pytest.mark.parametrize("fixture", ["manager", "master"])
def test_the_qna_list_shows_this_centers_entries_active_first(request, as_member, fixture, qnas):
    html = as_member(request.getfixturevalue(fixture)).get(reverse("settings:qna")).content.decode()

    assert titles(html) == ["배송은 얼마나 걸리나요?", "환불은 언제 되나요?", "옛 질문"]
    assert "베타" not in html and "3건" in html and "비활성" in html


def test_the_qna_search_looks_in_questions_answers_and_keywords(as_member, manager, qnas):
    client = as_member(manager)

    assert titles(client.get(reverse("settings:qna"), {"q": "카드"}).content.decode()) == ["환불은 언제 되나요?"]
    assert titles(client.get(reverse("settings:qna"), {"q": "1~2일"}).content.decode()) == ["배송은 얼마나 걸리나요?"]
    html = client.get(reverse("settings:qna"), {"q": "없는말"}).content.decode()
    assert titles(html) == [] and "검색 결과가 없습니다." in html


def test_the_template_search_looks_in_titles_and_bodies(as_member, manager, templates):
    client = as_member(manager)

    assert titles(client.get(reverse("settings:templates")).content.decode()) == ["마무리", "첫 인사"]
    assert titles(client.get(reverse("settings:templates"), {"q": "감사"}).content.decode()) == ["마무리"]


@pytest.mark.parametrize(
    ("url_name", "model", "fields"),
    [
        ("qna", QnA, {"question": "질문 {n}", "answer": "답 {n}"}),
        ("templates", Template, {"title": "제목 {n}", "body": "내용 {n}"}),
    ],
)
@pytest.mark.parametrize("rows", [1, 40])
def test_a_list_costs_the_same_queries_whatever_the_number_of_entries(
    as_member, manager, center, url_name, model, fields, rows, django_assert_num_queries
):
    model.objects.bulk_create(
        model(center=center, **{key: value.format(n=n) for key, value in fields.items()}) for n in range(rows)
    )
    client = as_member(manager)

    # session, user, memberships (with their centers and users), the paginator's count, the page's entries
    with django_assert_num_queries(5):
        response = client.get(reverse(f"settings:{url_name}"), {"q": fields[next(iter(fields))][:2]})

    assert len(titles(response.content.decode())) == rows


def test_a_manager_adds_a_qna_entry(as_member, manager, center):
    client = as_member(manager)

    response = client.post(
        reverse("settings:qna-add"),
        {
            "question": "교환은 어떻게 하나요?",
            "answer": "마이페이지에서 신청하세요.",
            "keywords": "교환",
            "is_active": "on",
        },
    )

    assert response.status_code == 302 and response["Location"] == reverse("settings:qna")
    entry = QnA.objects.get(question="교환은 어떻게 하나요?")
    assert entry.center == center and entry.is_active and entry.keywords == "교환"
    assert "‘교환은 어떻게 하나요?’을(를) 저장했습니다." in client.get(reverse("settings:qna")).content.decode()


def test_a_master_edits_a_template(as_member, master, templates):
    template = Template.objects.get(title="첫 인사")

    response = as_member(master).post(
        reverse("settings:templates-edit", args=[template.pk]),
        {"title": "첫 인사", "body": "반갑습니다!", "is_active": "on"},
    )

    assert response.status_code == 302
    template.refresh_from_db()
    assert template.body == "반갑습니다!"


@pytest.mark.parametrize(
    ("url_name", "data", "field"),
    [
        ("qna-add", {"question": "", "answer": "답"}, "question"),
        ("qna-add", {"question": "질문", "answer": ""}, "answer"),
        ("qna-add", {"question": "질문" * 200, "answer": "답"}, "question"),
        ("templates-add", {"title": "", "body": "내용"}, "title"),
        ("templates-add", {"title": "제목", "body": "x" * 100_000}, "body"),
    ],
)
def test_bad_input_shows_the_error_and_saves_nothing(as_member, manager, url_name, data, field):
    response = as_member(manager).post(reverse(f"settings:{url_name}"), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in html and "저장하지 않았습니다" in html
    assert not QnA.objects.exists() and not Template.objects.exists()


def test_deactivating_keeps_the_entry_and_the_search(as_member, manager, qnas):
    entry = QnA.objects.get(question="환불은 언제 되나요?")
    client = as_member(manager)

    response = client.post(reverse("settings:qna-active", args=[entry.pk]), {"active": "0", "q": "환불", "page": "1"})

    assert response.status_code == 302 and response["Location"] == "/settings/qna/?q=%ED%99%98%EB%B6%88&page=1"
    entry.refresh_from_db()
    assert not entry.is_active
    assert "비활성화했습니다" in client.get(response["Location"]).content.decode()

    client.post(reverse("settings:qna-active", args=[entry.pk]), {"active": "1"})

    entry.refresh_from_db()
    assert entry.is_active


def test_a_get_does_not_deactivate(as_member, manager, templates):
    template = Template.objects.get(title="첫 인사")

    assert as_member(manager).get(reverse("settings:templates-active", args=[template.pk])).status_code == 405

    template.refresh_from_db()
    assert template.is_active

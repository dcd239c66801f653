"""R2: the Q&A base and the templates in the admin — masters and managers edit their own center's.

Covers consultations/admin_assist.py (QnAAdmin, TemplateAdmin).
"""

import pytest
from django.urls import reverse

from consultations.models import QnA, Template

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _url(model, action, *args):
    return reverse(f"admin:consultations_{model._meta.model_name}_{action}", args=args)


def _qna_form(center, **changes):
    data = {
        "center": str(center.pk),
        "question": "배송은 얼마나 걸리나요?",
        "answer": "보통 2~3일 걸립니다.",
        "keywords": "배송, 택배",
        "is_active": "on",
        "_save": "1",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _template_form(center, **changes):
    data = {
        "center": str(center.pk),
        "title": "첫 인사",
        "body": "안녕하세요.\n무엇을 도와드릴까요?",
        "is_active": "on",
    }
    data.update(changes, _save="1")
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def entries(center, other_center):
    """A Q&A entry and a template in alpha and in beta."""
    return {
        "alpha_qna": QnA.objects.create(center=center, question="알파 환불 규정", answer="7일 이내", keywords="환불"),
        "beta_qna": QnA.objects.create(center=other_center, question="베타 환불 규정", answer="3일 이내"),
        "alpha_template": Template.objects.create(center=center, title="알파 인사", body="안녕하세요, 알파입니다."),
        "beta_template": Template.objects.create(center=other_center, title="베타 인사", body="베타입니다."),
    }


@pytest.mark.parametrize("role", ["manager", "master"])
def test_it_lets_a_masters_and_managers_add_their_centers_qna(client, center, role, request):
    client.force_login(request.getfixturevalue(role).user)
    assert client.get(_url(QnA, "add")).status_code == 200
    response = client.post(_url(QnA, "add"), _qna_form(center))
    assert response.status_code == 302
    entry = QnA.objects.get()
    assert (entry.center, entry.question, entry.keywords, entry.is_active) == (
        center,
        "배송은 얼마나 걸리나요?",
        "배송, 택배",
        True,
    )


def test_it_lets_a_manager_edit_and_retire_a_qna(client, manager, entries, center):
    client.force_login(manager.user)
    entry = entries["alpha_qna"]
    response = client.post(
        _url(QnA, "change", entry.pk), _qna_form(center, question="환불 규정 (개정)", is_active=None)
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.question, entry.is_active) == ("환불 규정 (개정)", False)


def test_it_lets_a_manager_add_and_edit_a_template(client, manager, entries, center):
    client.force_login(manager.user)
    assert client.post(_url(Template, "add"), _template_form(center, title="마무리 인사")).status_code == 302
    assert Template.objects.filter(center=center, title="마무리 인사").exists()

    tpl = entries["alpha_template"]
    response = client.post(_url(Template, "change", tpl.pk), _template_form(center, body="바뀐 본문"))
    assert response.status_code == 302
    tpl.refresh_from_db()
    assert (tpl.title, tpl.body) == ("첫 인사", "바뀐 본문")


def test_it_lets_a_manager_delete_their_centers_entries(client, manager, entries):
    client.force_login(manager.user)
    for obj in (entries["alpha_qna"], entries["alpha_template"]):
        assert client.post(_url(type(obj), "delete", obj.pk), {"post": "yes"}).status_code == 302
    assert list(QnA.objects.values_list("question", flat=True)) == ["베타 환불 규정"]
    assert list(Template.objects.values_list("title", flat=True)) == ["베타 인사"]


def test_it_lists_the_centers_entries_only(client, manager, entries):
    client.force_login(manager.user)
    html = client.get(_url(QnA, "changelist"), **EN).content.decode()
    assert "알파 환불 규정" in html
    assert "베타 환불 규정" not in html
    assert "7일 이내" in html  # the start of the answer

    html = client.get(_url(Template, "changelist"), **EN).content.decode()
    assert "알파 인사" in html
    assert "안녕하세요, 알파입니다." in html
    assert "베타 인사" not in html


def test_it_answers_404_for_another_centers_entries(client, manager, entries, center):
    client.force_login(manager.user)
    beta_qna, beta_template = entries["beta_qna"], entries["beta_template"]
    for obj in (beta_qna, beta_template):
        assert client.get(_url(type(obj), "change", obj.pk)).status_code == 404
        assert client.get(_url(type(obj), "history", obj.pk)).status_code == 404
        assert client.post(_url(type(obj), "delete", obj.pk), {"post": "yes"}).status_code == 404
    assert client.post(_url(QnA, "change", beta_qna.pk), _qna_form(center, question="바꿈")).status_code == 404
    beta_qna.refresh_from_db()
    assert (beta_qna.question, beta_qna.center_id) == ("베타 환불 규정", entries["beta_qna"].center_id)
    assert Template.objects.filter(pk=beta_template.pk).exists()


def test_it_offers_only_the_managers_centers(client, manager, center, other_center):
    client.force_login(manager.user)
    html = client.get(_url(QnA, "add")).content.decode()
    assert f'<option value="{center.pk}" selected>' in html  # the only choice, filled in
    assert "베타 상담센터" not in html

    response = client.post(_url(QnA, "add"), _qna_form(other_center), **EN)
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    response = client.post(_url(Template, "add"), _template_form(other_center), **EN)
    assert response.status_code == 200
    assert not QnA.objects.exists()
    assert not Template.objects.exists()


def test_it_searches_and_filters(client, manager, center):
    client.force_login(manager.user)
    by_question = QnA.objects.create(center=center, question="교환 문의", answer="가능합니다.")
    by_answer = QnA.objects.create(center=center, question="반품 문의", answer="택배 기사님이 회수합니다.")
    by_keywords = QnA.objects.create(center=center, question="사이즈 문의", answer="표를 보세요.", keywords="치수")
    retired = QnA.objects.create(center=center, question="지난 이벤트", answer="끝났습니다.", is_active=False)

    for term, found in (("교환", by_question), ("택배", by_answer), ("치수", by_keywords)):
        html = client.get(_url(QnA, "changelist"), {"q": term}).content.decode()
        assert found.question in html, term
        others = {by_question, by_answer, by_keywords} - {found}
        assert not any(other.question in html for other in others), term

    html = client.get(_url(QnA, "changelist"), {"is_active__exact": "0"}).content.decode()
    assert retired.question in html
    assert by_question.question not in html

    Template.objects.create(center=center, title="환불 안내", body="환불은 7일 이내")
    Template.objects.create(center=center, title="배송 안내", body="출고 후 2일")
    html = client.get(_url(Template, "changelist"), {"q": "출고"}).content.decode()
    assert "배송 안내" in html
    assert "환불 안내" not in html


def test_it_lets_a_superuser_see_every_center(admin_client, entries):
    html = admin_client.get(_url(QnA, "changelist")).content.decode()
    assert "알파 환불 규정" in html
    assert "베타 환불 규정" in html
    assert admin_client.get(_url(Template, "change", entries["beta_template"].pk)).status_code == 200


def test_it_gives_an_agent_no_access(client, agent, entries, center):
    # Agents are not staff: the admin sends them to its login page.
    client.force_login(agent.user)
    for model in (QnA, Template):
        response = client.get(_url(model, "changelist"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    # An agent made staff by mistake still gets nothing: roles decide, not the staff flag (R2).
    agent.user.is_staff = True
    agent.user.save(update_fields=["is_staff"])
    for model, obj in ((QnA, entries["alpha_qna"]), (Template, entries["alpha_template"])):
        assert client.get(_url(model, "changelist")).status_code == 403
        assert client.get(_url(model, "add")).status_code == 403
        assert client.get(_url(model, "change", obj.pk)).status_code == 403
    assert client.post(_url(QnA, "add"), _qna_form(center, question="에이전트 질문")).status_code == 403
    assert not QnA.objects.filter(question="에이전트 질문").exists()
    html = client.get(reverse("admin:index")).content.decode()
    assert _url(QnA, "changelist") not in html


def test_it_lists_qna_and_templates_on_the_admin_index(client, manager):
    client.force_login(manager.user)
    html = client.get(reverse("admin:index")).content.decode()
    assert _url(QnA, "changelist") in html
    assert _url(Template, "changelist") in html

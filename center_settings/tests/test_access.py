"""Who may open which settings URL: each role × each URL (R2), the refusal page for the others (403)."""

import pytest
from django.urls import reverse

from consultations.models import QnA, Template

pytestmark = pytest.mark.django_db

AGENT_REFUSAL = "설정은 마스터와 매니저가 관리합니다"
MASTERS_ONLY = "마스터만 변경할 수 있습니다"


@pytest.fixture
def entries(center):
    qna = QnA.objects.create(center=center, question="환불은 언제 되나요?", answer="3일 안에 됩니다.")
    template = Template.objects.create(center=center, title="첫 인사", body="안녕하세요.")
    return qna, template


def every_get_url(master, qna, template) -> list[str]:
    return [
        reverse("settings:center"),
        reverse("settings:members"),
        reverse("settings:member-add"),
        reverse("settings:member-edit", args=[master.pk]),
        reverse("settings:qna"),
        reverse("settings:qna-add"),
        reverse("settings:qna-edit", args=[qna.pk]),
        reverse("settings:templates"),
        reverse("settings:templates-add"),
        reverse("settings:templates-edit", args=[template.pk]),
    ]


def every_post_url(master, qna, template) -> list[str]:
    lists = {reverse("settings:members"), reverse("settings:qna"), reverse("settings:templates")}  # GET only
    return [
        *(url for url in every_get_url(master, qna, template) if url not in lists),
        reverse("settings:new-secret"),
        reverse("settings:qna-active", args=[qna.pk]),
        reverse("settings:templates-active", args=[template.pk]),
    ]


def test_an_agent_gets_the_refusal_page_at_every_settings_url(as_member, agent, master, entries):
    client = as_member(agent)

    for url in every_get_url(master, *entries):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 403, url
        assert AGENT_REFUSAL in html, url
        assert 'class="topbar"' in html and 'href="/settings/"' not in html.split("</header>")[0]


def test_an_agent_changes_nothing_by_posting(as_member, agent, master, center, entries):
    client = as_member(agent)

    for url in every_post_url(master, *entries):
        assert client.post(url, {"name": "바뀐 이름", "active": "0"}).status_code == 403, url

    center.refresh_from_db()
    assert center.name == "알파 상담센터"
    assert QnA.objects.filter(is_active=True).count() == 1 and Template.objects.filter(is_active=True).count() == 1


def test_a_master_opens_every_settings_url(as_member, master, entries):
    client = as_member(master)

    for url in every_get_url(master, *entries):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("fixture", ["manager", "plain_manager"])
def test_a_manager_opens_all_but_adding_a_member(request, as_member, fixture, master, entries):
    client = as_member(request.getfixturevalue(fixture))

    for url in every_get_url(master, *entries):
        response = client.get(url)
        if url == reverse("settings:member-add"):
            assert response.status_code == 403
            assert MASTERS_ONLY in response.content.decode()
        else:
            assert response.status_code == 200, url


def test_another_centers_ids_are_not_found(as_member, master, outsider, other_center):
    theirs_qna = QnA.objects.create(center=other_center, question="베타 질문", answer="베타 답")
    theirs_template = Template.objects.create(center=other_center, title="베타 인사", body="베타")
    client = as_member(master)

    for url in (
        reverse("settings:member-edit", args=[outsider.pk]),
        reverse("settings:qna-edit", args=[theirs_qna.pk]),
        reverse("settings:templates-edit", args=[theirs_template.pk]),
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"question": "x", "answer": "x", "title": "x", "body": "x"}).status_code == 404
    for url in (
        reverse("settings:qna-active", args=[theirs_qna.pk]),
        reverse("settings:templates-active", args=[theirs_template.pk]),
    ):
        assert client.post(url, {"active": "0"}).status_code == 404

    theirs_qna.refresh_from_db()
    theirs_template.refresh_from_db()
    assert theirs_qna.is_active and theirs_template.is_active and theirs_qna.question == "베타 질문"


def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(reverse("settings:center"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_multi_center_member_acts_in_the_chosen_center(client, center, other_center, master):
    from counsel_center.tests.factories import MemberFactory

    MemberFactory(center=other_center, user=master.user, role="agent")
    client.force_login(master.user)

    client.post(reverse("choose-center"), {"center": center.pk})
    assert client.get(reverse("settings:center")).status_code == 200  # a master in 알파
    client.post(reverse("choose-center"), {"center": other_center.pk})
    assert client.get(reverse("settings:center")).status_code == 403  # an agent in 베타

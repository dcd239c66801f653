"""The 403 and 404 pages in the site's look and the member's language (templates/error_page.html).

With DEBUG off Django renders templates/404.html and 403.html; before these it
answered a bare "Not Found" / "403 Forbidden" line in English.
"""

import pytest
from django.urls import reverse

from consultations.tests.factories import ConsultationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "message", "back"),
    [
        ("ko", "없는 페이지이거나 볼 수 없는 페이지입니다.", "상담 화면으로"),
        ("en", "This page does not exist, or it is not yours to see.", "Back to the console"),
    ],
)
def test_another_centers_consultation_is_a_page_not_found_in_the_members_language(
    client, agent, other_center, language, message, back
):
    theirs = ConsultationFactory(center=other_center)
    client.force_login(agent.user)

    response = client.get(reverse("console-consultation", args=[theirs.public_id]), HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 404
    page = response.content.decode()
    assert message in page
    assert f'<a href="/">{back}</a>' in page
    assert 'href="/static/css/console.css"' in page
    assert theirs.public_id not in page  # nothing says the consultation exists elsewhere (R1)


def test_an_admin_action_the_role_does_not_allow_is_a_403_page_with_a_way_back(client, master, center):
    consultation = ConsultationFactory(center=center)
    client.force_login(master.user)

    response = client.get(
        reverse("admin:consultations_consultation_delete", args=[consultation.pk]), HTTP_ACCEPT_LANGUAGE="ko"
    )

    assert response.status_code == 403
    page = response.content.decode()
    assert "역할로는 이 페이지를 열 수 없습니다" in page
    assert '<a href="/">상담 화면으로</a>' in page
    assert "403 Forbidden" not in page

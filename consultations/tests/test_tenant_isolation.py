"""R1: every console URL that names an object of center A is a 404 for a member of center B.

The test walks the project's URL patterns, so a new pattern with an object in
its path fails here until it is listed with a way to build it for center A.
"""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from consultations.models import Attachment, Consultation, Favorite, Message, QnA, Status, Template
from consultations.tests.factories import ConsultationFactory, MessageFactory
from counsel_center.tests.urlconf import named_patterns
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

# Patterns with no object of a center in their path, and why they are out of scope here.
WITHOUT_OBJECTS = {
    "channel-events",  # addressed by slug and signed per center: test_webhook.py
    "simulator",  # by slug, for members of that center: simulator/tests/test_simulator.py
    "simulator-messages",
    "set_language",
    "login",
    "logout",
    "password_change",  # the member's own account
    "password_change_done",
    "choose-center",  # refuses a center that is not the user's: console/tests/test_console_list.py
    "console",
    "stats",  # the member's own center only: stats/tests/test_views.py
    "stats-csv",
    "blocked-customers",  # the member's own center only: customers/tests/test_blocked_page.py
    "assist-panel",
    "assist-qna",
    "assist-templates",
    "assist-favorites",
    "assist-favorite-term",
    "event-stream",  # always the member's own center, never one named in the request: console/tests/test_live_stream.py
    "live-waiting-count",  # counts the member's own consultations only: console/tests/test_console_live.py
    "live-center-state",  # the member's own center, named by nothing in the request: test_browser_live.py
    "channel-file",  # no session: a signed link naming the center, test_attachment_downloads.py
    # 설정's center-wide pages: the member's own center only (center_settings/tests/test_access.py)
    "settings:center",
    "settings:new-secret",
    "settings:members",
    "settings:member-add",
    "settings:qna",
    "settings:qna-add",
    "settings:templates",
    "settings:templates-add",
}


@pytest.fixture
def alpha_objects(center, agent):
    consultation: Consultation = ConsultationFactory(center=center, status=Status.IN_PROGRESS, assignee=agent)
    message: Message = MessageFactory(consultation=consultation, sender=Message.Sender.AGENT, author=agent)
    customer = CustomerFactory(center=center)
    template = Template.objects.create(center=center, title="배송 안내", body="배송은 2~3일 걸립니다.")
    qna = QnA.objects.create(center=center, question="배송 기간", answer="2~3일")
    favorite = Favorite.objects.create(member=agent, kind=Favorite.Kind.TEMPLATE, template=template)
    attachment = Attachment.objects.create(
        message=message, file=ContentFile(b"%PDF-1.4", name="a.pdf"), name="a.pdf", size=8, sha256="0" * 64
    )
    return {
        "attachment_id": attachment.pk,
        "public_id": consultation.public_id,
        "message_id": message.pk,
        "customer_id": customer.customer_id,
        "template_id": template.pk,
        "favorite_id": favorite.pk,
        "qna_id": qna.pk,
        "member_id": agent.pk,
    }


URL_ARGUMENTS = {
    "console-consultation": ["public_id"],
    "chat-pane": ["public_id"],
    "chat-messages": ["public_id"],
    "chat-messages-since": ["public_id"],
    "chat-read": ["public_id"],
    "chat-retry-delivery": ["public_id", "message_id"],
    "chat-assign-to-me": ["public_id"],
    "chat-change-assignee": ["public_id"],
    "chat-set-important": ["public_id"],
    "chat-set-hold": ["public_id"],
    "chat-close": ["public_id"],
    "details-pane": ["public_id"],
    "details-customer-profile": ["customer_id"],
    "details-customer-block": ["customer_id"],
    "details-customer-unblock": ["customer_id"],
    "details-customer-report-retry": ["customer_id"],
    "blocked-customers-unblock": ["customer_id"],
    "assist-template": ["template_id"],
    "assist-favorite-template": ["template_id"],
    "assist-favorite-delete": ["favorite_id"],
    "file-download": ["attachment_id"],
    "file-thumbnail": ["attachment_id"],
    "settings:member-edit": ["member_id"],
    "settings:qna-edit": ["qna_id"],
    "settings:qna-active": ["qna_id"],
    "settings:templates-edit": ["template_id"],
    "settings:templates-active": ["template_id"],
}


def test_every_url_pattern_is_covered():
    names = set(named_patterns())

    assert names - WITHOUT_OBJECTS - set(URL_ARGUMENTS) == set(), "list the new pattern in URL_ARGUMENTS"


@pytest.mark.parametrize("name", sorted(URL_ARGUMENTS))
def test_a_member_of_another_center_gets_404(client, outsider, alpha_objects, name):
    url = reverse(name, args=[alpha_objects[key] for key in URL_ARGUMENTS[name]])
    client.force_login(outsider.user)
    data = {"text": "x", "nickname": "x", "memo": "x", "reason": "abuse", "important": "1", "on_hold": "1"}

    statuses = {
        "get": client.get(url, HTTP_HX_REQUEST="true").status_code,
        "post": client.post(url, data, HTTP_HX_REQUEST="true").status_code,
    }

    # 405 where a view takes only the other method: it refuses before any lookup.
    assert set(statuses.values()) <= {404, 405}, statuses
    assert 404 in statuses.values(), statuses
    assert Message.objects.count() == 1

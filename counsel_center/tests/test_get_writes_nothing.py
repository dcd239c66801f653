"""No GET writes to the database (issue 17, item 6): a page can be reloaded, refreshed live or prefetched for free.

The test walks the project's URL patterns, as consultations/tests/test_tenant_isolation.py
does, so a new pattern fails here until it is listed with its arguments. It GETs
each one as a master and as an agent, as a page and as an htmx request, with the
query strings the console sends, and captures the SQL: no INSERT, UPDATE or
DELETE. Then the admin: every registered model's changelist, add, change,
history and delete pages, as the master and as a superuser.

What used to write is the read mark (`ReadMark`): the chat pane now posts it
(`POST consultations/<public_id>/read`, console/views/chat.py). The
session is not saved by any of these GETs either: nothing here modifies it
(`membership.choose_center`, the only code that does, takes a POST), and a
flash message shown after a redirect lives in a cookie (Django's default
message storage), not in the session table.
"""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consultations import lifecycle, thumbnails
from consultations.channel import file_links
from consultations.models import Favorite, Message, QnA, Template
from consultations.tests import files
from consultations.tests.helpers import customer_writes, incoming_file
from counsel_center.tests.factories import UserFactory
from counsel_center.tests.urlconf import named_patterns
from customers import rules as customer_rules
from customers.models import Block
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
HX = {"HTTP_HX_REQUEST": "true"}

# Each named pattern: the objects its path names (keys of the `objects` fixture), and the query strings to try.
URLS: dict[str, tuple[list[str], list[str]]] = {
    "set_language": ([], [""]),
    "login": ([], [""]),
    "logout": ([], [""]),  # GET is refused (405): logging out takes a POST
    "password_change": ([], [""]),
    "password_change_done": ([], [""]),
    "choose-center": ([], [""]),  # POST only
    "channel-events": (["slug"], [""]),  # POST only
    "channel-file": (["slug", "channel_token"], [""]),
    "simulator": (["slug"], [""]),
    "simulator-messages": (["slug"], ["", "?user_key=kakao-user-1", "?user_key=kakao-user-1&after=0&after_event=0"]),
    "console": ([], ["", "?scope=all", "?scope=all&tab=unassigned&flag=important", "?scope=all&q=배송", "?page=2"]),
    "console-consultation": (["public_id"], ["", "?scope=all&q=배송"]),
    "chat-pane": (["public_id"], [""]),
    "chat-messages": (["public_id"], ["", "?before={message_id}"]),
    "chat-messages-since": (["public_id"], ["?after=0"]),
    "chat-read": (["public_id"], [""]),  # POST only
    "chat-retry-delivery": (["public_id", "message_id"], [""]),
    "chat-assign-to-me": (["public_id"], [""]),
    "chat-change-assignee": (["public_id"], [""]),
    "chat-set-important": (["public_id"], [""]),
    "chat-set-hold": (["public_id"], [""]),
    "chat-close": (["public_id"], [""]),
    "live-waiting-count": ([], [""]),
    "live-center-state": ([], [""]),
    "event-stream": ([], [""]),  # under the test client (WSGI) it answers 204 at once
    "details-pane": (["public_id"], [""]),
    "details-customer-profile": (["customer_id"], [""]),
    "details-customer-block": (["customer_id"], [""]),
    "details-customer-unblock": (["customer_id"], [""]),
    "details-customer-report-retry": (["customer_id"], [""]),
    "assist-panel": ([], [""]),
    "assist-qna": ([], ["", "?q=배송"]),
    "assist-templates": ([], [""]),
    "assist-template": (["template_id"], [""]),
    "assist-favorites": ([], [""]),
    "assist-favorite-term": ([], [""]),
    "assist-favorite-template": (["template_id"], [""]),
    "assist-favorite-delete": (["favorite_id"], [""]),
    "file-download": (["attachment_id"], ["", "?download=1"]),
    "file-thumbnail": (["image_id"], [""]),
    "stats": ([], ["", "?tab=times"]),
    "stats-csv": ([], [""]),
    "blocked-customers": ([], ["", "?q=스팸"]),
    "blocked-customers-unblock": (["blocked_customer_id"], [""]),
    "settings:center": ([], [""]),
    "settings:new-secret": ([], [""]),  # POST only
    "settings:members": ([], [""]),
    "settings:member-add": ([], [""]),
    "settings:member-edit": (["member_id"], [""]),
    "settings:qna": ([], ["", "?q=배송"]),
    "settings:qna-add": ([], [""]),
    "settings:qna-edit": (["qna_id"], [""]),
    "settings:qna-active": (["qna_id"], [""]),  # POST only
    "settings:templates": ([], ["", "?q=배송&page=2"]),
    "settings:templates-add": ([], [""]),
    "settings:templates-edit": (["template_id"], [""]),
    "settings:templates-active": (["template_id"], [""]),  # POST only
}


@pytest.fixture
def objects(center, agent, master, settings):
    """One of everything a URL can name, in center A, reached the way the product writes it."""
    settings.SIMULATOR_ENABLED = True
    consultation = customer_writes(center, "배송 문의드립니다").consultation
    image = customer_writes(
        center, "", kind=Message.Kind.IMAGE, attachment=incoming_file("사진.png", files.png())
    ).message.attachment
    image.width, image.height = 64, 48
    image.save(update_fields=["width", "height"])
    assert thumbnails.make_thumbnail(image.pk) == "made"
    lifecycle.do_assign_to_me(consultation, actor=agent)
    guide = lifecycle.do_send_message(
        consultation, actor=agent, text="", kind=Message.Kind.FILE, attachment=incoming_file("안내.pdf", files.PDF)
    ).attachment
    template = Template.objects.create(center=center, title="배송 안내", body="배송은 2~3일 걸립니다.")
    qna = QnA.objects.create(center=center, question="배송 기간", answer="2~3일", keywords="배송")
    favorite = Favorite.objects.create(member=agent, kind=Favorite.Kind.TEMPLATE, template=template)
    spammer = CustomerFactory(center=center, user_key="spam-1", profile_nickname="스팸")
    customer_rules.do_block_customer(spammer, actor=master, reason=Block.Reason.PROMOTION)
    link = file_links.channel_link(guide, center_id=center.pk, slug=center.slug)
    return {
        "slug": center.slug,
        "channel_token": link.rstrip("/").rsplit("/", 1)[1],
        "public_id": consultation.public_id,
        "message_id": guide.message_id,
        "customer_id": consultation.customer.customer_id,
        "blocked_customer_id": spammer.customer_id,
        "template_id": template.pk,
        "qna_id": qna.pk,
        "member_id": agent.pk,
        "favorite_id": favorite.pk,
        "attachment_id": guide.pk,
        "image_id": image.pk,
    }


def writes_of(client, url: str, **extra) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code < 500, (url, response.status_code)
    return [query["sql"] for query in captured.captured_queries if query["sql"].lstrip().upper().startswith(WRITES)]


def test_every_url_pattern_is_listed():
    assert set(named_patterns()) ^ set(URLS) == set(), "list the new pattern in URLS (and remove old ones)"


@pytest.mark.parametrize("role", ["master", "agent"])
@pytest.mark.parametrize("name", sorted(URLS))
def test_a_get_writes_nothing(client, objects, request, role, name):
    member = request.getfixturevalue(role)
    client.force_login(member.user)
    keys, queries = URLS[name]
    path = reverse(name, args=[objects[key] for key in keys])

    found = {}
    for query in queries:
        url = path + query.format(**objects)
        found[url] = writes_of(client, url) + writes_of(client, url, **HX)

    assert found == {url: [] for url in found}


def test_the_site_root_writes_nothing(client, agent):
    client.force_login(agent.user)

    assert writes_of(client, "/") == []


def admin_urls(objects_by_model) -> list[str]:
    urls = [reverse("admin:index")]
    for model, _model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:app_list", args=[info[0]]))
        urls += [reverse("admin:{}_{}_changelist".format(*info)), reverse("admin:{}_{}_add".format(*info))]
        obj = objects_by_model.get(model) or model._default_manager.order_by("pk").first()
        if obj is not None:
            for view in ("change", "history", "delete"):
                urls.append(reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[obj.pk]))
    return urls


@pytest.mark.parametrize("who", ["master", "superuser"])
def test_the_admin_pages_write_nothing(client, objects, center, master, agent, who):
    user = master.user if who == "master" else UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    urls = admin_urls({type(center): center, type(master): master})

    found = {url: writes_of(client, url) for url in urls}

    assert found == {url: [] for url in urls}
    assert len(urls) > 20
    client.force_login(agent.user)  # not staff: sent to the admin's login page
    assert writes_of(client, reverse("admin:index")) == []

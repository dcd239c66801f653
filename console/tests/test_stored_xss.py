"""Issue 19, "attacks refused": stored XSS through every text a customer or a member writes.

Each entry point stores a payload tagged with its field (`payload("memo")`):
the customer's message and profile nickname through the real signed webhook,
a file name through the webhook and, unsanitised, through lifecycle; the
internal nickname and memo through the details pane's POSTs; a block's note;
templates and Q&A through the settings pages; a member's display name; a pinned
search term. Then every page and fragment that shows them is rendered: none
may hold the payload raw, and each shows the escaped form of the fields it
displays (so the text was rendered, not dropped). Attributes (data-assist-insert
carries a template body or an answer) must have their quotes escaped.
"""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils.html import escape

from consultations import lifecycle
from consultations.models import Consultation, Message, QnA, Template
from consultations.tests.channel_client import file_event, post_json, post_multipart, text_event
from counsel_center.models import Member
from customers.models import Customer

pytestmark = pytest.mark.django_db

RAW = ("<script>alert(1)</script>", "<img src=x onerror", 'href="javascript:', 'src="javascript:')


def payload(field: str) -> str:
    """A script tag, an attribute breakout, a javascript: URL and a template expression, tagged with its field."""
    return f'{field}#<script>alert(1)</script>"><img src=x onerror=alert(1)>javascript:alert(1){{{{7*7}}}}'


def shown(field: str, *, length: int | None = None) -> str:
    """How the page shows the field's text, escaped (`length`: only its start, where a page shortens it)."""
    return escape(payload(field)[:length] if length else payload(field))


HX = {"HTTP_HX_REQUEST": "true"}
# A file name as a channel sends it ("/" would be a path: the multipart encoder cuts it off).
WEBHOOK_FILE_NAME = payload("webhook-file").replace("/", "")[:80] + ".pdf"


@pytest.fixture
def written(client, center, agent, agent2, master, settings):
    """Every entry point used once, by whoever may write it; returns what the pages need to name."""
    settings.SIMULATOR_ENABLED = True
    user_key = "xss-customer"
    answer = post_json(
        client,
        center.slug,
        text_event(payload("message"), user_key=user_key, profile_nickname=payload("profile")),
        secret=center.webhook_secret,
    )
    assert answer.status_code == 200, answer.content
    consultation = Consultation.objects.get(public_id=answer.json()["consultation_id"])
    pdf = b"%PDF-1.4 xss"
    name = WEBHOOK_FILE_NAME
    event = file_event(pdf, name=name, kind="file", user_key=user_key) | {"profile_nickname": payload("profile")}
    sent = post_multipart(
        client, center.slug, event, {"file": ContentFile(pdf, name=name)}, secret=center.webhook_secret
    )
    assert sent.status_code == 200, sent.content
    # Straight through lifecycle, unsanitised: the templates must escape whatever a name holds.
    stored = default_storage.save("xss/raw.pdf", ContentFile(pdf))
    lifecycle.do_receive_customer_message(
        center,
        user_key=user_key,
        kind=Message.Kind.FILE,
        attachment=lifecycle.IncomingFile(
            stored_name=stored, name=payload("file") + ".pdf", size=len(pdf), sha256=hashlib.sha256(pdf).hexdigest()
        ),
    )
    Member.objects.filter(pk=agent2.pk).update(display_name=payload("member"))
    lifecycle.do_assign_to_me(consultation, actor=agent)
    lifecycle.do_send_message(consultation, actor=agent, text=payload("reply"))
    lifecycle.do_change_assignee(consultation, actor=master, assignee=agent2)  # the history names Bob

    client.force_login(master.user)
    customer = consultation.customer
    profile = reverse("details-customer-profile", args=[customer.customer_id])
    assert client.post(profile, {"nickname": payload("nickname")[:100]}, **HX).status_code == 200
    assert client.post(profile, {"memo": payload("memo")}, **HX).status_code == 200
    assert (
        client.post(
            reverse("settings:templates-add"), {"title": payload("title"), "body": payload("body"), "is_active": "on"}
        ).status_code
        == 302
    )
    qna = {
        "question": payload("question"),
        "answer": payload("answer"),
        "keywords": payload("keywords"),
        "is_active": "on",
    }
    assert client.post(reverse("settings:qna-add"), qna).status_code == 302
    assert client.post(reverse("assist-favorite-term"), {"term": payload("term")}, **HX).status_code == 204
    template = Template.objects.get(center=center)
    assert client.post(reverse("assist-favorite-template", args=[template.pk]), **HX).status_code == 204
    spammer = Customer.objects.create(center=center, user_key="xss-2", profile_nickname=payload("blocked"))
    block = reverse("details-customer-block", args=[spammer.customer_id])
    assert client.post(block, {"reason": "promotion", "note": payload("note")}, **HX).status_code == 200
    return {
        "consultation": consultation,
        "customer": customer,
        "template": template,
        "qna": QnA.objects.get(center=center),
        "agent2": agent2,
        "spammer": spammer,
        "slug": center.slug,
    }


# Each page: how to reach it (objects of `written`), htmx or not, and the fields it must show escaped.
PAGES = {
    "console page, consultation open": (
        lambda w: reverse("console-consultation", args=[w["consultation"].public_id]) + "?scope=all&tab=in_progress",
        False,
        ["message", "reply", "nickname", "member"],  # the details pane loads on its own: below
    ),
    "list partial": (lambda w: reverse("console") + "?scope=all&tab=in_progress", True, ["nickname"]),
    "list searched for the payload": (
        lambda w: reverse("console") + "?scope=all&tab=in_progress&q=" + payload("message")[:30],
        True,
        ["nickname"],
    ),
    "chat pane": (
        lambda w: reverse("chat-pane", args=[w["consultation"].public_id]),
        True,
        ["message", "reply", "file", "member"],
    ),
    "chat older messages": (lambda w: reverse("chat-messages", args=[w["consultation"].public_id]), True, ["message"]),
    "live: messages since": (
        lambda w: reverse("chat-messages-since", args=[w["consultation"].public_id]) + "?after=0",
        True,
        ["message", "reply", "file"],
    ),
    "details pane": (
        lambda w: reverse("details-pane", args=[w["consultation"].public_id]),
        True,
        ["nickname", "memo", "profile", "member"],
    ),
    "assist: Q&A searched for the payload": (
        lambda w: reverse("assist-qna") + "?q=" + payload("question")[:40],
        True,
        ["question", "answer"],
    ),
    "assist: templates": (lambda w: reverse("assist-templates"), True, ["title"]),
    "assist: template preview": (
        lambda w: reverse("assist-template", args=[w["template"].pk]),
        True,
        ["title", "body"],
    ),
    "assist: favorites": (lambda w: reverse("assist-favorites"), True, ["term", "title"]),
    "assist: panel with the payload as term": (
        lambda w: reverse("assist-panel") + "?q=" + payload("term"),
        False,
        ["term"],
    ),
    "blocked customers": (lambda w: reverse("blocked-customers"), False, ["blocked", "note"]),
    "blocked customers searched": (
        lambda w: reverse("blocked-customers") + "?q=" + payload("blocked")[:20],
        False,
        ["blocked"],
    ),
    "stats": (lambda w: reverse("stats"), False, []),
    "settings: templates": (lambda w: reverse("settings:templates"), False, ["title"]),
    "settings: template edit": (
        lambda w: reverse("settings:templates-edit", args=[w["template"].pk]),
        False,
        ["title", "body"],
    ),
    "settings: Q&A": (lambda w: reverse("settings:qna") + "?q=" + payload("keywords")[:25], False, ["question"]),
    "settings: Q&A edit": (
        lambda w: reverse("settings:qna-edit", args=[w["qna"].pk]),
        False,
        ["question", "answer", "keywords"],
    ),
    "settings: members": (lambda w: reverse("settings:members"), False, ["member"]),
    "settings: member edit": (lambda w: reverse("settings:member-edit", args=[w["agent2"].pk]), False, ["member"]),
    "admin: consultations": (
        lambda w: reverse("admin:consultations_consultation_changelist"),
        False,
        ["nickname"],
    ),
    "admin: consultation": (
        lambda w: reverse("admin:consultations_consultation_change", args=[w["consultation"].pk]),
        False,
        [],
    ),
    "admin: customers": (lambda w: reverse("admin:customers_customer_changelist"), False, ["nickname"]),
    "admin: customer": (
        lambda w: reverse("admin:customers_customer_change", args=[w["customer"].pk]),
        False,
        ["nickname", "memo", "profile"],
    ),
    "admin: blocks": (lambda w: reverse("admin:customers_block_changelist"), False, []),
    "admin: members": (lambda w: reverse("admin:counsel_center_member_changelist"), False, ["member"]),
    "admin: member": (
        lambda w: reverse("admin:counsel_center_member_change", args=[w["agent2"].pk]),
        False,
        ["member"],
    ),
    "admin: templates": (lambda w: reverse("admin:consultations_template_changelist"), False, ["title"]),
    "admin: template": (
        lambda w: reverse("admin:consultations_template_change", args=[w["template"].pk]),
        False,
        ["title", "body"],
    ),
    "admin: Q&A": (lambda w: reverse("admin:consultations_qna_changelist"), False, ["question"]),
    "admin: Q&A entry": (
        lambda w: reverse("admin:consultations_qna_change", args=[w["qna"].pk]),
        False,
        ["question", "answer", "keywords"],
    ),
    "admin: events": (lambda w: reverse("admin:consultations_event_changelist"), False, []),
    "simulator": (lambda w: reverse("simulator", args=[w["slug"]]), False, ["profile"]),
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_payloads_show_escaped(client, written, page):
    url, htmx, fields = PAGES[page]
    response = client.get(url(written), **(HX if htmx else {}))

    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert [raw for raw in RAW if raw.lower() in html.lower()] == [], "a payload is in the page unescaped"
    assert [field for field in fields if shown(field, length=40) not in html] == [], "shown escaped"


def test_insert_buttons_carry_the_body_in_a_quoted_attribute(client, written):
    """data-assist-insert holds a template's body or an answer: its quotes are escaped, so nothing breaks out."""
    preview = client.get(reverse("assist-template", args=[written["template"].pk]), **HX).content.decode()
    qna = client.get(reverse("assist-qna") + "?q=" + payload("question")[:40], **HX).content.decode()

    assert f'data-assist-insert="{shown("body")}"' in preview
    assert f'data-assist-insert="{shown("answer")}"' in qna
    assert "{{7*7}}" in preview and "alert(1)49" not in preview  # never evaluated as a template


def test_the_simulators_json_is_data_not_markup(client, written):
    """The simulator's poll answers JSON (the page builds its DOM with textContent, static/js/simulator.js)."""
    response = client.get(reverse("simulator-messages", args=[written["slug"]]) + "?user_key=xss-customer")

    assert response["Content-Type"] == "application/json"
    assert response.json()["customer"]["profile_nickname"] == payload("profile")
    page = client.get(reverse("simulator", args=[written["slug"]])).content.decode()
    assert "</script><script>" not in page  # json_script escapes <, > and & inside its <script> element


def test_the_webhook_keeps_a_file_names_markup_and_the_pages_escape_it(client, written):
    """file_policy.clean_name drops unprintables only: escaping on output is the defence."""
    names = set(
        Message.objects.filter(consultation=written["consultation"], attachment__isnull=False).values_list(
            "attachment__name", flat=True
        )
    )
    chat = client.get(reverse("chat-pane", args=[written["consultation"].public_id]), **HX).content.decode()

    assert WEBHOOK_FILE_NAME in names
    assert escape(WEBHOOK_FILE_NAME) in chat

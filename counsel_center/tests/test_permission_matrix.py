"""Issue 19, "attacks refused": every URL × every role, each answer written down (SPEC §1, R1, R2, R6, R9, R16a).

`MATRIX` is the table: one row per named URL pattern (walked from the URLconf,
so a new view without a row fails `test_every_url_pattern_has_a_row`, and a row
whose pattern is gone fails too), plus the Django admin's index and a few
changelists. A row names, for GET and for POST, what each of the six actors
gets, in the order of `ACTORS`:

    master   Max, 마스터 of center A
    manager  Mina, 매니저 of A with 상담 권한 (can_consult)
    mgr-     Nora, 매니저 of A without 상담 권한
    agent    Alice, 상담직원 of A
    outsider Oscar, 매니저 of center B (with 상담 권한)
    anon     nobody signed in

A cell is a status code, or one of the words below. Every cell but DONE also
checks that the database is as it was (`snapshot`): a refusal writes nothing.
Requests are plain (no htmx), as a browser without JavaScript sends them; a
POST carries `POST_DATA`, the fields the console's forms send.

Objects in a path are center A's (`objects`): Alice's consultation in
progress ("mine"), Bob's ("bob"), an unassigned one, Alice's failed message,
a PDF and an image she sent, the customer, a blocked and a reported customer,
a template, a Q&A entry, Alice's favorite. A row "name@key" uses object `key`
for the path's first argument instead of the default.
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from consultations.channel import file_links
from consultations.lifecycle import NOT_ASSIGNEE
from consultations.models import (
    Attachment,
    Consultation,
    DeliveryState,
    Event,
    Favorite,
    Message,
    QnA,
    ReadMark,
    Status,
    Template,
)
from consultations.tests.factories import ConsultationFactory, MessageFactory
from consultations.tests.helpers import db_state
from counsel_center.models import Center, Member
from counsel_center.tests.factories import MemberFactory, UserFactory
from counsel_center.tests.urlconf import named_patterns
from customers import rules as customer_rules
from customers.models import Block, Report
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ACTORS = ("master", "manager", "manager_nc", "agent", "outsider", "anon")

LOGIN = "login"  # 302 to the login page, back here after
ADMIN_LOGIN = "admin-login"  # 302 to the admin's login page
REFUSED = "refused"  # 403, the page that says which role may (member_required_for, refuse_masters_only)
DONE = "done"  # 200/204/302, and the database changed
SAID_NO = "said-no"  # 200/302, nothing changed: a refusal shown in place (or flashed after the redirect)
SKIP = None  # not tried (the admin's POSTs: test_admin_scoping.py)

ALL_405 = (405,) * 6

# fmt: off
MATRIX: dict[str, dict[str, tuple]] = {
    #                                    master    manager   mgr-      agent     outsider  anon
    # Signing in, languages, the center switch
    "login":                      {"GET": (302,     302,      302,      302,      302,      200),
                                   "POST": (302,    302,      302,      302,      302,      200)},
    "logout":                     {"GET": ALL_405,
                                   "POST": (302,    302,      302,      302,      302,      302)},
    "password_change":            {"GET": (200,     200,      200,      200,      200,      LOGIN),
                                   "POST": (SAID_NO, SAID_NO,  SAID_NO,  SAID_NO,  SAID_NO,  LOGIN)},
    "password_change_done":       {"GET": (200,     200,      200,      200,      200,      LOGIN),
                                   "POST": (405,    405,      405,      405,      405,      LOGIN)},
    "set_language":               {"GET": (302,     302,      302,      302,      302,      302),
                                   "POST": (302,    302,      302,      302,      302,      302)},
    "choose-center":              {"GET": ALL_405,
                                   "POST": (302,    302,      302,      302,      302,      LOGIN)},
    # The channel: its own signature, no session (docs/channel.md)
    "channel-events":             {"GET": ALL_405,
                                   "POST": (401,    401,      401,      401,      401,      401)},
    "channel-file":               {"GET": (200,     200,      200,      200,      200,      200),
                                   "POST": ALL_405},
    # The simulator: members of its center (404 for anyone else: it holds the webhook secret)
    "simulator":                  {"GET": (200,     200,      200,      200,      404,      LOGIN),
                                   "POST": (405,    405,      405,      405,      405,      LOGIN)},
    "simulator-messages":         {"GET": (200,     200,      200,      200,      404,      LOGIN),
                                   "POST": (405,    405,      405,      405,      405,      LOGIN)},
    # The console: lists and the open consultation
    "console":                    {"GET": (200,     200,      200,      200,      200,      LOGIN),
                                   "POST": ALL_405},
    "console-consultation":       {"GET": (200,     200,      200,      200,      404,      LOGIN),
                                   "POST": ALL_405},
    "console-consultation@bob":   {"GET": (200,     200,      200,      200,      404,      LOGIN),
                                   "POST": ALL_405},
    # Chat pane (GET without htmx goes back to the page: 302) and its actions
    "chat-pane":                  {"GET": (302,     302,      302,      302,      404,      LOGIN),
                                   "POST": ALL_405},
    "chat-messages":              {"GET": (200,     200,      200,      200,      404,      LOGIN),
                                   "POST": (SAID_NO, SAID_NO,  SAID_NO,  DONE,     404,      LOGIN)},
    "chat-messages@bob":          {"GET": (200,     200,      200,      200,      404,      LOGIN),
                                   "POST": (SAID_NO, SAID_NO,  SAID_NO,  SAID_NO,  404,      LOGIN)},
    "chat-messages-since":        {"GET": (200,     200,      200,      200,      404,      LOGIN),
                                   "POST": ALL_405},
    "chat-read":                  {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     DONE,     404,      LOGIN)},  # 204
    "chat-retry-delivery":        {"GET": ALL_405,
                                   "POST": (SAID_NO, SAID_NO,  SAID_NO,  DONE,     404,      LOGIN)},
    "chat-assign-to-me@unassigned": {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     DONE,     404,      LOGIN)},
    "chat-assign-to-me":          {"GET": ALL_405,
                                   "POST": (SAID_NO, SAID_NO,  SAID_NO,  SAID_NO,  404,      LOGIN)},
    "chat-change-assignee":       {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     DONE,     404,      LOGIN)},
    "chat-change-assignee@bob":   {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     SAID_NO,  404,      LOGIN)},
    "chat-change-assignee@unassigned": {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     SAID_NO,  404,      LOGIN)},
    "chat-set-important":         {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     DONE,     404,      LOGIN)},
    "chat-set-important@bob":     {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     DONE,     404,      LOGIN)},
    "chat-set-hold":              {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     DONE,     404,      LOGIN)},
    "chat-set-hold@bob":          {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     SAID_NO,  404,      LOGIN)},
    "chat-close":                 {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     DONE,     404,      LOGIN)},
    "chat-close@bob":             {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     SAID_NO,  404,      LOGIN)},
    # Live updates
    "live-waiting-count":         {"GET": (200,     200,      200,      200,      200,      LOGIN),
                                   "POST": ALL_405},
    "live-center-state":          {"GET": (200,     200,      200,      200,      200,      LOGIN),
                                   "POST": ALL_405},
    "event-stream":               {"GET": (204,     204,      204,      204,      204,      204),  # WSGI: 204 at once
                                   "POST": ALL_405},
    # Details pane: the customer of Alice's consultation, a blocked one, a reported one
    "details-pane":               {"GET": (200,     200,      200,      200,      404,      LOGIN),
                                   "POST": ALL_405},
    "details-customer-profile":   {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     DONE,     404,      LOGIN)},
    "details-customer-block":     {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     DONE,     404,      LOGIN)},
    "details-customer-block@bob_customer": {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     SAID_NO,  404,      LOGIN)},
    "details-customer-unblock@blocked": {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     SAID_NO,  404,      LOGIN)},
    "details-customer-report-retry@reported": {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     SAID_NO,  404,      LOGIN)},
    # Assist panel: Q&A, templates, the member's own favorites
    "assist-panel":               {"GET": (200,     200,      200,      200,      200,      LOGIN),
                                   "POST": ALL_405},
    "assist-qna":                 {"GET": (200,     200,      200,      200,      200,      LOGIN),
                                   "POST": ALL_405},
    "assist-templates":           {"GET": (200,     200,      200,      200,      200,      LOGIN),
                                   "POST": ALL_405},
    "assist-template":            {"GET": (200,     200,      200,      200,      404,      LOGIN),
                                   "POST": ALL_405},
    "assist-favorites":           {"GET": (200,     200,      200,      200,      200,      LOGIN),
                                   "POST": ALL_405},
    "assist-favorite-term":       {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     DONE,     DONE,     LOGIN)},
    "assist-favorite-template":   {"GET": ALL_405,  # Alice pinned it already: a second pin is no new row
                                   "POST": (DONE,   DONE,     DONE,     SAID_NO,  404,      LOGIN)},
    "assist-favorite-delete":     {"GET": ALL_405,
                                   "POST": (404,    404,      404,      DONE,     404,      LOGIN)},
    # Files (R15): members of the file's center
    "file-download":              {"GET": (200,     200,      200,      200,      404,      LOGIN),
                                   "POST": ALL_405},
    "file-thumbnail@image":       {"GET": (200,     200,      200,      200,      404,      LOGIN),
                                   "POST": ALL_405},
    # 통계: masters, and managers with 상담 권한 (SPEC §6); the outsider sees B's own
    "stats":                      {"GET": (200,     200,      REFUSED,  REFUSED,  200,      LOGIN),
                                   "POST": ALL_405},
    "stats-csv":                  {"GET": (200,     200,      REFUSED,  REFUSED,  200,      LOGIN),
                                   "POST": ALL_405},
    # 차단고객관리: masters and managers (R16a, R17)
    "blocked-customers":          {"GET": (200,     200,      200,      REFUSED,  200,      LOGIN),
                                   "POST": ALL_405},
    "blocked-customers-unblock@blocked": {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     REFUSED,  404,      LOGIN)},
    # 설정: masters change the center and members, managers look; both edit Q&A and templates (R2)
    "settings:center":            {"GET": (200,     200,      200,      REFUSED,  200,      LOGIN),
                                   "POST": (DONE,   REFUSED,  REFUSED,  REFUSED,  REFUSED,  LOGIN)},
    "settings:new-secret":        {"GET": ALL_405,
                                   "POST": (DONE,   REFUSED,  REFUSED,  REFUSED,  REFUSED,  LOGIN)},
    "settings:members":           {"GET": (200,     200,      200,      REFUSED,  200,      LOGIN),
                                   "POST": ALL_405},
    "settings:member-add":        {"GET": (200,     REFUSED,  REFUSED,  REFUSED,  REFUSED,  LOGIN),
                                   "POST": (DONE,   REFUSED,  REFUSED,  REFUSED,  REFUSED,  LOGIN)},
    "settings:member-edit":       {"GET": (200,     200,      200,      REFUSED,  404,      LOGIN),
                                   "POST": (DONE,   REFUSED,  REFUSED,  REFUSED,  404,      LOGIN)},
    "settings:qna":               {"GET": (200,     200,      200,      REFUSED,  200,      LOGIN),
                                   "POST": ALL_405},
    # The outsider's additions go to center B (test_an_outsiders_addition_is_their_own_centers)
    "settings:qna-add":           {"GET": (200,     200,      200,      REFUSED,  200,      LOGIN),
                                   "POST": (DONE,   DONE,     DONE,     REFUSED,  DONE,     LOGIN)},
    "settings:qna-edit":          {"GET": (200,     200,      200,      REFUSED,  404,      LOGIN),
                                   "POST": (DONE,   DONE,     DONE,     REFUSED,  404,      LOGIN)},
    "settings:qna-active":        {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     REFUSED,  404,      LOGIN)},
    "settings:templates":         {"GET": (200,     200,      200,      REFUSED,  200,      LOGIN),
                                   "POST": ALL_405},
    "settings:templates-add":     {"GET": (200,     200,      200,      REFUSED,  200,      LOGIN),
                                   "POST": (DONE,   DONE,     DONE,     REFUSED,  DONE,     LOGIN)},
    "settings:templates-edit":    {"GET": (200,     200,      200,      REFUSED,  404,      LOGIN),
                                   "POST": (DONE,   DONE,     DONE,     REFUSED,  404,      LOGIN)},
    "settings:templates-active":  {"GET": ALL_405,
                                   "POST": (DONE,   DONE,     DONE,     REFUSED,  404,      LOGIN)},
    # The Django admin: masters and managers, scoped to their center (test_admin_scoping.py); agents are not staff
    "admin:index":                {"GET": (200,     200,      200,      ADMIN_LOGIN, 200,   ADMIN_LOGIN),
                                   "POST": SKIP},
    "admin:consultations_consultation_changelist":
                                  {"GET": (200,     200,      200,      ADMIN_LOGIN, 200,   ADMIN_LOGIN), "POST": SKIP},
    "admin:customers_customer_changelist":
                                  {"GET": (200,     200,      200,      ADMIN_LOGIN, 200,   ADMIN_LOGIN), "POST": SKIP},
    "admin:counsel_center_member_changelist":
                                  {"GET": (200,     200,      200,      ADMIN_LOGIN, 200,   ADMIN_LOGIN), "POST": SKIP},
    "admin:consultations_template_changelist":
                                  {"GET": (200,     200,      200,      ADMIN_LOGIN, 200,   ADMIN_LOGIN), "POST": SKIP},
    "admin:consultations_qna_changelist":
                                  {"GET": (200,     200,      200,      ADMIN_LOGIN, 200,   ADMIN_LOGIN), "POST": SKIP},
}
# fmt: on

# The objects each pattern's path names, by default (keys of `objects`).
ARGS: dict[str, list[str]] = {
    "channel-events": ["slug"],
    "channel-file": ["slug", "token"],
    "simulator": ["slug"],
    "simulator-messages": ["slug"],
    "console-consultation": ["mine"],
    "chat-pane": ["mine"],
    "chat-messages": ["mine"],
    "chat-messages-since": ["mine"],
    "chat-read": ["mine"],
    "chat-retry-delivery": ["mine", "failed_message"],
    "chat-assign-to-me": ["mine"],
    "chat-change-assignee": ["mine"],
    "chat-set-important": ["mine"],
    "chat-set-hold": ["mine"],
    "chat-close": ["mine"],
    "details-pane": ["mine"],
    "details-customer-profile": ["customer"],
    "details-customer-block": ["customer"],
    "details-customer-unblock": ["customer"],
    "details-customer-report-retry": ["customer"],
    "assist-template": ["template"],
    "assist-favorite-template": ["template"],
    "assist-favorite-delete": ["favorite"],
    "file-download": ["file"],
    "file-thumbnail": ["file"],
    "blocked-customers-unblock": ["customer"],
    "settings:member-edit": ["agent_member"],
    "settings:qna-edit": ["qna"],
    "settings:qna-active": ["qna"],
    "settings:templates-edit": ["template"],
    "settings:templates-active": ["template"],
}


def split(row: str) -> tuple[str, str | None]:
    name, _, variant = row.partition("@")
    return name, variant or None


def test_every_url_pattern_has_a_row():
    rows = {split(row)[0] for row in MATRIX}
    project = set(named_patterns())
    everything = set(named_patterns(admin=True))

    assert project - rows == set(), "a pattern without a row in MATRIX: write what each role gets"
    assert rows - everything == set(), "a row of MATRIX names a pattern that no longer exists"
    assert all(len(cells) == len(ACTORS) for row in MATRIX.values() for cells in row.values() if cells), "6 cells"


# --- the objects of center A, and the cast ------------------------------------------------------------


@pytest.fixture
def cast(center, agent, agent2, manager, master, outsider):
    nora = MemberFactory(
        center=center, user=UserFactory(username="nora", is_staff=True), role=Member.Role.MANAGER, can_consult=False
    )
    return {"master": master, "manager": manager, "manager_nc": nora, "agent": agent, "outsider": outsider}


@pytest.fixture
def objects(center, cast, agent, agent2, master, settings):
    """Center A's objects, built straight (set-up only), once per row; each actor's request is rolled back."""
    settings.SIMULATOR_ENABLED = True
    Center.objects.filter(pk=center.pk).update(outbound_url="http://127.0.0.1:9/channel")  # a retry has somewhere to go
    center.refresh_from_db()
    mine = ConsultationFactory(center=center, status=Status.IN_PROGRESS, assignee=agent)
    MessageFactory(consultation=mine, text="배송 문의드립니다")
    failed = MessageFactory(
        consultation=mine,
        sender=Message.Sender.AGENT,
        author=agent,
        text="안내드립니다",
        delivery_state=DeliveryState.FAILED,
    )
    pdf = MessageFactory(consultation=mine, sender=Message.Sender.AGENT, author=agent, kind=Message.Kind.FILE, text="")
    file = Attachment.objects.create(
        message=pdf, file=ContentFile(b"%PDF-1.4", name="a.pdf"), name="a.pdf", size=8, sha256="0" * 64
    )
    photo = MessageFactory(consultation=mine, kind=Message.Kind.IMAGE, text="")
    image = Attachment.objects.create(
        message=photo,
        file=ContentFile(b"png", name="p.png"),
        name="p.png",
        size=3,
        sha256="1" * 64,
        content_type="image/png",
        width=4,
        height=4,
        thumbnail=ContentFile(b"png", name="t.png"),
    )
    Consultation.objects.filter(pk=mine.pk).update(last_message=photo)
    bob = ConsultationFactory(center=center, status=Status.IN_PROGRESS, assignee=agent2)
    unassigned = ConsultationFactory(center=center)
    template = Template.objects.create(center=center, title="배송 안내", body="배송은 2~3일 걸립니다.")
    qna = QnA.objects.create(center=center, question="배송 기간", answer="2~3일", keywords="배송")
    favorite = Favorite.objects.create(member=agent, kind=Favorite.Kind.TEMPLATE, template=template)
    blocked = CustomerFactory(center=center, profile_nickname="스팸")
    customer_rules.do_block_customer(blocked, actor=master, reason=Block.Reason.PROMOTION)
    reported = CustomerFactory(center=center, profile_nickname="도박꾼")
    customer_rules.do_block_customer(reported, actor=master, reason=Block.Reason.GAMBLING, report=True)
    Report.objects.filter(block__customer=reported).update(delivery_state=Report.State.FAILED)
    return {
        "slug": center.slug,
        "token": file_links.channel_link(file, center_id=center.pk, slug=center.slug).rstrip("/").rsplit("/", 1)[1],
        "mine": mine.public_id,
        "bob": bob.public_id,
        "unassigned": unassigned.public_id,
        "failed_message": failed.pk,
        "file": file.pk,
        "image": image.pk,
        "customer": mine.customer.customer_id,
        "bob_customer": bob.customer.customer_id,
        "blocked": blocked.customer_id,
        "reported": reported.customer_id,
        "template": template.pk,
        "qna": qna.pk,
        "favorite": favorite.pk,
        "agent_member": agent.pk,
        # Form fields the console and the settings pages post
        "post": {
            "text": "안녕하세요",
            "upto": str(failed.pk),
            "assignee": str(agent2.pk),
            "important": "1",
            "on_hold": "1",
            "nickname": "단골",
            "memo": "메모",
            "reason": "abuse",
            "term": "배송",
            "active": "0",
            "center": str(center.pk),
        },
    }


# Fields of the forms that need more than the console's common ones, per pattern.
POST_DATA: dict[str, dict[str, str]] = {
    "settings:center": {
        "name": "알파 센터",
        "is_operating": "True",
        "concurrent_limit": "4",
        "idle_close_minutes": "10",
        "time_zone": "Asia/Seoul",
        "outbound_url": "",
    },
    "settings:member-add": {
        "username": "newbie",
        "display_name": "Newbie",
        "password1": "a-long-enough-pass-83",
        "password2": "a-long-enough-pass-83",
        "role": "agent",
    },
    "settings:member-edit": {"display_name": "Alice B", "role": "agent", "is_active": "on"},
    # The outsider's additions go to center B (test_an_outsiders_addition_is_their_own_centers)
    "settings:qna-add": {"question": "환불", "answer": "7일 이내", "keywords": "환불", "is_active": "on"},
    "settings:qna-edit": {"question": "배송 기간?", "answer": "2~3일", "keywords": "배송", "is_active": "on"},
    "settings:templates-add": {"title": "인사", "body": "안녕하세요", "is_active": "on"},
    "settings:templates-edit": {"title": "배송 안내!", "body": "배송은 2~3일", "is_active": "on"},
    "login": {"username": "nobody", "password": "wrong"},
    "channel-events": {},
}


def snapshot() -> dict:
    """Everything an action in the matrix may write: the lifecycle's rows and the settings' ones."""
    return db_state() | {
        "read_marks": list(ReadMark.objects.order_by("pk").values_list("pk", "last_read_message_id")),
        "delivery": list(Message.objects.order_by("pk").values_list("pk", "delivery_state")),
        "reports": list(Report.objects.order_by("pk").values_list("pk", "delivery_state")),
        "favorites": list(Favorite.objects.order_by("pk").values_list("pk", "kind", "term", "template_id")),
        "templates": list(Template.objects.order_by("pk").values_list("pk", "title", "body", "is_active")),
        "qnas": list(QnA.objects.order_by("pk").values_list("pk", "question", "answer", "is_active")),
        "members": list(Member.objects.order_by("pk").values_list("pk", "display_name", "role", "is_active")),
        "centers": list(
            Center.objects.order_by("pk").values_list(
                "pk", "name", "webhook_secret", "concurrent_limit", "outbound_url"
            )
        ),
    }


REFUSAL_PAGES = {"center_settings/not_available.html", "customers/not_available.html", "stats/not_available.html"}


def check(response, expected, *, changed: bool) -> str | None:
    """What is wrong with the answer, or None."""
    status = response.status_code
    got = f"{status} {response.get('Location', '')}".strip()
    if expected == DONE:
        if status not in (200, 204, 302) or not changed:
            return f"{got}, {'a change' if changed else 'no change'}"
        return None
    if changed:
        return f"{got}, and it wrote to the database"
    if expected == LOGIN:
        ok = status == 302 and response["Location"].startswith(reverse("login") + "?next=")
    elif expected == ADMIN_LOGIN:
        ok = status == 302 and response["Location"].startswith(reverse("admin:login"))
    elif expected == REFUSED:
        ok = status == 403 and bool({t.name for t in response.templates} & REFUSAL_PAGES)
    elif expected == SAID_NO:
        ok = status in (200, 302)
    else:
        ok = status == expected
    return None if ok else got


@pytest.mark.parametrize(("row", "method"), [(row, m) for row, cells in MATRIX.items() for m in cells if cells[m]])
def test_matrix(client, cast, objects, row, method):
    """One row, one method: each of the six actors in turn, each in a savepoint rolled back after it."""
    name, variant = split(row)
    keys = ARGS.get(name, [])
    if variant:
        keys = [variant, *keys[1:]]
    url = reverse(name, args=[objects[key] for key in keys])
    data = POST_DATA.get(name, objects["post"])
    if name == "chat-change-assignee" and variant == "bob":
        data = {**data, "assignee": str(cast["agent"].pk)}

    wrong = {}
    for actor, expected in zip(ACTORS, MATRIX[row][method], strict=True):
        with transaction.atomic():
            client.logout()
            if actor != "anon":
                client.force_login(cast[actor].user)
            before = snapshot()
            response = client.get(url) if method == "GET" else client.post(url, data)
            problem = check(response, expected, changed=snapshot() != before)
            if problem:
                wrong[actor] = f"expected {expected!r}, got {problem}"
            transaction.set_rollback(True)

    assert wrong == {}, f"{method} {url}"


def test_an_outsiders_addition_is_their_own_centers(client, cast, objects, other_center):
    client.force_login(cast["outsider"].user)

    client.post(reverse("settings:qna-add"), POST_DATA["settings:qna-add"])
    client.post(reverse("assist-favorite-term"), {"term": "배송"})

    assert QnA.objects.get(question="환불").center == other_center
    assert Favorite.objects.get(term="배송").member == cast["outsider"]


def test_a_refused_close_leaves_the_consultation_and_its_events(client, cast, objects):
    """The representative refusal, spelled out: Alice closing Bob's consultation (R9.3)."""
    bob = Consultation.objects.get(public_id=objects["bob"])
    events = Event.objects.count()
    client.force_login(cast["agent"].user)

    response = client.post(reverse("chat-close", args=[bob.public_id]), follow=True)

    bob.refresh_from_db()
    assert bob.status == Status.IN_PROGRESS and bob.closed_at is None
    assert Event.objects.count() == events
    with translation.override("ko"):  # the console's default language
        assert str(NOT_ASSIGNEE.message) in response.content.decode()

"""The console's chat pane (채팅): the conversation, older pages, the composer and its R8 refusals (SPEC §3)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from consultations import file_policy, lifecycle
from consultations.models import DeliveryState, Message, ReadMark, Status
from consultations.tests.factories import ConsultationFactory, MessageFactory
from consultations.tests.helpers import T0, consultation_in, customer_writes, fill, in_progress_with, incoming_file
from counsel_center import clock
from customers import rules as customer_rules

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
NOT_SENDABLE = "Messages can be sent only while the consultation is waiting or in progress."
NOT_MINE = "You can send messages only in consultations assigned to you."
ON_HOLD = "This consultation is on hold; release the hold to send messages."
CENTER_STOPPED = "The center is stopped (운영 중지); sending is paused."


@pytest.fixture
def alice(client, agent):
    client.force_login(agent.user)
    return client


def pane_url(consultation) -> str:
    return reverse("chat-pane", args=[consultation.public_id])


def messages_url(consultation) -> str:
    return reverse("chat-messages", args=[consultation.public_id])


def get_pane(client, consultation, **extra) -> str:
    response = client.get(pane_url(consultation), **HX, **EN, **extra)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    return html


def send(client, consultation, text, **extra):
    return client.post(messages_url(consultation), {"text": text}, **HX, **EN, **extra)


def message_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="message-(\d+)"', html)]


def composer_of(html: str) -> str:
    return html[html.index('<form class="composer"') :]


def bulk_messages(consultation, count: int, *, start=T0) -> list[Message]:
    """`count` customer messages, one a second from `start` (set-up only)."""
    rows = [
        Message(
            consultation=consultation,
            sender=Message.Sender.CUSTOMER,
            text=f"메시지 {i}",
            created_at=start + timedelta(seconds=i),
        )
        for i in range(1, count + 1)
    ]
    created = Message.objects.bulk_create(rows)
    consultation.last_message = created[-1]
    consultation.save(update_fields=["last_message"])
    return created


# --- access -------------------------------------------------------------------------------


def _every_url(consultation, message_id: int) -> list[tuple[str, str]]:
    args = [consultation.public_id]
    return [
        ("get", reverse("chat-pane", args=args)),
        ("get", reverse("chat-messages", args=args) + f"?before={message_id}"),
        ("post", reverse("chat-messages", args=args)),
        ("post", reverse("chat-read", args=args)),
        ("post", reverse("chat-retry-delivery", args=[*args, message_id])),
        ("post", reverse("chat-assign-to-me", args=args)),
        ("post", reverse("chat-change-assignee", args=args)),
        ("post", reverse("chat-set-important", args=args)),
        ("post", reverse("chat-set-hold", args=args)),
        ("post", reverse("chat-close", args=args)),
    ]


def test_it_asks_anonymous_visitors_to_log_in_on_every_chat_url(client, make_consultation):
    consultation = make_consultation()
    message = MessageFactory(consultation=consultation)
    login = reverse("login")

    for method, url in _every_url(consultation, message.pk):
        data = {"text": "x"} if method == "post" else None
        plain = getattr(client, method)(url, data)
        assert plain.status_code == 302 and plain.url.startswith(login), url
        htmx = getattr(client, method)(url, data, **HX)  # told to load the login page, not to swap it in
        assert htmx.status_code == 204 and htmx["HX-Redirect"].startswith(login), url
    assert consultation.messages.count() == 1


def test_another_centers_consultation_is_a_404_on_every_chat_url(alice, other_center, outsider):
    foreign = ConsultationFactory(center=other_center, status=Status.WAITING, assignee=outsider)
    message = MessageFactory(consultation=foreign)

    for method, url in _every_url(foreign, message.pk):
        data = {"text": "x", "important": "1", "on_hold": "1", "assignee": str(outsider.pk)}
        response = getattr(alice, method)(url, data if method == "post" else None, **HX)
        assert response.status_code == 404, url
    foreign.refresh_from_db()
    assert (foreign.status, foreign.is_important, foreign.messages.count()) == (Status.WAITING, False, 1)


def test_a_message_of_another_consultation_is_a_404(alice, agent, make_consultation):
    mine = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    other = MessageFactory(consultation=make_consultation(), sender=Message.Sender.AGENT, author=agent)

    assert alice.get(messages_url(mine), {"before": other.pk}, **HX).status_code == 404
    assert alice.post(reverse("chat-retry-delivery", args=[mine.public_id, other.pk]), **HX).status_code == 404
    assert alice.get(messages_url(mine), {"before": "abc"}, **HX).status_code == 404
    assert alice.get(messages_url(mine), {"before": "9" * 40}, **HX).status_code == 404


def test_the_message_url_takes_only_get_and_post(alice, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    assert alice.put(messages_url(consultation)).status_code == 405
    assert alice.post(pane_url(consultation)).status_code == 405


# --- the pane -------------------------------------------------------------------------------


def test_an_htmx_request_gets_the_pane_alone(alice, center, agent, customer):
    consultation = in_progress_with(center, agent)

    html = get_pane(alice, consultation)

    assert html.lstrip().startswith('<div id="chat"')
    assert "김민지" in html  # the customer's display name
    assert "In progress" in html
    assert "Assignee: Alice" in html
    assert 'aria-live="polite"' in html


def test_without_htmx_the_pane_url_goes_to_the_console_page(alice, center, agent):
    consultation = in_progress_with(center, agent)

    response = alice.get(pane_url(consultation), {"scope": "all", "tab": "closed"})

    assert response.status_code == 302
    assert response.url == reverse("console-consultation", args=[consultation.public_id]) + "?scope=all&tab=closed"


def test_it_shows_flags_and_the_back_link_keeps_the_list_state(alice, center, agent):
    consultation = in_progress_with(center, agent)
    lifecycle.do_set_important(consultation, actor=agent, important=True)
    lifecycle.do_set_hold(consultation, actor=agent, on_hold=True)

    html = get_pane(alice, consultation, data={"scope": "all", "q": "김"})

    header = html[: html.index("</header>")]
    assert "Important" in header and "On hold" in header
    assert f'href="{reverse("console")}?scope=all&amp;q=%EA%B9%80"' in html


def test_messages_show_oldest_first_with_sender_sides_and_the_agent_name(alice, center, agent):
    consultation = in_progress_with(center, agent)
    with clock.frozen_at(T0 + timedelta(minutes=1)):
        customer_writes(center, "감사합니다")

    html = get_pane(alice, consultation)

    first, answer, thanks = (html.index(t) for t in ("문의드립니다", "안녕하세요, 상담원입니다.", "감사합니다"))
    assert first < answer < thanks
    assert html.count('class="msg msg-customer"') == 2
    assert html.count('class="msg msg-agent"') == 1
    agent_bubble = html[html.index('class="msg msg-agent"') :]
    assert '<span class="msg-author">Alice</span>' in agent_bubble[: agent_bubble.index("</li>")]
    assert "10:00" in html  # times in the center's time zone (T0 is 10:00 in Seoul)


def test_every_transition_shows_as_a_system_line_in_time_order(alice, center, agent, agent2, manager):
    with clock.frozen_at(T0):
        consultation = customer_writes(center, "문의드립니다").consultation
    steps = [
        lambda: lifecycle.do_assign_to_me(consultation, actor=agent),
        lambda: lifecycle.do_change_assignee(consultation, actor=manager, assignee=agent2),
        lambda: lifecycle.do_send_message(consultation, actor=agent2, text="안녕하세요"),
        lambda: lifecycle.do_set_important(consultation, actor=manager, important=True),
        lambda: lifecycle.do_set_hold(consultation, actor=agent2, on_hold=True),
        lambda: lifecycle.do_set_hold(consultation, actor=agent2, on_hold=False),
        lambda: lifecycle.do_set_important(consultation, actor=manager, important=False),
        lambda: lifecycle.do_close(consultation, actor=agent2),
    ]
    for minute, step in enumerate(steps, start=1):
        with clock.frozen_at(T0 + timedelta(minutes=minute)):
            step()

    html = get_pane(alice, consultation)

    lines = re.findall(r'<li class="msg-system"[^>]*>\s*<span>([^<]*)</span>', html)
    assert lines == [
        "The customer opened the consultation.",
        "Alice took the consultation.",
        "Mina changed the assignee from Alice to Bob.",
        "The consultation started.",
        "Mina marked the consultation important.",
        "Bob put the consultation on hold.",
        "Bob released the hold.",
        "Mina removed the important mark.",
        "Bob closed the consultation (Closed by a member).",
    ]
    assert html.index("문의드립니다") > html.index("The customer opened")
    assert html.index("The consultation started.") < html.index("안녕하세요") < html.index("Mina marked")


def test_a_close_by_the_customer_shows_its_reason_after_the_message(alice, center, agent):
    consultation = in_progress_with(center, agent)
    with clock.frozen_at(T0 + timedelta(minutes=2)):
        customer_writes(center, "!종료")

    html = get_pane(alice, consultation)

    assert html.index("!종료") < html.index("The consultation closed (The customer sent !종료).")


def test_a_block_shows_why_the_consultation_closed(alice, center, agent, customer):
    consultation = in_progress_with(center, agent)
    with clock.frozen_at(T0 + timedelta(minutes=3)):
        customer_rules.do_block_customer(customer, actor=agent, reason="abuse")

    html = get_pane(alice, consultation)

    blocked = html.index("The customer was blocked (Abuse (욕설)).")
    assert blocked < html.index("Alice closed the consultation (The customer was blocked).")


def test_it_escapes_message_text_and_keeps_line_breaks(alice, center, agent):
    consultation = in_progress_with(center, agent)
    customer_writes(center, '<script>alert(1)</script>\n<img src=x onerror="alert(2)">')

    html = get_pane(alice, consultation)

    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html


def test_a_customer_nickname_with_html_is_escaped_too(alice, center, agent, customer):
    customer.nickname = "<b>VIP</b>"
    customer.save()
    consultation = consultation_in(
        ConsultationFactory, Status.WAITING, assignee=agent, center=center, customer=customer
    )

    html = get_pane(alice, consultation)

    assert "<b>VIP</b>" not in html and "&lt;b&gt;VIP&lt;/b&gt;" in html


def test_files_show_as_chips_with_name_and_size_and_audio_says_where_it_plays(alice, center, agent):
    consultation = in_progress_with(center, agent)
    customer_writes(center, "", kind=Message.Kind.IMAGE, attachment=incoming_file("사진.png", b"x" * 2048))
    customer_writes(center, "", kind=Message.Kind.AUDIO, attachment=incoming_file("voice.m4a", b"y" * 10))
    customer_writes(center, "", kind=Message.Kind.FILE, attachment=incoming_file("견적서.pdf", b"z" * 3_000_000))

    html = get_pane(alice, consultation)

    assert "사진.png" in html and "2.0\xa0KB" in html
    assert "voice.m4a" in html and "10\xa0bytes" in html
    assert "견적서.pdf" in html and "2.9\xa0MB" in html
    assert "Audio plays in mobile KakaoTalk only." in html
    assert "<img" not in html  # thumbnails come with the attachments issue's download view


def test_agent_messages_show_their_delivery_state_and_mine_can_be_sent_again(
    alice, center, agent, agent2, make_consultation
):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    states = [DeliveryState.PENDING, DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.LOCAL]
    mine = [
        MessageFactory(consultation=consultation, sender=Message.Sender.AGENT, author=agent, delivery_state=s)
        for s in states
    ]
    theirs = MessageFactory(
        consultation=consultation, sender=Message.Sender.AGENT, author=agent2, delivery_state=DeliveryState.FAILED
    )

    html = get_pane(alice, consultation)

    for label in ("Sending", "Sent", "Failed", "In the simulator"):
        assert f">{label}</span>" in html
    assert html.count("Send again") == 1
    assert reverse("chat-retry-delivery", args=[consultation.public_id, mine[2].pk]) in html
    assert reverse("chat-retry-delivery", args=[consultation.public_id, theirs.pk]) not in html


def test_the_author_sends_a_failed_message_again(alice, center, agent, make_consultation):
    center.outbound_url = "https://channel.example/outbound"
    center.save()
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    failed = MessageFactory(
        consultation=consultation, sender=Message.Sender.AGENT, author=agent, delivery_state=DeliveryState.FAILED
    )

    response = alice.post(reverse("chat-retry-delivery", args=[consultation.public_id, failed.pk]), **HX, **EN)

    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"consultation-changed": {}}'
    failed.refresh_from_db()
    assert failed.delivery_state == DeliveryState.PENDING
    assert ">Sending</span>" in response.content.decode()


def test_someone_elses_failed_message_is_refused_in_place(alice, center, agent, agent2, make_consultation):
    center.outbound_url = "https://channel.example/outbound"
    center.save()
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    failed = MessageFactory(
        consultation=consultation, sender=Message.Sender.AGENT, author=agent2, delivery_state=DeliveryState.FAILED
    )

    response = alice.post(reverse("chat-retry-delivery", args=[consultation.public_id, failed.pk]), **HX, **EN)

    assert response.status_code == 200
    assert "Only the member who sent a message can retry it." in response.content.decode()
    assert not response.has_header("HX-Trigger")
    failed.refresh_from_db()
    assert failed.delivery_state == DeliveryState.FAILED


# --- pages of messages ----------------------------------------------------------------------------


def test_the_pane_shows_the_newest_50_and_older_pages_load_before_an_id(alice, center, agent):
    consultation = in_progress_with(center, agent)  # 2 messages at T0, with their events
    bulk = bulk_messages(consultation, 118)  # 120 in all
    all_ids = list(consultation.messages.order_by("id").values_list("pk", flat=True))

    html = get_pane(alice, consultation)
    assert message_ids(html) == all_ids[-50:]
    assert f"?before={all_ids[-50]}" in html
    assert "The customer opened the consultation." not in html

    older = alice.get(messages_url(consultation), {"before": all_ids[-50]}, **HX, **EN).content.decode()
    assert "<html" not in older and 'id="chat"' not in older
    assert message_ids(older) == all_ids[-100:-50]
    assert f"?before={all_ids[-100]}" in older

    oldest = alice.get(messages_url(consultation), {"before": all_ids[-100]}, **HX, **EN).content.decode()
    assert message_ids(oldest) == all_ids[:20]
    assert "?before=" not in oldest
    assert "The beginning of the conversation" in oldest
    # The events of the first minutes show once, on the page of their time.
    for line in ("The customer opened the consultation.", "Alice took the consultation.", "The consultation started."):
        assert (html + older + oldest).count(line) == 1
        assert line in oldest
    assert bulk[0].pk in message_ids(oldest)


def test_the_older_page_keeps_a_button_for_keyboard_and_a_trigger_for_scrolling(alice, center, agent):
    consultation = in_progress_with(center, agent)
    bulk_messages(consultation, 60)

    html = get_pane(alice, consultation)

    button = html[html.index('<li class="chat-older">') :]
    button = button[: button.index("</li>")]
    assert "<button" in button and 'hx-trigger="click, load-older"' in button and "data-load-older" in button


@pytest.mark.parametrize("count", [5, 1000])
def test_the_pane_costs_the_same_queries_for_5_or_1000_messages(
    alice, center, agent, django_assert_max_num_queries, count
):
    consultation = in_progress_with(center, agent)
    bulk_messages(consultation, count)

    # 1 session, 2 user, 3 memberships (+ center, user), 4 the consultation (+ center, customer, assignee,
    # closed_by), 5 a page of messages (+ author, attachment), 6 the page's events, 7 the members they name
    # (none when no event falls in the page), 8 the assignee choices with their counts. No write: a GET.
    with django_assert_max_num_queries(8):
        html = get_pane(alice, consultation)

    assert len(message_ids(html)) == min(count + 2, 50)


@pytest.mark.parametrize("count", [5, 1000])
def test_an_older_page_costs_the_same_queries_for_5_or_1000_messages(
    alice, center, agent, django_assert_max_num_queries, count
):
    consultation = in_progress_with(center, agent)
    last = bulk_messages(consultation, count)[-1]

    # 1 session, 2 user, 3 memberships, 4 the consultation, 5 the `before` message, 6 a page of messages
    # (+ author, attachment), 7 the page's events, 8 the members they name (none when no event falls in the page)
    with django_assert_max_num_queries(8):
        response = alice.get(messages_url(consultation), {"before": last.pk}, **HX)

    assert len(message_ids(response.content.decode())) == min(count + 1, 50)


def read_url(consultation) -> str:
    return reverse("chat-read", args=[consultation.public_id])


def test_the_pane_posts_its_read_mark_once_shown_and_its_get_writes_none(alice, center, agent):
    consultation = in_progress_with(center, agent)

    html = get_pane(alice, consultation)

    assert not ReadMark.objects.exists()
    marker = html[html.index(f'hx-post="{read_url(consultation)}"') :]
    marker = marker[: marker.index(">")]
    assert 'hx-trigger="load"' in marker and f'{{"upto": "{consultation.last_message_id}"}}' in marker


def test_posting_the_read_mark_marks_the_consultation_read_up_to_the_message_shown(alice, center, agent):
    consultation = in_progress_with(center, agent)
    shown = consultation.last_message_id

    assert alice.post(read_url(consultation), {"upto": shown}, **HX).status_code == 204
    mark = ReadMark.objects.get(member=agent, consultation=consultation)
    assert mark.last_read_message_id == shown

    newer = customer_writes(center, "하나 더").message
    assert alice.post(read_url(consultation), {"upto": newer.pk}, **HX).status_code == 204
    mark.refresh_from_db()
    assert mark.last_read_message_id == newer.pk
    assert ReadMark.objects.count() == 1


def test_a_read_mark_never_passes_the_last_message_and_needs_a_message_id(alice, center, agent):
    consultation = in_progress_with(center, agent)

    alice.post(read_url(consultation), {"upto": consultation.last_message_id + 1000}, **HX)

    assert ReadMark.objects.get(member=agent).last_read_message_id == consultation.last_message_id
    assert alice.post(read_url(consultation), {"upto": "x"}, **HX).status_code == 400
    assert alice.get(read_url(consultation), **HX).status_code == 405


# --- the composer ---------------------------------------------------------------------------


def test_the_first_message_starts_the_consultation_and_refreshes_the_list(alice, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    response = send(alice, consultation, "안녕하세요, 무엇을 도와드릴까요?")

    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"consultation-changed": {}}'
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="chat"') and "<html" not in html
    assert "안녕하세요, 무엇을 도와드릴까요?" in html
    assert '<span class="state state-in_progress">In progress</span>' in html
    assert '<textarea id="composer-text"' in html and "></textarea>" in composer_of(html)  # emptied
    consultation.refresh_from_db()
    assert consultation.status == Status.IN_PROGRESS
    assert consultation.messages.get().author == agent


def test_in_korean_the_pane_says_sangdam_jung_after_the_first_message(client, agent, make_consultation):
    client.force_login(agent.user)
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    response = client.post(messages_url(consultation), {"text": "안녕하세요"}, HTTP_ACCEPT_LANGUAGE="ko", **HX)

    assert response.status_code == 200
    assert '<span class="state state-in_progress">상담 중</span>' in response.content.decode()


def test_the_composer_has_its_controls(alice, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    composer = composer_of(get_pane(alice, consultation))

    assert '<textarea id="composer-text" name="text" maxlength="10000"' in composer
    assert "disabled" not in composer[composer.index("<textarea") : composer.index("</textarea>")]
    assert f'hx-post="{messages_url(consultation)}"' in composer
    assert "csrfmiddlewaretoken" in composer
    assert "Enter sends, Shift+Enter starts a new line." in composer
    # One file per message, picked from the seed's table (file_policy), sent as multipart.
    assert 'type="file"' in composer and 'name="file"' in composer
    assert f'accept="{file_policy.accept_attribute()}"' in composer
    assert 'hx-encoding="multipart/form-data"' in composer


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("not_mine", NOT_MINE),
        ("on_hold", ON_HOLD),
        ("center_stopped", CENTER_STOPPED),
        ("closed", NOT_SENDABLE),
        ("unassigned", NOT_SENDABLE),
    ],
)
def test_the_composer_is_disabled_with_the_reason_sending_would_be_refused(
    alice, center, agent, agent2, make_consultation, case, reason
):
    if case == "not_mine":
        consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent2)
    elif case == "on_hold":
        consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent, is_on_hold=True)
    elif case == "center_stopped":
        center.is_operating = False
        center.save()
        consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    elif case == "closed":
        consultation = consultation_in(make_consultation, Status.CLOSED, assignee=agent)
    else:
        consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    composer = composer_of(get_pane(alice, consultation))

    textarea = composer[composer.index("<textarea") : composer.index("</textarea>")]
    assert "disabled" in textarea and 'aria-describedby="composer-reason"' in textarea
    assert re.search(r'class="btn btn-primary composer-send"\s+disabled', composer)
    assert f'<p id="composer-reason" class="composer-reason">{reason}</p>' in composer.replace("&#x27;", "'")


def test_a_send_refused_after_the_pane_was_drawn_shows_the_reason_and_keeps_the_draft(alice, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent, is_on_hold=True)

    response = send(alice, consultation, "보내려던 <b>답변</b>")

    assert response.status_code == 200
    assert not response.has_header("HX-Trigger")
    html = response.content.decode()
    # Said once: as an alert above the composer, which points at it, and not again under the composer.
    assert f'<p id="composer-reason" class="chat-error" role="alert">{ON_HOLD}</p>' in html
    assert html.count(ON_HOLD) == 1
    assert 'aria-describedby="composer-reason"' in html
    assert "보내려던 &lt;b&gt;답변&lt;/b&gt;</textarea>" in html
    assert not consultation.messages.exists()


def test_an_agent_who_is_not_the_assignee_gets_the_refusal_not_a_500(alice, agent2, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent2)

    response = send(alice, consultation, "제가 답할게요")

    assert response.status_code == 200
    assert NOT_MINE in response.content.decode()
    assert not consultation.messages.exists()


def test_the_concurrent_limit_refuses_a_first_message_in_place(alice, agent, make_consultation):
    fill(make_consultation, agent, Status.IN_PROGRESS, 3)
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    response = send(alice, consultation, "안녕하세요")

    assert response.status_code == 200
    assert "Alice already has 3 consultations in progress, the center&#x27;s concurrent limit." in (
        response.content.decode()
    )
    consultation.refresh_from_db()
    assert consultation.status == Status.WAITING


@pytest.mark.parametrize(("text", "refusal"), [("   ", "The message is empty."), ("가" * 10_001, "at most 10000")])
def test_an_empty_or_too_long_message_is_refused_in_place(alice, agent, make_consultation, text, refusal):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    response = send(alice, consultation, text)

    assert response.status_code == 200
    assert refusal in response.content.decode()
    assert not consultation.messages.exists()


def test_line_breaks_from_the_browser_are_kept_as_newlines(alice, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    html = send(alice, consultation, "첫 줄\r\n둘째 줄").content.decode()

    assert consultation.messages.get().text == "첫 줄\n둘째 줄"
    assert "첫 줄<br>둘째 줄" in html


def test_without_htmx_sending_redirects_back_to_the_console_with_the_list_state(alice, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    response = alice.post(messages_url(consultation) + "?scope=mine&tab=in_progress", {"text": "안녕하세요"})

    assert response.status_code == 302
    assert response.url == (
        reverse("console-consultation", args=[consultation.public_id]) + "?scope=mine&tab=in_progress"
    )
    assert consultation.messages.count() == 1


def test_the_console_page_includes_the_pane(alice, center, agent):
    consultation = in_progress_with(center, agent)

    response = alice.get(reverse("console-consultation", args=[consultation.public_id]), {"scope": "all"}, **EN)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<section id="chat-pane"' in html and '<div id="chat"' in html
    assert "css/chat.css" in html and "js/chat.js" in html
    assert "안녕하세요, 상담원입니다." in html
    assert f'href="{reverse("console")}?scope=all">← List</a>' in html
    assert f'hx-post="{read_url(consultation)}" hx-trigger="load"' in html
    assert not ReadMark.objects.exists()  # the page's GET only reads; the pane posts its mark once shown

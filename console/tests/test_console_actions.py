"""The chat pane's management bar (상담 관리): assign to me (R4), change assignee (R6), important and hold (R10),
close (R9.3). Each action re-renders the pane, with the refusal in place when a rule says no."""

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from console.views.chat import assignee_choices
from consultations.models import CloseReason, Status
from consultations.tests.helpers import consultation_in, fill
from counsel_center.models import Member

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
CHANGED = '{"consultation-changed": {}}'  # django-htmx's trigger_client_event


@pytest.fixture
def as_member(client):
    def login(member: Member) -> Client:
        client.force_login(member.user)
        return client

    return login


def act(client, name, consultation, data=None, **extra):
    return client.post(reverse(name, args=[consultation.public_id]), data or {}, **HX, **EN, **extra)


def pane(client, consultation) -> str:
    return client.get(reverse("chat-pane", args=[consultation.public_id]), **HX, **EN).content.decode()


def refused_in_place(response, message: str) -> None:
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<div id="chat"')
    assert f'<p class="chat-error" role="alert">{message}</p>' in html.replace("&#x27;", "'")
    assert not response.has_header("HX-Trigger")


def changed(response) -> str:
    assert response.status_code == 200
    assert response["HX-Trigger"] == CHANGED
    html = response.content.decode()
    assert "<html" not in html and 'class="chat-error"' not in html
    return html


# --- assign to me (R4, R5) ----------------------------------------------------------------


def test_assign_to_me_takes_an_unassigned_consultation(as_member, agent, make_consultation):
    consultation = make_consultation()

    html = changed(act(as_member(agent), "chat-assign-to-me", consultation))

    consultation.refresh_from_db()
    assert (consultation.status, consultation.assignee) == (Status.WAITING, agent)
    assert "Assignee: Alice" in html and '<span class="state state-waiting">Waiting</span>' in html
    assert "Assign to me" not in html
    assert "Alice took the consultation." in html


def test_assign_to_me_is_offered_only_while_unassigned(as_member, agent, make_consultation):
    client = as_member(agent)

    assert "Assign to me" in pane(client, make_consultation())
    assert "Assign to me" not in pane(client, consultation_in(make_consultation, Status.WAITING, assignee=agent))


def test_assign_to_me_after_someone_else_took_it_is_refused_in_place(as_member, agent, agent2, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent2)

    response = act(as_member(agent), "chat-assign-to-me", consultation)

    refused_in_place(response, "This consultation is already assigned to Bob.")
    assert "Assign to me" not in response.content.decode()  # the pane shows the state as it is now


def test_assign_to_me_with_five_waiting_is_refused(as_member, agent, make_consultation):
    fill(make_consultation, agent, Status.WAITING, 5)
    consultation = make_consultation()

    response = act(as_member(agent), "chat-assign-to-me", consultation)

    refused_in_place(response, "Alice already has 5 waiting consultations, the most one member can hold.")
    consultation.refresh_from_db()
    assert consultation.status == Status.UNASSIGNED


# --- change assignee (R6) --------------------------------------------------------------------------


def test_an_agent_hands_over_their_own_consultation(as_member, agent, agent2, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    html = changed(act(as_member(agent), "chat-change-assignee", consultation, {"assignee": agent2.pk}))

    consultation.refresh_from_db()
    assert (consultation.status, consultation.assignee) == (Status.IN_PROGRESS, agent2)
    assert "Assignee: Bob" in html
    assert "Alice changed the assignee from Alice to Bob." in html


def test_the_picker_lists_active_members_but_the_assignee_with_their_counts(
    as_member, center, agent, agent2, manager, master, make_consultation
):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)
    fill(make_consultation, agent2, Status.WAITING, 2)
    fill(make_consultation, agent2, Status.IN_PROGRESS, 1)
    fill(make_consultation, agent2, Status.CLOSED, 3)
    master.is_active = False
    master.save()

    html = pane(as_member(agent), consultation)

    select = html[html.index('<select id="assignee-select"') : html.index("</select>")]
    options = [" ".join(o.split()) for o in re.findall(r"<option value=\"\d+\">(.*?)</option>", select, re.S)]
    assert options == ["Bob — waiting 2 · in progress 1", "Mina — waiting 0 · in progress 0"]
    assert 'for="assignee-select"' in html


def test_the_picker_counts_in_one_query(center, agent, agent2, manager, make_consultation, django_assert_num_queries):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)
    fill(make_consultation, agent2, Status.WAITING, 3)

    with django_assert_num_queries(1):
        choices = assignee_choices(consultation)

    assert [(c.member.name, c.waiting, c.in_progress, c.full) for c in choices] == [
        ("Bob", 3, 0, False),
        ("Mina", 0, 0, False),
    ]


def test_a_member_at_the_limit_is_marked_full_and_refused(as_member, agent, agent2, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)
    fill(make_consultation, agent2, Status.WAITING, 5)
    client = as_member(agent)

    html = pane(client, consultation)
    assert re.search(rf'<option value="{agent2.pk}" disabled>\s*Bob — waiting 5 · in progress 0\s*\(full\)', html)

    response = act(client, "chat-change-assignee", consultation, {"assignee": agent2.pk})
    refused_in_place(response, "Bob already has 5 waiting consultations, the most one member can hold.")


def test_an_agent_has_no_picker_on_someone_elses_consultation_and_is_refused_if_they_try(
    as_member, agent, agent2, manager, make_consultation
):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent2)
    client = as_member(agent)

    assert "Change assignee" not in pane(client, consultation)
    response = act(client, "chat-change-assignee", consultation, {"assignee": manager.pk})

    refused_in_place(response, "Agents can change the assignee only of consultations assigned to them.")
    consultation.refresh_from_db()
    assert consultation.assignee == agent2


def test_an_agent_cannot_assign_an_unassigned_consultation_to_someone_else(as_member, agent, agent2, make_consultation):
    consultation = make_consultation()
    client = as_member(agent)

    assert "Change assignee" not in pane(client, consultation)
    response = act(client, "chat-change-assignee", consultation, {"assignee": agent2.pk})

    refused_in_place(response, "Only masters and managers can assign an unassigned consultation to someone else.")


@pytest.mark.parametrize("admin", ["manager", "master"])
def test_masters_and_managers_assign_any_consultation(request, as_member, agent, agent2, make_consultation, admin):
    unassigned = make_consultation()
    others = consultation_in(make_consultation, Status.WAITING, assignee=agent)
    actor = request.getfixturevalue(admin)
    client = as_member(actor)

    assert "Change assignee" in pane(client, unassigned)
    html = changed(act(client, "chat-change-assignee", unassigned, {"assignee": agent2.pk}))
    assert f"{actor.name} assigned the consultation to Bob." in html
    changed(act(client, "chat-change-assignee", others, {"assignee": agent2.pk}))

    unassigned.refresh_from_db()
    others.refresh_from_db()
    assert (unassigned.status, unassigned.assignee) == (Status.WAITING, agent2)
    assert others.assignee == agent2


def test_changing_to_the_same_assignee_is_refused(as_member, agent, manager, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    response = act(as_member(manager), "chat-change-assignee", consultation, {"assignee": agent.pk})

    refused_in_place(response, "This consultation is already assigned to Alice.")


def test_a_member_of_another_center_or_no_member_cannot_be_picked(as_member, agent, outsider, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)
    client = as_member(agent)

    assert act(client, "chat-change-assignee", consultation, {"assignee": outsider.pk}).status_code == 404
    for bad in ("", "abc", "-1", "9" * 40):
        refused_in_place(
            act(client, "chat-change-assignee", consultation, {"assignee": bad}), "Choose a member to assign."
        )
    consultation.refresh_from_db()
    assert consultation.assignee == agent


# --- important and hold (R10) ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS, Status.CLOSED])
def test_any_member_sets_and_clears_important_in_any_state(as_member, agent, agent2, make_consultation, status):
    consultation = consultation_in(make_consultation, status, assignee=None if status == Status.UNASSIGNED else agent)
    client = as_member(agent2)

    html = changed(act(client, "chat-set-important", consultation, {"important": "1"}))
    consultation.refresh_from_db()
    assert consultation.is_important is True
    assert 'id="chat-important" class="btn btn-toggle" aria-pressed="true"' in html
    assert '<input type="hidden" name="important" value="0">' in html

    html = changed(act(client, "chat-set-important", consultation, {"important": "0"}))
    consultation.refresh_from_db()
    assert consultation.is_important is False
    assert 'aria-pressed="false"' in html


def test_the_assignee_holds_and_releases_a_consultation_in_progress(as_member, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    client = as_member(agent)

    html = changed(act(client, "chat-set-hold", consultation, {"on_hold": "1"}))
    consultation.refresh_from_db()
    assert consultation.is_on_hold is True
    assert "This consultation is on hold; release the hold to send messages." in html  # the composer says why
    assert 'id="chat-hold" class="btn btn-toggle" aria-pressed="true"' in html

    html = changed(act(client, "chat-set-hold", consultation, {"on_hold": "0"}))
    consultation.refresh_from_db()
    assert consultation.is_on_hold is False
    assert 'id="composer-reason"' not in html


def test_hold_is_offered_only_while_in_progress_and_refused_otherwise(as_member, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)
    client = as_member(agent)

    assert 'id="chat-hold"' not in pane(client, consultation)
    response = act(client, "chat-set-hold", consultation, {"on_hold": "1"})

    refused_in_place(response, "Hold can be set only while the consultation is in progress.")


def test_an_agent_cannot_hold_someone_elses_consultation(as_member, agent, agent2, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent2)
    client = as_member(agent)

    assert 'id="chat-hold"' not in pane(client, consultation)
    response = act(client, "chat-set-hold", consultation, {"on_hold": "1"})

    refused_in_place(response, "Only the assignee, a master or a manager can do this.")
    consultation.refresh_from_db()
    assert consultation.is_on_hold is False


# --- close (R9.3) ---------------------------------------------------------------------------------------------


def test_the_assignee_closes_with_a_confirmation(as_member, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    client = as_member(agent)
    assert 'hx-confirm="Close this consultation? It cannot be reopened."' in pane(client, consultation)

    html = changed(act(client, "chat-close", consultation))

    consultation.refresh_from_db()
    assert (consultation.status, consultation.close_reason, consultation.closed_by) == (
        Status.CLOSED,
        CloseReason.AGENT,
        agent,
    )
    assert '<span class="state state-closed">Closed</span>' in html
    assert "Alice closed the consultation (Closed by a member)." in html
    assert 'id="chat-close"' not in html and 'id="chat-hold"' not in html and "Change assignee" not in html
    assert "Messages can be sent only while the consultation is waiting or in progress." in html


def test_an_agent_cannot_close_someone_elses_consultation(as_member, agent, agent2, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent2)
    client = as_member(agent)

    assert 'id="chat-close"' not in pane(client, consultation)
    refused_in_place(act(client, "chat-close", consultation), "Only the assignee, a master or a manager can do this.")


def test_closing_twice_is_refused_in_place(as_member, agent, manager, make_consultation):
    consultation = consultation_in(make_consultation, Status.CLOSED, assignee=agent)

    refused_in_place(act(as_member(manager), "chat-close", consultation), "This consultation is already closed.")


def test_a_manager_closes_any_consultation(as_member, agent, manager, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    changed(act(as_member(manager), "chat-close", consultation))

    consultation.refresh_from_db()
    assert (consultation.status, consultation.closed_by) == (Status.CLOSED, manager)


# --- every action -------------------------------------------------------------------------------------------------


def test_an_action_keeps_the_composers_draft(as_member, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    html = changed(act(as_member(agent), "chat-set-important", consultation, {"important": "1", "text": "쓰던 답변"}))

    assert "쓰던 답변</textarea>" in html
    assert 'hx-include="#composer-text"' in html


def test_every_form_carries_the_csrf_token_and_posts_are_refused_without_it(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent.user)

    html = pane(client, consultation)
    assert html.count("<form") == html.count("csrfmiddlewaretoken") > 3

    for name in ("chat-set-important", "chat-set-hold", "chat-close", "chat-messages"):
        response = client.post(reverse(name, args=[consultation.public_id]), {"important": "1", "text": "x"}, **HX)
        assert response.status_code == 403, name
    consultation.refresh_from_db()
    assert (consultation.status, consultation.is_important, consultation.messages.count()) == (
        Status.IN_PROGRESS,
        False,
        0,
    )


def test_without_htmx_an_action_redirects_back_and_a_refusal_becomes_a_message(
    as_member, agent, agent2, make_consultation
):
    mine = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    theirs = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent2)
    client = as_member(agent)
    query = "?scope=all&tab=in_progress"

    ok = client.post(reverse("chat-close", args=[mine.public_id]) + query, **EN)
    no = client.post(reverse("chat-close", args=[theirs.public_id]) + query, **EN)

    assert (ok.status_code, ok.url) == (302, reverse("console-consultation", args=[mine.public_id]) + query)
    assert (no.status_code, no.url) == (302, reverse("console-consultation", args=[theirs.public_id]) + query)
    assert [str(m) for m in get_messages(no.wsgi_request)] == ["Only the assignee, a master or a manager can do this."]
    mine.refresh_from_db()
    assert mine.status == Status.CLOSED


def test_the_management_bar_reads_in_korean_by_default(as_member, agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)
    client = as_member(agent)

    response = client.post(
        reverse("chat-set-important", args=[consultation.public_id]),
        {"important": "1"},
        HTTP_ACCEPT_LANGUAGE="ko",
        **HX,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="state state-waiting">대기</span>' in html
    assert 'id="chat-close"' in html and 'id="chat-change-assignee"' in html

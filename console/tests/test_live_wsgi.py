"""Under WSGI (runserver, pytest-django's live_server) there is no stream: 204, which tells EventSource to stop."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_wsgi_server_answers_204_at_once(client, agent):
    client.force_login(agent.user)

    response = client.get(reverse("event-stream"), {"last": 0})

    assert response.status_code == 204
    assert not response.streaming  # no WSGI thread held by an endless response
    assert response.content == b""

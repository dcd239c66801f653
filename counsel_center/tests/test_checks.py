"""`check --deploy` warns when the web processes would open a connection per request (docs/operations.md)."""

from django.conf import settings
from django.core import checks


def deploy_warnings(monkeypatch, conn_max_age):
    monkeypatch.setitem(settings.DATABASES["default"], "CONN_MAX_AGE", conn_max_age)
    found = checks.run_checks(tags=[checks.Tags.database], include_deployment_checks=True)
    return [message.id for message in found]


def test_persistent_connections_are_warned_about(monkeypatch):
    assert "counsel_center.W001" in deploy_warnings(monkeypatch, 60)


def test_pooled_or_closed_connections_pass(monkeypatch):
    assert "counsel_center.W001" not in deploy_warnings(monkeypatch, 0)

"""`manage.py check --deploy`: settings the attachments need in production (docs/operations.md)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def public_url_is_set(app_configs, **kwargs):
    if settings.PUBLIC_URL.startswith("https://"):
        return []
    return [
        Warning(
            "PUBLIC_URL is not an https:// address.",
            hint="Set PUBLIC_URL to the site's address as the channel reaches it: outbound messages link files there.",
            id="consultations.W001",
        )
    ]

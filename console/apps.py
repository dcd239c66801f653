from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The agents' console: its views, filters, search and template tags. No models."""

    name = "console"
    verbose_name = "Console"

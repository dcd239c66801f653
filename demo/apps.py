from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo center: `manage.py seed_demo`, its stories and files. No models."""

    name = "demo"
    verbose_name = "Demo"

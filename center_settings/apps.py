from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CenterSettingsConfig(AppConfig):
    name = "center_settings"
    verbose_name = _("Settings")

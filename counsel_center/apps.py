from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CounselCenterConfig(AppConfig):
    name = "counsel_center"
    verbose_name = _("Centers and members")

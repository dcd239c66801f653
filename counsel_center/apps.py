from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CounselCenterConfig(AppConfig):
    name = "counsel_center"
    verbose_name = _("Centers and members")

    def ready(self) -> None:
        from . import checks  # noqa: F401 (registers the deploy checks)

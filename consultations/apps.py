from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "consultations"
    verbose_name = _("Consultations")

    def ready(self) -> None:
        from . import images, receivers  # noqa: F401 (receivers connects the answers to customers' signals)

        images.configure()

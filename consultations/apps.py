from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "consultations"
    verbose_name = _("Consultations")

    def ready(self) -> None:
        from . import checks, images, receivers  # noqa: F401 (checks registers, receivers connects signals)
        from .lookups import register_lookups

        images.configure()
        register_lookups()  # __substring (consultations/lookups.py), wherever models are queried

from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    """The customer simulator (SPEC §7), for development: on only with DEBUG or SIMULATOR_ENABLED. No models."""

    name = "simulator"
    verbose_name = "Customer simulator"

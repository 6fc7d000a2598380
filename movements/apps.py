from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MovementsConfig(AppConfig):
    name = "movements"
    verbose_name = _("Movements")

    def ready(self) -> None:
        from dataio import registry
        from movements.resources import InflowResource, OutflowResource

        # The import/export pipeline finds these by model label.
        registry.register(InflowResource, OutflowResource)

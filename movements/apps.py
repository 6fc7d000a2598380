from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MovementsConfig(AppConfig):
    name = "movements"
    verbose_name = _("Movements")

    def ready(self) -> None:
        from dataio import registry
        from movements import dbfunctions, rollups
        from movements.resources import InflowResource, OutflowResource

        # The SQLite rollup triggers call movements_local_day(); every new
        # SQLite connection gets it (PostgreSQL needs nothing: AT TIME ZONE).
        dbfunctions.connect()
        rollups.follow_time_zone_changes()

        # The import/export pipeline finds these by model label.
        registry.register(InflowResource, OutflowResource)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self) -> None:
        from dashboard import signals

        # A movement or catalog change schedules a (debounced) dashboard refresh.
        signals.connect()

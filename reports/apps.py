from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from reports.roles import sync_roles_after_migrate

        # Permissions of every app exist only after all migrations ran; this
        # keeps the role groups matching ROLE_PERMISSIONS after each migrate.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="reports.sync_roles")

        from reports import signals

        # A movement or catalog change schedules a (debounced) dashboard refresh.
        signals.connect()

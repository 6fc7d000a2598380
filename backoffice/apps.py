from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    """The admin site's shell: roles, the re-themed third-party admins, ensure_admin."""

    name = "backoffice"
    verbose_name = _("Administration")

    def ready(self) -> None:
        from backoffice.roles import sync_roles_after_migrate

        # Permissions of every app exist only after all migrations ran; this
        # keeps the role groups matching ROLES after each migrate.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="backoffice.sync_roles")

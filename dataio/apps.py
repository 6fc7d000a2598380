from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DataioConfig(AppConfig):
    """Imports, exports and the notification centre: the job pipeline.

    A lower layer: it imports no domain app. Domain apps register their
    Resources in ``dataio.registry`` and declare their admins with
    ``dataio.admin_mixins.ImportExportMixin``.
    """

    name = "dataio"
    verbose_name = _("Imports and exports")

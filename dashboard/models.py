from django.db import models
from django.utils.translation import gettext_lazy as _


class Dashboard(models.Model):
    """No table: the holder of the dashboard's permissions.

    A permission belongs to a model; this one has no rows and no table
    (``managed = False``), only ``view_financials``: money figures on the
    dashboard and in the API's metrics (dashboard.page.sees_money_figures).
    The roles that have it are in backoffice.roles.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_financials", _("Can see money figures (stock value, sales, profit)"))]
        verbose_name = _("dashboard")
        verbose_name_plural = _("dashboards")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

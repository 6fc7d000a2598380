"""Signal receivers that keep the dashboard fresh: they only connect to ``dashboard.refresh``.

Nothing here may make a movement fail: a scheduling error is logged, and the
periodic refresh (every 5 minutes) covers.
"""

import logging

from django.db import transaction

from dashboard import refresh

logger = logging.getLogger(__name__)


def _schedule_after_commit() -> None:
    try:
        refresh.schedule_refresh()
    except Exception:  # never let an on_commit hook break the caller
        logger.exception("Dashboard refresh scheduling failed")


def on_stock_change(sender, **kwargs) -> None:
    """post_save / post_delete of a movement or a catalog row, or an import's rows."""
    if kwargs.get("raw"):  # loaddata
        return
    transaction.on_commit(_schedule_after_commit, using=kwargs.get("using"))


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    from dataio.signals import rows_imported

    # An import writes with COPY and set-based UPDATEs, which send no
    # post_save: it says so itself.
    rows_imported.connect(on_stock_change, dispatch_uid="metrics.rows_imported")

    from catalog.models import Brand, Category, Product, ProductModel
    from movements.models import Inflow, Outflow

    # Categories and brands matter too: their names label the stock charts.
    for model in (Inflow, Outflow, Product, Category, Brand, ProductModel):
        label = model._meta.label_lower
        post_save.connect(on_stock_change, sender=model, dispatch_uid=f"metrics.save.{label}")
        post_delete.connect(on_stock_change, sender=model, dispatch_uid=f"metrics.delete.{label}")

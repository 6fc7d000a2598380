"""The dashboard's refresh task.

Thin: the work is in ``dashboard.metrics``. Its schedule is a row of
django-celery-beat (backoffice/migrations/0001_initial.py), editable in the
admin; changes also schedule it, debounced (``dashboard.refresh``).
"""

import logging
import time

from celery import shared_task

from dashboard import metrics, refresh

logger = logging.getLogger(__name__)


@shared_task(name="dashboard.update_dashboard_metrics_cache")
def update_dashboard_metrics_cache() -> dict:
    """Recompute every dashboard metric and write every cache key."""
    # Clear the debounce flag before reading the database: a change that
    # commits from now on schedules a new refresh, one that committed before
    # is seen by the queries below.
    refresh.clear_pending_refresh()
    started = time.perf_counter()
    documents = metrics.metrics_refresh().documents
    seconds = round(time.perf_counter() - started, 3)
    computed_at = documents["product"]["computed_at"]
    logger.info("Dashboard metrics refreshed in %.3f s", seconds)
    return {"computed_at": computed_at, "seconds": seconds, "keys": len(documents)}

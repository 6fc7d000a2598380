"""Dashboard metrics and housekeeping tasks.

Thin wrappers: the work is in ``reports.metrics`` and simplejwt's command.
Their schedules are rows of django-celery-beat, created by migration
``reports/0002_periodic_tasks`` and editable in the admin.
"""

import logging
import time

from celery import shared_task
from django.core.management import call_command
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from reports import metrics, signals

logger = logging.getLogger(__name__)


@shared_task(name="reports.update_dashboard_metrics_cache")
def update_dashboard_metrics_cache() -> dict:
    """Recompute every dashboard metric and write every cache key."""
    # Clear the debounce flag before reading the database: a change that
    # commits from now on schedules a new refresh, one that committed before
    # is seen by the queries below.
    signals.clear_pending_refresh()
    started = time.perf_counter()
    documents = metrics.metrics_refresh().documents
    seconds = round(time.perf_counter() - started, 3)
    computed_at = documents["product"]["computed_at"]
    logger.info("Dashboard metrics refreshed in %.3f s", seconds)
    return {"computed_at": computed_at, "seconds": seconds, "keys": len(documents)}


@shared_task(name="reports.flush_expired_tokens")
def flush_expired_tokens() -> dict:
    """The API's daily housekeeping.

    Deletes expired outstanding JWT refresh tokens (and their blacklist rows)
    and idempotency keys too old for any client to retry with.
    """
    from project.api.idempotency import idempotency_keys_purge

    expired = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).count()
    call_command("flushexpiredtokens")
    return {"flushed": expired, "idempotency_keys_purged": idempotency_keys_purge()}

"""/health/: is the database, the cache and the broker reachable?

Cheap enough to call every few seconds; no authentication and no secrets in
the answer, only which component is down.
"""

import logging

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    cache.set("health:ping", "1", 10)
    if cache.get("health:ping") != "1":
        raise RuntimeError("cache did not return what was stored")


def _check_broker() -> None:
    from project.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}


@never_cache
@require_GET
def health(request):
    components = {}
    for name, check in CHECKS.items():
        try:
            check()
            components[name] = "ok"
        except Exception:  # any failure means "down"; the log keeps the detail
            logger.warning("health check %s failed", name, exc_info=True)
            components[name] = "down"
    healthy = all(state == "ok" for state in components.values())
    return JsonResponse(
        {"status": "ok" if healthy else "down", "components": components},
        status=200 if healthy else 503,
    )

"""/health/: is the database, the cache and the broker reachable?

Cheap enough to call every few seconds; no authentication and no secrets in
the answer, only which component is down.

It answers within DEADLINE_SECONDS whatever hangs: the cache and broker checks
run in threads of their own, side by side, while the database is checked in
the request's thread (its connection belongs to that thread); a check that
has not answered by the deadline counts as down. A probe that waited for a
hung Redis used to hold a gunicorn worker for 60 s, and five of them held
them all. The threads left behind end on their own within the Redis socket
timeout (REDIS_TIMEOUT_SECONDS).
"""

import logging
import threading
import time

from django.core.cache import caches
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# Well under the 3 s a load balancer or an orchestrator usually gives a
# probe, with room for a busy host; a healthy Redis answers in a millisecond.
DEADLINE_SECONDS = 1.5


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache(cache) -> None:
    cache.set("health:ping", "1", 10)
    if cache.get("health:ping") != "1":
        raise RuntimeError("cache did not return what was stored")


def _check_broker() -> None:
    from project.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=DEADLINE_SECONDS)


class _Check(threading.Thread):
    def __init__(self, name: str, function, *args):
        super().__init__(name=f"health-{name}", daemon=True)
        self.component = name
        self.function = function
        self.args = args
        self.ok = False

    def run(self) -> None:
        try:
            self.function(*self.args)
            self.ok = True
        except Exception:  # any failure means "down"; the log keeps the detail
            logger.warning("health check %s failed", self.component, exc_info=True)


@never_cache
@require_GET
def health(request):
    deadline = time.monotonic() + DEADLINE_SECONDS
    # The request thread's cache object: its connection pool is reused.
    threads = [_Check("cache", _check_cache, caches["default"]), _Check("broker", _check_broker)]
    for thread in threads:
        thread.start()
    components = {"database": "down"}
    try:
        _check_database()
        components["database"] = "ok"
    except Exception:
        logger.warning("health check database failed", exc_info=True)
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            logger.warning(
                "health check %s did not answer within %.1f s", thread.component, DEADLINE_SECONDS
            )
        components[thread.component] = "ok" if thread.ok and not thread.is_alive() else "down"
    healthy = all(state == "ok" for state in components.values())
    return JsonResponse(
        {"status": "ok" if healthy else "down", "components": components},
        status=200 if healthy else 503,
    )

"""Scheduling the dashboard's refresh: the debounce, called by the signal receivers and the task.

After a movement or a product change commits (``dashboard.signals``), one refresh of the metrics is
scheduled a few seconds later (``METRICS_REFRESH_DEBOUNCE``). A flag in the
shared cache says "a refresh is already scheduled"; while it is set, further
commits schedule nothing, so a burst of 1,000 movements causes one refresh per
debounce window instead of 1,000. The task clears the flag before it reads
the database, so nothing committed after that moment is missed.

A refresh that is pending will not start before its countdown ends, so
until shortly before then a process's commits need no round trip to the
cache at all (under a stream of API sales that round trip cost a tenth of
each request). The process that scheduled it knows when that is; the flag
holds the same moment (Unix time) for the others, who learn it with one read
when their ``add`` finds the flag set, instead of asking on every commit.
Each keeps it on its monotonic clock. Celery itself starts a countdown at
the publisher's clock's time, so the hosts' clocks already have to agree
(NTP); the margin covers a worker or a host whose clock runs a little ahead.

Nothing here may make a movement fail: if the cache or the broker does not
answer, the error is logged and the periodic refresh (every 5 minutes) covers.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

PENDING_KEY = "metrics:refresh-pending"
# Stop relying on the refresh this process scheduled this long before its
# countdown ends: room for a worker whose clock runs a little ahead.
ETA_MARGIN_SECONDS = 1.0

# Until when (time.monotonic()) a refresh this process scheduled is still to
# come; 0 when there is none it knows of.
_covered_until = 0.0


def debounce_seconds() -> float:
    return settings.METRICS_REFRESH_DEBOUNCE


def forget_local_refresh_eta() -> None:
    """This process forgets the refresh it scheduled; the shared flag is untouched.

    Every commit then asks the cache again (tests start each from here).
    """
    global _covered_until
    _covered_until = 0.0


def _covered_for(seconds: float, now: float) -> None:
    """Commits need not ask the cache until ``seconds`` from ``now``, less the margin."""
    global _covered_until
    _covered_until = now + seconds - ETA_MARGIN_SECONDS


def schedule_refresh() -> bool:
    """Schedule one metrics refresh unless one is pending; True if scheduled."""
    from dashboard.tasks import update_dashboard_metrics_cache

    now = time.monotonic()
    if now < _covered_until:
        return False
    countdown = debounce_seconds()
    starts_at = time.time() + countdown
    try:
        # One read when a refresh is pending (the usual case); the flag is
        # ours only if it holds the very time we offered. It outlives the
        # countdown by a margin, so that a lost task (worker or broker down)
        # blocks refreshes for a minute at most.
        pending = cache.get_or_set(PENDING_KEY, starts_at, timeout=int(countdown) + 60)
        if pending != starts_at:
            # Another process's refresh, not started yet (it clears the flag
            # first): it will see this commit. A flag without a time (an
            # older release's) is asked again on every commit, as before.
            if isinstance(pending, float):
                # Never longer than a countdown of ours: a host whose clock
                # runs ahead would otherwise silence this one for as long.
                _covered_for(min(pending - time.time(), countdown), now)
            return False
    except Exception:
        logger.warning("Dashboard refresh not scheduled: the cache is unavailable", exc_info=True)
        return False
    try:
        # retry=False: a broker that is down fails fast instead of holding
        # the request that recorded the movement.
        options = {"countdown": countdown, "retry": False}
        queue = settings.METRICS_REFRESH_QUEUE
        if queue:  # optional: a queue of its own (default: Celery's default queue)
            options["queue"] = queue
        update_dashboard_metrics_cache.apply_async(**options)
    except Exception:
        logger.warning("Dashboard refresh not scheduled: the broker is unavailable", exc_info=True)
        clear_pending_refresh()
        return False
    _covered_for(countdown, now)
    return True


def clear_pending_refresh() -> None:
    """No refresh is pending any more: the next commit schedules one."""
    forget_local_refresh_eta()
    try:
        cache.delete(PENDING_KEY)
    except Exception:
        logger.warning("Could not clear the dashboard refresh flag", exc_info=True)

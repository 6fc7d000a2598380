"""Rate limits kept in the shared cache by atomic counters.

DRF's ``SimpleRateThrottle`` reads a list of request times from the cache,
appends one and writes the list back. Requests that arrive together each read
the same list and the last write wins, so N requests at once count as one:
eight threads sending 50 requests each against a limit of 100 a minute all
passed, 400 of 400 (measured on Redis). DRF's documentation says its
throttles are "open to race conditions" and asks for a class of one's own
where the number matters. Here a request is one atomic increment (Redis
``INCR``) of the current window's counter, and the limit is a sliding
window approximated from two fixed ones: the previous window's count,
weighted by how much of it still lies within the last ``duration``
seconds and rounded down, plus the current window's. (Rounded down: a
weight that never quite reaches 0 before the window ends would otherwise
keep a client that asks steadily one request short of its limit, half of
it at 1/minute.)

A cache that is down or hung lets requests through (logged) rather than
stopping every client: each throttle says what else protects it.
"""

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from project.lockout import client_address

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/minute"`` -> (600, 60): requests, and the window in seconds."""
    number, period = rate.split("/")
    return int(number), _PERIODS[period[0]]


def _window_key(base: str, duration: int, window: int) -> str:
    return f"{base}:{duration}:{window}"


# What this process knows of the counters: those it has seen exist, and the
# counts of finished windows (bounded: cleared when full).
_seen: set[str] = set()
_finished: dict[str, int] = {}
_KEEP = 10_000


def _bounded(memory):
    if len(memory) >= _KEEP:
        memory.clear()
    return memory


def _keep(key: str, timeout: int) -> None:
    # Redis keeps a key's expiry through INCR; Django's other caches
    # increment by writing the value again with their default timeout, so
    # the counter's own is set again (a day's counter would otherwise go
    # after an hour).
    if not isinstance(caches["default"], RedisCache):
        cache.touch(key, timeout)


def forget(base: str, rate: str) -> None:
    """Drop the counters of ``base`` (tests; other processes may still remember
    the previous window's count until it ends)."""
    _number, duration = parse_rate(rate)
    window = int(time.time() // duration)
    keys = [_window_key(base, duration, window - n) for n in range(2)]
    cache.delete_many(keys)
    for key in keys:
        _finished.pop(key, None)


class WindowRateThrottle(BaseThrottle):
    """``get_rate`` requests per window and ``get_cache_key``; refused requests do not count."""

    timer = time.time
    # True once the cache has answered for this request (the figures below are set).
    counted = False

    def get_rate(self, request) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view):
        rate = self.get_rate(request)
        base = self.get_cache_key(request) if rate else None
        if base is None:
            return True
        self.num_requests, self.duration = parse_rate(rate)
        try:
            return self._count(base)
        except Exception:  # the cache backend's own errors differ per backend
            logger.warning(
                "Rate limit %s: throttling is off for this request, the cache is unavailable",
                type(self).__name__,
                exc_info=True,
            )
            return True

    def _count(self, base: str) -> bool:
        duration = self.duration
        now = self.timer()
        window = int(now // duration)
        self.elapsed = now - window * duration
        current = _window_key(base, duration, window)
        self.count = self._increment(current, 2 * duration + 1)
        self.previous = self._previous(_window_key(base, duration, window - 1))
        allowed = self.estimate() <= self.num_requests
        if not allowed:
            cache.decr(current)
            _keep(current, 2 * duration + 1)
            self.count -= 1
        self.counted = True
        return allowed

    @staticmethod
    def _increment(key: str, timeout: int) -> int:
        # The window's first request creates its counter (it lives two
        # windows: the next one weighs it); the others only increment it.
        # A process that has seen the counter skips the creation (one round
        # trip less), unless it is gone (``forget``).
        if key in _seen:
            try:
                count = cache.incr(key)
            except ValueError:
                pass
            else:
                _keep(key, timeout)
                return count
        _bounded(_seen).add(key)
        if cache.add(key, 1, timeout=timeout):
            return 1
        count = cache.incr(key)
        _keep(key, timeout)
        return count

    def _previous(self, key: str) -> int:
        # A finished window's count no longer changes; read it once per
        # process, a second into the next window (a host whose clock runs a
        # little behind may still be counting in it until then).
        if key in _finished:
            return _finished[key]
        count = cache.get(key, 0)
        if self.elapsed > 1.0:
            _bounded(_finished)[key] = count
        return count

    def estimate(self, after: float = 0.0) -> float:
        """Requests counted within the ``duration`` seconds that end ``after`` seconds from now."""
        share = max(0.0, 1 - (self.elapsed + after) / self.duration)
        return math.floor(self.previous * share) + self.count

    def remaining(self) -> int:
        return max(0, math.floor(self.num_requests - self.estimate()))

    def reset_seconds(self) -> int:
        """Seconds until the current window ends."""
        return max(0, math.ceil(self.duration - self.elapsed))

    def wait(self):
        """Seconds until one more request would be allowed."""
        if self.num_requests < 1:  # "0/minute": a client shut out until the rate changes
            return self.duration
        room = self.num_requests - 1  # requests already counted that may stay
        if self.count > room:
            # The current window alone is full: wait for it to end, then for
            # its weight to fall below the limit.
            return self.reset_seconds() + self.duration * (1 - self.num_requests / self.count)
        # The previous window's share is what is in the way: wait until it
        # rounds down to what is left.
        left = room - self.count + 1
        return max(1.0, self.duration * (1 - left / self.previous) - self.elapsed)


class TokenThrottle(WindowRateThrottle):
    """Throttle password guessing on ``token/``, per client address.

    The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"]``
    (``API_TOKEN_THROTTLE_RATE``, 10/minute by default). Every attempt
    counts, good password or not; the address is REMOTE_ADDR unless
    ``TRUSTED_PROXY_COUNT`` says how many proxies to trust.

    When the cache is down or hung the throttle lets attempts through and
    logs a warning: clients keep logging in during a Redis outage, and the
    login lockout (django-axes, in the database) still stops password
    guessing.
    """

    def get_rate(self, request) -> str:
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"]

    def get_cache_key(self, request) -> str:
        # The same client address as the login lockout, by one rule.
        return f"throttle_token_{client_address(request)}"

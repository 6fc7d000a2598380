import logging

from rest_framework.throttling import SimpleRateThrottle

from project.lockout import client_address

logger = logging.getLogger(__name__)


class TokenThrottle(SimpleRateThrottle):
    """Throttle password guessing on ``token/``, per client address.

    The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"]``
    (``API_TOKEN_THROTTLE_RATE``, 10/minute by default). Every attempt
    counts, good password or not; the address is REMOTE_ADDR unless
    ``TRUSTED_PROXY_COUNT`` says how many proxies to trust.

    The counters live in the cache. When it is down or hung the throttle
    fails open and logs a warning: clients keep logging in during a Redis
    outage, and the login lockout (django-axes, in the database) still
    stops password guessing.
    """

    scope = "token"

    def get_ident(self, request):
        # The same client address as the login lockout, by one rule.
        return client_address(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache backend's own errors differ per backend
            logger.warning(
                "Token throttling is off for this request: the cache is unavailable",
                exc_info=True,
            )
            return True

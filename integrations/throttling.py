"""Each API client's own rate limit, with the headers that tell a client where it stands."""

import logging

from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

HEADERS_ATTRIBUTE = "rate_limit_headers"


class ClientRateThrottle(SimpleRateThrottle):
    """``ApiClient.rate_limit`` per client, counted in the cache (all processes share it).

    People's requests are not limited here. As with the token throttle, a
    cache outage lets requests through (logged) rather than stopping every
    integration.
    """

    scope = "api_client"

    def __init__(self):
        # The rate is the client's, read per request (no THROTTLE_RATES entry).
        self.rate = None

    def get_cache_key(self, request, view):
        return f"throttle_client_{self.client.pk}"

    def allow_request(self, request, view):
        self.client = getattr(request._request, "api_client", None)
        if self.client is None:
            return True
        self.rate = self.client.rate_limit
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            allowed = super().allow_request(request, view)
        except Exception:  # the cache backend's own errors differ per backend
            logger.warning(
                "Client rate limit is off for this request: cache unavailable", exc_info=True
            )
            return True
        oldest = self.history[-1] if self.history else self.now
        setattr(
            request._request,
            HEADERS_ATTRIBUTE,
            {
                "X-RateLimit-Limit": str(self.num_requests),
                "X-RateLimit-Remaining": str(max(0, self.num_requests - len(self.history))),
                "X-RateLimit-Reset": str(max(0, int(self.duration - (self.now - oldest)))),
            },
        )
        return allowed

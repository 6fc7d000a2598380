"""Each API client's own rate limit, with the headers that tell a client where it stands."""

from project.api.throttling import WindowRateThrottle

HEADERS_ATTRIBUTE = "rate_limit_headers"


class ClientRateThrottle(WindowRateThrottle):
    """``ApiClient.rate_limit`` per client, counted in the cache (all processes share it).

    People's requests are not limited here. As with the token throttle, a
    cache outage lets requests through (logged) rather than stopping every
    integration.
    """

    def get_rate(self, request) -> str | None:
        self.client = getattr(request._request, "api_client", None)
        return None if self.client is None else self.client.rate_limit

    def get_cache_key(self, request) -> str:
        return cache_key(self.client.pk)

    def allow_request(self, request, view):
        allowed = super().allow_request(request, view)
        if self.counted:
            setattr(
                request._request,
                HEADERS_ATTRIBUTE,
                {
                    "X-RateLimit-Limit": str(self.num_requests),
                    "X-RateLimit-Remaining": str(self.remaining()),
                    "X-RateLimit-Reset": str(self.reset_seconds()),
                },
            )
        return allowed


def cache_key(client_id: int) -> str:
    return f"throttle_client_{client_id}"

from rest_framework.throttling import SimpleRateThrottle


class TokenThrottle(SimpleRateThrottle):
    """Throttle password guessing on ``token/``, per client address.

    The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"]``
    (``API_TOKEN_THROTTLE_RATE``, 10/minute by default). Every attempt
    counts, good password or not; the address is REMOTE_ADDR unless
    ``API_NUM_PROXIES`` says how many proxies to trust.
    """

    scope = "token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

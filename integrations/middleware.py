from integrations.throttling import HEADERS_ATTRIBUTE


class RateLimitHeadersMiddleware:
    """Adds the client throttle's X-RateLimit-* headers to the response, 429s included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        for name, value in getattr(request, HEADERS_ATTRIBUTE, {}).items():
            response[name] = value
        return response

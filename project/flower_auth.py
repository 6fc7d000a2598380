"""The gate nginx asks before passing anything to Flower (auth_request).

Flower shows every task's arguments and can stop workers, so only an active
superuser's session passes; nginx sends every /flower/ request here first
(pages, API, /flower/metrics, /flower/healthcheck) and forwards it only on a
2xx. nginx turns the 401 into a redirect to the admin login.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def flower_auth(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return HttpResponse(status=401)
    if not (user.is_active and user.is_superuser):
        return HttpResponse(status=403)
    return HttpResponse(status=204)

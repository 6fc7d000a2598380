"""The dashboard's refresh button: POST only, staff only, CSRF-protected."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard import metrics
from dashboard.page import dashboard_access


@require_POST
@staff_member_required
def dashboard_refresh(request: HttpRequest) -> HttpResponseRedirect:
    """Recompute every metric now and go back to the dashboard."""
    if dashboard_access(request.user) is None:
        raise PermissionDenied
    stored = metrics.metrics_refresh().stored
    if stored:
        messages.success(request, _("Dashboard metrics refreshed."))
    else:
        messages.warning(
            request,
            _("Metrics recomputed, but the cache is unavailable: they could not be stored."),
        )
    return HttpResponseRedirect(reverse("admin:index"))

"""metrics/: the dashboard's cached metrics, for external systems."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard.metrics import metrics_get
from dashboard.page import sees_money_figures
from project.api.schema import ErrorSerializer


class MetricsView(APIView):
    """The dashboard metrics, one entry per key (``product``, ``sales``, each chart).

    Read from the cache the dashboard fills (computed once on a miss), so a
    call costs no aggregate query when the cache is warm. Needs the view
    permission on products and on outflows (the metrics are stock and sales),
    and ``dashboard.view_financials``, as the dashboard's money figures do (the
    Admin, Manager and Analyst roles have it, Operators do not).
    """

    api_scope = "metrics"  # API clients need metrics:read
    extra_permissions = {
        "GET": ["catalog.view_product", "movements.view_outflow"],
        "HEAD": ["catalog.view_product", "movements.view_outflow"],
    }
    error_responses = {"GET": {403: ErrorSerializer}}

    @extend_schema(
        tags=["metrics"],
        responses={200: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "Metrics",
                value={
                    "product": {"computed_at": "2026-11-29T01:00:00Z", "stock_units": 1200},
                    "sales": {"computed_at": "2026-11-29T01:00:00Z", "revenue": "15400.00"},
                },
                response_only=True,
            )
        ],
    )
    def get(self, request):
        if not sees_money_figures(request.user):
            raise PermissionDenied(_("Your role does not see sales and stock values."))
        return Response(metrics_get().documents)

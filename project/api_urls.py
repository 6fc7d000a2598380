"""/api/v1/: the JWT API for external systems (guide: docs/api.md)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from catalog import api as catalog_api
from dashboard.api import MetricsView
from integrations.api import ClientTokenView
from integrations.feed_api import ChangeFeedView, LatestCursorView
from movements import api as movements_api
from project.api import auth
from project.api.views import SchemaView, not_found
from purchasing import api as purchasing_api

router = SimpleRouter()
router.register("brands", catalog_api.BrandViewSet)
router.register("categories", catalog_api.CategoryViewSet)
router.register("suppliers", catalog_api.SupplierViewSet)
router.register("product-models", catalog_api.ProductModelViewSet)
router.register("products", catalog_api.ProductViewSet)
router.register("inflows", movements_api.InflowViewSet)
router.register("outflows", movements_api.OutflowViewSet)
router.register("supplier-products", purchasing_api.SupplierProductViewSet)
router.register("purchase-orders", purchasing_api.PurchaseOrderViewSet)

urlpatterns = [
    path("token/", auth.TokenObtainView.as_view(), name="api-token"),
    path("token/refresh/", auth.TokenRefreshView.as_view(), name="api-token-refresh"),
    path("token/verify/", auth.TokenVerifyView.as_view(), name="api-token-verify"),
    path("token/logout/", auth.TokenLogoutView.as_view(), name="api-token-logout"),
    path("clients/token/", ClientTokenView.as_view(), name="api-client-token"),
    path(
        "products/<int:pk>/movements/",
        movements_api.ProductMovementsView.as_view(),
        name="api-product-movements",
    ),
    path(
        "purchase-orders/<int:pk>/receive/",
        purchasing_api.PurchaseOrderReceiveView.as_view(),
        name="api-purchase-order-receive",
    ),
    path(
        "reorder-suggestions/",
        purchasing_api.ReorderSuggestionsView.as_view(),
        name="api-reorder-suggestions",
    ),
    path("metrics/", MetricsView.as_view(), name="api-metrics"),
    path("changes/", ChangeFeedView.as_view(), name="api-changes"),
    path("changes/latest/", LatestCursorView.as_view(), name="api-changes-latest"),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *router.urls,
    # Anything else under /api/v1/ is a JSON 404, like the rest of the API.
    re_path(r"^.*$", not_found),
]

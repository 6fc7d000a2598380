"""Back-office pages outside the model admins (dashboard refresh, downloads...)."""

from django.urls import path

from reports import views_transfers
from reports.views_dashboard import dashboard_refresh

app_name = "reports"
urlpatterns = [
    path("dashboard/refresh/", dashboard_refresh, name="dashboard_refresh"),
    # Imports, exports and the notification centre (reports.views_transfers).
    path("notifications/<int:pk>/download/", views_transfers.download, name="download"),
    path("notifications/<int:pk>/errors/", views_transfers.download_errors, name="download_errors"),
    path("notifications/<int:pk>/stock/", views_transfers.download_stock, name="download_stock"),
    path("notifications/<int:pk>/import/", views_transfers.import_preview, name="import_preview"),
    path("notifications/<int:pk>/confirm/", views_transfers.import_confirm, name="import_confirm"),
    path("notifications/<int:pk>/retry/", views_transfers.retry, name="retry"),
    path("notifications/<int:pk>/read/", views_transfers.mark_read, name="mark_read"),
    path("notifications/read/", views_transfers.mark_read, name="mark_all_read"),
]

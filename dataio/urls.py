"""The notification centre's pages: downloads, the import preview, confirm, retry, read."""

from django.urls import path

from dataio import views

app_name = "dataio"
urlpatterns = [
    path("notifications/<int:pk>/download/", views.download, name="download"),
    path("notifications/<int:pk>/errors/", views.download_errors, name="download_errors"),
    path("notifications/<int:pk>/stock/", views.download_stock, name="download_stock"),
    path("notifications/<int:pk>/import/", views.import_preview, name="import_preview"),
    path("notifications/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("notifications/<int:pk>/retry/", views.retry, name="retry"),
    path("notifications/<int:pk>/read/", views.mark_read, name="mark_read"),
    path("notifications/read/", views.mark_read, name="mark_all_read"),
]

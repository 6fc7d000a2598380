from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from project.error_pages import favicon
from project.flower_auth import flower_auth
from project.health import health

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("health/", health, name="health"),
    # Browsers ask for /favicon.ico on pages that name no icon (downloads, JSON).
    path("favicon.ico", favicon, name="favicon"),
    # Asked by nginx (auth_request) before every /flower/ request.
    path("flower-auth/", flower_auth, name="flower-auth"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("project.api_urls")),
    # Under /reports/ as before the apps were split: links in notifications
    # and bookmarks keep working.
    path("reports/", include("dataio.urls")),
    path("reports/", include("dashboard.urls")),
]

# Themed error pages (Django uses these when DEBUG is off).
handler403 = "project.error_pages.permission_denied"
handler404 = "project.error_pages.page_not_found"
handler500 = "project.error_pages.server_error"

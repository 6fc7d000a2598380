from django.urls import path

from dashboard.views import dashboard_refresh

app_name = "dashboard"
urlpatterns = [
    path("dashboard/refresh/", dashboard_refresh, name="refresh"),
]

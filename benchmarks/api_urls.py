"""The project's URLs plus /bench/ceiling/: a bare Django view with a constant JSON.

Served only when gunicorn runs with ``DJANGO_SETTINGS_MODULE=benchmarks.api_settings``
(``bench api`` does), never by the project's own settings.
"""

from django.http import HttpResponse
from django.urls import path

from project.urls import urlpatterns as project_urlpatterns

BODY = b'{"status": "ok"}'


def ceiling(request):
    return HttpResponse(BODY, content_type="application/json")


urlpatterns = [path("bench/ceiling/", ceiling), *project_urlpatterns]

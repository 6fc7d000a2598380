"""Run in a subprocess by test_sentry: Sentry on, a capturing transport, no network.

Prints the exception types Sentry received, one per line.
"""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django

django.setup()

from celery import shared_task  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import path  # noqa: E402
from sentry_sdk.transport import Transport  # noqa: E402

from project.sentry import init_sentry  # noqa: E402

captured: list[str] = []


class CapturingTransport(Transport):
    def capture_envelope(self, envelope):
        for item in envelope.items:
            event = item.get_event()
            if event and event.get("exception"):
                captured.append(event["exception"]["values"][-1]["type"])


class ViewBoom(Exception):
    pass


class TaskBoom(Exception):
    pass


def failing_view(request):
    raise ViewBoom("unhandled view error")


@shared_task(name="sentry_probe.failing_task")
def failing_task():
    raise TaskBoom("failing Celery task")


urlpatterns = [path("boom/", failing_view)]

init_sentry(
    dsn="https://public@sentry.invalid/1",
    environment=settings.SENTRY_ENVIRONMENT,
    release=settings.SENTRY_RELEASE,
    traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
    send_default_pii=settings.SENTRY_SEND_DEFAULT_PII,
    transport=CapturingTransport,
)
settings.ROOT_URLCONF = __name__
settings.ALLOWED_HOSTS = ["*"]

Client(raise_request_exception=False).get("/boom/")
failing_task.apply()

import sentry_sdk  # noqa: E402

sentry_sdk.flush(timeout=5)
print("\n".join(captured))
sys.exit(0)

"""Redis hung (accepts, never answers) or down (refuses): the site keeps serving, in bounded time.

The cache and the broker are pointed at a socket server of the test's own
that accepts connections and never answers (a frozen Redis, a partition), or
at a port where nothing listens (Redis down), exactly as production meets them.
"""

import logging
import threading
import time

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from project.api.testing import (
    API,
    client_for,
    fast_password_hasher,  # noqa: F401
    fresh_api_user_cache,  # noqa: F401
)
from project.tests.faults import HungServer, cache_settings_at, celery_broker, closed_port_url
from reports.models import TaskNotification

PASSWORD = "x-pass-123456"
# What "answers quickly" means here: well under a gunicorn timeout, and under
# the 3 s a load balancer gives /health/.
QUICK = 3.0


@pytest.fixture
def hung_redis(settings):
    """The cache and the broker both on a Redis that accepts and never answers."""
    server = HungServer()
    settings.CACHES = cache_settings_at(settings, server.url)
    with celery_broker(server.url):
        yield server
    server.close()


@pytest.fixture
def redis_down(settings):
    """The cache and the broker both on a port where nothing listens."""
    url = closed_port_url()
    settings.CACHES = cache_settings_at(settings, url)
    with celery_broker(url):
        yield url


def _timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.mark.django_db
def test_health_is_503_naming_cache_and_broker_within_3_s_when_redis_hangs(hung_redis):
    response, seconds = _timed(lambda: Client().get(reverse("health")))
    assert response.status_code == 503
    assert response.json()["components"] == {
        "database": "ok",
        "cache": "down",
        "broker": "down",
    }
    assert seconds < QUICK, f"/health/ took {seconds:.1f} s"


@pytest.mark.django_db
def test_five_health_requests_at_once_all_answer_within_3_s_when_redis_hangs(hung_redis):
    # Five anonymous probes used to hold all gunicorn workers for 60 s each.
    results = []

    def probe():
        try:
            response, seconds = _timed(lambda: Client().get(reverse("health")))
            results.append((response.status_code, seconds))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=probe) for _ in range(5)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(code for code, _ in results) == [503] * 5
    assert time.monotonic() - started < QUICK + 1, results


@pytest.mark.django_db
def test_api_get_and_admin_pages_answer_quickly_when_redis_hangs(
    hung_redis, admin_client, admin_user
):
    response, seconds = _timed(lambda: client_for(admin_user).get(f"{API}products/"))
    assert response.status_code == 200
    assert seconds < QUICK, f"API GET took {seconds:.1f} s"
    for url in (reverse("admin:index"), reverse("admin:catalog_product_changelist")):
        response, seconds = _timed(lambda url=url: admin_client.get(url))
        assert response.status_code == 200, url
        assert seconds < QUICK, f"{url} took {seconds:.1f} s"


@pytest.mark.django_db(transaction=True)
def test_export_with_a_hung_broker_answers_promptly_and_is_failed_retryable(
    hung_redis, admin_client
):
    response, seconds = _timed(
        lambda: admin_client.post(
            reverse("admin:catalog_product_export"), {"format": "0", "resource": "0"}, follow=True
        )
    )
    assert response.status_code == 200
    assert seconds < 5, f"the Export button took {seconds:.1f} s"
    assert "task queue is unreachable" in response.content.decode()
    notification = TaskNotification.objects.get()
    assert notification.status == TaskNotification.Status.FAILED
    assert notification.can_retry
    assert "nothing was lost" in notification.error_message


@pytest.mark.django_db
def test_token_endpoint_works_when_redis_is_down(redis_down, role_user, caplog):
    role_user("Operator", username="op")
    with caplog.at_level(logging.WARNING, logger="project.api.throttling"):
        response = client_for().post(
            f"{API}token/", {"username": "op", "password": PASSWORD}, format="json"
        )
    assert response.status_code == 200, response.content
    assert "access" in response.json()
    assert "throttling is off" in caplog.text


@pytest.mark.django_db
def test_token_endpoint_works_when_redis_hangs(hung_redis, role_user):
    role_user("Operator", username="op")
    response, seconds = _timed(
        lambda: client_for().post(
            f"{API}token/", {"username": "op", "password": PASSWORD}, format="json"
        )
    )
    assert response.status_code == 200, response.content
    assert seconds < QUICK, f"token took {seconds:.1f} s"


@pytest.mark.django_db(transaction=True)
def test_export_with_redis_down_says_so_at_once_and_is_failed_retryable(redis_down, admin_client):
    response, seconds = _timed(
        lambda: admin_client.post(
            reverse("admin:catalog_product_export"), {"format": "0", "resource": "0"}, follow=True
        )
    )
    assert response.status_code == 200
    assert seconds < QUICK
    assert "task queue is unreachable" in response.content.decode()
    notification = TaskNotification.objects.get()
    assert notification.status == TaskNotification.Status.FAILED and notification.can_retry

"""Redis hung (accepts, never answers) or down (refuses): the site keeps serving, in bounded time.

The cache and the broker are pointed at a socket server of the test's own
that accepts connections and never answers (a frozen Redis, a partition), or
at a port where nothing listens (Redis down), exactly as production meets them.
"""

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from dataio.models import TaskNotification
from project.api.testing import (
    API,
    access_token,
    client_for,
    fast_password_hasher,  # noqa: F401
    fresh_api_user_cache,  # noqa: F401
)
from project.tests.faults import HungServer, cache_settings_at, celery_broker, closed_port_url
from project.tests.processes import free_port, running_gunicorn, server_database_url

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


# --- through a real gunicorn, configured as in production ---------------------

ROOT = Path(__file__).resolve().parents[2]


def _get(url: str, token: str | None = None, timeout: float = 20) -> tuple[int, float]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except TimeoutError:
        status = 0
    return status, time.monotonic() - started


@pytest.fixture
def gunicorn_on_hung_redis(transactional_db):
    """gunicorn with docker/gunicorn.conf.py (5 sync workers), cache and broker hung."""
    server = HungServer()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": server_database_url(),
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": server.url,
        "CELERY_BROKER_URL": server.url,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "5",
        "GUNICORN_LOG_LEVEL": "warning",
    }
    arguments = ["-c", "docker/gunicorn.conf.py", "project.wsgi"]
    try:
        with running_gunicorn(arguments, port=port, env=env, probe="/api/v1/") as base:
            yield base
    finally:
        server.close()


def test_five_health_probes_do_not_hold_every_gunicorn_worker(gunicorn_on_hung_redis, admin_user):
    """Before: the probes held all five sync workers for 60 s; an API GET waited 62 s."""
    base = gunicorn_on_hung_redis
    token = access_token(admin_user)
    probes = []
    threads = [
        threading.Thread(target=lambda: probes.append(_get(f"{base}/health/"))) for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # the probes are in the workers now
    status, seconds = _get(f"{base}{API}products/", token=token)
    for thread in threads:
        thread.join(timeout=30)
    print(json.dumps({"api_get": [status, round(seconds, 2)], "probes": probes}))
    assert status == 200 and seconds < 5, (status, seconds)
    assert [code for code, _ in probes] == [503] * 5
    assert max(took for _, took in probes) < QUICK, probes


def test_every_redis_call_on_a_request_path_has_a_bounded_time(settings):
    """Connect and read timeouts for the cache and the broker; bounded publish retries."""
    from project.celery import app

    assert settings.CACHES["default"]["OPTIONS"]["socket_timeout"] <= 2
    assert settings.CACHES["default"]["OPTIONS"]["socket_connect_timeout"] <= 2
    transport = app.conf.broker_transport_options
    assert transport["socket_timeout"] <= 2 and transport["socket_connect_timeout"] <= 2
    assert not transport["retry_on_timeout"]
    assert app.conf.task_publish_retry_policy["max_retries"] <= 1
    # A running import or export is never handed to a second worker.
    assert transport["visibility_timeout"] > settings.TRANSFER_TASK_TIME_LIMIT

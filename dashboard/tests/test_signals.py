"""Movements and product changes schedule a debounced dashboard refresh."""

import json
import re
import time
import uuid
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import transaction
from kombu.exceptions import OperationalError

from catalog.models import Product
from dashboard import metrics, refresh
from dashboard.tasks import update_dashboard_metrics_cache
from movements import services
from project.tests.processes import celery_worker_thread

pytestmark = pytest.mark.django_db


@pytest.fixture
def apply_async():
    with mock.patch.object(update_dashboard_metrics_cache, "apply_async") as patched:
        yield patched


def test_a_burst_of_1000_movements_schedules_one_refresh(
    stocked_product, supplier, apply_async, django_capture_on_commit_callbacks
):
    product = stocked_product(quantity=0)
    for _ in range(1000):
        # One transaction per movement, as 1,000 requests would commit them.
        with django_capture_on_commit_callbacks(execute=True):
            services.inflow_create(product=product, quantity=1, supplier=supplier)
    assert apply_async.call_count == 1
    assert apply_async.call_args.kwargs == {
        "countdown": refresh.debounce_seconds(),
        "retry": False,
    }


def test_a_long_burst_refreshes_once_per_debounce_window(
    stocked_product, supplier, apply_async, django_capture_on_commit_callbacks
):
    """200 movements while the worker runs the refresh 4 times: 4 refreshes."""
    product = stocked_product(quantity=0)
    for number in range(200):
        with django_capture_on_commit_callbacks(execute=True):
            services.inflow_create(product=product, quantity=1, supplier=supplier)
        if number % 50 == 49:
            update_dashboard_metrics_cache()  # the worker, when the countdown ends
    assert apply_async.call_count == 4


def test_the_refresh_task_clears_the_flag_so_later_changes_schedule_again(
    stocked_product, apply_async, django_capture_on_commit_callbacks
):
    product = stocked_product(quantity=5)
    with django_capture_on_commit_callbacks(execute=True):
        services.outflow_create(product=product, quantity=1)
    assert cache.get(refresh.PENDING_KEY)
    result = update_dashboard_metrics_cache()
    assert cache.get(refresh.PENDING_KEY) is None
    assert result["keys"] == len(metrics.METRIC_NAMES)
    assert json.loads(cache.get("metrics:sales"))["today"]["units"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.outflow_create(product=product, quantity=1)
    assert apply_async.call_count == 2


def test_product_changes_schedule_a_refresh(
    stocked_product, apply_async, django_capture_on_commit_callbacks
):
    product = stocked_product(quantity=0)
    cache.delete(refresh.PENDING_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        Product.objects.get(pk=product.pk).save()
    assert apply_async.call_count == 1


def test_a_rolled_back_movement_schedules_nothing(
    stocked_product, apply_async, django_capture_on_commit_callbacks
):
    product = stocked_product(quantity=5)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.outflow_create(product=product, quantity=1)
                raise RuntimeError("abort")
        except RuntimeError:
            pass
    assert callbacks == []
    assert apply_async.call_count == 0


def test_a_broker_that_is_down_never_fails_a_movement(
    stocked_product, apply_async, django_capture_on_commit_callbacks, caplog
):
    apply_async.side_effect = OperationalError("connection refused")
    product = stocked_product(quantity=5)
    with django_capture_on_commit_callbacks(execute=True):
        outflow = services.outflow_create(product=product, quantity=1)
    assert outflow.pk
    assert "broker is unavailable" in caplog.text
    # The flag is released, so the next movement tries again.
    assert cache.get(refresh.PENDING_KEY) is None


def test_a_cache_that_is_down_never_fails_a_movement(
    stocked_product, apply_async, django_capture_on_commit_callbacks, redis_down, caplog
):
    product = stocked_product(quantity=5)
    with django_capture_on_commit_callbacks(execute=True):
        outflow = services.outflow_create(product=product, quantity=1)
    assert outflow.pk
    assert apply_async.call_count == 0
    assert "cache is unavailable" in caplog.text


def test_debounce_works_on_the_embedded_file_cache(
    settings,
    tmp_path,
    stocked_product,
    supplier,
    apply_async,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    # Every commit asks the file cache: no reliance on a known ETA.
    monkeypatch.setattr(refresh, "ETA_MARGIN_SECONDS", 3600)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    product = stocked_product(quantity=0)
    for _ in range(100):
        with django_capture_on_commit_callbacks(execute=True):
            services.inflow_create(product=product, quantity=1, supplier=supplier)
    assert apply_async.call_count == 1


@pytest.mark.django_db(transaction=True)
def test_a_sale_shows_on_the_dashboard_within_10_seconds_with_a_real_worker(
    settings, stocked_product, admin_client
):
    """The real path: commit -> signal -> broker -> Celery worker -> cache -> page."""
    settings.METRICS_REFRESH_DEBOUNCE = 1
    # A queue of its own, so that no other worker takes the task.
    queue = f"test-dashboard-{uuid.uuid4().hex}"
    settings.METRICS_REFRESH_QUEUE = queue
    product = stocked_product(quantity=10)  # sell price 15.00
    metrics.metrics_refresh()
    cache.delete(refresh.PENDING_KEY)

    def sales_today():
        content = admin_client.get("/admin/").content.decode()
        return re.search(r'data-card="Sales today">([^<]*)<', content).group(1)

    assert sales_today() == "R$\u00a00.00"
    with celery_worker_thread(queue):
        started = time.monotonic()
        services.outflow_create(product=product, quantity=2)  # commits: autocommit
        while sales_today() != "R$\u00a030.00" and time.monotonic() - started < 10:
            time.sleep(0.25)
        elapsed = time.monotonic() - started
    assert sales_today() == "R$\u00a030.00"
    assert elapsed < 10


@pytest.fixture
def cache_calls(monkeypatch):
    """The cache as the signal receivers see it, its calls counted."""
    spy = mock.Mock(wraps=cache)
    monkeypatch.setattr(refresh, "cache", spy)
    return spy


def _sell(product, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.outflow_create(product=product, quantity=1)


def test_the_process_that_scheduled_a_refresh_skips_the_cache_until_just_before_it_runs(
    stocked_product, apply_async, django_capture_on_commit_callbacks, cache_calls, monkeypatch
):
    product = stocked_product(quantity=100)
    started = refresh.time.monotonic()
    _sell(product, django_capture_on_commit_callbacks)
    assert apply_async.call_count == 1
    calls = len(cache_calls.method_calls)
    for _ in range(20):
        _sell(product, django_capture_on_commit_callbacks)
    assert len(cache_calls.method_calls) == calls  # no round trip at all
    # Within the margin before the countdown ends the refresh may start at
    # any moment: ask again (the flag is still set, so nothing new is queued).
    end = started + refresh.debounce_seconds()
    monkeypatch.setattr(refresh.time, "monotonic", lambda: end - refresh.ETA_MARGIN_SECONDS + 0.01)
    _sell(product, django_capture_on_commit_callbacks)
    assert cache_calls.get_or_set.call_count == 2
    assert apply_async.call_count == 1


def test_a_refresh_another_process_scheduled_is_read_once_then_trusted_until_just_before_it_runs(
    stocked_product, apply_async, django_capture_on_commit_callbacks, cache_calls, monkeypatch
):
    """The flag says when that refresh starts: one read, then no round trip until then."""
    product = stocked_product(quantity=100)
    cache.set(refresh.PENDING_KEY, time.time() + 10.0, timeout=60)
    started = refresh.time.monotonic()
    _sell(product, django_capture_on_commit_callbacks)
    assert len(cache_calls.method_calls) == 1  # one read
    for _ in range(20):
        _sell(product, django_capture_on_commit_callbacks)
    assert len(cache_calls.method_calls) == 1  # no round trip at all
    monkeypatch.setattr(
        refresh.time, "monotonic", lambda: started + 10.0 - refresh.ETA_MARGIN_SECONDS + 0.01
    )
    _sell(product, django_capture_on_commit_callbacks)  # it may start any moment: ask
    assert cache_calls.get_or_set.call_count == 2
    assert apply_async.call_count == 0


def test_a_start_time_from_a_clock_far_ahead_is_trusted_no_longer_than_a_countdown(
    stocked_product, apply_async, django_capture_on_commit_callbacks, cache_calls, monkeypatch
):
    product = stocked_product(quantity=100)
    cache.set(refresh.PENDING_KEY, time.time() + 600.0, timeout=60)  # a host 10 minutes ahead
    started = refresh.time.monotonic()
    _sell(product, django_capture_on_commit_callbacks)
    later = started + refresh.debounce_seconds()  # past one countdown of ours
    monkeypatch.setattr(refresh.time, "monotonic", lambda: later)
    _sell(product, django_capture_on_commit_callbacks)
    assert cache_calls.get_or_set.call_count == 2  # asked again


@pytest.mark.parametrize("flag", ["1", "past"], ids=["no-start-time", "start-time-passed"])
def test_a_refresh_of_unknown_or_past_start_is_checked_on_every_commit(
    stocked_product, apply_async, django_capture_on_commit_callbacks, cache_calls, flag
):
    """An older release's flag, or a refresh that should have run (its task was lost)."""
    product = stocked_product(quantity=100)
    cache.set(refresh.PENDING_KEY, time.time() - 5.0 if flag == "past" else flag, timeout=60)
    for _ in range(5):
        _sell(product, django_capture_on_commit_callbacks)
    assert len(cache_calls.method_calls) == 5  # one read each, as before
    assert apply_async.call_count == 0
    update_dashboard_metrics_cache()  # it ran: the flag is gone
    _sell(product, django_capture_on_commit_callbacks)
    assert apply_async.call_count == 1


def test_a_refresh_that_could_not_be_queued_is_not_relied_on(
    stocked_product, apply_async, django_capture_on_commit_callbacks, cache_calls
):
    apply_async.side_effect = OperationalError("connection refused")
    product = stocked_product(quantity=100)
    _sell(product, django_capture_on_commit_callbacks)
    apply_async.side_effect = None
    _sell(product, django_capture_on_commit_callbacks)
    assert apply_async.call_count == 2  # the second commit tried again

"""The dashboard at full size: one metrics refresh and the admin index page.

Seeds 100,000 products and 1,000,000 movements with movements.demo (or reuses
them when the bench database already holds that many products), then
measures, in the same run:

- ``refresh_s``: one full ``update_dashboard_metrics_cache`` (the median of
  3 runs after a warm-up run), target at most 2 s;
- ``cached_page_ms``: the median server time of the dashboard page read from
  the cache, over 50 requests by a logged-in superuser, target at most 25 ms;
- ``uncached_page_ms``: the baseline, the same page when every metric key is
  missing (the page computes and stores them), median of 10 requests;
- ``ratio``: uncached / cached.
"""

import statistics
import time

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings

from benchmarks._demo_data import ensure_demo_data
from dashboard import metrics, refresh
from dashboard.tasks import update_dashboard_metrics_cache

CACHED_REQUESTS = 50
UNCACHED_REQUESTS = 10


def _timed_get(client: Client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or b'id="dashboard-charts"' not in response.content:
        raise RuntimeError(f"The dashboard did not render: HTTP {response.status_code}")
    return elapsed * 1000


def time_refresh(*, runs: int = 3) -> list[float]:
    """Seconds of ``runs`` full metrics refreshes after a warm-up one (also the scale benchmark)."""
    update_dashboard_metrics_cache()  # warm-up: plans, buffers, imports
    refreshes = []
    for _ in range(runs):
        started = time.perf_counter()
        update_dashboard_metrics_cache()
        refreshes.append(time.perf_counter() - started)
    cache.delete(refresh.PENDING_KEY)
    return refreshes


def run(*, products: int = 100_000, movements: int = 1_000_000, **_) -> dict:
    ensure_demo_data(products=products, movements=movements)
    user, _ = get_user_model().objects.get_or_create(
        username="bench_dashboard", defaults={"is_staff": True, "is_superuser": True}
    )

    refreshes = time_refresh(runs=3)

    # The page as production serves it, minus collectstatic (plain static
    # storage) and the host check of the test client.
    with override_settings(
        ALLOWED_HOSTS=["testserver"],
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ):
        client = Client()
        client.force_login(user)
        url = "/admin/"
        metrics.metrics_refresh()
        for _ in range(3):  # warm-up: template loading, session
            _timed_get(client, url)
        cached = [_timed_get(client, url) for _ in range(CACHED_REQUESTS)]
        uncached = []
        for _ in range(UNCACHED_REQUESTS):
            cache.delete_many(list(metrics.CACHE_KEYS))
            uncached.append(_timed_get(client, url))

    cached_ms = statistics.median(cached)
    uncached_ms = statistics.median(uncached)
    return {
        "benchmark": "dashboard",
        "refresh_s": round(statistics.median(refreshes), 3),
        "cached_page_ms": round(cached_ms, 2),
        "uncached_page_ms": round(uncached_ms, 2),
        "ratio": round(uncached_ms / cached_ms, 1),
    }

import contextlib

import pytest
from django.core.cache import cache

from dashboard import metrics, refresh

# Autouse: MD5 instead of PBKDF2's million rounds (~0.7 s a user, a login) for
# tests that are not about passwords; it keeps both passes of make test short.
from project.api.testing import fast_password_hasher  # noqa: F401


def _clear_metrics_keys():
    cache.delete_many([*metrics.CACHE_KEYS, refresh.PENDING_KEY])


@pytest.fixture(autouse=True)
def _empty_metrics_cache(settings):
    """Each test starts with no cached metric and no pending refresh.

    Only the dashboard's keys are deleted: the Redis database may be shared
    with other test runs, so the whole cache is never flushed.
    """
    _clear_metrics_keys()
    yield
    # A test that pointed CACHES at a closed port has nothing to clean.
    with contextlib.suppress(Exception):
        _clear_metrics_keys()


@pytest.fixture
def closed_redis_port():
    """A Redis URL on which nothing listens: the cache is "down"."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def redis_down(settings, closed_redis_port):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": closed_redis_port,
        }
    }
    return closed_redis_port

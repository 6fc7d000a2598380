"""The API's rate limits count every request, however many arrive at once.

See project/api/throttling.py.
"""

import threading
import types
import uuid

import pytest

from project.api.throttling import WindowRateThrottle, forget

# Django's file cache (the embedded default) increments by read-then-write;
# the atomic count needs Redis, as production runs it.
pytestmark = pytest.mark.postgresql_only


class _Throttle(WindowRateThrottle):
    def __init__(self, key, rate):
        self.key, self.rate = key, rate

    def get_rate(self, request):
        return self.rate

    def get_cache_key(self, request):
        return self.key


@pytest.fixture
def key():
    name = f"throttle_test_{uuid.uuid4().hex}"
    yield name
    forget(name, "1/minute")


def test_requests_arriving_together_are_all_counted(key):
    """Before (DRF's SimpleRateThrottle): 400 of 400 passed a limit of 100."""
    passed, barrier = [], threading.Barrier(8)

    def send():
        barrier.wait()
        passed.append(
            sum(_Throttle(key, "100/minute").allow_request(None, None) for _ in range(50))
        )

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(passed) == 100


def test_the_last_windows_requests_weigh_as_much_of_it_as_still_counts(key, monkeypatch):
    start = 60 * 30_000_000  # the start of a minute
    clock = types.SimpleNamespace(now=start + 50)
    monkeypatch.setattr(WindowRateThrottle, "timer", staticmethod(lambda: clock.now))

    def ask():
        throttle = _Throttle(key, "10/minute")
        return throttle.allow_request(None, None), throttle

    assert all(ask()[0] for _ in range(10))
    allowed, refused = ask()
    assert not allowed
    # 10 s to the end of this minute; then the last one's weight falls below 10.
    assert refused.wait() == pytest.approx(10)
    # Half way through the next minute, half of the last one still counts: 5 more.
    clock.now = start + 60 + 30
    assert [ask()[0] for _ in range(6)] == [True] * 5 + [False]
    allowed, refused = ask()
    assert refused.remaining() == 0 and refused.wait() == pytest.approx(1)
    clock.now += 1  # 10 x 29/60 = 4.8, counted as 4: room for one more
    assert ask()[0]


@pytest.mark.parametrize("rate", ["1/minute", "2/minute", "10/minute", "100/minute"])
def test_a_client_asking_steadily_gets_its_whole_limit_every_window(key, monkeypatch, rate):
    """Before rounding the last window's share down, 1/minute gave one request every two."""
    limit, duration = int(rate.split("/")[0]), 60
    start = 60 * 30_000_000
    clock = types.SimpleNamespace(now=start)
    monkeypatch.setattr(WindowRateThrottle, "timer", staticmethod(lambda: clock.now))
    passed = []
    while clock.now < start + 10 * duration:
        throttle = _Throttle(key, rate)
        if throttle.allow_request(None, None):
            passed.append(clock.now)
        else:
            clock.now += throttle.wait()  # as a client honouring Retry-After
    per_window = [sum(1 for t in passed if (t - start) // duration == n) for n in range(10)]
    # The whole limit each minute; above 60 a minute, a client whose
    # Retry-After (whole seconds) steps over the window's last fraction of a
    # second may get one less.
    assert all(limit - (limit > duration) <= count <= limit for count in per_window), per_window


def test_a_counter_in_the_file_cache_keeps_its_window(key, settings, monkeypatch, tmp_path):
    """The embedded default's cache increments by writing again with its default timeout."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path),
            "TIMEOUT": 300,
        }
    }
    clock = types.SimpleNamespace(now=3600 * 500_000 + 60)
    monkeypatch.setattr(WindowRateThrottle, "timer", staticmethod(lambda: clock.now))
    monkeypatch.setattr("time.time", lambda: clock.now)
    for _ in range(3):
        assert _Throttle(key, "4/hour").allow_request(None, None)
    clock.now += 20 * 60  # past the cache's 5 minutes, within the hour
    assert _Throttle(key, "4/hour").allow_request(None, None)
    assert not _Throttle(key, "4/hour").allow_request(None, None)


def test_a_cache_failing_half_way_lets_the_request_through_without_headers(key, monkeypatch):
    from integrations.throttling import HEADERS_ATTRIBUTE, ClientRateThrottle
    from project.api import throttling

    def broken(*args, **kwargs):
        raise ConnectionError("Redis went away between two calls")

    monkeypatch.setattr(throttling.cache, "get", broken)  # the increment worked, the read fails
    client = types.SimpleNamespace(pk=key, rate_limit="1/minute")
    request = types.SimpleNamespace(_request=types.SimpleNamespace(api_client=client))
    assert ClientRateThrottle().allow_request(request, None)
    assert not hasattr(request._request, HEADERS_ATTRIBUTE)


def test_a_rate_of_zero_refuses_every_request_and_says_when_to_ask_again(key):
    throttle = _Throttle(key, "0/minute")
    assert not throttle.allow_request(None, None)
    assert throttle.wait() == 60

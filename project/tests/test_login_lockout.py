"""Brute-force protection of the admin login and the API's token/ (django-axes).

Before: 30 wrong admin passwords were 30 plain 200s and the right one then
logged in at once. Now a username is locked from one address after
LOGIN_FAILURE_LIMIT failures (429, a page saying when to retry), other
addresses are not, the address is the one the trusted proxy saw, a superuser
unlocks from the admin, and all of it holds with Redis down (attempts live in
the database).
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

from project.api.testing import API, fast_password_hasher, reset_token_throttle  # noqa: F401

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "right-pass-2024"
LOGIN = reverse("admin:login")
ATTACKER = "203.0.113.5"
ELSEWHERE = "198.51.100.7"
NGINX = "127.0.0.1"


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)


def _login(client, password, username="boss", **meta):
    return client.post(LOGIN, {"username": username, "password": password}, **meta)


def _logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("admin:index")


def _assert_locked(response):
    assert response.status_code == 429, response.status_code
    text = response.content.decode()
    assert "Too many failed logins" in text
    assert "Try again in 15 minutes" in text
    assert "ask an administrator" in text
    # The admin's own login layout (unfold), not a bare text page.
    assert 'id="login-locked"' in text and 'id="unfold-theme-colors"' in text
    assert int(response["Retry-After"]) == 15 * 60


def _lock(client, count=30, **meta):
    statuses = [_login(client, f"wrong-{n}", **meta).status_code for n in range(count)]
    return statuses


def test_30_wrong_passwords_lock_that_username_from_that_address_only(boss):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    started = time.monotonic()
    statuses = _lock(attacker)
    elapsed = time.monotonic() - started

    limit = settings.AXES_FAILURE_LIMIT
    assert statuses == [200] * (limit - 1) + [429] * (30 - limit + 1), (statuses, elapsed)
    # The right password from that address is refused too, with the message.
    _assert_locked(_login(attacker, PASSWORD))
    assert "_auth_user_id" not in attacker.session
    # The same person from another address is not locked out.
    assert _logged_in(_login(Client(REMOTE_ADDR=ELSEWHERE), PASSWORD))


def test_one_address_cannot_spray_many_usernames(boss, django_user_model):
    sprayer = Client(REMOTE_ADDR=ATTACKER)
    below_pair_limit = settings.AXES_FAILURE_LIMIT - 1
    tries = 0
    for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT // below_pair_limit + 1):
        for _ in range(below_pair_limit):
            _login(sprayer, "wrong", username=f"user-{n}")
            tries += 1
    assert tries >= settings.LOGIN_ADDRESS_FAILURE_LIMIT
    # Every username is locked from that address now, the right one too...
    _assert_locked(_login(sprayer, PASSWORD))
    # ...but not from elsewhere.
    assert _logged_in(_login(Client(REMOTE_ADDR=ELSEWHERE), PASSWORD))


def test_a_successful_login_clears_only_its_own_failures(boss):
    client = Client(REMOTE_ADDR=ATTACKER)
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "wrong", username=f"other-{n}")
        _login(client, "wrong")
    assert _logged_in(_login(client, PASSWORD))
    assert not AccessAttempt.objects.filter(username="boss").exists()
    # The other usernames' failures from that address still count.
    assert AccessAttempt.objects.filter(ip_address=ATTACKER).count() == (
        settings.AXES_FAILURE_LIMIT - 1
    )


def test_behind_one_proxy_the_address_is_the_one_nginx_appended(settings, boss):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = Client()
    # The client writes whatever it likes into X-Forwarded-For; nginx
    # appends the address it saw ($proxy_add_x_forwarded_for) and connects
    # from loopback.
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(
            attacker,
            "wrong",
            REMOTE_ADDR=NGINX,
            HTTP_X_FORWARDED_FOR=f"10.9.8.{n}, {ATTACKER}",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    forged = _login(
        attacker, PASSWORD, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=f"{ELSEWHERE}, {ATTACKER}"
    )
    _assert_locked(forged)
    # Another client behind the same nginx is a different address.
    colleague = _login(Client(), PASSWORD, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    assert _logged_in(colleague)


def test_with_no_trusted_proxy_x_forwarded_for_is_ignored(boss):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(Client(), "wrong", REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    _assert_locked(_login(Client(), PASSWORD, REMOTE_ADDR=ATTACKER))


@pytest.mark.parametrize(
    ("environment", "expected"),
    [({}, 0), ({"API_NUM_PROXIES": "1"}, 1), ({"TRUSTED_PROXY_COUNT": "2"}, 2)],
)
def test_one_proxy_count_for_the_lockout_and_the_token_throttle(environment, expected):
    env = {k: v for k, v in os.environ.items() if k not in {"API_NUM_PROXIES"}}
    env.pop("TRUSTED_PROXY_COUNT", None)
    env.update(environment)
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.TRUSTED_PROXY_COUNT, s.REST_FRAMEWORK['NUM_PROXIES'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "project.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(expected), str(expected)]


def _changelist():
    return reverse("admin:axes_accessattempt_changelist")


def test_a_superuser_unlocks_from_the_admin(boss, django_user_model, role_user):
    _lock(Client(REMOTE_ADDR=ATTACKER), count=settings.AXES_FAILURE_LIMIT)
    _assert_locked(_login(Client(REMOTE_ADDR=ATTACKER), PASSWORD))

    # An Admin-role staff user without the axes permissions cannot unlock.
    manager = Client(REMOTE_ADDR=ELSEWHERE)
    manager.force_login(role_user("Admin"))
    assert manager.get(_changelist()).status_code == 403

    root = Client(REMOTE_ADDR=ELSEWHERE)
    root.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "x"))
    # The sidebar leads there (Administration -> Login lockouts).
    assert _changelist() in root.get(reverse("admin:index")).content.decode()
    page = root.get(_changelist())
    assert page.status_code == 200
    assert "boss" in page.content.decode() and ATTACKER in page.content.decode()
    ids = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = root.post(
        _changelist(),
        {"action": "unlock_selected", "_selected_action": ids},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 lockout record removed" in response.content.decode()
    assert not AccessAttempt.objects.exists()
    assert _logged_in(_login(Client(REMOTE_ADDR=ATTACKER), PASSWORD))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_lockout_holds_with_redis_down(settings, boss):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    from django.core.cache import cache

    with pytest.raises(RedisConnectionError):  # the cache really is down
        cache.get("anything")

    attacker = Client(REMOTE_ADDR=ATTACKER)
    started = time.monotonic()
    statuses = _lock(attacker, count=settings.AXES_FAILURE_LIMIT + 1)
    assert statuses[-2:] == [429, 429]
    _assert_locked(_login(attacker, PASSWORD))
    assert _logged_in(_login(Client(REMOTE_ADDR=ELSEWHERE), PASSWORD))
    assert time.monotonic() - started < 10


def test_a_locked_out_username_gets_no_api_token_either(boss):
    reset_token_throttle(ATTACKER)
    reset_token_throttle(ELSEWHERE)
    try:
        _lock(Client(REMOTE_ADDR=ATTACKER), count=settings.AXES_FAILURE_LIMIT)
        body = {"username": "boss", "password": PASSWORD}
        refused = APIClient(REMOTE_ADDR=ATTACKER).post(f"{API}token/", body, format="json")
        assert refused.status_code == 429
        assert refused.json()["code"] == "locked_out"
        assert int(refused["Retry-After"]) == 15 * 60
        allowed = APIClient(REMOTE_ADDR=ELSEWHERE).post(f"{API}token/", body, format="json")
        assert allowed.status_code == 200
    finally:
        reset_token_throttle(ATTACKER)
        reset_token_throttle(ELSEWHERE)


def test_wrong_api_passwords_count_toward_the_same_lockout(boss):
    reset_token_throttle(ATTACKER)
    try:
        client = APIClient(REMOTE_ADDR=ATTACKER)
        codes = [
            client.post(
                f"{API}token/", {"username": "boss", "password": "wrong"}, format="json"
            ).json()["code"]
            for _ in range(settings.AXES_FAILURE_LIMIT)
        ]
        assert codes == ["no_active_account"] * (settings.AXES_FAILURE_LIMIT - 1) + ["locked_out"]
        _assert_locked(_login(Client(REMOTE_ADDR=ATTACKER), PASSWORD))
    finally:
        reset_token_throttle(ATTACKER)


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "10.0.0.1", NGINX),
        (1, f"10.0.0.1, {ATTACKER}", ATTACKER),
        (2, f"10.0.0.1, {ATTACKER}", "10.0.0.1"),
        (3, f"10.0.0.1, {ATTACKER}", "10.0.0.1"),  # fewer hops than proxies
        (2, f"not-an-address, {ATTACKER}", NGINX),  # never stored in the inet column
        (1, None, NGINX),
    ],
)
def test_client_address_agrees_with_the_token_throttle(settings, rf, count, forwarded, expected):
    from project.api.throttling import TokenThrottle
    from project.lockout import client_address

    settings.TRUSTED_PROXY_COUNT = count
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}
    meta = {"REMOTE_ADDR": NGINX}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    request = rf.post(LOGIN, **meta)
    assert client_address(request) == expected
    # The throttle picks the same hop (it does not check that it is an address).
    if "not-an-address" not in (forwarded or ""):
        assert TokenThrottle().get_ident(request) == expected


def test_the_lockout_page_speaks_the_browsers_language(boss):
    client = Client(REMOTE_ADDR=ATTACKER, HTTP_ACCEPT_LANGUAGE="pt-br")
    _lock(client, count=settings.AXES_FAILURE_LIMIT)
    text = _login(client, PASSWORD).content.decode()
    assert "Login bloqueado" in text
    assert "Tente novamente em 15 minutos." in text
    assert "peça a um administrador" in text

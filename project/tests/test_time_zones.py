"""Instants shown in the zone of the person's browser (project/timezones.py, issue 14).

The browser's script writes its IANA zone into a cookie; the middleware
activates it for the request. The cookie is whatever the client sends: any
value that is not a zone shows the site's TIME_ZONE (São Paulo), never a 500.
"""

import re
import zoneinfo
from datetime import UTC

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import formats, translation

from movements.models import Inflow
from project.api.testing import API, client_for, fresh_api_user_cache  # noqa: F401
from project.timezones import TIME_ZONE_COOKIE_NAME, TimeZoneMiddleware, current_name

pytestmark = pytest.mark.django_db

MANAUS = zoneinfo.ZoneInfo("America/Manaus")
SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
LIST = "admin:movements_inflow_changelist"


def shown(moment, zone, language: str) -> str:
    """``moment`` as the admin writes an instant: DATETIME_FORMAT of the language, in ``zone``."""
    with translation.override(language):
        return formats.date_format(moment.astimezone(zone), "DATETIME_FORMAT")


def with_cookie(client, raw: str) -> dict:
    """The Cookie header exactly as a browser would send it: the session and ``raw``."""
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={session}; {raw}"}


@pytest.fixture
def moment(stocked_product):
    stocked_product(quantity=4)
    return Inflow.objects.get().created_at


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_a_browser_in_manaus_sees_the_movement_one_hour_behind_sao_paulo(
    admin_client, moment, language
):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    admin_client.cookies[TIME_ZONE_COOKIE_NAME] = "America/Manaus"

    page = admin_client.get(reverse(LIST)).content.decode()

    manaus, sao_paulo = shown(moment, MANAUS, language), shown(moment, SAO_PAULO, language)
    assert manaus != sao_paulo
    assert manaus in page and sao_paulo not in page
    # Only for the request: the thread is back in the site's zone.
    assert current_name() == settings.TIME_ZONE


def test_without_the_cookie_the_page_shows_the_sites_zone(admin_client, moment):
    page = admin_client.get(reverse(LIST)).content.decode()
    assert shown(moment, SAO_PAULO, "en") in page
    assert shown(moment, MANAUS, "en") not in page


@pytest.mark.parametrize(
    "raw",
    [
        f"{TIME_ZONE_COOKIE_NAME}=",
        f"{TIME_ZONE_COOKIE_NAME}=garbage",
        f"{TIME_ZONE_COOKIE_NAME}=Mars/Olympus",
        f"{TIME_ZONE_COOKIE_NAME}=../etc",
        f"{TIME_ZONE_COOKIE_NAME}=../../../../etc/passwd",
        f"{TIME_ZONE_COOKIE_NAME}=/usr/share/zoneinfo/America/Manaus",
        f"{TIME_ZONE_COOKIE_NAME}=America",  # a directory of zones, not a zone
        f"{TIME_ZONE_COOKIE_NAME}=america/manaus",
        f"{TIME_ZONE_COOKIE_NAME}=America/Manaus%00",
        f"{TIME_ZONE_COOKIE_NAME}=Am\u00e9rica/Manaus",
        f'{TIME_ZONE_COOKIE_NAME}="\\"\\\\"',
        f"{TIME_ZONE_COOKIE_NAME}={'A' * 10_240}",
        f"{TIME_ZONE_COOKIE_NAME}={'America/Manaus/' * 700}",
        f"{TIME_ZONE_COOKIE_NAME}",  # no "=": a cookie with no value
    ],
    ids=lambda raw: raw[:40],
)
def test_a_value_that_is_not_a_zone_falls_back_to_the_sites_zone(admin_client, moment, raw):
    response = admin_client.get(reverse(LIST), **with_cookie(admin_client, raw))
    assert response.status_code == 200
    page = response.content.decode()
    assert shown(moment, SAO_PAULO, "en") in page
    assert shown(moment, MANAUS, "en") not in page


def test_the_middleware_never_raises_on_a_cookie_value(rf):
    """Any string (and none at all) activates a zone: the site's when it is not a zone."""
    seen = []

    def view(request):
        seen.append(current_name())
        return None

    middleware = TimeZoneMiddleware(view)
    for value in ("America/Noronha", "UTC", "\x00", "..", "/", " " * 3, "Etc/GMT+3"):
        request = rf.get("/")
        request.COOKIES[TIME_ZONE_COOKIE_NAME] = value
        middleware(request)
    middleware(rf.get("/"))
    assert seen == [
        "America/Noronha",
        "UTC",
        *[settings.TIME_ZONE] * 4,
        "Etc/GMT+3",
        settings.TIME_ZONE,
    ]


@pytest.mark.parametrize("url", ["/admin/login/", "/admin/"])
def test_every_page_carries_the_zone_script_with_the_csp_nonce(client, admin_client, url):
    """The login page (so the first page after it has the zone) and the admin's pages."""
    response = (client if "login" in url else admin_client).get(url)
    assert response.status_code == 200
    scripts = re.findall(
        r'<script nonce="([^"]+)">(.*?)</script>', response.content.decode(), re.DOTALL
    )
    nonce = next(nonce for nonce, body in scripts if f'"{TIME_ZONE_COOKIE_NAME}="' in body)
    # A script without the header's nonce would be refused by the browser.
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]


def test_the_api_keeps_utc_whatever_the_browser_sends(role_user, moment):
    """Swagger UI runs in the browser, which sends the zone's cookie along: the API ignores it."""
    api = client_for(role_user("Operator"))
    api.cookies[TIME_ZONE_COOKIE_NAME] = "America/Manaus"
    row = api.get(f"{API}inflows/").json()["results"][0]
    assert row["created_at"] == moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert api.get(f"{API}inflows/{row['id']}/").json()["created_at"] == row["created_at"]

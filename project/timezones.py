"""Instants shown in the time zone of the person's browser (issue 14).

A small script in every admin page (templates/unfold/layouts/skeleton.html,
which every admin, login and error page extends) writes the browser's IANA zone
(``Intl.DateTimeFormat().resolvedOptions().timeZone``) into the cookie
``TIME_ZONE_COOKIE_NAME``; ``TimeZoneMiddleware`` activates it for the request,
as Django's "Selecting the current time zone" describes. No cookie (the very
first page), or a value that is not a zone: the site's ``TIME_ZONE``.

Only the display of instants follows the person. Business days (the
dashboard's "today", the daily rollups) stay calendar days in ``TIME_ZONE``:
that code asks for ``timezone.get_default_timezone()`` explicitly. The API
keeps UTC (project/api/fields.py). Jobs keep the zone of the person who started
them (``dataio.notifications.job_time_zone``).
"""

import functools
import zoneinfo

from django.conf import settings
from django.utils import timezone

TIME_ZONE_COOKIE_NAME = "backoffice_tz"
# The longest IANA name is 32 characters ("America/Argentina/ComodRivadavia");
# anything much longer is not a zone, and is not looked up.
_MAX_NAME_LENGTH = 64


@functools.cache
def available() -> frozenset[str]:
    """The zone names this Python knows (read from disk once: about 600 names, 5 ms)."""
    return frozenset(zoneinfo.available_timezones())


def valid_zone(name) -> str | None:
    """``name`` when it is a zone Python knows, else None (never raises)."""
    if not isinstance(name, str) or not name or len(name) > _MAX_NAME_LENGTH:
        return None
    return name if name in available() else None


def zone_or_default(name) -> str:
    """``name`` when it is a known zone, else the site's ``TIME_ZONE``."""
    return valid_zone(name) or settings.TIME_ZONE


def shop_today():
    """Today in the shop's calendar (``TIME_ZONE``), whichever zone the request runs in.

    Business days (rollups, reorder suggestions) are the shop's; only the
    display of instants follows the person.
    """
    return timezone.localdate(timezone=timezone.get_default_timezone())


def current_name() -> str:
    """The active zone's IANA name.

    Not ``timezone.get_current_timezone_name()``: that is the zone's
    abbreviation when it has only one ("-03" for Etc/GMT+3), which is no
    zone name here and which PostgreSQL reads as UTC+3 (POSIX signs).
    """
    return str(timezone.get_current_timezone())


class TimeZoneMiddleware:
    """Activates the browser's zone (from the cookie) for the request, else ``TIME_ZONE``.

    ``timezone.override`` restores the previous zone when the response is
    returned, so nothing of one request is left on the thread for the next.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = zone_or_default(request.COOKIES.get(TIME_ZONE_COOKIE_NAME))
        with timezone.override(zoneinfo.ZoneInfo(name)):
            return self.get_response(request)

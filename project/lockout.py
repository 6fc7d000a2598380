"""Login brute-force protection: the project's side of django-axes.

Settings (``project/settings.py``, "Auth") point axes here for three things:

- ``client_address``: the address a lockout is keyed on, read exactly as the
  API's token throttle reads it (``TRUSTED_PROXY_COUNT``), so one setting
  says how many proxies to trust;
- ``LoginAttemptHandler``: axes' database handler (no cache on the login
  path: it keeps working when Redis is down) with two limits, one per
  username and address, a higher one per address;
- ``lockout_response``: the page a locked-out person sees, in the admin's
  theme, saying when to retry and whom to ask.
"""

import ipaddress
import math

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib import admin
from django.db.models import Sum
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def client_address(request) -> str | None:
    """The client's address as the outermost trusted proxy saw it.

    nginx appends the address it saw to X-Forwarded-For, so with N trusted
    proxies the N-th entry from the right is the client; anything further
    left was written by the client and is not trusted. The same rule as
    DRF's throttle (``NUM_PROXIES``).
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if count <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    candidate = hops[-min(count, len(hops))]
    try:
        # More proxies configured than there are: the entry may be a
        # client's invention; never store it (the column is an inet).
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class LoginAttemptHandler(AxesDatabaseHandler):
    """Two limits over axes' ``[[username, ip_address], ip_address]`` parameters.

    A username is locked from one address after ``AXES_FAILURE_LIMIT``
    failures, so an attacker cannot lock a colleague out from everywhere;
    an address is locked for every username after
    ``LOGIN_ADDRESS_FAILURE_LIMIT``, so it cannot try many usernames freely
    (an office behind one NAT address shares that budget: it is higher).
    """

    def get_failures(self, request, credentials=None) -> int:
        pair, address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            # Report the address as locked in the units axes compares.
            return max(pair, get_failure_limit(request, credentials))
        return pair

    def reset_user_attempts(self, request, credentials=None) -> int:
        # A successful login clears that username's failures from that
        # address only: one valid account must not wipe the address's count
        # (it would let a password sprayer reset the address limit).
        pair = self.filter_user_attempts(request, credentials)[0]
        count, _ = pair.delete()
        return count


def lockout_response(request, original_response=None, credentials=None):
    """HTTP 429 with the admin's login layout, a reason and when to retry."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else 0
    retry = ngettext(
        "Try again in %(minutes)d minute.", "Try again in %(minutes)d minutes.", minutes
    ) % {"minutes": minutes}
    context = {
        **admin.site.each_context(request),
        "title": _("Login locked"),
        "username": get_client_username(request, credentials) or "",
        "reason": _(
            "Too many failed logins from your address. For your security, "
            "logging in from here is paused."
        ),
        "retry": retry,
        "help": _("If you need access sooner, ask an administrator to unlock your login."),
    }
    response = render(request, "admin/login_locked.html", context, status=429)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response

"""Themed 403, 404 and 500 pages: what happened, in the user's language, and a way back.

Django's defaults are bare "403 Forbidden" / "Not Found" pages. These use
the admin login's layout (unfold). The 500 page asks nothing of the
database or the cache (either may be what failed) and falls back to plain
text if even the template cannot be rendered.
"""

import logging

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponsePermanentRedirect, HttpResponseServerError
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


def _context(status: int, title: str, message: str) -> dict:
    return {
        "status": status,
        "title": title,
        "message": message,
        # The back office's names (unfold's settings), never Django's default
        # admin site titles; the 500 page cannot ask the admin for them.
        "site_title": settings.UNFOLD["SITE_TITLE"],
        "site_header": settings.UNFOLD["SITE_HEADER"],
        "back_url": reverse("admin:index"),
        "back_label": _("Back to the back office"),
    }


def favicon(request):
    return HttpResponsePermanentRedirect(static("favicon.svg"))


def _with_site(request, context: dict) -> dict:
    """The admin's own context (favicon, theme, languages) when it can be had."""
    try:
        return {**admin.site.each_context(request), **context}
    except Exception:  # the page must show even if that fails
        logger.exception("The admin context for an error page failed")
        return context


def permission_denied(request, exception=None):
    context = _context(
        403,
        _("Not allowed"),
        _(
            "Your account may not open this page or do this. If your work needs it, ask an "
            "administrator to give your role the permission."
        ),
    )
    return render(request, "errors/page.html", _with_site(request, context), status=403)


def page_not_found(request, exception=None):
    context = _context(
        404,
        _("Page not found"),
        _("There is nothing at this address: the link may be old, or the record was deleted."),
    )
    return render(request, "errors/page.html", _with_site(request, context), status=404)


def server_error(request):
    context = _context(
        500,
        _("Something went wrong"),
        _(
            "The back office could not finish this request; nothing was half-saved. The error "
            "was recorded. Try again in a moment, and tell an administrator if it persists."
        ),
    )
    try:
        return render(request, "errors/page.html", context, status=500)
    except Exception:  # the page itself failed (e.g. the database is down): plain text
        logger.exception("The 500 page could not be rendered")
        return HttpResponseServerError(context["message"], content_type="text/plain")

"""A person whose browser is in Manaus sees times in Manaus time (issue 14).

Chromium runs with its zone set to America/Manaus (Playwright's
``timezone_id``), as a laptop in Manaus would be; the server's TIME_ZONE is
São Paulo, one hour ahead. Nothing is set up by hand: the login page's
script writes the zone's cookie, and the pages after it show the movement's
time in Manaus time, with no console error (a script the Content-Security-
Policy refused would be one).
"""

import shutil
import zoneinfo

import pytest
from django.utils import formats, translation

from backoffice.tests.browser.conftest import LANGUAGES, PASSWORD
from backoffice.tests.browser.flow import Flow
from movements.models import Inflow
from project.tests.processes import CHROMIUM
from project.timezones import TIME_ZONE_COOKIE_NAME

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.parametrize("language", LANGUAGES),
]

MANAUS = "America/Manaus"


class _BrowserIn:
    """The browser, whose new contexts (Flow makes one) run in ``zone``."""

    def __init__(self, browser, zone: str):
        self.browser, self.zone = browser, zone

    def new_context(self, **options):
        return self.browser.new_context(timezone_id=self.zone, **options)


@pytest.fixture
def flow_in_manaus(request, chromium, live_server, flow_settings, transactional_db, language):
    flow = Flow(_BrowserIn(chromium, MANAUS), live_server.url, language, request.node.name)
    yield flow
    flow.close(failed=getattr(request.node, "flow_failed", True))


def shown(moment, zone: str, language: str) -> str:
    """An instant as the admin writes it in ``language``, in ``zone``."""
    with translation.override(language):
        return formats.date_format(moment.astimezone(zoneinfo.ZoneInfo(zone)), "DATETIME_FORMAT")


def test_a_browser_in_manaus_sees_movement_times_in_manaus(flow_in_manaus, staff, shop, language):
    flow = flow_in_manaus
    staff("manaus_admin", None)
    moments = list(Inflow.objects.values_list("created_at", flat=True))  # the shop's six
    assert flow.page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == MANAUS

    flow.login("manaus_admin", PASSWORD)
    cookies = {cookie["name"]: cookie["value"] for cookie in flow.context.cookies()}
    assert cookies.get(TIME_ZONE_COOKIE_NAME) == MANAUS

    flow.goto("/admin/movements/inflow/")
    flow.step("inflows in Manaus time")
    page = flow.text()
    for moment in moments:
        manaus = shown(moment, MANAUS, language)
        sao_paulo = shown(moment, "America/Sao_Paulo", language)
        assert manaus != sao_paulo
        assert manaus in page, (manaus, page[:2000])
        assert sao_paulo not in page
    flow.finish()

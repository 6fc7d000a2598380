"""An export writes its dates in the time zone of the person who started it (issue 14).

The person's browser is in Manaus (the cookie project.timezones reads); the
export runs in a real Celery worker, a thread whose own zone is the site's
(São Paulo): only what the job stored can make its dates Manaus time. On
PostgreSQL a CSV is written by COPY (the zone goes into the SELECT), on
SQLite by Python: run on both.
"""

import csv
import io
import json
import shutil
import zoneinfo
from datetime import datetime
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from python_calamine import CalamineWorkbook

from dataio import files, notifications
from dataio.models import TaskNotification
from dataio.tests.conftest import wait_for
from dataio.tests.helpers import preview
from movements.models import Inflow
from project import timezones

pytestmark = pytest.mark.django_db(transaction=True)

MANAUS = zoneinfo.ZoneInfo("America/Manaus")
SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
FORMAT_INDEX = {"csv": "0", "xlsx": "1", "json": "2"}
CSV_DATE = "%Y-%m-%d %H:%M:%S"


def _export(client, fmt: str) -> TaskNotification:
    response = client.post(
        reverse("admin:movements_inflow_export"), {"format": FORMAT_INDEX[fmt], "resource": "0"}
    )
    assert response.status_code == 302, response.content[:500]
    notification = wait_for(TaskNotification.objects.latest("pk").pk)
    assert notification.status == TaskNotification.Status.COMPLETED, notification.error_message
    return notification


def _created_at(notification: TaskNotification, fmt: str):
    """The created_at cell of the export's one row, as its format writes it."""
    path = files.absolute(notification.result_file)
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))
    elif fmt == "json":
        rows = json.loads(path.read_bytes())
    else:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        rows = [dict(zip(sheet[0], row, strict=True)) for row in sheet[1:]]
    assert len(rows) == 1
    return rows[0]["created_at"]


def _assert_written_in(cell, fmt: str, moment: datetime, zone) -> None:
    local = moment.astimezone(zone)
    if fmt == "csv":
        assert cell == local.strftime(CSV_DATE)
    elif fmt == "json":
        assert cell == local.isoformat()
    else:
        # A real date cell, in local wall-clock time (to the second: a double).
        assert isinstance(cell, datetime)
        assert abs((cell - local.replace(tzinfo=None)).total_seconds()) < 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_an_export_started_from_manaus_writes_manaus_time(
    admin_client, celery_worker, stocked_product, fmt
):
    stocked_product(quantity=4)
    moment = Inflow.objects.get().created_at
    admin_client.cookies[timezones.TIME_ZONE_COOKIE_NAME] = "America/Manaus"

    notification = _export(admin_client, fmt)

    assert notification.parameters["time_zone"] == "America/Manaus"
    # Manaus time: one hour behind São Paulo, the site's zone (the worker's own).
    _assert_written_in(_created_at(notification, fmt), fmt, moment, MANAUS)


def test_a_fixed_offset_zone_is_written_with_its_own_sign(
    admin_client, celery_worker, stocked_product
):
    """Etc/GMT+5 is UTC-5 (the tz database's POSIX sign), the browser's and the export's.

    Its abbreviation, "-05", is what ``get_current_timezone_name`` gives, and
    PostgreSQL would read that as UTC+5: the job keeps the zone's name.
    """
    stocked_product(quantity=4)
    moment = Inflow.objects.get().created_at
    admin_client.cookies[timezones.TIME_ZONE_COOKIE_NAME] = "Etc/GMT+5"

    notification = _export(admin_client, "csv")

    assert notification.parameters["time_zone"] == "Etc/GMT+5"
    zone = zoneinfo.ZoneInfo("Etc/GMT+5")
    assert moment.astimezone(zone).utcoffset().total_seconds() == -5 * 3600
    _assert_written_in(_created_at(notification, "csv"), "csv", moment, zone)


def test_without_a_browser_zone_an_export_writes_the_sites_time(
    admin_client, celery_worker, stocked_product
):
    stocked_product(quantity=4)
    moment = Inflow.objects.get().created_at
    notification = _export(admin_client, "csv")
    assert notification.parameters["time_zone"] == "America/Sao_Paulo"
    _assert_written_in(_created_at(notification, "csv"), "csv", moment, SAO_PAULO)


@pytest.mark.parametrize("stored", [None, "", "Mars/Olympus", "../../etc/passwd", 42, "x" * 5000])
def test_a_job_without_a_valid_zone_runs_in_the_sites_zone(admin_user, stored):
    """Jobs queued before this change have no zone; a stored value is never trusted blindly."""
    parameters = {} if stored is None else {"time_zone": stored}
    job = TaskNotification(user=admin_user, parameters=parameters)
    assert notifications.job_time_zone(job) == "America/Sao_Paulo"


def test_an_import_preview_keeps_the_requesters_zone(admin_client, stocked_product):
    stocked_product(quantity=4, serial_number="SKU-1")
    admin_client.cookies[timezones.TIME_ZONE_COOKIE_NAME] = "America/Rio_Branco"
    checked = preview(
        admin_client, "admin:movements_outflow_import", b"product,quantity\nSKU-1,1\n"
    )
    assert checked.parameters["time_zone"] == "America/Rio_Branco"
    assert notifications.job_time_zone(checked) == "America/Rio_Branco"


@pytest.fixture
def zone_postgresql_lacks(tmp_path):
    """A zone Python's tz database has and PostgreSQL's does not (Python's is newer).

    The zone "America/Nova_Zona" (Manaus's rules) in a directory put first
    on Python's zone path, as a newer tzdata would bring it.
    """
    folder = tmp_path / "zoneinfo"
    (folder / "America").mkdir(parents=True)
    found = [Path(root, "America/Manaus") for root in zoneinfo.TZPATH]
    manaus = next((path for path in found if path.is_file()), None)
    if manaus is None:
        pytest.skip("no system zone files (only the tzdata package) to copy a zone from")
    shutil.copy(manaus, folder / "America/Nova_Zona")
    before = zoneinfo.TZPATH
    zoneinfo.reset_tzpath([str(folder), *before])
    timezones.available.cache_clear()
    yield "America/Nova_Zona"
    zoneinfo.reset_tzpath(before)
    timezones.available.cache_clear()


def test_a_zone_postgresql_does_not_know_still_exports(
    admin_client, celery_worker, stocked_product, zone_postgresql_lacks
):
    """The COPY would fail on the zone's name: the export is written by Python instead."""
    zone = zone_postgresql_lacks
    if connection.vendor == "postgresql":  # the fault: a COPY "AT TIME ZONE" it would refuse
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_timezone_names WHERE name = %s", [zone])
            assert cursor.fetchone()[0] == 0
    stocked_product(quantity=4)
    moment = Inflow.objects.get().created_at
    admin_client.cookies[timezones.TIME_ZONE_COOKIE_NAME] = zone

    notification = _export(admin_client, "csv")

    assert notification.parameters["time_zone"] == zone
    _assert_written_in(_created_at(notification, "csv"), "csv", moment, MANAUS)

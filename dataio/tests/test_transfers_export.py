"""Exports from the admin, run by a real Celery worker, read back from the download."""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from catalog.models import Product
from catalog.tests.factories import ProductFactory
from dataio import files
from dataio.models import TaskNotification
from dataio.tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FORMAT_INDEX = {"csv": "0", "xlsx": "1", "json": "2"}


def _export(client, url_name="admin:catalog_product_export", query="", **data):
    url = reverse(url_name) + (f"?{query}" if query else "")
    response = client.post(url, {"format": FORMAT_INDEX[data.pop("fmt")], "resource": "0", **data})
    assert response.status_code == 302, response.content[:500]
    return TaskNotification.objects.latest("pk")


def _read(content: bytes, fmt: str, folder) -> list[dict]:
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    if fmt == "json":
        return json.loads(content)
    path = folder / "export.xlsx"
    path.write_bytes(content)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture
def products(db):
    ProductFactory(title='=HYPERLINK("http://evil")', serial_number="EVIL-1", cost_price="-0")
    ProductFactory(title="Plain", serial_number="PLAIN-1", cost_price=Decimal("12.50"))
    ProductFactory(title="@SUM(A1)", serial_number="+EVIL-2")
    return Product.objects.all()


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_export_each_format_downloads_and_reads_back(
    admin_client, celery_worker, products, fmt, tmp_path
):
    notification = _export(admin_client, fmt=fmt)
    assert notification.status == TaskNotification.Status.PENDING
    notification = wait_for(notification.pk)
    assert notification.status == TaskNotification.Status.COMPLETED, notification.error_message
    assert notification.total_rows == 3 and notification.progress == 100

    response = admin_client.get(reverse("dataio:download", args=[notification.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    rows = {row["serial_number"]: row for row in _read(content, fmt, tmp_path)}
    # Spreadsheet formats quote text a spreadsheet would run; JSON keeps it exact.
    quoted = "+EVIL-2" if fmt == "json" else "'+EVIL-2"
    assert set(rows) == {"EVIL-1", "PLAIN-1", quoted}
    plain = rows["PLAIN-1"]
    if fmt == "json":
        # JSON keeps exact text (no spreadsheet opens it); numbers are numbers.
        assert rows["EVIL-1"]["title"] == '=HYPERLINK("http://evil")'
        assert plain["cost_price"] == 12.5
    elif fmt == "csv":
        assert rows["EVIL-1"]["title"] == '\'=HYPERLINK("http://evil")'
        assert rows["'+EVIL-2"]["title"] == "'@SUM(A1)"
        assert plain["cost_price"] == "12.50"
    else:
        assert rows["EVIL-1"]["title"] == '\'=HYPERLINK("http://evil")'
        # numbers stay numbers in the workbook
        assert plain["cost_price"] == 12.5 and isinstance(plain["reorder_level"], float | int)


def test_export_keeps_the_admin_filters(admin_client, celery_worker, products):
    notification = _export(admin_client, fmt="csv", query="q=PLAIN")
    notification = wait_for(notification.pk)
    content = files.absolute(notification.result_file).read_text(encoding="utf-8-sig")
    assert notification.total_rows == 1 and "PLAIN-1" in content and "EVIL-1" not in content


def test_export_selected_rows_only(admin_client, celery_worker, products):
    chosen = Product.objects.get(serial_number="PLAIN-1")
    notification = _export(admin_client, fmt="json", export_items=[str(chosen.pk)])
    notification = wait_for(notification.pk)
    data = json.loads(files.absolute(notification.result_file).read_bytes())
    assert [row["serial_number"] for row in data] == ["PLAIN-1"]


def test_movement_export_through_the_worker(admin_client, celery_worker, stocked_product):
    product = stocked_product(quantity=4)
    notification = _export(admin_client, "admin:movements_inflow_export", fmt="csv")
    notification = wait_for(notification.pk)
    rows = list(
        csv.DictReader(io.StringIO(files.absolute(notification.result_file).read_text("utf-8-sig")))
    )
    assert rows[0]["product"] == product.serial_number and rows[0]["quantity"] == "4"


def test_another_user_cannot_download_and_no_public_url_serves_the_file(
    admin_client, client, celery_worker, products, django_user_model, settings
):
    notification = wait_for(_export(admin_client, fmt="csv").pk)
    download = reverse("dataio:download", args=[notification.pk])
    other = django_user_model.objects.create_user("other", password="x-pass-123456", is_staff=True)
    client.force_login(other)
    assert client.get(download).status_code == 404
    assert client.get(reverse("dataio:download_errors", args=[notification.pk])).status_code == 404
    # The file is reachable by no public URL, even for its owner.
    name = notification.result_file
    for prefix in ("/media/", "/static/", settings.MEDIA_URL, "/mediafiles/", "/"):
        assert admin_client.get(f"{prefix}{name}").status_code == 404, prefix
    assert admin_client.get(download).status_code == 200


def test_download_hands_over_to_nginx_when_configured(
    admin_client, celery_worker, products, settings
):
    notification = wait_for(_export(admin_client, fmt="csv").pk)
    settings.PRIVATE_FILES_ACCEL_PREFIX = "/protected-media/"
    response = admin_client.get(reverse("dataio:download", args=[notification.pk]))
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{notification.result_file}"
    assert response.content == b""


def test_retry_of_a_failed_export(admin_client, celery_worker, products, monkeypatch):
    from dataio import exports

    real = exports.export_queryset
    calls = []

    def broken_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(exports, "export_queryset", broken_once)
    notification = wait_for(_export(admin_client, fmt="csv").pk)
    assert notification.status == TaskNotification.Status.FAILED
    assert "internal error" in notification.error_message
    assert "disk on fire" not in notification.error_message  # no traceback for users
    page = admin_client.get(reverse("admin:dataio_tasknotification_changelist"))
    assert page.status_code == 200 and b"Retry" in page.content

    response = admin_client.post(reverse("dataio:retry", args=[notification.pk]))
    assert response.status_code == 302
    notification = wait_for(notification.pk)
    assert notification.status == TaskNotification.Status.COMPLETED
    assert notification.total_rows == 3


def test_export_page_renders_the_unfold_form(admin_client):
    response = admin_client.get(reverse("admin:catalog_product_export"))
    assert response.status_code == 200
    assert b"xlsx" in response.content.lower() and b"json" in response.content.lower()

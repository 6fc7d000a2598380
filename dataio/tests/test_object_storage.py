"""Private files in an S3-compatible bucket: a real HTTP server (moto's server mode), boto3.

The bucket is what several web and worker hosts share instead of a disk. The
tests check that files go to it and never to MEDIA_ROOT, that only the owner
downloads them (signed URL or stream), that expiry deletes the objects, and
that a storage that hangs gives a message, not a 500 or a stuck request.
"""

import csv
import io
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import boto3
import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone
from moto.server import ThreadedMotoServer

from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory, ProductModelFactory
from dataio import files, notifications, pipeline
from dataio.models import TaskNotification
from dataio.tests import helpers
from project import objectstorage
from project.tests.faults import HungServer

pytestmark = pytest.mark.django_db

Status = TaskNotification.Status
KEYS = {"access_key": "test-key", "secret_key": "test-secret"}


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Bucket:
    client: object
    name: str

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


def _use_bucket(settings, endpoint: str, name: str, **waits) -> None:
    waits = {"connect_timeout": 2, "read_timeout": 5, "max_attempts": 2, **waits}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": objectstorage.s3_storage(
            {"bucket_name": name, "endpoint_url": endpoint, **KEYS},
            expiry=settings.STORAGE_URL_EXPIRY_SECONDS,
            **waits,
        ),
    }


@pytest.fixture
def bucket(settings, s3_endpoint) -> Bucket:
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
    )
    name = f"private-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    settings.STORAGE_URL_EXPIRY_SECONDS = 120
    settings.STORAGE_DOWNLOAD = "redirect"
    _use_bucket(settings, s3_endpoint, name)
    return Bucket(client, name)


@pytest.fixture
def hung_storage(settings):
    """A storage endpoint that accepts connections and never answers, with 1 s timeouts."""
    server = HungServer()
    _use_bucket(
        settings,
        f"http://127.0.0.1:{server.port}",
        "private",
        connect_timeout=1,
        read_timeout=1,
        max_attempts=1,
    )
    yield server
    server.close()


def _on_disk(settings) -> list:
    return [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()]


def _finished_export(user, name: str, fmt: str = "csv") -> TaskNotification:
    return TaskNotification.objects.create(
        user=user,
        task_type=TaskNotification.TaskType.EXPORT,
        model="catalog.product",
        format=fmt,
        status=Status.COMPLETED,
        result_file=name,
    )


def _workbook_bytes(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- the download view ------------------------------------------------------


def test_owner_is_redirected_to_a_short_lived_signed_url(admin_client, admin_user, bucket):
    content = _workbook_bytes([["serial_number", "title"], ["SKU-1", "Lamp"]])
    name = files.save(files.new_name(files.EXPORTS, "xlsx"), [content])
    notification = _finished_export(admin_user, name, "xlsx")

    response = admin_client.get(reverse("dataio:download", args=[notification.pk]))

    assert response.status_code == 302
    url = response["Location"]
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["120"] and "X-Amz-Signature" in query
    assert query["response-content-disposition"][0].startswith('attachment; filename="catalog')
    assert url.startswith("http://127.0.0.1:")  # the test's own server
    with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310
        downloaded = reply.read()
        assert reply.headers["Content-Disposition"].endswith('.xlsx"')
    assert downloaded == content
    sheet = openpyxl.load_workbook(io.BytesIO(downloaded)).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["serial_number", "title"],
        ["SKU-1", "Lamp"],
    ]


def test_owner_downloads_a_stream_when_the_bucket_is_private_to_the_servers(
    admin_client, admin_user, bucket, settings
):
    settings.STORAGE_DOWNLOAD = "stream"
    content = "\ufeffserial_number,title\r\nSKU-1,Lâmpada\r\n".encode()
    name = files.save(files.new_name(files.EXPORTS, "csv"), [content])
    notification = _finished_export(admin_user, name)

    response = admin_client.get(reverse("dataio:download", args=[notification.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="catalog-product-')
    downloaded = b"".join(response.streaming_content)
    assert downloaded == content and int(response["Content-Length"]) == len(content)
    rows = list(csv.DictReader(io.StringIO(downloaded.decode("utf-8-sig"))))
    assert rows == [{"serial_number": "SKU-1", "title": "Lâmpada"}]


@pytest.mark.parametrize("mode", ["redirect", "stream"])
def test_another_user_gets_404_and_a_missing_object_is_404(
    admin_client, admin_user, client, django_user_model, bucket, settings, mode
):
    settings.STORAGE_DOWNLOAD = mode
    name = files.save(files.new_name(files.EXPORTS, "csv"), [b"a,b\r\n"])
    notification = _finished_export(admin_user, name)
    download = reverse("dataio:download", args=[notification.pk])
    other = django_user_model.objects.create_user("other", password="x-pass-123456", is_staff=True)
    client.force_login(other)

    assert client.get(download).status_code == 404
    bucket.client.delete_object(Bucket=bucket.name, Key=name)
    assert admin_client.get(download).status_code == 404


def test_a_hung_storage_gives_a_message_not_a_500(admin_client, admin_user, hung_storage):
    notification = _finished_export(admin_user, files.new_name(files.EXPORTS, "csv"))
    started = time.monotonic()

    response = admin_client.get(reverse("dataio:download", args=[notification.pk]), follow=True)

    assert time.monotonic() - started < 10
    assert response.status_code == 200
    assert "The file storage did not answer" in response.content.decode()
    assert hung_storage.connections >= 1


def test_a_retry_while_the_storage_hangs_says_so_and_changes_nothing(
    admin_client, admin_user, hung_storage
):
    failed = _finished_export(admin_user, "")
    TaskNotification.objects.filter(pk=failed.pk).update(
        status=Status.FAILED, error_file=files.new_name(files.ERRORS, "csv")
    )

    response = admin_client.post(reverse("dataio:retry", args=[failed.pk]), follow=True)

    assert response.status_code == 200
    assert "The file storage did not answer" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == Status.FAILED and failed.error_file


# --- expiry ------------------------------------------------------------------


def test_expiry_deletes_the_objects_and_the_orphans(admin_user, bucket, settings):
    old = _finished_export(admin_user, files.save(files.new_name(files.EXPORTS, "csv"), [b"x"]))
    new = _finished_export(admin_user, files.save(files.new_name(files.EXPORTS, "csv"), [b"y"]))
    orphan = files.save(files.new_name(files.UPLOADS, "csv"), [b"z"])
    days = settings.TRANSFER_FILES_RETENTION_DAYS
    TaskNotification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=days + 1)
    )
    assert len(bucket.keys()) == 3

    # Nothing in the bucket is old yet: only the old notification's file goes.
    assert notifications.notifications_purge_files() == 1
    assert bucket.keys() == sorted([new.result_file, orphan])
    # Past the retention, the object no notification points to goes too.
    later = timezone.now() + timedelta(days=days + 1)
    TaskNotification.objects.filter(pk=new.pk).update(created_at=timezone.now())
    assert notifications.notifications_purge_files(now=later) == 2
    assert bucket.keys() == []
    old.refresh_from_db()
    assert old.result_file == ""
    assert _on_disk(settings) == []


# --- the worker's side ---------------------------------------------------------
# These run the job functions a worker runs (dataio.pipeline).


@pytest.fixture
def catalog(db):
    model = ProductModelFactory(name="Galaxy", brand__name="Samsung")
    category = CategoryFactory(name="Phones")
    return ProductFactory(
        serial_number="OLD-1", title="Old title", product_model=model, category=category
    )


def _queued_export(client, fmt: str) -> TaskNotification:
    index = {"csv": "0", "xlsx": "1", "json": "2"}[fmt]
    url = reverse("admin:catalog_product_export")
    response = client.post(url, {"format": index, "resource": "0"})
    assert response.status_code == 302, response.content[:500]
    return TaskNotification.objects.latest("pk")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_lands_in_the_bucket_and_not_on_disk(
    admin_client, bucket, catalog, settings, fmt
):
    notification = _queued_export(admin_client, fmt)
    pipeline.run_export(notification.pk)
    notification.refresh_from_db()

    assert notification.status == Status.COMPLETED, notification.error_message
    assert bucket.keys() == [notification.result_file]
    assert notification.result_file.startswith("exports/") and _on_disk(settings) == []
    settings.STORAGE_DOWNLOAD = "stream"
    response = admin_client.get(reverse("dataio:download", args=[notification.pk]))
    downloaded = b"".join(response.streaming_content)
    assert downloaded == bucket.read(notification.result_file)
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(downloaded.decode("utf-8-sig"))))
        assert [row["serial_number"] for row in rows] == ["OLD-1"]
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(downloaded)).active
        assert "OLD-1" in [cell.value for cell in sheet["A"]] + [cell.value for cell in sheet[2]]


def test_an_upload_is_imported_from_the_bucket(admin_client, bucket, catalog, settings):
    content = (
        b"serial_number,title,brand,product_model,category,cost_price,sell_price\n"
        b"NEW-1,Phone one,Samsung,Galaxy,Phones,10.00,15.00\n"
        b"NEW-2,Phone two,Samsung,Galaxy,Tablets,10.00,15.00\n"
    )
    preview = helpers.preview(admin_client, "admin:catalog_product_import", content)

    # The upload and the error report are objects; the disk holds nothing.
    assert preview.status == Status.COMPLETED, preview.error_message
    assert preview.invalid_rows == 1
    assert bucket.read(preview.source_file) == content
    assert bucket.keys() == sorted([preview.source_file, preview.error_file])
    assert _on_disk(settings) == []
    settings.STORAGE_DOWNLOAD = "stream"
    report = admin_client.get(reverse("dataio:download_errors", args=[preview.pk]))
    assert b"".join(report.streaming_content).decode("utf-8-sig").startswith("row,column")

    fixed = content.replace(b"Tablets", b"Phones")
    preview = helpers.preview(admin_client, "admin:catalog_product_import", fixed)
    job = helpers.confirm(admin_client, preview)
    assert job.status == Status.COMPLETED, job.error_message
    assert set(Product.objects.values_list("serial_number", flat=True)) == {
        "OLD-1",
        "NEW-1",
        "NEW-2",
    }
    assert _on_disk(settings) == []


def test_a_hung_storage_fails_the_export_with_a_clear_message(admin_client, catalog, hung_storage):
    notification = _queued_export(admin_client, "csv")
    started = time.monotonic()
    pipeline.run_export(notification.pk)
    notification.refresh_from_db()

    assert time.monotonic() - started < 15
    assert notification.status == Status.FAILED
    assert "The file storage did not answer" in notification.error_message
    assert notification.can_retry

"""Imports through the admin and a real Celery worker: preview, confirm, all or nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory, ProductModelFactory
from dataio.models import TaskNotification
from dataio.tests.conftest import wait_for
from movements.models import Inflow, Outflow

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "serial_number,title,brand,product_model,category,cost_price,sell_price\n"


def upload(client, url_name: str, content: bytes, name="file.csv", fmt="0"):
    response = client.post(
        reverse(url_name),
        {"format": fmt, "resource": "0", "import_file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 302, response.content[-2000:]
    return TaskNotification.objects.latest("pk")


@pytest.fixture
def catalog(db):
    model = ProductModelFactory(name="Galaxy", brand__name="Samsung")
    category = CategoryFactory(name="Phones")
    existing = ProductFactory(
        serial_number="OLD-1", title="Old title", product_model=model, category=category
    )
    return model, category, existing


def test_preview_shows_bad_rows_then_fixed_file_imports(admin_client, celery_worker, catalog):
    bad = (
        HEADER
        + "NEW-1,Phone one,Samsung,Galaxy,Phones,10.00,15.00\n"
        + "NEW-2,Phone two,Samsung,Galaxy,Tablets,10.00,15.00\n"
        + "NEW-3,Phone three,Samsung,Galaxy,Phones,-1,15.00\n"
        + "OLD-1,New title,Samsung,Galaxy,Phones,10.00,15.00\n"
    )
    preview = wait_for(upload(admin_client, "admin:catalog_product_import", bad.encode()).pk)
    assert preview.status == TaskNotification.Status.COMPLETED
    assert (preview.new_rows, preview.updated_rows, preview.invalid_rows) == (1, 1, 2)
    page = admin_client.get(reverse("dataio:import_preview", args=[preview.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    assert "Unknown category “Tablets”." in content and "Cannot be negative (-1)." in content
    assert "Confirm the import" not in content
    report = admin_client.get(reverse("dataio:download_errors", args=[preview.pk]))
    lines = b"".join(report.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "row,column,message" and lines[1].startswith("3,category,")
    # Confirming an invalid preview is refused.
    admin_client.post(reverse("dataio:import_confirm", args=[preview.pk]))
    assert Product.objects.count() == 1

    fixed = bad.replace("Tablets", "Phones").replace(",-1,", ",1,")
    preview = wait_for(upload(admin_client, "admin:catalog_product_import", fixed.encode()).pk)
    assert (preview.new_rows, preview.updated_rows, preview.invalid_rows) == (3, 1, 0)
    page = admin_client.get(reverse("dataio:import_preview", args=[preview.pk]))
    assert "Confirm the import" in page.content.decode()
    response = admin_client.post(reverse("dataio:import_confirm", args=[preview.pk]))
    assert response.status_code == 302
    job = TaskNotification.objects.get(task_type="import", parameters__preview_id=preview.pk)
    job = wait_for(job.pk)
    assert job.status == TaskNotification.Status.COMPLETED, job.error_message
    assert sorted(Product.objects.values_list("serial_number", flat=True)) == [
        "NEW-1",
        "NEW-2",
        "NEW-3",
        "OLD-1",
    ]
    assert Product.objects.get(serial_number="OLD-1").title == "New title"
    assert str(Product.objects.get(serial_number="NEW-3").cost_price) == "1.00"
    # A preview imports once.
    admin_client.post(reverse("dataio:import_confirm", args=[preview.pk]))
    assert TaskNotification.objects.filter(task_type="import").count() == 1
    # The same file again changes nothing: no Confirm, a plain explanation.
    again = wait_for(upload(admin_client, "admin:catalog_product_import", fixed.encode()).pk)
    assert (again.new_rows, again.updated_rows, again.unchanged_rows) == (0, 0, 4)
    page = admin_client.get(reverse("dataio:import_preview", args=[again.pk])).content.decode()
    assert "Confirm the import" not in page
    assert "Every row matches what is stored: nothing to import." in page


def test_import_failing_halfway_leaves_the_database_unchanged(
    admin_client, celery_worker, catalog, monkeypatch
):
    from dataio import imports

    def broken_update(*args, **kwargs):
        raise RuntimeError("crash after the inserts")

    content = (
        HEADER + "NEW-1,A,Samsung,Galaxy,Phones,1,2\nOLD-1,Renamed,Samsung,Galaxy,Phones,1,2\n"
    )
    preview = wait_for(upload(admin_client, "admin:catalog_product_import", content.encode()).pk)
    monkeypatch.setattr(imports, "_update", broken_update)
    admin_client.post(reverse("dataio:import_confirm", args=[preview.pk]))
    job = wait_for(TaskNotification.objects.get(task_type="import").pk)
    assert job.status == TaskNotification.Status.FAILED
    assert "nothing was changed" in job.error_message and "crash" not in job.error_message
    assert list(Product.objects.values_list("serial_number", "title")) == [("OLD-1", "Old title")]


def test_outflow_import_goes_through_the_ledger_all_or_nothing(
    admin_client, celery_worker, stocked_product, monkeypatch
):
    product = stocked_product(quantity=5, serial_number="STK-1")
    content = "product,quantity,note\nSTK-1,2,first\nSTK-1,2,second\n"
    preview = wait_for(upload(admin_client, "admin:movements_outflow_import", content.encode()).pk)
    assert (preview.new_rows, preview.invalid_rows) == (2, 0)

    # Between preview and confirm someone sells 3 units: the import re-checks
    # under the product lock, fails, and records nothing.
    from movements import services

    services.outflow_create(product=product, quantity=3)
    admin_client.post(reverse("dataio:import_confirm", args=[preview.pk]))
    job = wait_for(TaskNotification.objects.get(task_type="import").pk)
    assert job.status == TaskNotification.Status.FAILED
    assert "Not enough stock of STK-1" in job.error_message
    product.refresh_from_db()
    assert product.quantity == 2 and Outflow.objects.count() == 1

    # The retry runs the same checks again: still refused, still nothing written.
    admin_client.post(reverse("dataio:retry", args=[job.pk]))
    job = wait_for(job.pk)
    assert job.status == TaskNotification.Status.FAILED and Outflow.objects.count() == 1


def test_inflow_import_records_movements_and_stock(admin_client, celery_worker, stocked_product):
    product = stocked_product(quantity=0, serial_number="STK-2")
    from catalog.tests.factories import SupplierFactory

    SupplierFactory(name="ACME")
    content = (
        "product,quantity,supplier,unit_cost,note\nSTK-2,4,ACME,3.50,NF 1\nSTK-2,6,ACME,,NF 2\n"
    )
    preview = wait_for(upload(admin_client, "admin:movements_inflow_import", content.encode()).pk)
    admin_client.post(reverse("dataio:import_confirm", args=[preview.pk]))
    job = wait_for(TaskNotification.objects.get(task_type="import").pk)
    assert job.status == TaskNotification.Status.COMPLETED, job.error_message
    product.refresh_from_db()
    assert product.quantity == 10 and Inflow.objects.count() == 2
    assert sorted(str(cost) for cost in Inflow.objects.values_list("unit_cost", flat=True)) == [
        "10.00",
        "3.50",
    ]

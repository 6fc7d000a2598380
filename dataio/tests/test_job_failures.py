"""Every way a job fails ends as a Failed job with a message for the person.

Each job keeps its own cases (an export's half-written file is deleted, a
database refusal says "retry it", a file's own problem is shown as such); the
time limit and anything unexpected end the same way in all three. The jobs
run here as the worker runs them, with the fault raised where it happens.
"""

import logging

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import IntegrityError
from django.urls import reverse

from catalog.tests.factories import ProductFactory
from dataio import exports, files, imports, pipeline
from dataio.models import TaskNotification
from dataio.readers import ImportFileError
from dataio.tests.helpers import preview
from movements.imports import MovementImport

pytestmark = pytest.mark.django_db
Status = TaskNotification.Status
TOO_LONG = "took longer than its time limit"
INTERNAL = "failed because of an internal error"


@pytest.fixture
def private_files(settings):
    return settings.MEDIA_ROOT  # a temporary folder (conftest.private_media)


def _queued_export(client) -> TaskNotification:
    ProductFactory()
    response = client.post(
        reverse("admin:catalog_product_export"), {"format": "0", "resource": "0"}
    )
    assert response.status_code == 302
    return TaskNotification.objects.latest("pk")


def _half_written(error: Exception):
    def export_queryset(resource, queryset, file_format, path, **kwargs):
        path.write_text("serial_number\n")
        raise error

    return export_queryset


@pytest.mark.parametrize(
    ("fault", "shown", "logged"),
    [
        (PermissionError(), "You are not allowed to see these rows any more.", None),
        (SoftTimeLimitExceeded(), TOO_LONG, None),
        (RuntimeError("boom"), INTERNAL, "Export {pk} failed"),
    ],
)
def test_a_failed_export_says_why_and_leaves_no_file(
    admin_client, private_files, monkeypatch, caplog, fault, shown, logged
):
    notification = _queued_export(admin_client)
    monkeypatch.setattr(exports, "export_queryset", _half_written(fault))
    with caplog.at_level(logging.ERROR, logger=pipeline.__name__):
        assert pipeline.run_export(notification.pk) is None
    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert shown in notification.error_message
    assert list((private_files / files.EXPORTS).iterdir()) == []
    errors = [record.getMessage() for record in caplog.records if record.name == pipeline.__name__]
    assert errors == ([logged.format(pk=notification.pk)] if logged else [])


OUTFLOWS = "admin:movements_outflow_import"


@pytest.mark.parametrize(
    ("fault", "shown", "logged"),
    [
        (ImportFileError("The file is not a table."), "The file is not a table.", None),
        (SoftTimeLimitExceeded(), TOO_LONG, None),
        (RuntimeError("boom"), INTERNAL, "Import check {pk} failed"),
    ],
)
def test_a_failed_check_says_why(
    admin_client, stocked_product, monkeypatch, caplog, fault, shown, logged
):
    stocked_product(quantity=10, serial_number="SHELF-1")
    checked = preview(admin_client, OUTFLOWS, b"product,quantity\nSHELF-1,3\n")

    def check_file(*args, **kwargs):
        raise fault

    monkeypatch.setattr(imports, "check_file", check_file)
    checked.status = Status.PENDING  # as a Retry leaves it
    checked.save(update_fields=["status"])
    with caplog.at_level(logging.ERROR, logger=pipeline.__name__):
        assert pipeline.run_import_check(checked.pk) is None
    checked.refresh_from_db()
    assert checked.status == Status.FAILED
    assert shown in checked.error_message
    errors = [record.getMessage() for record in caplog.records if record.name == pipeline.__name__]
    assert errors == ([logged.format(pk=checked.pk)] if logged else [])


@pytest.mark.parametrize(
    ("fault", "shown", "logged"),
    [
        (imports.ImportAborted("Row 2: refused."), "Row 2: refused.", None),
        (ImportFileError("The file is gone."), "The file is gone.", None),
        (
            IntegrityError("duplicate"),
            "Nothing was imported; retry it.",
            "Import {pk} refused by the database",
        ),
        (SoftTimeLimitExceeded(), TOO_LONG, None),
        (RuntimeError("boom"), INTERNAL, "Import {pk} failed"),
    ],
)
def test_a_failed_import_says_why_and_writes_nothing(
    admin_client, stocked_product, monkeypatch, caplog, fault, shown, logged
):
    product = stocked_product(quantity=10, serial_number="SHELF-1")
    checked = preview(admin_client, OUTFLOWS, b"product,quantity\nSHELF-1,3\n")
    admin_client.post(reverse("dataio:import_confirm", args=[checked.pk]))
    confirmed = TaskNotification.objects.latest("pk")
    assert confirmed.pk != checked.pk

    real_write = MovementImport.write

    def write(self, *, user):
        real_write(self, user=user)  # rows written, then the fault: all rolled back
        raise fault

    monkeypatch.setattr(MovementImport, "write", write)
    with caplog.at_level(logging.ERROR, logger=pipeline.__name__):
        assert pipeline.run_import_apply(confirmed.pk) is None
    confirmed.refresh_from_db()
    assert confirmed.status == Status.FAILED
    assert shown in confirmed.error_message
    product.refresh_from_db()
    assert product.quantity == 10
    errors = [record.getMessage() for record in caplog.records if record.name == pipeline.__name__]
    assert errors == ([logged.format(pk=confirmed.pk)] if logged else [])
    # Only a stock change queues a new preview (tests/transfers/test_stock_impact.py).
    assert TaskNotification.objects.latest("pk").pk == confirmed.pk


@pytest.mark.django_db(transaction=True)
def test_an_import_the_database_aborted_for_a_deadlock_runs_again_and_lands(
    admin_client, stocked_product, monkeypatch
):
    from project.tests.faults import aborted_once

    product = stocked_product(quantity=10, serial_number="SHELF-1")
    checked = preview(admin_client, OUTFLOWS, b"product,quantity\nSHELF-1,3\n")
    admin_client.post(reverse("dataio:import_confirm", args=[checked.pk]))
    confirmed = TaskNotification.objects.latest("pk")
    write, calls = aborted_once(MovementImport.write)
    monkeypatch.setattr(MovementImport, "write", write)
    pipeline.run_import_apply(confirmed.pk)
    confirmed.refresh_from_db()
    assert confirmed.status == Status.COMPLETED, confirmed.error_message
    assert len(calls) == 2
    product.refresh_from_db()
    assert product.quantity == 7

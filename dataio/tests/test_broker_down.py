"""A job asked while the broker is down: told at once, Failed, Retry works once it is back."""

import pytest
from django.urls import reverse

from catalog.tests.factories import ProductFactory
from dataio.models import TaskNotification
from dataio.tests.conftest import wait_for
from project.tests.faults import celery_broker, closed_port_url

pytestmark = pytest.mark.django_db(transaction=True)

Status = TaskNotification.Status


def test_export_while_the_broker_is_down_fails_retryably_and_retry_works_when_it_is_back(
    admin_client, celery_worker
):
    ProductFactory.create_batch(3)
    with celery_broker(closed_port_url()):
        response = admin_client.post(
            reverse("admin:catalog_product_export"), {"format": "0", "resource": "0"}, follow=True
        )
        assert response.status_code == 200
        assert "The task queue is unreachable; nothing was lost" in response.content.decode()
        notification = TaskNotification.objects.get()
        assert notification.status == Status.FAILED and notification.can_retry

        # Retry while it is still down: refused the same way, still retryable.
        response = admin_client.post(reverse("dataio:retry", args=[notification.pk]), follow=True)
        assert "task queue is unreachable" in response.content.decode()
        notification.refresh_from_db()
        assert notification.status == Status.FAILED and notification.can_retry

    # The broker is back: Retry queues it and the worker runs it.
    response = admin_client.post(reverse("dataio:retry", args=[notification.pk]), follow=True)
    assert "Queued again." in response.content.decode()
    notification = wait_for(notification.pk)
    assert notification.status == Status.COMPLETED, notification.error_message
    assert notification.total_rows == 3


def test_import_upload_while_the_broker_is_down_keeps_the_file_and_retry_checks_it(
    admin_client, celery_worker
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = b"serial_number,title,brand,product_model,category,cost_price,sell_price\n"
    with celery_broker(closed_port_url()):
        response = admin_client.post(
            reverse("admin:catalog_product_import"),
            {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("a.csv", content)},
            follow=True,
        )
        assert response.status_code == 200
        assert "task queue is unreachable" in response.content.decode()
    preview = TaskNotification.objects.get()
    assert preview.status == Status.FAILED and preview.source_file
    admin_client.post(reverse("dataio:retry", args=[preview.pk]))
    assert wait_for(preview.pk).status in (Status.COMPLETED, Status.FAILED)
    preview.refresh_from_db()
    assert "task queue" not in preview.error_message

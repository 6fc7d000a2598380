"""NF-e upload -> preview -> confirm with a real Celery worker: jobs travel through the broker."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.tests.factories import ProductFactory
from dataio.models import TaskNotification

# The worker (its own queue) and private files in a temporary folder, as dataio's tests use them.
from dataio.tests.conftest import (  # noqa: F401
    celery_worker,
    private_media,
    transfer_queue,
    wait_for,
)
from purchasing.models import NFeReceipt
from purchasing.tests.nfe_factory import XLine, access_key, nfe_xml

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]
EAN = "7891234567895"


def test_upload_preview_and_confirm_through_the_worker(client, role_user, settings):
    settings.INVENTORY_COMPANY_CNPJ = ""
    client.force_login(role_user("Operator"))
    matched = ProductFactory(ean=EAN)
    picked = ProductFactory(serial_number="SKU-HAND")
    data = nfe_xml([XLine("A", ean=EAN, value="9.00"), XLine("Z-1", value="1.00")])
    response = client.post(
        reverse("admin:purchasing_nfereceipt_import_nfe"),
        {"files": [SimpleUploadedFile("nota.xml", data, "text/xml")]},
    )
    assert response.status_code == 302
    preview = wait_for(TaskNotification.objects.get(task_type="nfe_preview").pk)
    assert preview.status == TaskNotification.Status.COMPLETED, preview.error_message
    assert (preview.new_rows, preview.invalid_rows) == (1, 1)
    confirm = client.post(response.url, {f"pick_{access_key(1001)}_2": "SKU-HAND"})
    assert confirm.status_code == 302
    receipt_job = wait_for(TaskNotification.objects.get(task_type="nfe_receive").pk)
    assert receipt_job.status == TaskNotification.Status.COMPLETED, receipt_job.error_message
    matched.refresh_from_db()
    picked.refresh_from_db()
    assert (matched.quantity, picked.quantity) == (1, 1)
    assert NFeReceipt.objects.get().lines.count() == 2


def test_an_upload_while_the_broker_is_down_is_retried_from_the_notification_centre(
    client, role_user, settings
):
    """Failed at once with the queue's message, then Retry (as for imports) receives it once."""
    from project.tests.faults import celery_broker, closed_port_url

    settings.INVENTORY_COMPANY_CNPJ = ""
    client.force_login(role_user("Operator"))
    ProductFactory(ean=EAN)
    data = nfe_xml([XLine("A", ean=EAN, value="9.00")])
    with celery_broker(closed_port_url()):
        client.post(
            reverse("admin:purchasing_nfereceipt_import_nfe"),
            {"files": [SimpleUploadedFile("nota.xml", data, "text/xml")]},
        )
    preview = TaskNotification.objects.get(task_type="nfe_preview")
    assert preview.status == TaskNotification.Status.FAILED and preview.can_retry
    response = client.post(reverse("dataio:retry", args=[preview.pk]), follow=True)
    assert "Queued again." in response.content.decode()
    preview = wait_for(preview.pk)
    assert preview.status == TaskNotification.Status.COMPLETED, preview.error_message
    assert preview.new_rows == 1


def test_a_receipt_run_after_the_permission_was_taken_away_receives_nothing(
    client, role_user, settings
):
    """A Retry, or a confirmation queued before the change, checks the permission again."""
    settings.INVENTORY_COMPANY_CNPJ = ""
    operator = role_user("Operator")
    client.force_login(operator)
    matched = ProductFactory(ean=EAN)
    data = nfe_xml([XLine("A", ean=EAN, value="9.00")])
    response = client.post(
        reverse("admin:purchasing_nfereceipt_import_nfe"),
        {"files": [SimpleUploadedFile("nota.xml", data, "text/xml")]},
    )
    preview = wait_for(TaskNotification.objects.get(task_type="nfe_preview").pk)
    assert preview.status == TaskNotification.Status.COMPLETED, preview.error_message
    operator.groups.clear()  # no longer an Operator
    operator.is_staff = True
    operator.save()
    from dataio import notifications

    job = notifications.notification_create(
        user=operator,
        task_type=TaskNotification.TaskType.NFE_RECEIVE,
        parameters={"files": preview.parameters["files"]},
    )
    job = wait_for(job.pk)
    assert job.status == TaskNotification.Status.FAILED
    assert "no longer allowed to receive stock" in job.error_message
    matched.refresh_from_db()
    assert matched.quantity == 0 and not NFeReceipt.objects.exists()
    assert response.status_code == 302

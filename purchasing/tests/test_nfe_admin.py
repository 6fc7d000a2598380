"""The NF-e pages: upload -> preview (jobs run here in-process) -> pick -> confirm -> stock."""

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.tests.factories import ProductFactory, SupplierFactory
from dataio.models import TaskNotification
from purchasing.models import NFeReceipt, SupplierProduct
from purchasing.nfe import jobs
from purchasing.tests.nfe_factory import ISSUER_CNPJ, XLine, access_key, nfe_xml
from purchasing.tests.test_nfe_parsing import BILLION_LAUGHS

pytestmark = pytest.mark.django_db
EAN = "7891234567895"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.INVENTORY_COMPANY_CNPJ = ""


@pytest.fixture
def queued():
    """The tasks the pages queue, recorded instead of sent to the broker."""
    with (
        mock.patch("purchasing.nfe.tasks.nfe_preview.apply_async") as preview,
        mock.patch("purchasing.nfe.tasks.nfe_receive.apply_async") as receive,
    ):
        yield {"preview": preview, "receive": receive}


def upload(client, *files):
    return client.post(
        reverse("admin:purchasing_nfereceipt_import_nfe"),
        {"files": [SimpleUploadedFile(name, data, "text/xml") for name, data in files]},
    )


def test_operator_uploads_previews_picks_and_confirms(
    client, role_user, queued, django_capture_on_commit_callbacks
):
    operator = role_user("Operator")
    client.force_login(operator)
    SupplierFactory(name="Fornecedor", cnpj=ISSUER_CNPJ)
    by_ean = ProductFactory(ean=EAN)
    picked = ProductFactory(serial_number="SKU-PICK")
    data = nfe_xml([XLine("A", ean=EAN, value="8.00"), XLine("NEW", value="2.00")])
    assert client.get(reverse("admin:purchasing_nfereceipt_import_nfe")).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, ("nota.xml", data))
    job = TaskNotification.objects.get(task_type=TaskNotification.TaskType.NFE_PREVIEW)
    assert response.url == reverse("admin:purchasing_nfereceipt_job", args=[job.pk])
    assert queued["preview"].call_args.kwargs["args"] == [job.pk]
    assert "refreshes by itself" in client.get(response.url).content.decode()
    # The upload page leads back to it.
    again = client.get(reverse("admin:purchasing_nfereceipt_import_nfe")).content.decode()
    assert response.url in again

    jobs.run_preview(job.pk)
    job.refresh_from_db()
    assert job.status == TaskNotification.Status.COMPLETED
    assert (job.total_rows, job.new_rows, job.invalid_rows) == (2, 1, 1)
    page = client.get(response.url).content.decode()
    assert by_ean.title in page and "No product matches" in page

    key = access_key(1001)
    missing = client.post(response.url, {})
    assert "pick a product" in missing.content.decode()
    unknown = client.post(response.url, {f"pick_{key}_2": "NOPE"})
    assert 'value="NOPE"' in unknown.content.decode()  # what was typed comes back
    assert not TaskNotification.objects.filter(task_type="nfe_receive").exists()

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(response.url, {f"pick_{key}_2": "SKU-PICK"})
    receive = TaskNotification.objects.get(task_type=TaskNotification.TaskType.NFE_RECEIVE)
    assert confirmed.url == reverse("admin:purchasing_nfereceipt_job", args=[receive.pk])
    assert queued["receive"].called
    jobs.run_receive(receive.pk)
    receive.refresh_from_db()
    assert receive.status == TaskNotification.Status.COMPLETED, receive.error_message
    by_ean.refresh_from_db()
    picked.refresh_from_db()
    assert (by_ean.quantity, picked.quantity) == (1, 1)
    receipt = NFeReceipt.objects.get()
    assert receipt.created_by == operator
    assert SupplierProduct.objects.get(product=picked).supplier_code == "NEW"
    assert receipt.number in client.get(confirmed.url).content.decode()
    assert (
        client.get(reverse("admin:purchasing_nfereceipt_change", args=[receipt.pk])).status_code
        == 200
    )

    # Confirming the same preview again: the receipt job fails, nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response.url, {f"pick_{key}_2": "SKU-PICK"})
    again = TaskNotification.objects.filter(task_type="nfe_receive").order_by("-pk").first()
    jobs.run_receive(again.pk)
    again.refresh_from_db()
    assert again.status == TaskNotification.Status.FAILED
    assert "already received" in again.error_message
    by_ean.refresh_from_db()
    assert by_ean.quantity == 1


def test_a_hostile_file_fails_the_preview_job_with_a_message(client, role_user, queued):
    client.force_login(role_user("Operator"))
    upload(client, ("bomb.xml", BILLION_LAUGHS))
    job = TaskNotification.objects.get()
    jobs.run_preview(job.pk)
    job.refresh_from_db()
    assert job.status == TaskNotification.Status.COMPLETED
    assert job.invalid_rows == 1
    page = client.get(reverse("admin:purchasing_nfereceipt_job", args=[job.pk])).content.decode()
    assert "DTD or entities" in page


def test_a_broker_that_refuses_fails_the_job_at_once(
    client, role_user, django_capture_on_commit_callbacks
):
    client.force_login(role_user("Operator"))
    with (
        mock.patch(
            "purchasing.nfe.tasks.nfe_preview.apply_async", side_effect=ConnectionError("down")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        upload(client, ("n.xml", nfe_xml([XLine("A")])))
    job = TaskNotification.objects.get()
    assert job.status == TaskNotification.Status.FAILED
    assert "unreachable" in job.error_message


def test_too_many_or_too_big_files_are_refused_on_the_form(client, role_user, queued):
    client.force_login(role_user("Operator"))
    response = upload(client, ("big.xml", b"<a>" + b" " * (1024 * 1024 + 1) + b"</a>"))
    assert response.status_code == 200
    assert "at most" in response.content.decode()
    assert not TaskNotification.objects.exists()


@pytest.mark.parametrize("role", ["Analyst", "Manager"])
def test_only_those_who_receive_may_import(client, role_user, role):
    client.force_login(role_user(role))
    response = client.get(reverse("admin:purchasing_nfereceipt_import_nfe"))
    assert response.status_code in (403, 302, 404)
    assert upload(client, ("n.xml", nfe_xml([XLine("A")]))).status_code in (403, 302, 404)
    assert not TaskNotification.objects.exists()


def test_someone_elses_job_is_not_found(client, role_user, queued):
    client.force_login(role_user("Operator"))
    upload(client, ("n.xml", nfe_xml([XLine("A")])))
    job = TaskNotification.objects.get()
    stranger = role_user("Operator", username="stranger")
    client.force_login(stranger)
    assert client.get(reverse("admin:purchasing_nfereceipt_job", args=[job.pk])).status_code == 404


def test_a_refusal_of_the_order_or_the_ledger_fails_the_job_with_its_words(role_user, queued):
    from purchasing.nfe import services
    from purchasing.services import PurchasingError

    user = role_user("Operator")
    ProductFactory(ean=EAN)
    preview = services.nfe_upload(
        user=user, uploads=[SimpleUploadedFile("n.xml", nfe_xml([XLine("A", ean=EAN)]))]
    )
    jobs.run_preview(preview.pk)
    preview.refresh_from_db()
    job = services.nfe_confirm(preview=preview, user=user, picks={}, orders={})
    with mock.patch.object(
        services, "nfe_receive", side_effect=PurchasingError("A cancelled line cannot be received.")
    ):
        jobs.run_receive(job.pk)
    job.refresh_from_db()
    assert job.status == TaskNotification.Status.FAILED
    assert job.error_message == "A cancelled line cannot be received."
    assert not NFeReceipt.objects.exists()


def test_the_nfe_jobs_register_their_page_for_the_notification_centre():
    from dataio import registry

    for task_type in (TaskNotification.TaskType.NFE_PREVIEW, TaskNotification.TaskType.NFE_RECEIVE):
        assert reverse(registry.job_page(task_type), args=[7]) == reverse(
            "admin:purchasing_nfereceipt_job", args=[7]
        )
    assert registry.job_page(TaskNotification.TaskType.EXPORT) is None


def test_the_notification_centre_opens_an_nfe_job_s_page(client, role_user, queued):
    client.force_login(role_user("Operator"))
    response = upload(client, ("nota.xml", nfe_xml([XLine("A", ean=EAN)])))
    centre = client.get(reverse("admin:dataio_tasknotification_changelist")).content.decode()
    assert f'href="{response.url}"' in centre


def test_the_sweep_sends_again_an_nfe_job_the_queue_lost(
    client, role_user, queued, settings, django_capture_on_commit_callbacks
):
    """NF-e jobs are dataio's jobs: a Pending one the broker lost is re-sent like an import."""
    from datetime import timedelta

    from django.utils import timezone

    from dataio import notifications

    client.force_login(role_user("Operator"))
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, ("nota.xml", nfe_xml([XLine("A", ean=EAN)])))
    job = TaskNotification.objects.get(task_type=TaskNotification.TaskType.NFE_PREVIEW)
    assert queued["preview"].call_count == 1
    assert queued["preview"].call_args.kwargs["task_id"] == job.task_id
    later = timezone.now() + timedelta(minutes=settings.TRANSFER_PENDING_REPUBLISH_MINUTES + 1)
    notifications.notifications_sweep_stuck(now=later)
    assert queued["preview"].call_count == 2


@pytest.mark.django_db(transaction=True)
def test_a_receipt_the_database_aborted_for_a_deadlock_runs_again_and_lands(role_user, queued):
    from project.tests.faults import aborted_once
    from purchasing.nfe import services

    user = role_user("Operator")
    product = ProductFactory(ean=EAN)
    preview = services.nfe_upload(
        user=user, uploads=[SimpleUploadedFile("n.xml", nfe_xml([XLine("A", ean=EAN)]))]
    )
    jobs.run_preview(preview.pk)
    preview.refresh_from_db()
    job = services.nfe_confirm(preview=preview, user=user, picks={}, orders={})
    receive, calls = aborted_once(services.nfe_receive)
    with mock.patch.object(services, "nfe_receive", side_effect=receive):
        jobs.run_receive(job.pk)
    job.refresh_from_db()
    assert job.status == TaskNotification.Status.COMPLETED, job.error_message
    assert len(calls) == 2
    product.refresh_from_db()
    assert product.quantity == 1
    assert NFeReceipt.objects.count() == 1

"""The notification centre and its housekeeping tasks."""

import os
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import ProductFactory
from dataio import files, notifications, tasks
from dataio.models import TaskNotification
from dataio.tests.conftest import QUEUE, wait_for
from movements.tasks import check_ledger_nightly

Status = TaskNotification.Status


def make(user, **fields) -> TaskNotification:
    fields.setdefault("task_type", TaskNotification.TaskType.EXPORT)
    return TaskNotification.objects.create(user=user, **fields)


@pytest.mark.django_db(transaction=True)
def test_sweep_fails_tasks_stuck_past_the_time_limit(celery_worker, admin_user, settings):
    now = timezone.now()
    limit = timedelta(seconds=settings.TRANSFER_TASK_TIME_LIMIT)
    stuck = make(admin_user, status=Status.PROCESSING, started_at=now - limit * 2)
    running = make(admin_user, status=Status.PROCESSING, started_at=now - limit / 2)
    lost = make(admin_user, status=Status.PENDING)
    TaskNotification.objects.filter(pk=lost.pk).update(created_at=now - timedelta(days=3))

    result = tasks.sweep_stuck_tasks.apply_async(queue=QUEUE).get(timeout=30)

    assert result == 2
    stuck.refresh_from_db()
    assert stuck.status == Status.FAILED and "time limit" in stuck.error_message
    running.refresh_from_db()
    assert running.status == Status.PROCESSING
    lost.refresh_from_db()
    assert lost.status == Status.FAILED and "never started" in lost.error_message


@pytest.mark.django_db(transaction=True)
def test_nightly_ledger_check_notifies_every_active_superuser(
    celery_worker, admin_user, django_user_model, stocked_product
):
    django_user_model.objects.create_superuser("root2", password="x-pass-123456")
    django_user_model.objects.create_superuser("gone", password="x-pass-123456", is_active=False)
    product = stocked_product(quantity=3, serial_number="DRIFT-1")
    assert check_ledger_nightly.apply_async(queue=QUEUE).get(timeout=30) == {"differences": 0}
    with connection.cursor() as cursor:  # the drift the check must find
        cursor.execute("UPDATE catalog_product SET quantity = 7 WHERE id = %s", [product.pk])

    assert check_ledger_nightly.apply_async(queue=QUEUE).get(timeout=30) == {"differences": 1}
    alerts = TaskNotification.objects.filter(task_type="ledger_check")
    assert sorted(alerts.values_list("user__username", flat=True)) == ["admin", "root2"]
    alert = alerts.first()
    assert alert.status == Status.FAILED
    assert "DRIFT-1: stored 7, movements say 3" in alert.error_message


@pytest.mark.django_db
def test_each_user_sees_only_their_notifications_newest_first(
    client, admin_client, admin_user, role_user
):
    analyst = role_user("Analyst")
    other = role_user("Operator")
    first = make(analyst, model="catalog.product", format="csv")
    second = make(analyst, model="catalog.brand", format="xlsx")
    make(other, model="catalog.category", format="json")
    assert list(notifications.visible_to(analyst)) == [second, first]
    assert notifications.visible_to(admin_user).count() == 3

    client.force_login(analyst)
    page = client.get(reverse("admin:dataio_tasknotification_changelist"))
    assert page.status_code == 200
    content = page.content.decode()
    assert "brands" in content and "categories" not in content
    assert (
        client.get(reverse("admin:dataio_tasknotification_change", args=[first.pk])).status_code
        == 200
    )
    theirs = TaskNotification.objects.get(user=other)
    assert client.get(
        reverse("admin:dataio_tasknotification_change", args=[theirs.pk])
    ).status_code in (
        302,
        403,
        404,
    )


@pytest.mark.django_db
def test_marking_read_is_a_post_and_the_badge_counts_unread(client, role_user):
    user = role_user("Operator")
    one = make(user)
    make(user)
    request = RequestFactory().get("/")
    request.user = user
    assert notifications.unread_badge(request) == "2"

    client.force_login(user)
    url = reverse("dataio:mark_read", args=[one.pk])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    assert notifications.unread_badge(request) == "1"
    assert client.post(reverse("dataio:mark_all_read")).status_code == 302
    assert notifications.unread_badge(request) == ""
    # The sidebar shows the item with its badge to any staff user.
    page = client.get(reverse("admin:dataio_tasknotification_changelist"))
    assert page.status_code == 200 and "Notifications" in page.content.decode()


@pytest.mark.django_db
def test_purge_deletes_files_older_than_the_retention(admin_user, settings):
    old_name = files.new_name(files.EXPORTS, "csv")
    new_name = files.new_name(files.EXPORTS, "csv")
    for name in (old_name, new_name):
        files.absolute(name).write_text("x")
    old = make(admin_user, status=Status.COMPLETED, result_file=old_name)
    new = make(admin_user, status=Status.COMPLETED, result_file=new_name)
    long_ago = timezone.now() - timedelta(days=settings.TRANSFER_FILES_RETENTION_DAYS + 1)
    TaskNotification.objects.filter(pk=old.pk).update(created_at=long_ago)
    orphan = files.new_name(files.UPLOADS, "csv")
    files.absolute(orphan).write_text("x")
    os.utime(files.absolute(orphan), (long_ago.timestamp(), long_ago.timestamp()))

    assert tasks.purge_old_task_files.run() == 2
    assert not files.absolute(old_name).exists() and not files.absolute(orphan).exists()
    assert files.absolute(new_name).exists()
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.result_file == "" and new.result_file == new_name


@pytest.mark.django_db
def test_notification_lifecycle_and_redelivery(admin_user, settings):
    settings.TRANSFER_TASK_MAX_ATTEMPTS = 2
    notification = make(admin_user, task_id="first")
    started = notifications.notification_start(notification_id=notification.pk, task_id="first")
    assert started.status == Status.PROCESSING and started.attempts == 1
    # The run's heartbeat starts with it; SQLite has none (dataio.notifications).
    assert (started.heartbeat_at is not None) == (connection.vendor == "postgresql")
    # A duplicate delivery while the run is alive (fresh heartbeat) does nothing.
    assert notifications.notification_start(notification_id=notification.pk) is None
    # Its worker died (stale heartbeat): a redelivery takes it over once more,
    # then it gives up.
    _stale_heartbeat(notification, settings)
    assert notifications.notification_start(notification_id=notification.pk).attempts == 2
    _stale_heartbeat(notification, settings)
    assert notifications.notification_start(notification_id=notification.pk) is None
    notification.refresh_from_db()
    assert notification.status == Status.FAILED and "giving up" in notification.error_message
    # Failed -> Pending on retry, with a new task id; a completed task is never started again.
    notifications.notification_retry(notification=notification)
    notification.refresh_from_db()
    assert notification.status == Status.PENDING and notification.attempts == 0
    assert notification.task_id != "first"
    started = notifications.notification_start(notification_id=notification.pk)
    notifications.notification_complete(notification=started, total_rows=3)
    assert notifications.notification_start(notification_id=notification.pk) is None


def _stale_heartbeat(notification, settings):
    stale = timedelta(seconds=settings.TRANSFER_HEARTBEAT_STALE_SECONDS + 1)
    TaskNotification.objects.filter(pk=notification.pk).update(heartbeat_at=timezone.now() - stale)


@pytest.mark.django_db
def test_a_message_sent_before_a_retry_never_runs_the_job(admin_user):
    notification = make(admin_user, status=Status.FAILED, task_id="before-retry")
    notifications.notification_retry(notification=notification)
    notification.refresh_from_db()
    # The old message (redelivered after a worker restart) is ignored...
    assert (
        notifications.notification_start(notification_id=notification.pk, task_id="before-retry")
        is None
    )
    notification.refresh_from_db()
    assert notification.status == Status.PENDING and notification.attempts == 0
    # ...and cannot fail the new attempt either.
    notifications.notification_fail(
        notification_id=notification.pk, message="old run", task_id="before-retry"
    )
    notification.refresh_from_db()
    assert notification.status == Status.PENDING
    started = notifications.notification_start(
        notification_id=notification.pk, task_id=notification.task_id
    )
    assert started.status == Status.PROCESSING and started.attempts == 1


@pytest.mark.django_db
def test_a_run_that_lost_its_job_cannot_complete_it(admin_user):
    notification = make(admin_user, task_id="run-1")
    started = notifications.notification_start(notification_id=notification.pk, task_id="run-1")
    # The sweep failed it (its heartbeat looked dead) and the user retried.
    notifications.notification_fail(notification_id=notification.pk, message="worker lost")
    notifications.notification_retry(notification=notification)
    assert notifications.notification_claim(notification=started) is False
    assert notifications.notification_complete(notification=started, total_rows=1) is None
    notification.refresh_from_db()
    assert notification.status == Status.PENDING


@pytest.mark.django_db
def test_sweep_fails_processing_jobs_whose_heartbeat_is_stale(admin_user, settings):
    now = timezone.now()
    stale = timedelta(seconds=settings.TRANSFER_HEARTBEAT_STALE_SECONDS + 5)
    dead = make(admin_user, status=Status.PROCESSING, started_at=now, heartbeat_at=now - stale)
    alive = make(admin_user, status=Status.PROCESSING, started_at=now, heartbeat_at=now)

    assert notifications.notifications_sweep_stuck() == 1

    dead.refresh_from_db()
    assert dead.status == Status.FAILED and dead.can_retry
    assert "worker running this task stopped" in dead.error_message
    alive.refresh_from_db()
    assert alive.status == Status.PROCESSING


# SQLite has one writer: a heartbeat beside the job's transaction would wait for it.
@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)
def test_heartbeat_moves_while_the_job_runs_and_stops_after(admin_user, settings):
    settings.TRANSFER_HEARTBEAT_SECONDS = 0.1
    notification = make(admin_user, task_id="beat")
    started = notifications.notification_start(notification_id=notification.pk, task_id="beat")
    first = started.heartbeat_at
    with notifications.notification_heartbeat(notification=started):
        deadline = time.monotonic() + 5
        while TaskNotification.objects.get(pk=notification.pk).heartbeat_at == first:
            assert time.monotonic() < deadline, "the heartbeat never moved"
            time.sleep(0.05)
    last = TaskNotification.objects.get(pk=notification.pk).heartbeat_at
    time.sleep(0.3)
    assert TaskNotification.objects.get(pk=notification.pk).heartbeat_at == last


@pytest.mark.django_db(transaction=True)
def test_sweep_resends_a_pending_job_the_queue_lost_and_a_duplicate_runs_it_once(
    celery_worker, admin_user, settings
):
    ProductFactory()
    # Queued 10 minutes ago, and the broker lost the message (Redis restarted).
    lost = make(admin_user, task_id="lost-1", model="catalog.product", format="csv")
    TaskNotification.objects.filter(pk=lost.pk).update(
        queued_at=timezone.now()
        - timedelta(minutes=settings.TRANSFER_PENDING_REPUBLISH_MINUTES + 5)
    )

    assert notifications.notifications_sweep_stuck() == 0

    done = wait_for(lost.pk)
    assert done.status == Status.COMPLETED and done.attempts == 1
    # A second copy (it was only waiting behind a long job after all) finds it done.
    tasks.run_export.apply_async(args=[lost.pk], task_id="lost-1", queue=QUEUE).get(timeout=30)
    done.refresh_from_db()
    assert done.attempts == 1 and done.status == Status.COMPLETED


@pytest.mark.django_db
def test_notification_centre_shows_download_progress_and_retry(admin_client, admin_user):
    make(admin_user, status=Status.COMPLETED, result_file="exports/x.csv", total_rows=5)
    make(admin_user, status=Status.PROCESSING, progress=40, processed_rows=400)
    make(admin_user, status=Status.FAILED, error_message="Something clear")
    ProductFactory()
    page = admin_client.get(reverse("admin:dataio_tasknotification_changelist"))
    content = page.content.decode()
    assert "Download" in content and "40% (400 rows)" in content
    assert "Retry" in content and "Something clear" in content
    assert 'http-equiv="refresh"' in content  # a task is running

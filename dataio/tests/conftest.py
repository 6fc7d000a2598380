"""Fixtures for the import/export tests: private files in a temp dir, a real worker."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from dataio.models import TaskNotification

# Autouse: MD5 instead of PBKDF2's million rounds (~0.7 s a user, a login) for
# tests that are not about passwords; it keeps both passes of make test short.
from project.api.testing import fast_password_hasher  # noqa: F401


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_FILES_ACCEL_PREFIX = ""


QUEUE = f"io-tests-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def transfer_queue(settings):
    settings.TRANSFER_TASK_QUEUE = QUEUE


@pytest.fixture(scope="module")
def celery_worker(django_db_blocker):
    """A real Celery worker (in-process thread) on the configured Redis broker.

    Not eager mode: tasks travel through Redis and run in another thread with
    its own database connection, so tests that use it need committed data
    (``django_db(transaction=True)``).
    It consumes a queue of its own, so tasks other code queues (the dashboard
    refresh after a movement) neither run here nor race the database flush.
    """
    from project.celery import app

    app.conf.task_always_eager = False
    with (
        django_db_blocker.unblock(),
        start_worker(
            app,
            pool="solo",
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=30,
            queues=[QUEUE],
        ) as worker,
    ):
        yield worker


def wait_for(notification_id: int, *statuses: str, timeout: float = 30) -> TaskNotification:
    """Poll until the notification reaches one of ``statuses`` (default: finished)."""
    statuses = statuses or (TaskNotification.Status.COMPLETED, TaskNotification.Status.FAILED)
    deadline = time.monotonic() + timeout
    while True:
        notification = TaskNotification.objects.get(pk=notification_id)
        if notification.status in statuses:
            return notification
        if time.monotonic() > deadline:
            raise AssertionError(
                f"notification {notification_id} still {notification.status} "
                f"({notification.error_message!r})"
            )
        time.sleep(0.05)

"""Fixtures for the import/export tests: private files in a temp dir, a real worker."""

import time
import uuid

import pytest

from dataio.models import TaskNotification

# Autouse: MD5 instead of PBKDF2's million rounds (~0.7 s a user, a login) for
# tests that are not about passwords; it keeps both passes of make test short.
from project.api.testing import fast_password_hasher  # noqa: F401
from project.tests.processes import celery_worker_thread


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
    """A real Celery worker on the configured broker, on this module's queue."""
    with celery_worker_thread(QUEUE, django_db_blocker) as worker:
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

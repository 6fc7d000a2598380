"""A real Celery worker whose imports pause after writing their rows (tests only).

``python -m dataio.tests.slow_worker worker --pool=prefork ...``
runs ``celery -A project worker`` with one change: an import, once its rows are written inside its
transaction and before it commits, creates the file named by
SLOW_IMPORT_MARKER and sleeps SLOW_IMPORT_SECONDS. A test kills the worker in
that window (only the first import pauses: the marker exists afterwards).
Prefork children are forked from this process, so they inherit the patch.
"""

import os
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()

from dataio import notifications  # noqa: E402
from dataio.models import TaskNotification  # noqa: E402
from project.celery import app  # noqa: E402

_claim = notifications.notification_claim


def _slow_claim(*, notification):
    marker = Path(os.environ["SLOW_IMPORT_MARKER"])
    if notification.task_type == TaskNotification.TaskType.IMPORT and not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(float(os.environ.get("SLOW_IMPORT_SECONDS", "30")))
    return _claim(notification=notification)


notifications.notification_claim = _slow_claim

if __name__ == "__main__":
    app.worker_main(sys.argv[1:])

"""Import, export and notification housekeeping tasks.

Thin: a notification id in, a call to ``dataio.pipeline`` or a
service. Import and export tasks are idempotent (``notification_start`` runs
a job once, and only for the message carrying the job's current task id; an
import commits its rows and "Completed" together), so they use acks-late and
reject-on-worker-lost: a worker killed mid-task gets the task redelivered
instead of losing it. A task killed by the hard time limit is acknowledged,
not redelivered. ``dataio.sweep_stuck_tasks`` (every minute) fails a job
whose heartbeat went stale (its worker died) or that passed the limit.
"""

from celery import shared_task
from django.conf import settings

from dataio import notifications, pipeline

TRANSFER_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": settings.TRANSFER_TASK_SOFT_TIME_LIMIT,
    "time_limit": settings.TRANSFER_TASK_TIME_LIMIT,
    "ignore_result": False,
}


@shared_task(name="dataio.run_export", bind=True, **TRANSFER_OPTIONS)
def run_export(self, notification_id: int):
    return pipeline.run_export(notification_id, task_id=self.request.id)


@shared_task(name="dataio.check_import", bind=True, **TRANSFER_OPTIONS)
def check_import(self, notification_id: int):
    return pipeline.run_import_check(notification_id, task_id=self.request.id)


@shared_task(name="dataio.apply_import", bind=True, **TRANSFER_OPTIONS)
def apply_import(self, notification_id: int):
    return pipeline.run_import_apply(notification_id, task_id=self.request.id)


@shared_task(name="dataio.sweep_stuck_tasks")
def sweep_stuck_tasks() -> int:
    return notifications.notifications_sweep_stuck()


@shared_task(name="dataio.purge_old_task_files")
def purge_old_task_files() -> int:
    return notifications.notifications_purge_files()

"""The stuck-task sweep runs every minute (it was every 10 minutes).

A worker killed mid-job is noticed by its stale heartbeat; the sweep must
run often enough for the job to be failed (and retryable) within 2 minutes.
An existing row gets the new interval and description (whether an admin
paused it is left alone); a missing one is created, as 0002_periodic_tasks does.
"""

from django.db import migrations
from django.utils import timezone

NAME = "Sweep stuck tasks"
TASK = "reports.sweep_stuck_tasks"
DESCRIPTION = (
    "Fails import and export tasks whose worker stopped (stale heartbeat) or that waited "
    "too long; re-sends Pending tasks the queue may have lost."
)


def _every(apps, minutes):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    schedule = IntervalSchedule.objects.filter(every=minutes, period="minutes").first()
    return schedule or IntervalSchedule.objects.create(every=minutes, period="minutes")


def _set_interval(apps, minutes):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    fields = {"interval": _every(apps, minutes), "crontab": None, "description": DESCRIPTION}
    if not PeriodicTask.objects.filter(name=NAME).update(**fields):
        PeriodicTask.objects.create(name=NAME, task=TASK, enabled=True, **fields)
    # The scheduler reloads its tasks when this timestamp moves; the model
    # signals that normally bump it do not fire for historical models.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def every_minute(apps, schema_editor):
    _set_interval(apps, 1)


def every_ten_minutes(apps, schema_editor):
    _set_interval(apps, 10)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_task_notification_heartbeat"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(every_minute, every_ten_minutes)]

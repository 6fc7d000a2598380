"""Celery beat's scheduler, with a heartbeat file for health checks; periodic task rows."""

from pathlib import Path

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler


class HeartbeatScheduler(DatabaseScheduler):
    """django-celery-beat's DatabaseScheduler that touches a file on every tick.

    Beat has no endpoint to probe; a file whose age stays below a few ticks
    proves its loop is alive (docker compose's health check reads it).
    """

    def tick(self, *args, **kwargs):
        heartbeat = Path(settings.BEAT_HEARTBEAT_FILE)
        heartbeat.parent.mkdir(parents=True, exist_ok=True)
        heartbeat.touch()
        return super().tick(*args, **kwargs)


def create_daily_task(apps, *, name: str, task: str, hour: int, minute: int, description: str):
    """A task run daily at hour:minute in TIME_ZONE, created once by a data migration.

    From then on the row belongs to the admins (the periodic tasks admin);
    ``apps`` is the migration's historical registry.
    """
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    fields = {
        "minute": str(minute),
        "hour": str(hour),
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": settings.TIME_ZONE,
    }
    schedule = CrontabSchedule.objects.filter(**fields).first()
    schedule = schedule or CrontabSchedule.objects.create(**fields)
    PeriodicTask.objects.get_or_create(
        name=name, defaults={"task": task, "crontab": schedule, "description": description}
    )


def delete_task(apps, name: str) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()

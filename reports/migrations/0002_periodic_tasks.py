"""The project's periodic tasks, as django-celery-beat rows (DatabaseScheduler).

Created once, so that they exist right after ``migrate``; from then on they
belong to the admins, who pause or reschedule them in the admin. Running the
function again changes nothing: an existing task (same name) is left as is.
Crontab times are in the project's TIME_ZONE (the business's local night).
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

# name -> (task, schedule, description); schedule is ("interval", minutes)
# or ("crontab", hour, minute).
PERIODIC_TASKS = {
    "Dashboard metrics refresh": (
        "reports.update_dashboard_metrics_cache",
        ("interval", 5),
        "Recomputes every dashboard metric and writes the cache keys.",
    ),
    "Ledger check (nightly)": (
        "reports.check_ledger_nightly",
        ("crontab", 3, 0),
        "Recomputes every product's stock from the ledger; notifies superusers on a mismatch.",
    ),
    "Flush expired JWT tokens": (
        "reports.flush_expired_tokens",
        ("crontab", 4, 0),
        "Deletes expired outstanding refresh tokens (simplejwt flushexpiredtokens).",
    ),
    "Purge old task files": (
        "reports.purge_old_task_files",
        ("crontab", 4, 30),
        "Deletes old import and export result files.",
    ),
    "Sweep stuck tasks": (
        "reports.sweep_stuck_tasks",
        ("interval", 10),
        "Marks import and export tasks stuck in Pending or Processing as failed.",
    ),
}


def _interval(apps, minutes):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    schedule = IntervalSchedule.objects.filter(every=minutes, period="minutes").first()
    return schedule or IntervalSchedule.objects.create(every=minutes, period="minutes")


def _crontab(apps, hour, minute):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    fields = {
        "minute": str(minute),
        "hour": str(hour),
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": settings.TIME_ZONE,
    }
    schedule = CrontabSchedule.objects.filter(**fields).first()
    return schedule or CrontabSchedule.objects.create(**fields)


def create_periodic_tasks(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    created = False
    for name, (task, schedule, description) in PERIODIC_TASKS.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        if schedule[0] == "interval":
            kind = {"interval": _interval(apps, schedule[1])}
        else:
            kind = {"crontab": _crontab(apps, schedule[1], schedule[2])}
        PeriodicTask.objects.create(
            name=name, task=task, description=description, enabled=True, **kind
        )
        created = True
    if created:
        # The scheduler reloads its tasks when this timestamp moves; the model
        # signals that normally bump it do not fire for historical models.
        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def delete_periodic_tasks(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=list(PERIODIC_TASKS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_roles"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_periodic_tasks, delete_periodic_tasks)]

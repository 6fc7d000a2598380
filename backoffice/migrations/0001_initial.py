"""The roles and the project's periodic tasks, as the back office starts with them.

Both were created by the former reports app (project/app_split.py). On a
fresh database this creates them; on one the reports app migrated, the roles
exist already and the periodic task rows are kept (an admin may have paused
or rescheduled them): only the task each row runs gets its new name, the
name of the app that now owns it.

Periodic tasks are django-celery-beat rows (DatabaseScheduler), created once:
from then on they belong to the admins. Crontab times are in the project's
TIME_ZONE (the business's local night). The names are frozen here: a
migration does not follow later edits of the code.
"""

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.utils import timezone

# name -> (task, schedule, description); schedule is ("interval", minutes)
# or ("crontab", hour, minute).
PERIODIC_TASKS = {
    "Dashboard metrics refresh": (
        "dashboard.update_dashboard_metrics_cache",
        ("interval", 5),
        "Recomputes every dashboard metric and writes the cache keys.",
    ),
    "Ledger check (nightly)": (
        "movements.check_ledger_nightly",
        ("crontab", 3, 0),
        "Recomputes every product's stock from the ledger; notifies superusers on a mismatch.",
    ),
    "Flush expired JWT tokens": (
        "backoffice.flush_expired_tokens",
        ("crontab", 4, 0),
        "Deletes expired outstanding refresh tokens (simplejwt flushexpiredtokens).",
    ),
    "Purge old task files": (
        "dataio.purge_old_task_files",
        ("crontab", 4, 30),
        "Deletes old import and export result files.",
    ),
    "Sweep stuck tasks": (
        "dataio.sweep_stuck_tasks",
        ("interval", 1),
        "Fails import and export tasks whose worker stopped (stale heartbeat) or that waited "
        "too long; re-sends Pending tasks the queue may have lost.",
    ),
}

# The task names the reports app gave them.
OLD_TASK_NAMES = {
    "reports.update_dashboard_metrics_cache": "dashboard.update_dashboard_metrics_cache",
    "reports.check_ledger_nightly": "movements.check_ledger_nightly",
    "reports.flush_expired_tokens": "backoffice.flush_expired_tokens",
    "reports.purge_old_task_files": "dataio.purge_old_task_files",
    "reports.sweep_stuck_tasks": "dataio.sweep_stuck_tasks",
    "reports.run_export": "dataio.run_export",
    "reports.check_import": "dataio.check_import",
    "reports.apply_import": "dataio.apply_import",
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
    for old, new in OLD_TASK_NAMES.items():
        PeriodicTask.objects.filter(task=old).update(task=new)
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
    # The scheduler reloads its tasks when this timestamp moves; the model
    # signals that normally bump it do not fire for historical models.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def delete_periodic_tasks(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=list(PERIODIC_TASKS)).delete()


def create_roles(apps, schema_editor):
    from backoffice.roles import sync_roles

    # Permissions are normally created after all migrations (post_migrate);
    # create them now so a fresh database gets complete groups right away.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("dataio", "0001_initial"),
        ("catalog", "0001_initial"),
        ("movements", "0003_idempotencykey"),
        ("dashboard", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(create_periodic_tasks, delete_periodic_tasks),
    ]

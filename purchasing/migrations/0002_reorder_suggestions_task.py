"""The morning task that prepares the reorder suggestions and tells the Managers.

An ordinary periodic task (django-celery-beat): listed and editable in the
periodic tasks admin, created once; from then on it belongs to the admins.
"""

from django.conf import settings
from django.db import migrations

SUGGESTIONS_TASK = "Prepare reorder suggestions"


def create_suggestions_task(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    fields = {
        "minute": "0",
        "hour": "7",
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": settings.TIME_ZONE,
    }
    schedule = CrontabSchedule.objects.filter(**fields).first()
    schedule = schedule or CrontabSchedule.objects.create(**fields)
    PeriodicTask.objects.get_or_create(
        name=SUGGESTIONS_TASK,
        defaults={
            "task": "purchasing.prepare_reorder_suggestions",
            "crontab": schedule,
            "description": "Computes the reorder suggestions and notifies the Managers.",
        },
    )


def delete_suggestions_task(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name=SUGGESTIONS_TASK
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("purchasing", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_suggestions_task, delete_suggestions_task)]

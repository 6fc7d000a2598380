"""The morning task that prepares the reorder suggestions and tells the Managers.

An ordinary periodic task (django-celery-beat): listed and editable in the
periodic tasks admin, created once; from then on it belongs to the admins.
"""

from django.db import migrations

from project import beat

SUGGESTIONS_TASK = "Prepare reorder suggestions"


def create_suggestions_task(apps, schema_editor):
    beat.create_daily_task(
        apps,
        name=SUGGESTIONS_TASK,
        task="purchasing.prepare_reorder_suggestions",
        hour=7,
        minute=0,
        description="Computes the reorder suggestions and notifies the Managers.",
    )


def delete_suggestions_task(apps, schema_editor):
    beat.delete_task(apps, SUGGESTIONS_TASK)


class Migration(migrations.Migration):
    dependencies = [
        ("purchasing", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_suggestions_task, delete_suggestions_task)]

"""The change feed's table and the triggers that fill it (integrations/changefeed.py).

The triggers see changes from this migration on; rows that existed before
are what a client's first full sync (the list endpoints) reads. The purge
task runs nightly and is an ordinary periodic task an admin can change.
"""

from django.db import migrations, models

from integrations import changefeed
from project import beat


# The tables this migration knows (later ones add theirs: 0003, purchase orders).
TABLES = ("catalog_product", "movements_inflow", "movements_outflow")


def install(apps, schema_editor):
    changefeed.install_triggers(schema_editor.connection, TABLES)


def uninstall(apps, schema_editor):
    changefeed.drop_triggers(schema_editor.connection, TABLES)


PURGE_TASK = "Purge the change feed"


def create_purge_task(apps, schema_editor):
    beat.create_daily_task(
        apps,
        name=PURGE_TASK,
        task="integrations.purge_change_feed",
        hour=4,
        minute=45,
        description="Deletes change feed rows older than CHANGE_FEED_RETENTION_DAYS.",
    )


def delete_purge_task(apps, schema_editor):
    beat.delete_task(apps, PURGE_TASK)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
        ("catalog", "0002_product_list_and_search_indexes"),
        ("movements", "0005_movement_list_indexes"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="FeedPurge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("txid", models.BigIntegerField(default=0)),
                ("change_id", models.BigIntegerField(default=0)),
                ("purged_at", models.DateTimeField(null=True)),
            ],
        ),
        migrations.CreateModel(
            name="Change",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("txid", models.BigIntegerField()),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("product", "product"),
                            ("inflow", "inflow"),
                            ("outflow", "outflow"),
                        ],
                        max_length=10,
                    ),
                ),
                ("object_id", models.BigIntegerField()),
                (
                    "op",
                    models.CharField(
                        choices=[("upsert", "created or changed"), ("delete", "deleted")],
                        max_length=10,
                    ),
                ),
                ("at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "change",
                "verbose_name_plural": "changes",
                "indexes": [models.Index(fields=["txid", "id"], name="integrations_change_order")],
            },
        ),
        migrations.RunPython(install, uninstall),
        migrations.RunPython(create_purge_task, delete_purge_task),
    ]

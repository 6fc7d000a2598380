"""Daily rollups per product and local day, kept by triggers, backfilled from every movement.

Order matters on PostgreSQL: the triggers go in first (on PostgreSQL, creating them locks
the movement tables against inserts until this migration commits, so no
movement can land between the backfill's read and the triggers), then the
backfill (one INSERT ... SELECT ... GROUP BY, in day order), then the unique
constraint and the day index, built once over the filled table rather than
updated row by row.

The SQL comes from ``movements.rollups``, which ``rebuild_rollups`` uses too.
"""

from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models

from movements import rollups


def _fill(schema_editor) -> None:
    rollups.install_triggers(schema_editor.connection)
    rollups.backfill(schema_editor.connection)


def fill_before_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        _fill(schema_editor)


def fill_after_indexes(apps, schema_editor):
    # SQLite adds a unique constraint by copying the table under a new name,
    # which a trigger naming the table cannot survive: its triggers go last.
    if schema_editor.connection.vendor == "sqlite":
        _fill(schema_editor)


def backward(apps, schema_editor):
    rollups.drop_triggers(schema_editor.connection)


def _money(name):
    return models.DecimalField(
        decimal_places=2, default=Decimal("0.00"), max_digits=20, verbose_name=name
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("movements", "0003_idempotencykey"),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyRollup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="day")),
                ("in_count", models.BigIntegerField(default=0, verbose_name="inflows")),
                ("in_units", models.BigIntegerField(default=0, verbose_name="units in")),
                ("in_cost", _money("cost value in")),
                ("out_count", models.BigIntegerField(default=0, verbose_name="outflows")),
                ("out_units", models.BigIntegerField(default=0, verbose_name="units out")),
                ("out_revenue", _money("price value out")),
                ("out_cost", _money("cost value out")),
                ("sale_count", models.BigIntegerField(default=0, verbose_name="sales")),
                ("sale_units", models.BigIntegerField(default=0, verbose_name="units sold")),
                ("sale_revenue", _money("revenue")),
                ("sale_cost", _money("cost of goods sold")),
                (
                    "product",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="catalog.product",
                        verbose_name="product",
                    ),
                ),
            ],
            options={
                "verbose_name": "daily rollup",
                "verbose_name_plural": "daily rollups",
                "default_permissions": (),
            },
        ),
        migrations.RunPython(fill_before_indexes, backward),
        migrations.AddConstraint(
            model_name="dailyrollup",
            constraint=models.UniqueConstraint(
                fields=("product", "day"), name="movements_dailyrollup_product_day_uniq"
            ),
        ),
        migrations.AddIndex(
            model_name="dailyrollup",
            index=models.Index(fields=["day"], name="movements_dailyrollup_day_idx"),
        ),
        migrations.RunPython(fill_after_indexes, backward),
    ]

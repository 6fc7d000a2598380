"""The closed days' tables (``DayTotal``, ``SaleWindow``): created, kept by triggers, filled.

The triggers are written again to keep them too (on PostgreSQL that locks
the movement tables against inserts until this migration commits), then
both are summed from the rollups, closed up to yesterday. See
``movements.rollups``.
"""

from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models

from movements import rollups


def forward(apps, schema_editor):
    rollups.install_triggers(schema_editor.connection)
    rollups.backfill_totals(schema_editor.connection)


def backward(apps, schema_editor):
    # The tables are dropped after this: the triggers must stop naming them.
    rollups._execute(
        schema_editor.connection, rollups.trigger_sql(schema_editor.connection.vendor, False)
    )


def _money(name):
    return models.DecimalField(
        decimal_places=2, default=Decimal("0.00"), max_digits=20, verbose_name=name
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("movements", "0006_drop_indexes_the_composites_cover"),
    ]

    operations = [
        migrations.CreateModel(
            name="DayTotal",
            fields=[
                ("day", models.DateField(primary_key=True, serialize=False, verbose_name="day")),
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
            ],
            options={
                "verbose_name": "day total",
                "verbose_name_plural": "day totals",
                "default_permissions": (),
            },
        ),
        migrations.CreateModel(
            name="SaleWindow",
            fields=[
                (
                    "product",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="catalog.product",
                        verbose_name="product",
                    ),
                ),
                ("sale_count", models.BigIntegerField(default=0, verbose_name="sales")),
                ("sale_revenue", _money("revenue")),
            ],
            options={
                "verbose_name": "sales window",
                "verbose_name_plural": "sales windows",
                "default_permissions": (),
                "indexes": [
                    models.Index(fields=["sale_revenue"], name="movements_salewindow_rev_idx")
                ],
            },
        ),
        migrations.RunPython(forward, backward),
    ]

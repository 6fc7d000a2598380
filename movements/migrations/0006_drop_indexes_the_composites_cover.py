"""Drop the single-column indexes on movements' product and created_at.

The (product, -created_at) and (created_at DESC, id DESC) indexes serve every
lookup these did (a btree index serves its leading column alone, both ways),
and each index is one more write per movement: seeding 10,000,000 movements
spends most of its time in index inserts. The planner also preferred the old
created_at index plus a sort to the list-order index on small tables.

Only the indexes are dropped (DROP INDEX, found by introspection): an
AlterField would make SQLite rebuild the tables and lose their triggers
(append-only, rollups, change feed).
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

TABLES = ("movements_inflow", "movements_outflow")
COLUMNS = ("product_id", "created_at")


def _single_column_indexes(schema_editor, table: str) -> dict[str, str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        info["columns"][0]: name
        for name, info in constraints.items()
        if info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and len(info["columns"]) == 1
        and info["columns"][0] in COLUMNS
    }


def drop(apps, schema_editor):
    for table in TABLES:
        for name in _single_column_indexes(schema_editor, table).values():
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def create(apps, schema_editor):
    for table in TABLES:
        present = _single_column_indexes(schema_editor, table)
        for column in COLUMNS:
            if column not in present:
                name = schema_editor.quote_name(f"{table}_{column}_single")
                schema_editor.execute(
                    f"CREATE INDEX {name} ON {table} ({schema_editor.quote_name(column)})"
                )


def _fields(model_name):
    return [
        migrations.AlterField(
            model_name=model_name,
            name="created_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False, verbose_name="created at"
            ),
        ),
        migrations.AlterField(
            model_name=model_name,
            name="product",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="%(class)ss",
                to="catalog.product",
                verbose_name="product",
            ),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_supplier_cnpj_product_ean"),
        ("movements", "0005_movement_list_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[*_fields("inflow"), *_fields("outflow")],
            database_operations=[migrations.RunPython(drop, create)],
        )
    ]

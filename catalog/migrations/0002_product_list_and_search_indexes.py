"""Indexes for the product list and search at a million rows (issue 13).

- (title, -id) replaces (title): the admin list orders by title, then by the
  newest id, and a deep page reads its ids from this index alone.
- Trigram GIN indexes on UPPER(title) and UPPER(serial_number), the very
  expressions of the admin's icontains search on PostgreSQL.

pg_trgm and GIN exist on PostgreSQL only. ``TrigramExtension`` does nothing
on another database. The trigram indexes are database-only operations, left
out of the model state: SQLite rebuilds a table from the state on a later
AddField or AlterField and would try to create them. The btree is in the
state. On PostgreSQL all are created CONCURRENTLY (the migration is not
atomic for that), so adding them to a live catalog does not block writes.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.db.models.functions import Upper

OLD_TITLE = models.Index(fields=["title"], name="catalog_product_title_idx")
TITLE_ID = models.Index(fields=["title", "-id"], name="catalog_product_title_id_idx")
TRIGRAM = [
    GinIndex(OpClass(Upper("title"), name="gin_trgm_ops"), name="catalog_product_title_trgm"),
    GinIndex(OpClass(Upper("serial_number"), name="gin_trgm_ops"), name="catalog_product_sku_trgm"),
]


def _create(apps, schema_editor):
    product = apps.get_model("catalog", "Product")
    if schema_editor.connection.vendor == "postgresql":
        for index in [TITLE_ID, *TRIGRAM]:
            schema_editor.add_index(product, index, concurrently=True)
        schema_editor.remove_index(product, OLD_TITLE, concurrently=True)
    else:
        schema_editor.add_index(product, TITLE_ID)
        schema_editor.remove_index(product, OLD_TITLE)


def _drop(apps, schema_editor):
    product = apps.get_model("catalog", "Product")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(product, OLD_TITLE, concurrently=True)
        for index in [TITLE_ID, *TRIGRAM]:
            schema_editor.remove_index(product, index, concurrently=True)
    else:
        schema_editor.add_index(product, OLD_TITLE)
        schema_editor.remove_index(product, TITLE_ID)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(_create, _drop)],
            state_operations=[
                migrations.RemoveIndex(model_name="product", name="catalog_product_title_idx"),
                migrations.AddIndex(model_name="product", index=TITLE_ID),
            ],
        ),
    ]

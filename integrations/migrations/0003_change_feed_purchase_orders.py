"""Purchase orders join the change feed: an order, or any of its lines, changed.

As in 0002, the triggers see changes from here on; existing orders are what
a client's first full sync of ``/purchase-orders/`` reads.
"""

from django.db import migrations, models

from integrations import changefeed

BEFORE = ("catalog_product", "movements_inflow", "movements_outflow")
TABLES = (*BEFORE, "purchasing_purchaseorder", "purchasing_purchaseorderline")


# SQLite alters a column by rebuilding the table and renaming it into place;
# the rename fails while triggers of other tables name the table dropped in
# between. So the feed's triggers are off while the column widens.
def drop_before(apps, schema_editor):
    changefeed.drop_triggers(schema_editor.connection, BEFORE)


def install_before(apps, schema_editor):
    changefeed.install_triggers(schema_editor.connection, BEFORE)


def install(apps, schema_editor):
    changefeed.install_triggers(schema_editor.connection, TABLES)


def uninstall(apps, schema_editor):
    changefeed.drop_triggers(schema_editor.connection, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_change_feed"),
        ("purchasing", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(drop_before, install_before),
        migrations.AlterField(
            model_name="change",
            name="kind",
            field=models.CharField(
                choices=[
                    ("product", "product"),
                    ("inflow", "inflow"),
                    ("outflow", "outflow"),
                    ("purchase_order", "purchase order"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(install, uninstall),
    ]
